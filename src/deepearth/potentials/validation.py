"""Held-out and k-fold errors of a model against reference labels (Wan & Li 2026, §2.1).

Every RMSE and MAE comes with a bootstrap standard error over *frames* (the frame, not the force
component, is the independent unit: the components of one frame are correlated), and can be
binned by temperature, pressure or composition — a model is only as good as its worst bin, and a
single pooled number hides the hot, compressed frames where it matters.

A pooled error also hides the worst frames (issue 17: seven catastrophic frames of 109 carried most of
a 248 meV/atom RMSE), so every summary also gives the distribution of the per-frame errors (median,
95th percentile, maximum), the N worst frames with their ids, and — when the model's training envelope
is known (:mod:`deepearth.potentials.envelope`) — why they might be off: the frames outside it.
"""

from __future__ import annotations

import re
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from ase import Atoms

from deepearth.parallel import Executor, InProcessExecutor, map_or_raise
from deepearth.potentials.ensemble import train_member
from deepearth.potentials.envelope import TrainingEnvelope, load_envelope
from deepearth.store import export_frames_deepmd
from deepearth.units import EV_PER_A3_TO_GPA

#: Keys of ``atoms.info`` read as the frame's temperature (K), in order of preference.
TEMPERATURE_KEYS = ("origin_T_K", "temperature_K", "T_K", "electronic_temperature_K")
BIN_KINDS = ("temperature", "pressure", "composition")
#: Per-frame errors (the names in summaries; units in the names): |ΔE|/N, RMSE of the frame's force
#: components, the largest |ΔF_i| (vector norm) on any atom of the frame, RMSE of its 9 stress components.
PER_FRAME = {"energy": "energy_meV_per_atom", "force": "force_rmse_eV_per_A", "force_max": "force_max_eV_per_A",
             "stress": "stress_rmse_GPa"}
#: Frames listed as the worst by default.
N_WORST = 5


@dataclass
class ValidationErrors:
    """Errors of a model on ``n_frames`` labelled frames.

    RMSE and MAE of energy (meV/atom), force components (eV/Å) and stress components (GPa), each
    with a bootstrap standard error (``n_bootstrap`` resamples of the frames, generator seed
    ``bootstrap_seed``); ``per_frame``: median, 95th percentile and maximum of each per-frame error
    (:data:`PER_FRAME`); ``worst_frames``: the ``n_worst`` frames with the largest ``worst_by`` error,
    worst first, each with its id, all its errors and ``outside_envelope`` (why it might be off);
    ``envelope``: how many frames are outside the model's training envelope, or why none were checked;
    ``bins`` (label → the same summary per bin); ``parity``: reference vs model for plots, and the
    per-frame errors of every frame (``parity["frames"]``)."""

    n_frames: int
    rmse_energy_meV_per_atom: float
    rmse_force_eV_per_A: float
    rmse_stress_GPa: float
    rmse_energy_stderr: float = float("nan")
    rmse_force_stderr: float = float("nan")
    rmse_stress_stderr: float = float("nan")
    mae_energy_meV_per_atom: float = float("nan")
    mae_force_eV_per_A: float = float("nan")
    mae_stress_GPa: float = float("nan")
    mae_energy_stderr: float = float("nan")
    mae_force_stderr: float = float("nan")
    mae_stress_stderr: float = float("nan")
    per_frame: dict = field(default_factory=dict)
    worst_by: str = "force"
    worst_frames: list = field(default_factory=list)
    n_outside_envelope: int | None = None
    envelope: dict = field(default_factory=dict)
    n_bootstrap: int = 0
    bootstrap_seed: int = 0
    method: str = ""
    bin_by: str | None = None
    bins: dict = field(default_factory=dict)
    parity: dict = field(default_factory=dict, repr=False)

    def summary(self) -> dict:
        """Everything but the parity data, JSON-ready (``validation.json``, training records, the report)."""
        return {k: v for k, v in self.__dict__.items() if k != "parity"}


