"""One exploration iteration: MD with one member at each (P, T), committee deviations, selection.

Each grid point runs in its own task and writes ``traj.extxyz`` (the sampled frames),
``deviation.csv`` and, last, ``result.json`` (its presence marks the point finished).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import read

from deepearth.explore.deviation import CANDIDATE, classify, fractions, model_deviation
from deepearth.explore.select import farthest_point_sampling
from deepearth.files import read_json, write_json_atomic
from deepearth.md.trajectory import append_frame


@dataclass
class GridPointTask:
    """Everything a worker needs to explore one (P, T) point (picklable)."""

    outdir: str
    models: list[str]
    start: Atoms
    P_GPa: float
    T_K: float
    ensemble: str
    steps: int
    timestep_fs: float
    interval: int
    criterion: str
    trust_lo: float
    trust_hi: float
    f0: float
    seed: int
    deviation_scale: float = 1.0  # committee calibration factor applied to every spread


def point_dir(root: Path, P_GPa: float, T_K: float) -> Path:
    return Path(root) / f"P{P_GPa:g}-T{T_K:g}"


def explore_point(task: GridPointTask) -> dict:
    """Run the MD of one grid point and classify its frames; idempotent (returns the saved result)."""
    from deepearth.md.engine import ASEEngine, MDBlowUp, MDSettings
    from deepearth.potentials.committee import Committee
    from deepearth.potentials.base import backend_for_model

    out = Path(task.outdir)
    done = out / "result.json"
    if done.is_file():
        return read_json(done)
    out.mkdir(parents=True, exist_ok=True)
    backend = backend_for_model(task.models[0])
    committee = Committee([Path(m) for m in task.models], backend)
    traj_path = out / "traj.extxyz"
    traj_path.unlink(missing_ok=True)
    rows, used, descriptors = [], [], []  # descriptors of candidate frames only, in frame order

    def observe(atoms: Atoms, step: int) -> None:
        pred = committee.predict(atoms)
        dev = model_deviation(pred.forces_eV_per_A, pred.energies_eV, f0=task.f0, scale=task.deviation_scale)
        value = dev.max_force_std if task.criterion == "absolute" else dev.max_relative_force_std
        cls = classify(value, task.trust_lo, task.trust_hi)
        rows.append({"frame": len(rows), "step": step, **asdict(dev), "class": cls,
                     "T_inst_K": float(atoms.get_temperature()),
                     "volume_A3": float(atoms.get_volume())})
        used.append(value)
        if cls == CANDIDATE:
            descriptors.append(committee.descriptor(atoms))
        append_frame(traj_path, atoms, step, task.timestep_fs)

    settings = MDSettings(ensemble=task.ensemble, temperature_K=task.T_K, pressure_GPa=task.P_GPa,
                          steps=task.steps, timestep_fs=task.timestep_fs, seed=task.seed,
                          observers=[(observe, task.interval)])
    atoms = task.start.copy()
    error = ""
    try:
        ASEEngine().run(atoms, backend.calculator(Path(task.models[0])), settings)
    except MDBlowUp as exc:
        error = str(exc)
    n_planned = task.steps // task.interval + 1
    classes = [r["class"] for r in rows] + ["failed"] * max(0, n_planned - len(rows))
    with open(out / "deviation.csv", "w") as fh:
        keys = list(rows[0].keys()) if rows else ["frame"]
        fh.write(",".join(keys) + "\n")
        for r in rows:
            fh.write(",".join(str(r[k]) for k in keys) + "\n")
    cand = [i for i, r in enumerate(rows) if r["class"] == CANDIDATE]
    if cand:
        np.save(out / "candidate_descriptors.npy", np.array(descriptors))
    result = {"P_GPa": task.P_GPa, "T_K": task.T_K, "n_frames": n_planned, "fractions": fractions(classes),
              "deviation_scale": task.deviation_scale,
              "candidate_frames": cand, "deviation_used": used,
              "max_force_std": [r["max_force_std"] for r in rows], "blow_up": error,
              "mean_volume_A3": float(np.mean([r["volume_A3"] for r in rows])) if rows else None}
    write_json_atomic(done, result)
    return result


def select_candidates(root: Path, results: list[dict], cap: int) -> list[dict]:
    """Diverse candidates over all grid points: farthest-point sampling on committee descriptors,
    starting from the most uncertain candidate, at most ``cap``. Returns records with the frame,
    its parent trajectory and its origin (P, T)."""
    records, feats, devs = [], [], []
    for res in results:
        d = point_dir(root, res["P_GPa"], res["T_K"])
        if not res["candidate_frames"]:
            continue
        desc = np.load(d / "candidate_descriptors.npy")
        for j, frame in enumerate(res["candidate_frames"]):
            records.append({"parent": str(d / "traj.extxyz"), "frame": frame, "P_GPa": res["P_GPa"],
                            "T_K": res["T_K"]})
            feats.append(desc[j])
            devs.append(res["deviation_used"][frame])
    if not records:
        return []
    chosen = farthest_point_sampling(np.array(feats), cap, first=int(np.argmax(devs)))
    return [records[i] for i in chosen]


def load_candidate(record: dict) -> Atoms:
    return read(record["parent"], index=record["frame"], format="extxyz")
