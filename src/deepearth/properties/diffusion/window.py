"""The diffusive fit window of an MSD curve, chosen from the physics.

Three times bound the window ``[t0, t1]`` (lags in ps, pooled MSD of the selected atoms):

* **caging time** ``t_c`` — the end of the ballistic and caging regime. With velocities: the first
  minimum of the velocity autocorrelation function (the backscattering dip of a dense liquid), or, if
  the VACF decays without one (a gas, Langevin particles), where it has fallen below
  ``VACF_DECAYED`` (5 %) of its initial value (:func:`caging_time_from_vacf`). Without velocities:
  ``CAGING_MULTIPLE`` (2) × the time where the log–log slope α = d ln MSD/d ln t of the MSD first
  falls below ``BALLISTIC_EXIT`` (1.5, halfway between ballistic 2 and diffusive 1)
  (:func:`caging_time_from_msd`). In Lennard-Jones argon at ρ* 0.8, T* 1.0 the VACF minimum is at
  0.4 ps and the MSD rule gives 0.58 ps; for Langevin particles (velocity relaxation τ) 4.2 τ.
* **start** ``t0`` — the first lag ≥ max(``t_c``, ``min_start_ps``) from which the *local exponent*
  γ(t) = d ln(t·dMSD/dt)/d ln t stays within ``WINDOW_TOLERANCE`` (0.03) of 1 over a factor
  ``PERSISTENCE`` (2) in time (:func:`local_exponent`). For a power law MSD ∝ t^α, γ = α — the
  local slope d ln MSD/d ln t — but unlike α it is blind to the constant offset that the
  ballistic/caging start leaves (MSD = 6Dt + c), whose α approaches 1 only as c/(6Dt): γ − 1 =
  d ln D(t)/d ln t measures the change of the running D(t) = (dMSD/dt)/(2d) itself. Where the MSD is
  too noisy to resolve 0.03, two standard errors of γ (``NOISE_SIGMAS``, from the spread of the
  per-atom curves) are added to the tolerance. The GLS slope rests mostly on the first lags of the
  window, so its bias is the excess of D(t) there: on the LJ liquid a tolerance of 0.05 starts the
  window at ≈ 0.9 ps and reads D 1 % high, 0.03 starts it at ≈ 1.3 ps and reads it right
  (64 runs of 50 ps, benchmarks/RESULTS.md). A start before the caging time is refused: the running D(t) of a liquid
  peaks at the first zero of the VACF, where γ passes through 1 on its way down.
* **end** ``t1`` — ``END_FRACTION`` (½) of the trajectory: beyond it fewer than half of the time
  origins remain.

No such start (γ never settles at 1, or the running D(t) is not clearly positive, as in a crystal
whose MSD plateaus: α, γ → 0), a window shorter than a factor ``PERSISTENCE`` in time, or α at the
window end below 0.5: the motion is not diffusive; the
late half of the range is returned with ``diffusive=False`` (the result is flagged, D ≈ 0 by fit).
"""

from __future__ import annotations

import numpy as np

#: |γ − 1| allowed at the window start (γ the local exponent of t·dMSD/dt; γ − 1 = d ln D(t)/d ln t).
WINDOW_TOLERANCE: float = 0.03
#: γ must stay within the tolerance from the start over this factor in time.
PERSISTENCE: float = 2.0
#: Fraction of the trajectory the window may reach.
END_FRACTION: float = 0.5
#: Log–log MSD slope below which the motion has left the ballistic regime (α = 2).
BALLISTIC_EXIT: float = 1.5
#: Caging time without velocities: this multiple of the ballistic exit time.
CAGING_MULTIPLE: float = 2.0
#: A VACF without a minimum counts as decayed below this fraction of its initial value.
VACF_DECAYED: float = 0.05
#: Standard errors of γ added to the tolerance where the MSD is too noisy to resolve it.
NOISE_SIGMAS: float = 2.0
#: Knots per doubling of time at which the running D(t) is sampled.
KNOTS_PER_OCTAVE: int = 4
#: γ at a knot from the running D this many knots before and after (1: a factor √2 in time; 2, a
#: factor 2, halves the noise of γ but changed neither bias nor coverage on the LJ calibration).
GAMMA_SPAN: int = 1


def local_slope(lag: np.ndarray, msd: np.ndarray) -> np.ndarray:
    """d ln MSD / d ln t on the lags > 0 (same length as ``lag``; NaN where undefined)."""
    slope = np.full_like(msd, np.nan, dtype=float)
    ok = (lag > 0) & (msd > 0)
    if ok.sum() >= 3:
        slope[ok] = np.gradient(np.log(msd[ok]), np.log(lag[ok]))
    return slope


