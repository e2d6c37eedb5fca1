"""Production MD of one replica: NPT to find the volume, then NVT at that volume, frames saved.

Writes ``equilibration.extxyz`` (NPT), ``traj.extxyz`` (NVT, unwrapped positions, ``time_ps`` in
each frame's info) and, last, ``done.json`` (a :class:`~deepearth.rundir.ReplicaResult`: the resume
marker with the state-point averages).

A replica that blows up (:class:`~deepearth.md.engine.MDBlowUp`, in either phase) does not raise:
its result has ``blow_up`` set (what, step, time, phase), averages over the frames saved before
(NaN if none) and ``trajectory`` empty if the NVT phase never started. Its ``done.json`` is written
too, so a resume returns the same failed result instead of rerunning it: the run is deterministic
(same model, start and seed give the same trajectory), so a rerun would blow up at the same step.
Delete the replica's folder to retry it (with another seed or model). Callers must skip or flag
replicas with ``blow_up`` set; their frames are not a production trajectory.

A killed replica resumes from its last restart (LAMMPS engine, every ``production.restart_interval``
steps: ``npt.restart``, ``nvt.restart``): the samples (``equilibration.csv``, ``samples.csv``) and
frames after the restart step are dropped and the run continues from that step with the thermostat
and barostat state it had; the NPT result is kept in ``equilibrated.extxyz``. With the ASE engine
(no restarts) an unfinished phase starts over.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from ase import Atoms
from ase.io import read, write

from deepearth.files import read_json, write_json_atomic
from deepearth.md.engine import Engine, MDBlowUp, MDGuard, MDSettings, blow_up
from deepearth.md.lammps_engine import restart_step
from deepearth.md.trajectory import append_frame
from deepearth.potentials.envelope import load_envelope
from deepearth.potentials.registry import load_potential
from deepearth.rundir import ReplicaResult
from deepearth.units import stress_to_pressure_gpa

if TYPE_CHECKING:  # the recipe imports md's engine registry: md needs the section's type only
    from deepearth.recipe import ProductionSpec


@dataclass
class ReplicaTask:
    """One production replica (picklable). Units: GPa, K."""

    outdir: str
    model: str
    start: Atoms
    P_GPa: float
    T_K: float
    settings: "ProductionSpec"  # the recipe's frozen [production] section
    engine: Engine
    seed: int
    system: str = ""  # the campaign system's folder ("" for a single-[system] recipe), recorded in the result


def run_replica(task: ReplicaTask) -> ReplicaResult:
    """Run (or return the saved result of) one replica; a blow-up is recorded in ``blow_up``, not raised."""
    pr = task.settings
    out = Path(task.outdir)
    done = out / "done.json"
    if done.is_file():
        return ReplicaResult.from_dict(read_json(done))
    out.mkdir(parents=True, exist_ok=True)
    engine = task.engine
    # the final model's training envelope, loosely: a replica that leaves it has left what the
    # model knows (a runaway at too high T, a collapse) and stops with a message, not a blow-up
    guard = MDGuard(envelope=load_envelope(task.model), envelope_tolerance=pr.envelope_tolerance)
    calc = load_potential(task.model)
    atoms = task.start.copy()

    restart_every = pr.restart_interval
    volumes: list[float] = []
    equilibrated = out / "equilibrated.extxyz"
    if pr.equilibration_steps > 0 and equilibrated.is_file():  # NPT finished before a kill
        atoms = read(equilibrated, format="extxyz")
    elif pr.equilibration_steps > 0:
        eq_path = out / "equilibration.extxyz"
        npt_restart = out / "npt.restart"
        samples = _Samples(out / "equilibration.csv", ("step", "volume_A3"), npt_restart, [eq_path])
        volumes = [row[1] for row in samples.rows]

        def record_volume(a: Atoms, step: int) -> None:
            volumes.append(a.get_volume())
            samples.append(step, volumes[-1])
            if step % (10 * pr.sample_interval) == 0:
                append_frame(eq_path, a, step, pr.timestep_fs)

        try:
            engine.run(atoms, calc, MDSettings("npt", task.T_K, pr.equilibration_steps, pr.timestep_fs,
                                               pressure_GPa=task.P_GPa, seed=task.seed, guard=guard,
                                               observers=[(record_volume, pr.sample_interval)],
                                               restart_file=str(npt_restart), restart_interval=restart_every,
                                               log_file=str(out / "log.npt.lammps")))
        except MDBlowUp as exc:
            v_last = volumes[-1] if volumes else float("nan")
            return _failed(task, done, f"NPT equilibration: {exc}", v_last, [], [], "")
        v_mean = float(np.mean(volumes[len(volumes) // 2:]))
        atoms.set_cell(atoms.cell.array * (v_mean / atoms.get_volume()) ** (1 / 3), scale_atoms=True)
        write(equilibrated.with_suffix(".tmp"), atoms, format="extxyz")
        os.replace(equilibrated.with_suffix(".tmp"), equilibrated)

    traj = out / "traj.extxyz"
    nvt_restart = out / "nvt.restart"
    samples = _Samples(out / "samples.csv", ("step", "T_K", "P_GPa"), nvt_restart, [traj])
    temps, pressures = [row[1] for row in samples.rows], [row[2] for row in samples.rows]

    def save(a: Atoms, step: int) -> None:
        p = stress_to_pressure_gpa(a.get_stress(include_ideal_gas=True))
        if not np.isfinite(p):  # the stress is asked for here only (NVT): the engine's guard did not see it
            raise blow_up(f"non-finite pressure {p}", step, pr.timestep_fs)
        temps.append(a.get_temperature())
        pressures.append(p)
        samples.append(step, temps[-1], p)
        append_frame(traj, a, step, pr.timestep_fs)

    try:
        engine.run(atoms, calc, MDSettings("nvt", task.T_K, pr.steps, pr.timestep_fs, thermostat=pr.thermostat,
                                           seed=task.seed + 7919, init_velocities=pr.equilibration_steps == 0,
                                           guard=guard, observers=[(save, pr.sample_interval)],
                                           restart_file=str(nvt_restart), restart_interval=restart_every,
                                           log_file=str(out / "log.nvt.lammps")))
    except MDBlowUp as exc:
        return _failed(task, done, f"NVT production: {exc}", float(atoms.get_volume()), temps, pressures,
                       str(traj) if temps else "")
    result = ReplicaResult(P_GPa_target=task.P_GPa, T_K_target=task.T_K, volume_A3=float(atoms.get_volume()),
                           T_mean_K=float(np.mean(temps)), P_mean_GPa=float(np.mean(pressures)),
                           P_std_GPa=float(np.std(pressures)), n_frames=len(temps), trajectory=str(traj),
                           system=task.system)
    write_json_atomic(done, result.to_dict())
    return result


class _Samples:
    """Per-sample rows of one phase (``step`` first) in a CSV beside the trajectory, kept in step with
    the engine's restart: on a resume the rows (and the frames of ``frames_files``) after the restart
    step are dropped, the LAMMPS engine then continues from that step; without a restart (a fresh
    start, or the ASE engine) everything of the phase starts over."""

    def __init__(self, path: Path, columns: tuple[str, ...], restart: Path, frames_files: list[Path]):
        self.path = path
        last = restart_step(restart)
        self.rows: list[tuple[float, ...]] = []
        if last is not None and path.is_file():
            for line in path.read_text().splitlines()[1:]:
                try:
                    row = tuple(float(w) for w in line.split(","))
                except ValueError:  # a line cut by the kill
                    continue
                if len(row) == len(columns) and row[0] <= last:
                    self.rows.append(row)
            for f in frames_files:
                if f.is_file():
                    kept = [a for a in read(f, index=":", format="extxyz") if a.info.get("step", 0) <= last]
                    write(f.with_suffix(".tmp"), kept, format="extxyz")
                    os.replace(f.with_suffix(".tmp"), f)
        else:
            restart.unlink(missing_ok=True)
            for f in frames_files:
                f.unlink(missing_ok=True)
        with open(path, "w") as fh:
            fh.write(",".join(columns) + "\n")
            fh.writelines(",".join(repr(float(x)) for x in row) + "\n" for row in self.rows)

    def append(self, *values: float) -> None:
        with open(self.path, "a") as fh:
            fh.write(",".join(repr(float(x)) for x in values) + "\n")


def _failed(task: ReplicaTask, done: Path, why: str, volume_A3: float, temps: list[float],
            pressures: list[float], trajectory: str) -> ReplicaResult:
    """The recorded result (``done.json``) of a replica that blew up: averages over the frames before."""
    def mean(x: list[float]) -> float:
        return float(np.mean(x)) if x else float("nan")

    result = ReplicaResult(P_GPa_target=task.P_GPa, T_K_target=task.T_K, volume_A3=float(volume_A3),
                           T_mean_K=mean(temps), P_mean_GPa=mean(pressures),
                           P_std_GPa=float(np.std(pressures)) if pressures else float("nan"),
                           n_frames=len(temps), trajectory=trajectory, blow_up=why, system=task.system)
    write_json_atomic(done, result.to_dict())
    return result
