"""One exploration iteration: MD with one member at each (P, T), committee deviations, selection.

Each grid point runs in its own task in the folder it is given and writes ``traj.extxyz`` (the
sampled frames), ``deviation.csv`` and, last, ``result.json`` (an
:class:`~deepearth.rundir.ExplorationResult`; its presence marks the point finished).

A point's MD stops early on a blow-up (:class:`~deepearth.md.engine.MDBlowUp`) or when a frame's
deviation exceeds ``deviation_stop_factor`` × ``trust_hi`` (:class:`DeviationStop`: the model is
extrapolating far out, later frames would be worthless). The frames before are kept (they are the
best candidates), the frames not reached count as failed, and ``ExplorationResult.blow_up`` says
why, where and when ("deviation 2.31 > 3 × trust_hi (0.5) at step 40 (0.04 ps)").

The *edge frame*: the first failed frame, when its deviation is below the stop threshold, is made a
candidate. A model usually breaks between two observed frames (a close approach at 5000 K takes a
few fs): the last frames before are accurate, the next one is already past ``trust_hi``, and without
this rule the point gives nothing to learn from, iteration after iteration (the quickstart's liquid
and 5000 K crystal did exactly that). Past the stop threshold the frame is garbage and stays failed.

The *envelope rule* (``GridPointTask.envelope_tolerance``): a frame the committee calls accurate but
that lies outside the driving member's training envelope by more than that tolerance
(:meth:`~deepearth.potentials.envelope.TrainingEnvelope.configuration_violations`: a species pair
closer than (1 − tol) × its closest training distance, a density outside the training range, an
unknown element) is a candidate, with the reason in ``deviation.csv``'s ``outside_envelope`` column.
Production stops a replica at exactly such a frame (``production.envelope_tolerance``, the same
number the pipeline passes here), so a loop that ignored it could converge on a model whose
production cannot run: an uncalibrated 4-member POD committee called 93 % of a 5000 K MgO liquid
accurate, and every production replica then stopped within 0.2 ps at an O–O pair of 1.6 Å (closest
in training 2.09 Å). Committees agree where they were never trained often enough; the envelope is
a second, independent test of the same question.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import read

from deepearth.explore.deviation import ACCURATE, CANDIDATE, FAILED, classify, fractions, model_deviation
from deepearth.explore.select import farthest_point_sampling
from deepearth.files import read_json, write_json_atomic
from deepearth.md.engine import Engine, MDBlowUp, MDSettings, blow_up
from deepearth.md.trajectory import append_frame
from deepearth.potentials.committee import Committee, CommitteePrediction
from deepearth.potentials.envelope import load_envelope
from deepearth.potentials.registry import backend_for_model
from deepearth.recipe import ExplorationSpec
from deepearth.rundir import Candidate, ExplorationResult
from deepearth.units import stress_to_pressure_gpa


@dataclass
class GridPointTask:
    """Everything a worker needs to explore one (P, T) point (picklable). Units: GPa, K."""

    outdir: str
    models: list[str]
    start: Atoms
    P_GPa: float
    T_K: float
    settings: ExplorationSpec  # the recipe's frozen [exploration] section
    engine: Engine
    seed: int
    deviation_scale: float = 1.0  # committee calibration factor applied to every spread
    #: stop the MD at a frame whose deviation exceeds this × trust_hi; None: the recipe's
    #: ``exploration.deviation_stop_factor``; inf: never
    deviation_stop_factor: float | None = None
    system: str = ""  # the campaign system's folder ("" for a single-[system] recipe), recorded in the result
    #: an accurate frame outside member 0's training envelope by more than this fraction is a
    #: candidate (module docstring); None: no envelope test (nor for a model without an envelope)
    envelope_tolerance: float | None = None



class DeviationStop(MDBlowUp):
    """Exploration stopped: a frame's committee deviation went far past ``trust_hi``."""


def stop_factor(task: GridPointTask) -> float:
    """The deviation stop factor of ``task`` (see :attr:`GridPointTask.deviation_stop_factor`)."""
    if task.deviation_stop_factor is not None:
        return float(task.deviation_stop_factor)
    return float(task.settings.deviation_stop_factor)