@dataclass
class _FrameErrors:
    """Per-frame error sums: the unit that RMSEs, MAEs, bins, bootstraps and worst-frame lists are built from."""

    e_ref: np.ndarray  # (n,) eV/atom
    e_mod: np.ndarray
    f_sq: np.ndarray  # (n,) Σ over components of ΔF² (eV/Å)²
    f_abs: np.ndarray  # (n,) Σ over components of |ΔF| (eV/Å)
    f_n: np.ndarray  # (n,) number of force components
    f_max: np.ndarray  # (n,) max over atoms of |ΔF_i| (eV/Å)
    s_sq: np.ndarray  # (n,) Σ over 9 components of Δσ² (GPa²); NaN where the label has no stress
    s_abs: np.ndarray  # (n,) Σ over 9 components of |Δσ| (GPa); NaN where the label has no stress
    index: list = field(default_factory=list)  # (n,) position of each frame in the caller's list
    ids: list = field(default_factory=list)  # (n,) frame ids (:func:`frame_id`)
    outside: list = field(default_factory=list)  # (n,) envelope violations (list[str]) or None: not checked
    parity_f: list = field(default_factory=list)
    parity_s: list = field(default_factory=list)

    ARRAYS = ("e_ref", "e_mod", "f_sq", "f_abs", "f_n", "f_max", "s_sq", "s_abs")
    LISTS = ("index", "ids", "outside", "parity_f", "parity_s")

    def take(self, idx: np.ndarray) -> "_FrameErrors":
        return _FrameErrors(*(getattr(self, k)[idx] for k in self.ARRAYS),
                            *([getattr(self, k)[i] for i in idx] for k in self.LISTS))

    @staticmethod
    def concat(parts: list["_FrameErrors"]) -> "_FrameErrors":
        return _FrameErrors(*(np.concatenate([getattr(p, k) for p in parts]) for k in _FrameErrors.ARRAYS),
                            *([x for p in parts for x in getattr(p, k)] for k in _FrameErrors.LISTS))

    def pooled(self, idx: np.ndarray | None = None) -> np.ndarray:
        """RMSE then MAE of (energy meV/atom, force eV/Å, stress GPa) over frames ``idx`` (default: all),
        force and stress pooled over components: shape (6,)."""
        idx = np.arange(len(self.e_ref)) if idx is None else idx
        de = np.abs(self.e_ref[idx] - self.e_mod[idx])
        ok = idx[np.isfinite(self.s_sq[idx])]
        n_s = 9 * len(ok)
        nan = float("nan")
        return np.array([1000.0 * np.sqrt(np.mean(de**2)), np.sqrt(self.f_sq[idx].sum() / self.f_n[idx].sum()),
                         np.sqrt(self.s_sq[ok].sum() / n_s) if n_s else nan,
                         1000.0 * np.mean(de), self.f_abs[idx].sum() / self.f_n[idx].sum(),
                         self.s_abs[ok].sum() / n_s if n_s else nan])

    def rmse(self, idx: np.ndarray | None = None) -> tuple[float, float, float]:
        """(energy meV/atom, force eV/Å, stress GPa) RMSE over frames ``idx`` (default: all)."""
        e, f, s = self.pooled(idx)[:3]
        return float(e), float(f), float(s)

    def frame_errors(self) -> dict[str, np.ndarray]:
        """Each frame's own errors (:data:`PER_FRAME`; stress NaN where the label has none)."""
        return {PER_FRAME["energy"]: 1000.0 * np.abs(self.e_ref - self.e_mod),
                PER_FRAME["force"]: np.sqrt(self.f_sq / self.f_n), PER_FRAME["force_max"]: self.f_max.copy(),
                PER_FRAME["stress"]: np.sqrt(self.s_sq / 9.0)}


def frame_id(atoms: Atoms, index: int) -> str:
    """A name a user can find the frame by: the store's ``candidate_id`` (with the source file and
    frame it was imported from, when recorded), else ``file:frame`` from the frame's provenance (as
    :func:`~deepearth.reference.read_frames` records it), else ``frame <index>`` (0-based, in the
    order given)."""
    info = atoms.info
    prov = info.get("provenance") if isinstance(info.get("provenance"), dict) else {}
    where = None
    for source, frame in ((prov.get("source_file"), prov.get("source_frame")), (info.get("parent"), info.get("frame"))):
        if source is not None and frame is not None:
            where = f"{Path(str(source)).name}:{frame}"
            break
    if "candidate_id" in info:
        return f"{info['candidate_id']}" + (f" ({where})" if where else "")
    return where or f"frame {index}"