def caging_time_from_msd(lag_ps: np.ndarray, msd: np.ndarray) -> float:
    """``CAGING_MULTIPLE`` × the first time the log–log MSD slope falls below ``BALLISTIC_EXIT``
    (interpolated in ln t between frames; the first lag if it is already below there)."""
    ok = np.flatnonzero((lag_ps > 0) & (msd > 0))
    if ok.size < 2:
        return float(lag_ps[min(1, len(lag_ps) - 1)])
    t, m = lag_ps[ok], msd[ok]
    alpha = np.diff(np.log(m)) / np.diff(np.log(t))
    t_mid = np.sqrt(t[1:] * t[:-1])
    below = np.flatnonzero(alpha < BALLISTIC_EXIT)
    if below.size == 0:
        return float(CAGING_MULTIPLE * t[-1])
    k = int(below[0])
    if k == 0:
        t_exit = float(t[0])
    else:  # interpolate α = BALLISTIC_EXIT between the two midpoints, in ln t
        f = (alpha[k - 1] - BALLISTIC_EXIT) / (alpha[k - 1] - alpha[k])
        t_exit = float(np.exp(np.log(t_mid[k - 1]) + f * (np.log(t_mid[k]) - np.log(t_mid[k - 1]))))
    return CAGING_MULTIPLE * t_exit


def caging_time_from_vacf(lag_ps: np.ndarray, vacf: np.ndarray) -> float:
    """The first minimum of the VACF after its first zero crossing; if it does not cross zero in
    the range, the first time it falls below ``VACF_DECAYED`` of its initial value (or the range end)."""
    c = np.asarray(vacf, dtype=float) / float(vacf[0])
    neg = np.flatnonzero(c < 0)
    if neg.size:
        i = int(neg[0])
        while i + 1 < len(c) and c[i + 1] < c[i]:
            i += 1
        return float(lag_ps[i])
    low = np.flatnonzero(c < VACF_DECAYED)
    return float(lag_ps[low[0]] if low.size else lag_ps[-1])


def knot_times(lag_ps: np.ndarray, i1: int) -> np.ndarray:
    """Log-spaced times (``KNOTS_PER_OCTAVE`` per doubling) from the first lag to ``lag_ps[i1-1]``."""
    lo, hi = float(lag_ps[1]), float(lag_ps[i1 - 1])
    n = max(3, int(np.ceil(np.log2(hi / lo) * KNOTS_PER_OCTAVE)) + 1)
    return np.geomspace(lo, hi, n)


def running_slope_operator(lag_ps: np.ndarray, knots: np.ndarray, i1: int) -> np.ndarray:
    """Matrix ``(K, i1)``: row k gives the OLS slope of an MSD over the lags within a factor
    2^(1/(2·KNOTS_PER_OCTAVE)) of knot k (at least its 3 nearest lags), i.e. dMSD/dt at t_k."""
    half = 2.0 ** (0.5 / KNOTS_PER_OCTAVE)
    op = np.zeros((len(knots), i1))
    t = lag_ps[:i1]
    for k, tk in enumerate(knots):
        idx = np.flatnonzero((t >= tk / half) & (t <= tk * half) & (t > 0))
        if idx.size < 3:
            near = np.argsort(np.abs(t - tk))
            idx = np.sort(near[:3])
        x = t[idx] - t[idx].mean()
        op[k, idx] = x / np.sum(x * x)
    return op


def local_exponent(knots: np.ndarray, slopes: np.ndarray, per_atom_slopes: np.ndarray | None = None,
                   span: int | None = None):
    """γ − 1 = d ln D(t)/d ln t at the knots — the difference of ln slope between the knots ``span``
    before and after (default ``GAMMA_SPAN``; NaN where a slope ≤ 0 or near the ends) — and its
    standard error from the spread over atoms of the per-atom slope differences ``per_atom_slopes``
    ``(K, N)`` (zeros if None): the difference, not the two slopes separately, because the slopes of
    one trajectory at neighbouring times are strongly correlated."""
    m = GAMMA_SPAN if span is None else int(span)
    g = np.full(len(knots), np.nan)
    e = np.zeros(len(knots))
    for k in range(m, len(knots) - m):
        a, b = slopes[k - m], slopes[k + m]
        if a > 0 and b > 0:
            dl = np.log(knots[k + m] / knots[k - m])
            g[k] = np.log(b / a) / dl
            if per_atom_slopes is not None:
                diff = per_atom_slopes[k + m] - per_atom_slopes[k - m]
                diff = diff[np.isfinite(diff)]  # region: atoms that stay inside over these lags
                e[k] = (diff.std(ddof=1) / np.sqrt(diff.size) / (np.sqrt(a * b) * dl) if diff.size >= 2
                        else np.inf)
    return g, e


