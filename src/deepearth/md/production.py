"""Production MD of one replica: NPT to find the volume, then NVT at that volume, frames saved.

Writes ``equilibration.extxyz`` (NPT), ``traj.extxyz`` (NVT, unwrapped positions, ``time_ps`` in
each frame's info) and, last, ``done.json`` (a :class:`~deepearth.rundir.ReplicaResult`: the resume
marker with the state-point averages).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from ase import Atoms

from deepearth.files import read_json, write_json_atomic
from deepearth.md.engine import Engine, MDSettings
from deepearth.md.trajectory import append_frame
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


def run_replica(task: ReplicaTask) -> ReplicaResult:
    """Run (or return the saved result of) one replica."""
    pr = task.settings
    out = Path(task.outdir)
    done = out / "done.json"
    if done.is_file():
        return ReplicaResult.from_dict(read_json(done))
    out.mkdir(parents=True, exist_ok=True)
    engine = task.engine
    calc = load_potential(task.model)
    atoms = task.start.copy()

    volumes: list[float] = []
    if pr.equilibration_steps > 0:
        eq_path = out / "equilibration.extxyz"
        eq_path.unlink(missing_ok=True)

        def record_volume(a: Atoms, step: int) -> None:
            volumes.append(a.get_volume())
            if step % (10 * pr.sample_interval) == 0:
                append_frame(eq_path, a, step, pr.timestep_fs)

        engine.run(atoms, calc, MDSettings("npt", task.T_K, pr.equilibration_steps, pr.timestep_fs,
                                           pressure_GPa=task.P_GPa, seed=task.seed,
                                           observers=[(record_volume, pr.sample_interval)]))
        v_mean = float(np.mean(volumes[len(volumes) // 2:]))
        atoms.set_cell(atoms.cell.array * (v_mean / atoms.get_volume()) ** (1 / 3), scale_atoms=True)

    traj = out / "traj.extxyz"
    traj.unlink(missing_ok=True)
    temps, pressures = [], []

    def save(a: Atoms, step: int) -> None:
        temps.append(a.get_temperature())
        pressures.append(stress_to_pressure_gpa(a.get_stress(include_ideal_gas=True)))
        append_frame(traj, a, step, pr.timestep_fs)

    engine.run(atoms, calc, MDSettings("nvt", task.T_K, pr.steps, pr.timestep_fs, thermostat=pr.thermostat,
                                       seed=task.seed + 7919, init_velocities=pr.equilibration_steps == 0,
                                       observers=[(save, pr.sample_interval)]))
    result = ReplicaResult(P_GPa_target=task.P_GPa, T_K_target=task.T_K, volume_A3=float(atoms.get_volume()),
                           T_mean_K=float(np.mean(temps)), P_mean_GPa=float(np.mean(pressures)),
                           P_std_GPa=float(np.std(pressures)), n_frames=len(temps), trajectory=str(traj))
    write_json_atomic(done, result.to_dict())
    return result