def _frame_errors(evaluator, frames: list[Atoms], envelope: TrainingEnvelope | None = None,
                  indices: list[int] | None = None) -> _FrameErrors:
    """Evaluate every frame; ``indices``: the frames' positions in the caller's list (for their ids)."""
    cols: dict[str, list] = {k: [] for k in _FrameErrors.ARRAYS + _FrameErrors.LISTS}
    for j, atoms in enumerate(frames):
        e, f, v = evaluator.evaluate(atoms.get_positions(), atoms.cell.array, atoms.get_chemical_symbols())
        n, vol = len(atoms), atoms.get_volume()
        cols["e_ref"].append(atoms.get_potential_energy() / n)
        cols["e_mod"].append(e / n)
        fr, fm = atoms.get_forces().ravel(), np.asarray(f, dtype=float).ravel()
        df = fr - fm
        cols["f_sq"].append(float(np.sum(df**2)))
        cols["f_abs"].append(float(np.sum(np.abs(df))))
        cols["f_n"].append(fr.size)
        cols["f_max"].append(float(np.max(np.linalg.norm(df.reshape(-1, 3), axis=1))) if fr.size else 0.0)
        cols["parity_f"].append((fr, fm))
        if atoms.calc is not None and atoms.calc.results.get("stress") is not None:
            sr = atoms.get_stress(voigt=False).ravel() * EV_PER_A3_TO_GPA
            sm = -np.asarray(v).ravel() / vol * EV_PER_A3_TO_GPA
            cols["s_sq"].append(float(np.sum((sr - sm) ** 2)))
            cols["s_abs"].append(float(np.sum(np.abs(sr - sm))))
            cols["parity_s"].append((sr, sm))
        else:
            cols["s_sq"].append(float("nan"))
            cols["s_abs"].append(float("nan"))
            cols["parity_s"].append((np.zeros(0), np.zeros(0)))
        cols["index"].append(indices[j] if indices is not None else j)
        cols["ids"].append(frame_id(atoms, cols["index"][-1]))
        cols["outside"].append(envelope.violations(atoms) if envelope is not None else None)
    return _FrameErrors(*(np.array(cols[k], dtype=float) for k in _FrameErrors.ARRAYS),
                        *(cols[k] for k in _FrameErrors.LISTS))


def frame_condition(atoms: Atoms, by: str, temperature_key: str | None = None) -> float | str:
    """The value a frame is binned on.

    * ``temperature`` (K): ``atoms.info[temperature_key]``, or the first of :data:`TEMPERATURE_KEYS`
      present (the MD temperature the frame was cut from, or the imported file's);
    * ``pressure`` (GPa): the reference's own virial pressure −tr(σ)/3 of the label (no kinetic
      part: this is the static pressure of the configuration);
    * ``composition``: the reduced chemical formula (e.g. ``CaO3Si``).
    """
    if by == "temperature":
        keys = (temperature_key,) if temperature_key else TEMPERATURE_KEYS
        for key in keys:
            if key in atoms.info:
                return float(atoms.info[key])
        raise ValueError(f"frame {atoms.info.get('candidate_id', atoms.get_chemical_formula())}: no temperature "
                         f"in atoms.info (looked for {', '.join(keys)})")
    if by == "pressure":
        if atoms.calc is None or atoms.calc.results.get("stress") is None:
            raise ValueError(f"frame {atoms.info.get('candidate_id', atoms.get_chemical_formula())}: "
                             "no stress label to bin by pressure")
        return float(-np.trace(atoms.get_stress(voigt=False)) / 3.0 * EV_PER_A3_TO_GPA)
    if by == "composition":
        formula, _ = atoms.symbols.formula.reduce()  # divided by the greatest common divisor
        return formula.format("metal")
    raise ValueError(f"bin_by must be one of {BIN_KINDS}, got {by!r}")