def diffusive_window(lag_ps: np.ndarray, msd: np.ndarray, min_start_ps: float = 0.1,
                     tolerance: float | None = None, *, caging_time_ps: float | None = None,
                     per_atom_msd: np.ndarray | None = None, min_loglog_slope: float = 0.5,
                     details: dict | None = None) -> tuple[int, int, bool]:
    """Indices ``[i0, i1)`` of the fit window on ``lag_ps`` (ps, evenly spaced from 0) and whether
    the motion is diffusive — the rule of the module docstring.

    ``caging_time_ps``: the caging time when known (e.g. :func:`caging_time_from_vacf`); otherwise
    :func:`caging_time_from_msd`. ``per_atom_msd`` ``(≥ i1, N)``: per-atom MSD curves whose spread
    gives the noise of γ (NaN where an atom has no value, as when it left a region; without them the
    tolerance is not widened). ``details`` (a dict) receives
    ``caging_time_ps``, the knots, γ − 1 and its error, for the record.
    """
    tolerance = WINDOW_TOLERANCE if tolerance is None else float(tolerance)
    n = len(lag_ps)
    i1 = max(int(n * END_FRACTION), 3)
    i_min = min(max(int(np.searchsorted(lag_ps, min_start_ps)), 1), i1 - 2)
    fallback = (i_min + (i1 - i_min) // 2, i1, False)
    t_c = caging_time_ps if caging_time_ps is not None else caging_time_from_msd(lag_ps[:i1], msd[:i1])
    knots = knot_times(lag_ps, i1)
    op = running_slope_operator(lag_ps, knots, i1)
    distinct = np.r_[True, np.any(op[1:] != op[:-1], axis=1)]  # knots closer than the frames: keep one
    knots, op = knots[distinct], op[distinct]
    slopes = op @ msd[:i1]
    per, err = None, np.zeros_like(slopes)
    if per_atom_msd is not None and per_atom_msd.shape[1] >= 2:
        pa = per_atom_msd[:i1]
        # an atom's slope at a knot needs its MSD at every lag of the knot (region: NaN where it left)
        used = (op != 0).astype(int)
        complete = np.isfinite(pa).T.astype(int) @ used.T == used.sum(axis=1)
        per = np.where(complete, np.nan_to_num(pa).T @ op.T, np.nan).T
        n_ok = np.maximum(np.isfinite(per).sum(axis=1), 1)
        with np.errstate(invalid="ignore"):
            err = np.where(n_ok >= 2, np.nanstd(per, axis=1, ddof=1) / np.sqrt(n_ok), np.inf)
    gm1, gerr = local_exponent(knots, slopes, per)
    if details is not None:
        details.update(caging_time_ps=float(t_c), knots_ps=knots.tolist(), gamma_minus_1=gm1.tolist(),
                       gamma_err=gerr.tolist())
    t_lo = max(float(t_c), float(lag_ps[i_min]))
    t_last = knots[-1 - GAMMA_SPAN] if len(knots) > 2 * GAMMA_SPAN else knots[0]  # the last knot with a γ
    ok = np.isfinite(gm1) & (np.abs(gm1) <= tolerance + NOISE_SIGMAS * gerr) & (slopes > 3.0 * err) & (slopes > 0)
    start = None
    for k in np.flatnonzero((knots >= t_lo) & (knots <= t_last)):
        span = (knots >= knots[k]) & (knots <= min(PERSISTENCE * knots[k], t_last))
        if ok[span].all():
            start = float(knots[k])
            break
    if start is None:
        return fallback
    i0 = max(int(np.searchsorted(lag_ps, start - 1e-9 * start)), i_min)
    if i1 - i0 < 3 or lag_ps[i1 - 1] < PERSISTENCE * lag_ps[i0] * (1 - 1e-9):
        return fallback  # the linear regime must be seen over a factor PERSISTENCE in time
    alpha = local_slope(lag_ps[:i1], msd[:i1])
    if not np.nanmean(alpha[max(i1 - max(3, i1 // 20), i0):i1]) >= min_loglog_slope:
        return fallback
    return i0, i1, True


__all__ = ["WINDOW_TOLERANCE", "PERSISTENCE", "END_FRACTION", "BALLISTIC_EXIT", "CAGING_MULTIPLE", "VACF_DECAYED",
           "caging_time_from_msd", "caging_time_from_vacf", "diffusive_window", "local_exponent", "local_slope",
           "running_slope_operator"]
