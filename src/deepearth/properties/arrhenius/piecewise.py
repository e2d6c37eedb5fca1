"""Two independent Arrhenius branches either side of a break temperature (Peng et al. 2025, Fig. 2a).

Peng, Yoshino & Deng (Nat. Commun. 2025) find an activation enthalpy that changes with
temperature: 322 kJ/mol over 2000–2750 K and 218 kJ/mol over 2750–3500 K at 25 GPa. Here each side of
a given or searched break (K) gets its own eq. 3/4 fit (:func:`~deepearth.properties.arrhenius.arrhenius_fit`
with ``break_T_K``), and a likelihood-ratio test whose null distribution is simulated under the
one-branch fit, over the same break search, says whether the data justify two branches; AIC/AICc are
reported for information. Units as in :mod:`.branch`: ln D0 (D0 in m²/s), kJ/mol, cm³/mol, K, GPa.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

from deepearth.files import json_ready
from deepearth.properties.arrhenius.branch import (
    ArrheniusPrediction,
    ArrheniusResult,
    band_method,
    design_matrix,
    fit_branch,
    make_prediction,
    prediction_inputs,
)


@dataclass
class PiecewiseArrheniusResult:
    """Two independent Arrhenius branches split at ``break_T_K`` (T ≤ break: ``branches[0]``).

    ``single`` is the one-branch fit of all points. ``preferred`` is "two_branch" when the break test
    rejects one branch at level ``alpha`` (``break_p_value < alpha``), else "one_branch". The test is a
    likelihood-ratio test whose null distribution is simulated under the one-branch fit, over the same
    break search, so a searched break does not inflate it (a nominal F or χ² test would: ~20 % false
    breaks with 13 points at α = 0.05). ``break_test`` says which statistic was used. ``aic_one`` /
    ``aic_two`` (AIC = χ² + 2k with errors, AICc without; a searched break counts as one parameter)
    are for information. An auto break is located only to within ``break_interval_K`` (neighbouring
    temperatures); ``break_candidates_K``/``break_chi2`` are the searched breaks and their total χ².
    """

    break_T_K: float
    break_mode: str  # "auto" (searched) or "fixed" (given)
    break_interval_K: tuple[float, float]
    branches: list[ArrheniusResult]
    single: ArrheniusResult
    preferred: str
    alpha: float
    break_test: str
    break_statistic: float
    break_p_value: float
    aic_one: float
    aic_two: float
    chi2_one: float
    chi2_two: float
    n_points: int
    method: str
    break_candidates_K: list[float] = field(default_factory=list)
    break_chi2: list[float] = field(default_factory=list)
    units: str = "kJ/mol"

    @property
    def value(self) -> list[float]:
        """Activation enthalpies/energies of the (low-T, high-T) branches, kJ/mol."""
        return [b.value for b in self.branches]

    @property
    def stderr(self) -> list[float]:
        return [b.stderr for b in self.branches]

    @property
    def unit(self) -> str:
        return "kJ/mol"

    @property
    def two_branch_preferred(self) -> bool:
        return self.preferred == "two_branch"

    def to_dict(self) -> dict:
        """Strict-JSON dict; branches and the single fit as nested dicts."""
        d = asdict(self)
        d["branches"] = [b.to_dict() for b in self.branches]
        d["single"] = self.single.to_dict()
        d.update(value=self.value, stderr=self.stderr, unit=self.unit)
        return json_ready(d)

    def predict(self, T_K, P_GPa=None, n_samples: int | None = None, seed: int = 0,
                model: Literal["auto", "two_branch", "one_branch"] = "auto") -> ArrheniusPrediction:
        """D (m²/s) with a 1σ band; each T uses the branch whose range applies (T ≤ break: low branch).

        ``model="auto"``: the preferred model for a searched break, the two branches for a given break.
        Branches are independent fits, so their Monte-Carlo draws are independent (see
        :meth:`ArrheniusResult.predict` for the band).
        """
        if model not in ("auto", "two_branch", "one_branch"):
            raise ValueError(f"model must be 'auto', 'two_branch' or 'one_branch', got {model!r}")
        use_two = model == "two_branch" or (model == "auto" and (self.break_mode == "fixed"
                                                                 or self.preferred == "two_branch"))
        if not use_two:
            pred = self.single.predict(T_K, P_GPa, n_samples, seed)
            pred.method = f"one-branch model; {pred.method}"
            return pred
        T, P, scalar, rng = prediction_inputs(T_K, P_GPa, n_samples, seed)
        lnD, sig = np.empty(T.size), np.empty(T.size)
        extrap = np.zeros(T.size, dtype=bool)
        samples = np.empty((int(n_samples), T.size)) if n_samples else None
        for idx, branch in zip((T <= self.break_T_K, T > self.break_T_K), self.branches):
            if not idx.any():
                continue
            out = branch.ln_predict(T[idx], None if P is None else P[idx], n_samples, rng)
            lnD[idx], sig[idx], extrap[idx] = out[0], out[1], out[2]
            if samples is not None:
                samples[:, idx] = out[3]
        how = band_method(n_samples, seed, "each branch's N(params, covariance)")
        return make_prediction(T, P, lnD, sig, extrap, samples,
                           f"two-branch Arrhenius fit, break {self.break_T_K:g} K; {how}", scalar, n_samples)


def _information_criterion(chi2: float, n: int, k: int, weighted: bool) -> float:
    """AIC = χ² + 2k with known errors; AICc with the variance estimated (k + 1 parameters) without."""
    if weighted:
        return chi2 + 2.0 * k
    K = k + 1
    if n - K - 1 <= 0:
        return float("inf")
    rss = max(chi2, n * 1e-24)  # noiseless data: keep the log finite
    return n * math.log(rss / n) + 2.0 * K + 2.0 * K * (K + 1) / (n - K - 1)


#: Null simulations for the break test (p resolution 1/N_NULL), seeded for reproducibility.
_N_NULL, _NULL_SEED = 4000, 20250201


def _break_stat(chi2_one: float, k1: int, chi2_two: np.ndarray, k2: np.ndarray, n: int, scale_free: bool):
    """max over breaks of Δχ² (known errors) or of F = (Δχ²/Δk)/(χ²_two/(n − k2)) (errors up to a factor)."""
    d = chi2_one - chi2_two
    if not scale_free:
        return np.max(d, axis=0)
    dk = (k2 - k1)[:, None] if d.ndim == 2 else k2 - k1
    dof = (n - k2)[:, None] if d.ndim == 2 else n - k2
    with np.errstate(divide="ignore", invalid="ignore"):
        F = (d / dk) / (chi2_two / dof)
    return np.max(np.where(chi2_two > 0, F, np.inf), axis=0)


def _break_test(T, P, w, single, splits, chi2_two_obs, scale_free: bool):
    """Observed statistic and its p-value, simulated under the one-branch fit with the same break search.

    ``splits`` = [(mask_low, with_dV_low, with_dV_high)]. Data are drawn as the single fit plus
    N(0, σ²) noise (``w = 1/σ_lnD``, or 1); every draw is refitted (by projection) for every break.
    The statistic's null distribution depends only on the design (linear Gaussian model), so the
    p-value is exact up to Monte-Carlo error.
    """
    n = T.size
    k1 = len(single.params)
    X1 = design_matrix(T, P, single.activation_kind == "dE")
    k2 = np.array([(3 if a else 2) + (3 if b else 2) for _, a, b in splits])
    obs = float(_break_stat(single.chi2, k1, np.asarray(chi2_two_obs), k2, n, scale_free))
    rng = np.random.default_rng(_NULL_SEED)
    Y = (X1 @ single.theta)[:, None] * w[:, None] + rng.standard_normal((n, _N_NULL))  # weighted space

    def chi2_of(X):
        Q = np.linalg.qr(X * w[:, None])[0]
        return np.sum(Y**2, axis=0) - np.sum((Q.T @ Y) ** 2, axis=0)

    c1 = chi2_of(X1)
    c2 = []
    for lo, dv_lo, dv_hi in splits:
        blocks = []
        for mask, dv in ((lo, dv_lo), (~lo, dv_hi)):
            blocks.append(design_matrix(T, P, dv) * mask[:, None])
        c2.append(chi2_of(np.hstack(blocks)))
    null = _break_stat(c1, k1, np.array(c2), k2, n, scale_free)
    p = (1.0 + np.sum(null >= obs - 1e-9 * max(1.0, abs(obs)))) / (1.0 + _N_NULL)
    return obs, float(p)


def _candidate_breaks(T: np.ndarray, break_T_K, split):
    """Breaks (K) to try, their ``(low fit, high fit, (T below, T above))``, the mode and its extra parameter.

    ``T`` sorted; ``split(b, label_lo, label_hi)`` fits the two sides of break ``b``. ``"auto"``: midpoints
    between neighbouring temperatures with enough points each side; a number: that break only.
    """
    n, uniq = T.size, np.unique(T)
    bad = f"break_T_K must be None, a temperature in K or 'auto', got {break_T_K!r}"
    if isinstance(break_T_K, str):
        if break_T_K != "auto":
            raise ValueError(bad)
        if n < 4:
            raise ValueError(f"an automatic break needs at least 4 points (2 per branch), got {n}")
        min_pts = 3 if n >= 6 else 2
        cands, fits = [], []
        for j in range(uniq.size - 1):
            b = 0.5 * (uniq[j] + uniq[j + 1])
            n_lo = int(np.sum(T <= b))
            if n_lo < min_pts or n - n_lo < min_pts:
                continue
            try:
                fits.append(split(b, "", "") + ((float(uniq[j]), float(uniq[j + 1])),))
            except ValueError:  # a branch with one temperature, or P linear in T: not a candidate
                continue
            cands.append(float(b))
        if not cands:
            raise ValueError(f"no break temperature leaves >= {min_pts} points and two temperatures on each side "
                             f"(temperatures: {', '.join(f'{t:g}' for t in uniq)} K)")
        return cands, fits, "auto", 1
    try:
        b = float(break_T_K)
    except (TypeError, ValueError):
        raise ValueError(bad) from None
    if not math.isfinite(b) or b <= 0:
        raise ValueError(f"break_T_K must be a positive temperature in K, got {break_T_K!r}")
    n_lo = int(np.sum(T <= b))
    if n_lo < 2 or n - n_lo < 2:
        raise ValueError(f"break_T_K = {b:g} K leaves {n_lo} point(s) at T <= break and {n - n_lo} above; "
                         "each branch needs at least 2")
    below, above = uniq[uniq <= b], uniq[uniq > b]
    fits = [split(b, f"branch T <= {b:g} K", f"branch T > {b:g} K") + ((float(below.max()), float(above.min())),)]
    return [b], fits, "fixed", 0


def fit_piecewise(T, D, sD, P, break_T_K, fit_dV, scale, species, alpha) -> PiecewiseArrheniusResult:
    """Two-branch fit on validated arrays (see :func:`~deepearth.properties.arrhenius.arrhenius_fit`)."""
    n = T.size
    order = np.argsort(T, kind="stable")
    T, D = T[order], D[order]
    sD = None if sD is None else sD[order]
    P = None if P is None else P[order]
    single = fit_branch(T, D, sD, P, fit_dV, scale, species)

    def fit(mask: np.ndarray, label: str) -> ArrheniusResult:
        return fit_branch(T[mask], D[mask], None if sD is None else sD[mask], None if P is None else P[mask], fit_dV,
                          scale, species, label)

    def split(b: float, label_lo: str, label_hi: str):
        lo = T <= b
        return fit(lo, label_lo), fit(~lo, label_hi)

    cands, fits, mode, extra_k = _candidate_breaks(T, break_T_K, split)
    chi2s = [lo.chi2 + hi.chi2 for lo, hi, _ in fits]
    best = int(np.argmin(chi2s))
    lo, hi, interval = fits[best]
    b = cands[best]

    weighted = single.weighted
    k1, k2 = len(single.params), len(lo.params) + len(hi.params)
    chi2_two = chi2s[best]
    aic1 = _information_criterion(single.chi2, n, k1, weighted)
    aic2 = _information_criterion(chi2_two, n, k2 + extra_k, weighted)
    # Known errors are trusted unless the covariance policy distrusts them (scale_covariance="always", or
    # "auto" with the two-branch fit still above χ²_red = 1); then the scale-free F statistic is used.
    chi2_red_two = chi2_two / (n - k2) if n > k2 else float("nan")
    scale_free = (not weighted) or scale == "always" or (scale == "auto" and chi2_red_two > 1.0)
    search = "max over the searched breaks of " if mode == "auto" else ""
    if single.chi2 <= 1e-20 * n:
        stat, p = 0.0, 1.0
        test = "none needed: one branch fits the points exactly"
    elif scale_free and not n > k2:
        stat, p = float("nan"), float("nan")
        test = "none possible: the scale-free F test needs more points than two-branch parameters"
    else:
        w = np.ones(n) if sD is None else D / sD
        splits = [(T <= c, f[0].activation_kind == "dE", f[1].activation_kind == "dE") for c, f in zip(cands, fits)]
        stat, p = _break_test(T, P, w, single, splits, chi2s, scale_free)
        test = (search + ("F = (dchi2/dk)/(chi2_two/dof)" if scale_free else "dchi2 = chi2_one - chi2_two")
                + (" (errors known up to a common factor)" if scale_free else " (errors taken as known)")
                + f"; null simulated under the one-branch fit, {_N_NULL} draws")
    preferred = "two_branch" if (math.isfinite(p) and p < alpha) else "one_branch"
    ic = "AIC" if weighted else "AICc"
    method = (f"two independent Arrhenius branches split at {b:g} K ({mode}; T <= break in the low branch); "
              f"{preferred.replace('_', '-')} model preferred: break test p = {p:.3g} vs alpha = {alpha:g} "
              f"({test}); {ic} {aic1:.4g} one branch vs {aic2:.4g} two")
    return PiecewiseArrheniusResult(
        break_T_K=float(b), break_mode=mode, break_interval_K=interval, branches=[lo, hi], single=single,
        preferred=preferred, alpha=float(alpha), break_test=test, break_statistic=float(stat), break_p_value=p,
        aic_one=float(aic1), aic_two=float(aic2), chi2_one=float(single.chi2), chi2_two=float(chi2_two),
        n_points=int(n), method=method, break_candidates_K=[float(c) for c in cands],
        break_chi2=[float(c) for c in chi2s])


__all__ = ["PiecewiseArrheniusResult", "fit_piecewise"]