def _bin_labels(values: list, bin_edges) -> list[str]:
    """A label per frame: the value itself for strings / few distinct numbers, else the edge interval."""
    if all(isinstance(v, str) for v in values):
        return list(values)
    x = np.asarray(values, dtype=float)
    if bin_edges is None:
        distinct = np.unique(x)
        if len(distinct) <= 8:
            return [f"{v:g}" for v in x]
        quartiles = np.quantile(x, np.linspace(0, 1, 5))
        short = [f"{e:.3g}" for e in quartiles]  # quartile edges to 3 digits, unless that merges two
        return _interval_labels(x, quartiles, short if len(set(short)) == len(short) else None)
    return _interval_labels(x, np.asarray(bin_edges, dtype=float))


def _interval_labels(x: np.ndarray, edges: np.ndarray, names: list[str] | None = None) -> list[str]:
    names = names or [f"{e:g}" for e in edges]
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    return [f"{names[i]}–{names[i + 1]}" for i in idx]


def bin_order(label: str) -> tuple:
    """Sort key of bin labels: numeric labels (``"2500"``, ``"-5.45–1.2"``) by their first number, then
    the others (compositions) alphabetically."""
    m = re.match(r"-?\d+(?:\.\d*)?(?:e[-+]?\d+)?", label)
    return (0, float(m.group()), label) if m else (1, 0.0, label)


def _percentiles(x: np.ndarray) -> dict[str, float]:
    """Median, 95th percentile (linear interpolation) and maximum of the finite values of ``x``."""
    x = x[np.isfinite(x)]
    if not len(x):
        return {"median": float("nan"), "p95": float("nan"), "max": float("nan")}
    p50, p95 = np.percentile(x, [50.0, 95.0])
    return {"median": float(p50), "p95": float(p95), "max": float(np.max(x))}


def _worst(errs: _FrameErrors, per: dict[str, np.ndarray], idx: np.ndarray, labels: list[str] | None,
           n_worst: int, worst_by: str) -> list[dict]:
    """The ``n_worst`` frames of ``idx`` with the largest ``worst_by`` error, worst first."""
    key = np.nan_to_num(per[PER_FRAME[worst_by]][idx], nan=-np.inf)
    order = idx[np.argsort(-key, kind="stable")][:max(n_worst, 0)]
    rows = []
    for rank, i in enumerate(order, 1):
        row = {"rank": rank, "index": int(errs.index[i]), "id": errs.ids[i]}
        if labels is not None:
            row["bin"] = labels[i]
        row.update({name: float(per[name][i]) for name in PER_FRAME.values()})
        row["outside_envelope"] = errs.outside[i]
        rows.append(row)
    return rows


def _violation_kind(text: str) -> str:
    """``"O-O pair at 1.17 Å, …"`` → ``"O-O pair"``; ``"density 5.1 g/cm³, …"`` → ``"density"``."""
    return text.split(" at ")[0] if " pair at " in text else text.split(" ")[0]


def envelope_note(outside: list, n_frames: int, checked_what: str = "") -> str:
    """One line: how many of ``n_frames`` frames are outside the training envelope and why — per kind
    of violation, its frame count and the most extreme case (closest pair; else the first seen)."""
    flagged = [v for v in outside if v]
    if not flagged:
        return f"all {n_frames} frames inside the training envelope{checked_what}"
    kinds: dict[str, list[str]] = defaultdict(list)
    for reasons in flagged:
        for kind, text in {_violation_kind(t): t for t in reversed(reasons)}.items():
            kinds[kind].append(text)

    def first_number(text: str) -> float:
        m = re.search(r"-?\d+(?:\.\d+)?", text.split(" at ")[-1])
        return float(m.group()) if m else 0.0

    parts = []
    for kind, texts in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
        worst = min(texts, key=first_number) if kind.endswith(" pair") else texts[0]
        parts.append(f"{worst} ({len(texts)} frame{'s' if len(texts) > 1 else ''})")
    return f"{len(flagged)} of {n_frames} frames outside the training envelope{checked_what}: " + "; ".join(parts)