def explore_point(task: GridPointTask) -> ExplorationResult:
    """Run the MD of one grid point and classify its frames; idempotent (returns the saved result)."""
    ex = task.settings
    out = Path(task.outdir)
    done = out / "result.json"
    if done.is_file():
        return ExplorationResult.from_dict(read_json(done))
    out.mkdir(parents=True, exist_ok=True)
    backend = backend_for_model(task.models[0])
    committee = Committee([Path(m) for m in task.models], backend)
    traj_path = out / "traj.extxyz"
    traj_path.unlink(missing_ok=True)
    rows, used, descriptors = [], [], {}  # descriptors of candidate frames (and of the edge frame), by frame
    factor = stop_factor(task)
    stop_at = factor * ex.trust_hi if factor > 0 else math.inf
    envelope = load_envelope(task.models[0]) if task.envelope_tolerance is not None else None

    def observe(atoms: Atoms, step: int) -> None:
        results = atoms.calc.results if atoms.calc is not None else {}
        if "committee_forces" in results:  # evaluated inside the engine (LAMMPS + POD)
            pred = CommitteePrediction(results["committee_energies"], results["committee_forces"], None)
        else:
            pred = committee.predict(atoms)
        dev = model_deviation(pred.forces_eV_per_A, pred.energies_eV, f0=ex.relative_f0_eV_per_A,
                              scale=task.deviation_scale)
        value = dev.max_force_std if ex.criterion == "absolute" else dev.max_relative_force_std
        cls = classify(value, ex.trust_lo, ex.trust_hi)
        outside = envelope.configuration_violations(atoms, task.envelope_tolerance) \
            if envelope is not None and cls != FAILED else []
        if outside and cls == ACCURATE:
            cls = CANDIDATE
        rows.append({"frame": len(rows), "step": step, **asdict(dev), "class": cls,
                     "T_inst_K": float(atoms.get_temperature()),
                     "P_inst_GPa": stress_to_pressure_gpa(atoms.get_stress(include_ideal_gas=True)),
                     "volume_A3": float(atoms.get_volume()),
                     "outside_envelope": "; ".join(outside).replace(",", " ")})
        used.append(value)
        first_failure = cls == FAILED and value <= stop_at and all(r["class"] != FAILED for r in rows[:-1])
        if cls == CANDIDATE or first_failure:
            descriptors[len(rows) - 1] = committee.descriptor(atoms)
        append_frame(traj_path, atoms, step, ex.timestep_fs)
        if not value <= stop_at:  # NaN too; this frame is kept (failed), the MD stops here
            raise blow_up(f"deviation {value:.2f} > {factor:g} × trust_hi ({ex.trust_hi:g})", step,
                          ex.timestep_fs, DeviationStop)

    settings = MDSettings(ensemble=ex.ensemble, temperature_K=task.T_K, pressure_GPa=task.P_GPa,
                          steps=ex.steps, timestep_fs=ex.timestep_fs, seed=task.seed,
                          observers=[(observe, ex.deviation_interval)], committee=list(task.models),
                          log_file=str(out / "log.lammps"))
    atoms = task.start.copy()
    error = ""
    try:
        task.engine.run(atoms, backend.calculator(Path(task.models[0])), settings)
    except MDBlowUp as exc:  # a DeviationStop too: frames so far are kept
        error = str(exc)
    n_planned = ex.steps // ex.deviation_interval + 1
    edge = next((i for i, r in enumerate(rows) if r["class"] == FAILED), None)
    if edge is not None and edge in descriptors:  # the edge frame (module docstring)
        rows[edge]["class"] = CANDIDATE
    classes = [r["class"] for r in rows] + ["failed"] * max(0, n_planned - len(rows))
    with open(out / "deviation.csv", "w") as fh:
        keys = list(rows[0].keys()) if rows else ["frame"]
        fh.write(",".join(keys) + "\n")
        for r in rows:
            fh.write(",".join(str(r[k]) for k in keys) + "\n")
    cand = [i for i, r in enumerate(rows) if r["class"] == CANDIDATE]
    if cand:
        np.save(out / "candidate_descriptors.npy", np.array([descriptors[i] for i in cand]))
    result = ExplorationResult(P_GPa=task.P_GPa, T_K=task.T_K, n_frames=n_planned, fractions=fractions(classes),
                               deviation_scale=task.deviation_scale, candidate_frames=cand, deviation_used=used,
                               max_force_std=[r["max_force_std"] for r in rows], blow_up=error,
                               mean_volume_A3=float(np.mean([r["volume_A3"] for r in rows])) if rows else None,
                               mean_T_K=float(np.mean([r["T_inst_K"] for r in rows])) if rows else None,
                               mean_P_GPa=float(np.mean([r["P_inst_GPa"] for r in rows])) if rows else None,
                               system=task.system, outside_envelope=sum(bool(r["outside_envelope"]) for r in rows))
    write_json_atomic(done, result.to_dict())
    return result


def select_candidates(explored: list[tuple[Path, ExplorationResult]], cap: int) -> list[Candidate]:
    """Diverse candidates over all grid points (``(folder, result)`` of each): farthest-point sampling
    on committee descriptors, starting from the most uncertain candidate, at most ``cap``."""
    records, feats, devs = [], [], []
    for d, res in explored:
        if not res.candidate_frames:
            continue
        desc = np.load(d / "candidate_descriptors.npy")
        for j, frame in enumerate(res.candidate_frames):
            records.append(Candidate(parent=str(d / "traj.extxyz"), frame=frame, P_GPa=res.P_GPa, T_K=res.T_K,
                                     system=res.system))
            feats.append(desc[j])
            devs.append(res.deviation_used[frame])
    if not records:
        return []
    chosen = farthest_point_sampling(np.array(feats), cap, first=int(np.argmax(devs)))
    return [records[i] for i in chosen]


def load_candidate(candidate: Candidate) -> Atoms:
    """The frame a candidate names, read from its trajectory."""
    return read(candidate.parent, index=candidate.frame, format="extxyz")
