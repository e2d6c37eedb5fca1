"""Production MD of one replica: NPT to find the volume, then NVT at that volume, frames saved.

Writes ``equilibration.extxyz`` (NPT), ``traj.extxyz`` (NVT, unwrapped positions, ``time_ps`` in
each frame's info) and, last, ``done.json`` (resume marker with the state-point averages).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms

from deepearth.files import read_json, write_json_atomic
from deepearth.md.trajectory import append_frame
from deepearth.units import stress_to_pressure_gpa


@dataclass
class ReplicaTask:
    """One production replica (picklable). Units: GPa, K, fs."""

    outdir: str
    model: str
    start: Atoms
    P_GPa: float
    T_K: float
    equilibration_steps: int
    steps: int
    timestep_fs: float
    sample_interval: int
    thermostat: str
    seed: int


def run_replica(task: ReplicaTask) -> dict:
    """Run (or return the saved result of) one replica."""
    from deepearth.md.engine import ASEEngine, MDSettings
    from deepearth.potentials.base import load_potential

    out = Path(task.outdir)
    done = out / "done.json"
    if done.is_file():
        return read_json(done)
    out.mkdir(parents=True, exist_ok=True)
    engine = ASEEngine()
    calc = load_potential(task.model)
    atoms = task.start.copy()

    volumes: list[float] = []
    if task.equilibration_steps > 0:
        eq_path = out / "equilibration.extxyz"
        eq_path.unlink(missing_ok=True)

        def record_volume(a: Atoms, step: int) -> None:
            volumes.append(a.get_volume())
            if step % (10 * task.sample_interval) == 0:
                append_frame(eq_path, a, step, task.timestep_fs)

        engine.run(atoms, calc, MDSettings("npt", task.T_K, task.equilibration_steps, task.timestep_fs,
                                           pressure_GPa=task.P_GPa, seed=task.seed,
                                           observers=[(record_volume, task.sample_interval)]))
        v_mean = float(np.mean(volumes[len(volumes) // 2:]))
        atoms.set_cell(atoms.cell.array * (v_mean / atoms.get_volume()) ** (1 / 3), scale_atoms=True)

    traj = out / "traj.extxyz"
    traj.unlink(missing_ok=True)
    temps, pressures = [], []

    def save(a: Atoms, step: int) -> None:
        temps.append(a.get_temperature())
        pressures.append(stress_to_pressure_gpa(a.get_stress(include_ideal_gas=True)))
        append_frame(traj, a, step, task.timestep_fs)

    engine.run(atoms, calc, MDSettings("nvt", task.T_K, task.steps, task.timestep_fs, thermostat=task.thermostat,
                                       seed=task.seed + 7919, init_velocities=task.equilibration_steps == 0,
                                       observers=[(save, task.sample_interval)]))
    result = {"P_GPa_target": task.P_GPa, "T_K_target": task.T_K, "volume_A3": float(atoms.get_volume()),
              "T_mean_K": float(np.mean(temps)), "P_mean_GPa": float(np.mean(pressures)),
              "P_std_GPa": float(np.std(pressures)), "n_frames": len(temps), "trajectory": str(traj)}
    write_json_atomic(done, result)
    return result