def _summarise(errs: _FrameErrors, idx: np.ndarray, n_bootstrap: int, rng: np.random.Generator,
               labels: list[str] | None, n_worst: int, worst_by: str) -> dict:
    """Errors over frames ``idx``: RMSE and MAE with bootstrap bars, per-frame percentiles, worst frames."""
    point = errs.pooled(idx)
    if len(idx) > 1 and n_bootstrap > 1:
        boot = np.array([errs.pooled(rng.choice(idx, size=len(idx))) for _ in range(n_bootstrap)])
        se = np.nanstd(boot, axis=0, ddof=1)
    else:
        se = np.full(6, np.nan)
    out: dict = {"n_frames": int(len(idx))}
    columns = [(stat, q, unit) for stat in ("rmse", "mae")
               for q, unit in (("energy", "meV_per_atom"), ("force", "eV_per_A"), ("stress", "GPa"))]
    out.update({f"{stat}_{q}_{unit}": float(point[j]) for j, (stat, q, unit) in enumerate(columns)})
    out.update({f"{stat}_{q}_stderr": float(se[j]) for j, (stat, q, unit) in enumerate(columns)})
    per = errs.frame_errors()
    out["per_frame"] = {name: _percentiles(per[name][idx]) for name in PER_FRAME.values()}
    out["worst_frames"] = _worst(errs, per, idx, labels, n_worst, worst_by)
    checked = [errs.outside[i] for i in idx if errs.outside[i] is not None]
    out["n_outside_envelope"] = sum(1 for v in checked if v) if checked else None
    return out


def _result(errs: _FrameErrors, method: str, bin_by: str | None, labels: list[str] | None, n_bootstrap: int,
            seed: int, n_worst: int = N_WORST, worst_by: str = "force", envelope_info: str = "") -> ValidationErrors:
    """``envelope_info``: why the frames were not checked against an envelope (when they were not), or
    where the envelope came from (appended to the count)."""
    if worst_by not in PER_FRAME:
        raise ValueError(f"worst_by must be one of {tuple(PER_FRAME)}, got {worst_by!r}")
    n = len(errs.e_ref)
    if n == 0:
        nan = float("nan")
        return ValidationErrors(0, nan, nan, nan, method=method, worst_by=worst_by, n_bootstrap=n_bootstrap,
                                bootstrap_seed=seed)
    rng = np.random.default_rng(seed)
    total = _summarise(errs, np.arange(n), n_bootstrap, rng, labels, n_worst, worst_by)
    bins = {}
    if labels is not None:
        groups: dict[str, list[int]] = defaultdict(list)
        for i, lab in enumerate(labels):
            groups[lab].append(i)
        bins = {lab: _summarise(errs, np.array(ix), n_bootstrap, rng, labels, n_worst, worst_by)
                for lab, ix in sorted(groups.items(), key=lambda kv: bin_order(kv[0]))}
    checked = all(v is not None for v in errs.outside)
    envelope = {"checked": checked, "n_frames": n, "n_outside": total["n_outside_envelope"] if checked else None,
                "note": envelope_note(errs.outside, n, envelope_info) if checked
                else envelope_info or "no training envelope given: frames not checked"}
    f_frame = [lab for lab, (fr, _) in zip(labels or [""] * n, errs.parity_f) for _ in range(len(fr))]
    s_frame = [lab for lab, (sr, _) in zip(labels or [""] * n, errs.parity_s) for _ in range(len(sr))]
    per = errs.frame_errors()
    parity = {"energy_eV_per_atom": (errs.e_ref.tolist(), errs.e_mod.tolist()),
              "force_eV_per_A": (np.concatenate([p[0] for p in errs.parity_f]).tolist(),
                                 np.concatenate([p[1] for p in errs.parity_f]).tolist()),
              "stress_GPa": (np.concatenate([p[0] for p in errs.parity_s]).tolist(),
                             np.concatenate([p[1] for p in errs.parity_s]).tolist()),
              "frames": {"id": list(errs.ids), **{k: v.tolist() for k, v in per.items()},
                         "outside_envelope": [bool(v) if v is not None else None for v in errs.outside]}}
    if labels is not None:
        parity["bin"] = {"energy_eV_per_atom": list(labels), "force_eV_per_A": f_frame, "stress_GPa": s_frame}
    scalars = {k: v for k, v in total.items() if k not in ("per_frame", "worst_frames", "n_outside_envelope")}
    return ValidationErrors(**scalars, per_frame=total["per_frame"], worst_by=worst_by,
                            worst_frames=total["worst_frames"], n_outside_envelope=envelope["n_outside"],
                            envelope=envelope, n_bootstrap=n_bootstrap, bootstrap_seed=seed,
                            method=method + f"; 1σ by bootstrap over frames ({n_bootstrap} resamples, seed {seed})",
                            bin_by=bin_by, bins=bins, parity=parity)


