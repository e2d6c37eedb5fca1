"""Held-out and k-fold errors of a model against reference labels (SCIENCE.md §1 step 3).

Every RMSE comes with a bootstrap standard error over *frames* (the frame, not the force
component, is the independent unit: the components of one frame are correlated), and can be
binned by temperature, pressure or composition — a model is only as good as its worst bin, and a
single pooled number hides the hot, compressed frames where it matters.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from ase import Atoms

from deepearth.parallel import Executor, InProcessExecutor, map_or_raise
from deepearth.potentials.ensemble import train_member
from deepearth.store import export_frames_deepmd
from deepearth.units import EV_PER_A3_TO_GPA

#: Keys of ``atoms.info`` read as the frame's temperature (K), in order of preference.
TEMPERATURE_KEYS = ("origin_T_K", "temperature_K", "T_K", "electronic_temperature_K")
BIN_KINDS = ("temperature", "pressure", "composition")


@dataclass
class ValidationErrors:
    """RMSE of energy (meV/atom), force components (eV/Å) and stress components (GPa) on ``n_frames``
    with bootstrap standard errors (resampling frames), the parity data (reference vs model) for
    plots and, when binned, the same errors per bin (``bins``: label → summary dict)."""

    n_frames: int
    rmse_energy_meV_per_atom: float
    rmse_force_eV_per_A: float
    rmse_stress_GPa: float
    rmse_energy_stderr: float = float("nan")
    rmse_force_stderr: float = float("nan")
    rmse_stress_stderr: float = float("nan")
    method: str = ""
    bin_by: str | None = None
    bins: dict = field(default_factory=dict)
    parity: dict = field(default_factory=dict, repr=False)

    def summary(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "parity"}


@dataclass
class _FrameErrors:
    """Per-frame squared-error sums: the unit that RMSEs, bins and bootstraps are built from."""

    e_ref: np.ndarray  # (n,) eV/atom
    e_mod: np.ndarray
    f_sq: np.ndarray  # (n,) Σ over components of ΔF² (eV/Å)²
    f_n: np.ndarray  # (n,) number of force components
    s_sq: np.ndarray  # (n,) Σ over 9 components of Δσ² (GPa²); NaN where the label has no stress
    parity_f: list = field(default_factory=list)
    parity_s: list = field(default_factory=list)

    def take(self, idx: np.ndarray) -> "_FrameErrors":
        return _FrameErrors(self.e_ref[idx], self.e_mod[idx], self.f_sq[idx], self.f_n[idx], self.s_sq[idx],
                            [self.parity_f[i] for i in idx], [self.parity_s[i] for i in idx])

    @staticmethod
    def concat(parts: list["_FrameErrors"]) -> "_FrameErrors":
        return _FrameErrors(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("e_ref", "e_mod", "f_sq", "f_n", "s_sq")),
                            [x for p in parts for x in p.parity_f], [x for p in parts for x in p.parity_s])

    def rmse(self, idx: np.ndarray | None = None) -> tuple[float, float, float]:
        """(energy meV/atom, force eV/Å, stress GPa) RMSE over frames ``idx`` (default: all)."""
        idx = np.arange(len(self.e_ref)) if idx is None else idx
        e = 1000.0 * float(np.sqrt(np.mean((self.e_ref[idx] - self.e_mod[idx]) ** 2)))
        f = float(np.sqrt(self.f_sq[idx].sum() / self.f_n[idx].sum()))
        s_sq = self.s_sq[idx][np.isfinite(self.s_sq[idx])]
        s = float(np.sqrt(s_sq.sum() / (9 * len(s_sq)))) if len(s_sq) else float("nan")
        return e, f, s


def _frame_errors(evaluator, frames: list[Atoms]) -> _FrameErrors:
    e_ref, e_mod, f_sq, f_n, s_sq, par_f, par_s = [], [], [], [], [], [], []
    for atoms in frames:
        e, f, v = evaluator.evaluate(atoms.get_positions(), atoms.cell.array, atoms.get_chemical_symbols())
        n, vol = len(atoms), atoms.get_volume()
        e_ref.append(atoms.get_potential_energy() / n)
        e_mod.append(e / n)
        fr, fm = atoms.get_forces().ravel(), np.asarray(f).ravel()
        f_sq.append(float(np.sum((fr - fm) ** 2)))
        f_n.append(fr.size)
        par_f.append((fr, fm))
        if atoms.calc is not None and atoms.calc.results.get("stress") is not None:
            sr = atoms.get_stress(voigt=False).ravel() * EV_PER_A3_TO_GPA
            sm = -np.asarray(v).ravel() / vol * EV_PER_A3_TO_GPA
            s_sq.append(float(np.sum((sr - sm) ** 2)))
            par_s.append((sr, sm))
        else:
            s_sq.append(float("nan"))
            par_s.append((np.zeros(0), np.zeros(0)))
    return _FrameErrors(np.array(e_ref), np.array(e_mod), np.array(f_sq), np.array(f_n), np.array(s_sq), par_f, par_s)


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
        bin_edges = np.quantile(x, np.linspace(0, 1, 5))
    edges = np.asarray(bin_edges, dtype=float)
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    return [f"{edges[i]:g}–{edges[i + 1]:g}" for i in idx]


def _summarise(errs: _FrameErrors, idx: np.ndarray, n_bootstrap: int, rng: np.random.Generator) -> dict:
    e, f, s = errs.rmse(idx)
    boot = np.array([errs.rmse(rng.choice(idx, size=len(idx))) for _ in range(n_bootstrap)]) if len(idx) > 1 else None
    se = np.nanstd(boot, axis=0, ddof=1) if boot is not None else np.full(3, np.nan)
    return {"n_frames": int(len(idx)), "rmse_energy_meV_per_atom": e, "rmse_force_eV_per_A": f, "rmse_stress_GPa": s,
            "rmse_energy_stderr": float(se[0]), "rmse_force_stderr": float(se[1]), "rmse_stress_stderr": float(se[2])}


def _result(errs: _FrameErrors, method: str, bin_by: str | None, labels: list[str] | None,
            n_bootstrap: int, seed: int) -> ValidationErrors:
    n = len(errs.e_ref)
    if n == 0:
        nan = float("nan")
        return ValidationErrors(0, nan, nan, nan, method=method)
    rng = np.random.default_rng(seed)
    total = _summarise(errs, np.arange(n), n_bootstrap, rng)
    bins = {}
    if labels is not None:
        groups: dict[str, list[int]] = defaultdict(list)
        for i, lab in enumerate(labels):
            groups[lab].append(i)
        bins = {lab: _summarise(errs, np.array(ix), n_bootstrap, rng) for lab, ix in sorted(groups.items())}
    f_frame = [lab for lab, (fr, _) in zip(labels or [""] * n, errs.parity_f) for _ in range(len(fr))]
    s_frame = [lab for lab, (sr, _) in zip(labels or [""] * n, errs.parity_s) for _ in range(len(sr))]
    parity = {"energy_eV_per_atom": (errs.e_ref.tolist(), errs.e_mod.tolist()),
              "force_eV_per_A": (np.concatenate([p[0] for p in errs.parity_f]).tolist(),
                                 np.concatenate([p[1] for p in errs.parity_f]).tolist()),
              "stress_GPa": (np.concatenate([p[0] for p in errs.parity_s]).tolist(),
                             np.concatenate([p[1] for p in errs.parity_s]).tolist())}
    if labels is not None:
        parity["bin"] = {"energy_eV_per_atom": list(labels), "force_eV_per_A": f_frame, "stress_GPa": s_frame}
    return ValidationErrors(n, total["rmse_energy_meV_per_atom"], total["rmse_force_eV_per_A"], total["rmse_stress_GPa"],
                            total["rmse_energy_stderr"], total["rmse_force_stderr"], total["rmse_stress_stderr"],
                            method=method + f"; 1σ by bootstrap over frames ({n_bootstrap} resamples)",
                            bin_by=bin_by, bins=bins, parity=parity)


def _labels_for(frames: list[Atoms], bin_by: str | None, bin_edges, temperature_key: str | None) -> list[str] | None:
    if bin_by is None:
        return None
    return _bin_labels([frame_condition(a, bin_by, temperature_key) for a in frames], bin_edges)


def validation_errors(evaluator, frames: list[Atoms], *, bin_by: str | None = None, bin_edges=None,
                      temperature_key: str | None = None, n_bootstrap: int = 200, seed: int = 0) -> ValidationErrors:
    """Compare ``evaluator`` (a backend's ``ForceEvaluator``) with the labels attached to ``frames``.

    Energies are compared per atom (meV/atom); forces per Cartesian component (eV/Å); stress per
    tensor component in GPa, model stress = −virial/V (ASE sign kept for parity plots); frames
    without a stress label count for energy and forces only. ``bin_by`` ∈ :data:`BIN_KINDS` adds
    per-bin errors (``bin_edges`` for numbers; default: one bin per distinct value when there are ≤ 8,
    else quartiles).
    """
    labels = _labels_for(frames, bin_by, bin_edges, temperature_key)
    return _result(_frame_errors(evaluator, frames), "held-out frames", bin_by, labels, n_bootstrap, seed)


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
                 executor: Executor | None = None) -> KFoldErrors:
    """Train ``k`` models with ``backend`` (any :class:`~deepearth.potentials.base.Potential`), each on
    k−1 folds, and predict the held-out fold (Hastie, Tibshirani & Friedman, *Elements of
    Statistical Learning* §7.10). Training data are written as DeePMD npy systems in
    ``workdir/fold-i/data``; the backend trains in ``workdir/fold-i/model`` (finished folds are
    reused, so an interrupted cross-validation resumes). The folds train on ``executor`` (default:
    in this process). RMSEs as in :func:`validation_errors`.
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
        errs = _frame_errors(backend.evaluator(model), [frames[j] for j in test])
        e, f, s = errs.rmse()
        per_fold.append({"fold": i, "n_train": int(len(train)), "n_test": int(len(test)),
                         "rmse_energy_meV_per_atom": e, "rmse_force_eV_per_A": f, "rmse_stress_GPa": s})
        parts.append(errs)
        order.extend(test.tolist())
    pooled_errs = _FrameErrors.concat(parts)
    pooled_labels = [labels[j] for j in order] if labels is not None else None
    pooled = _result(pooled_errs, f"{k}-fold cross-validation (out-of-fold predictions)", bin_by, pooled_labels,
                     n_bootstrap, seed)
    spread = {key: float(np.std([p[key] for p in per_fold], ddof=1))
              for key in ("rmse_energy_meV_per_atom", "rmse_force_eV_per_A", "rmse_stress_GPa")}
    return KFoldErrors(k, pooled, per_fold, spread, models)