def _labels_for(frames: list[Atoms], bin_by: str | None, bin_edges, temperature_key: str | None) -> list[str] | None:
    if bin_by is None:
        return None
    return _bin_labels([frame_condition(a, bin_by, temperature_key) for a in frames], bin_edges)


def resolve_envelope(envelope: TrainingEnvelope | str | Path | None) -> tuple[TrainingEnvelope | None, str]:
    """An envelope, or a model path whose recorded envelope is loaded (:func:`load_envelope`), or None;
    returns it and a note saying where it came from or why there is none."""
    if envelope is None:
        return None, "no training envelope given: frames not checked"
    if isinstance(envelope, (str, Path)):
        loaded = load_envelope(envelope)
        if loaded is None:
            return None, (f"the model {Path(envelope).name} has no training envelope (trained before "
                          "envelopes were recorded): frames not checked")
        return loaded, ""
    return envelope, ""


def validation_errors(evaluator, frames: list[Atoms], *, bin_by: str | None = None, bin_edges=None,
                      temperature_key: str | None = None, n_bootstrap: int = 200, seed: int = 0,
                      envelope: TrainingEnvelope | str | Path | None = None, n_worst: int = N_WORST,
                      worst_by: str = "force") -> ValidationErrors:
    """Compare ``evaluator`` (a backend's ``ForceEvaluator``) with the labels attached to ``frames``.

    Energies are compared per atom (meV/atom); forces per Cartesian component (eV/Å); stress per
    tensor component in GPa, model stress = −virial/V (ASE sign kept for parity plots); frames
    without a stress label count for energy and forces only. ``bin_by`` ∈ :data:`BIN_KINDS` adds
    per-bin errors (``bin_edges`` for numbers; default: one bin per distinct value when there are ≤ 8,
    else quartiles). Bootstrap bars: ``n_bootstrap`` resamples of the frames, generator ``seed``.

    ``envelope``: the model's :class:`~deepearth.potentials.envelope.TrainingEnvelope`, or the model's
    path (its recorded envelope is loaded; a model without one is said so once, in ``envelope["note"]``);
    each frame is checked against it (default tolerances). ``n_worst`` frames with the largest
    ``worst_by`` error (a key of :data:`PER_FRAME`) are listed, overall and per bin.
    """
    labels = _labels_for(frames, bin_by, bin_edges, temperature_key)
    env, note = resolve_envelope(envelope)
    return _result(_frame_errors(evaluator, frames, env), "held-out frames", bin_by, labels, n_bootstrap, seed,
                   n_worst, worst_by, note)


@dataclass
class KFoldErrors:
    """k-fold cross-validation: every frame predicted once by a model that did not see it.

    ``pooled``: errors over all out-of-fold predictions (with bootstrap bars and bins);
    ``folds``: one summary per fold; ``fold_spread``: standard deviation of the per-fold RMSEs
    (the sensitivity to *which* data the model was trained on)."""

    k: int
    pooled: ValidationErrors
    folds: list[dict]
    fold_spread: dict
    models: list[str]

    def summary(self) -> dict:
        return {"k": self.k, "pooled": self.pooled.summary(), "folds": self.folds, "fold_spread": self.fold_spread,
                "models": self.models}


def kfold_assignment(frames: list[Atoms], k: int, seed: int = 0, group: Callable[[Atoms], str] | None = None) -> np.ndarray:
    """Fold index (0..k−1) of each frame: a seeded permutation dealt round-robin; with ``group``
    (e.g. the trajectory a frame was cut from) whole groups go to one fold, so correlated
    neighbours of a test frame are not in its training set."""
    if k < 2:
        raise ValueError(f"k-fold validation needs k ≥ 2, got {k}")
    rng = np.random.default_rng(seed)
    if group is None:
        if len(frames) < k:
            raise ValueError(f"k-fold validation: {len(frames)} frames cannot make {k} folds")
        folds = np.empty(len(frames), dtype=int)
        folds[rng.permutation(len(frames))] = np.arange(len(frames)) % k
        return folds
    names = [group(a) for a in frames]
    unique = sorted(set(names))
    if len(unique) < k:
        raise ValueError(f"k-fold validation: {len(unique)} groups cannot make {k} folds")
    fold_of = {unique[j]: i % k for i, j in enumerate(rng.permutation(len(unique)))}
    return np.array([fold_of[g] for g in names])


def kfold_errors(backend, frames: list[Atoms], k: int, workdir: str | Path, type_map: list[str], *, seed: int = 0,
                 group: Callable[[Atoms], str] | None = None, bin_by: str | None = None, bin_edges=None,
                 temperature_key: str | None = None, n_bootstrap: int = 200,
                 executor: Executor | None = None, envelope: bool = True, n_worst: int = N_WORST,
                 worst_by: str = "force") -> KFoldErrors:
    """Train ``k`` models with ``backend`` (any :class:`~deepearth.potentials.base.Potential`), each on
    k−1 folds, and predict the held-out fold (Hastie, Tibshirani & Friedman, *Elements of
    Statistical Learning* §7.10). Training data are written as DeePMD npy systems in
    ``workdir/fold-i/data``; the backend trains in ``workdir/fold-i/model`` (finished folds are
    reused, so an interrupted cross-validation resumes). The folds train on ``executor`` (default:
    in this process). Errors, worst frames and bars as in :func:`validation_errors`; with ``envelope``
    each held-out frame is checked against the envelope of its own fold's training frames.
    """
    workdir = Path(workdir)
    folds = kfold_assignment(frames, k, seed, group)
    labels = _labels_for(frames, bin_by, bin_edges, temperature_key)
    tasks = []
    for i in range(k):
        data = workdir / f"fold-{i}" / "data"
        train_frames = [frames[j] for j in np.nonzero(folds != i)[0]]
        systems = sorted(data.glob("sys-*")) if (data / "done").is_file() else None
        if systems is None:  # written once: a resumed cross-validation reuses its folds
            shutil.rmtree(data, ignore_errors=True)
            systems = export_frames_deepmd(train_frames, data, type_map)
            (data / "done").touch()
        tasks.append((backend, str(workdir / f"fold-{i}" / "model"), [str(s) for s in systems], [], seed + i))
    models = [""] * k
    for i, path in map_or_raise(executor or InProcessExecutor(), train_member, tasks, "k-fold model"):
        models[i] = path
    parts, order, per_fold = [], [], []
    for i in range(k):
        test = np.nonzero(folds == i)[0]
        train = np.nonzero(folds != i)[0]
        model = Path(models[i])
        env = TrainingEnvelope.from_frames([frames[j] for j in train]) if envelope else None
        errs = _frame_errors(backend.evaluator(model), [frames[j] for j in test], env, test.tolist())
        e, f, s = errs.rmse()
        per_fold.append({"fold": i, "n_train": int(len(train)), "n_test": int(len(test)),
                         "rmse_energy_meV_per_atom": e, "rmse_force_eV_per_A": f, "rmse_stress_GPa": s})
        parts.append(errs)
        order.extend(test.tolist())
    pooled_errs = _FrameErrors.concat(parts)
    pooled_labels = [labels[j] for j in order] if labels is not None else None
    pooled = _result(pooled_errs, f"{k}-fold cross-validation (out-of-fold predictions)", bin_by, pooled_labels,
                     n_bootstrap, seed, n_worst, worst_by,
                     " of their folds' training frames" if envelope else "envelopes not checked (envelope=False)")
    spread = {key: float(np.std([p[key] for p in per_fold], ddof=1))
              for key in ("rmse_energy_meV_per_atom", "rmse_force_eV_per_A", "rmse_stress_GPa")}
    return KFoldErrors(k, pooled, per_fold, spread, models)
