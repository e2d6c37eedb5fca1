"""MSD curves and moments, the MSD covariance model and the generalised-least-squares line for D.

Per-atom MSDs over all time origins (:func:`msd_per_atom`, FFT), optionally restricted to atoms
that stay in a region (:func:`msd_moments`), and the statistically efficient slope estimator of
McCluskey, Coles & Morgan, J. Chem. Theory Comput. 21, 79 (2025) (kinisi): the covariance of the
time-origin-averaged MSD under a Gaussian-displacement model (:func:`msd_covariance`, Å⁴) and the
GLS straight line with a ridge-regularised weight matrix and sandwich variance (:func:`gls_line`,
:func:`gls_msd_slope`). Used by :func:`deepearth.properties.diffusion.diffusion_coefficient` (:mod:`.estimator`).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import tidynamics

#: Shrinkage of the GLS weight matrix (ridge added to the correlation matrix, see :func:`gls_line`).
#: Unshrunk, the GLS weights sit on the first lags of the window (for a random walk the shortest lags
#: carry the information), so the slope is the running D(t) at the window start. In a liquid D(t)
#: still creeps up by ≈ 1 % beyond it (LJ argon: D* 0.0634 at 1.6 ps, 0.0642 at 12–25 ps, the
#: hydrodynamic long-time tail). A ridge of 1 (correlation matrix + I) spreads the weights over the
#: window: on 48 sets of 4 × 50 ps LJ runs it moves the mean D* from 0.0635 to 0.0636 for 9 % more
#: scatter, and the coverage of the bar from 56 % to 71 % (0.01 → 1); on the Langevin calibration
#: (benchmarks/diffusion_calibration.py) it costs 10–20 % more error than 0.01; GLS still needs
#: 3–10× shorter runs than OLS from 200 frames on. Both in benchmarks/RESULTS.md.
GLS_RIDGE: float = 1.0


# --------------------------------------------------------------------------------------------
# MSD curves and moments (region-masked), fit lags
# --------------------------------------------------------------------------------------------

def msd_per_atom(positions: np.ndarray) -> np.ndarray:
    """MSD of each atom over all time origins, ``(T, N)`` in Å² from unwrapped ``(T, N, k)`` Å (FFT).

    ``MSD_i(n) = 1/(T-n) Σ_t |r_i(t+n) - r_i(t)|²`` (Calandrini et al., Collection SFN 12, 201 (2011)).
    """
    positions = np.asarray(positions, dtype=float)
    return np.stack([tidynamics.msd(positions[:, i, :]) for i in range(positions.shape[1])], axis=1)


def msd_curves(positions: list[np.ndarray], inside: list[np.ndarray | None], n_frames: int):
    """Per-replica MSD curves (Å²) of unwrapped positions ``(T, N, k)`` Å, with their weights.

    Without a region (``inside`` entries None): every lag 0..T-1 from the FFT per-atom MSD
    (:func:`msd_per_atom`), weight = number of atoms. With one (``inside`` the ``(T, N)`` membership
    of each replica): a grid of ≤ ~200 lags, each atom counted over the origins from which it stays
    inside for the whole lag, weight = (origin, atom) pairs, NaN where there are none. Returns
    ``(lags (frames), msd (R, L), weights (R, L), per-atom MSDs (list of (L, N), NaN where an atom
    never stays inside over a lag))``.
    """
    if inside[0] is None:
        curve_lags = np.arange(n_frames)
        per_atom = [msd_per_atom(p) for p in positions]
        msd_rep = np.array([m.mean(axis=1) for m in per_atom])
        w_rep = np.array([p.shape[1] for p in positions], dtype=float)[:, None] * np.ones(n_frames)
        return curve_lags, msd_rep, w_rep, per_atom
    step = max(1, int(np.ceil((n_frames - 1) / 200)))
    curve_lags = np.arange(0, n_frames, step)
    w_rep, msd_rep, per_atom = [], [], []
    for pos, ins in zip(positions, inside):
        cnt = np.zeros((len(curve_lags), pos.shape[1]))
        s2 = np.zeros_like(cnt)
        for j, a in enumerate(curve_lags):
            ok = _window_ok(ins, a)
            cnt[j] = ok.sum(axis=0)
            if a:
                s2[j] = np.where(ok, ((pos[a:] - pos[:n_frames - a]) ** 2).sum(axis=2), 0.0).sum(axis=0)
        w_rep.append(cnt.sum(axis=1))
        msd_rep.append(np.where(w_rep[-1] > 0, s2.sum(axis=1) / np.maximum(w_rep[-1], 1), np.nan))
        with np.errstate(invalid="ignore", divide="ignore"):
            per_atom.append(np.where(cnt > 0, s2 / cnt, np.nan))
    return curve_lags, np.array(msd_rep), np.array(w_rep), per_atom


def _window_ok(inside: np.ndarray, lag: int) -> np.ndarray:
    """(T-lag, N) bool: the atom is inside at every frame t..t+lag."""
    outside = np.concatenate([np.zeros((1, inside.shape[1]), dtype=np.int64),
                              np.cumsum(~inside, axis=0, dtype=np.int64)])
    return (outside[lag + 1:] - outside[:inside.shape[0] - lag]) == 0


def msd_moments(pos: np.ndarray, lags: np.ndarray, inside: np.ndarray | None):
    """Sums over (origin, atom) pairs at each lag: count, Σr², Σr⁴ (Å², Å⁴)."""
    cnt, s2, s4 = msd_origin_sums(pos, lags, inside)
    return cnt.sum(axis=0), s2.sum(axis=0), s4


def msd_origin_sums(pos: np.ndarray, lags: np.ndarray, inside: np.ndarray | None):
    """Per time origin, the sums over atoms at each lag: counts and Σr² ``(T, L)``, and Σr⁴ over
    all pairs ``(L,)`` (Å², Å⁴). Origins past ``T - lag`` count zero. A region (``inside``, ``(T, N)``)
    keeps only the atoms that stay inside over the whole lag. The per-origin sums are what the
    time-origin block estimate of the error (:mod:`.scatter`) needs."""
    T, N = pos.shape[0], pos.shape[1]
    cnt = np.zeros((T, len(lags)))
    s2 = np.zeros((T, len(lags)))
    s4 = np.zeros(len(lags))
    for j, a in enumerate(lags):
        if a == 0:
            cnt[:, j] = N if inside is None else inside.sum(axis=1)
            continue
        r2 = ((pos[a:] - pos[:T - a]) ** 2).sum(axis=2)
        if inside is not None:
            ok = _window_ok(inside, a)
            r2 = np.where(ok, r2, 0.0)
            cnt[:T - a, j] = ok.sum(axis=1)
        else:
            cnt[:T - a, j] = N
        s2[:T - a, j] = r2.sum(axis=1)
        s4[j] = (r2 * r2).sum()
    return cnt, s2, s4


def fit_lag_grid(lo: int, hi: int, max_lags: int) -> np.ndarray:
    """Lags (frames) for the GLS fit: all of ``lo..hi`` if few, else ~2/3 log-spaced (dense at
    the short, most informative lags) united with ~1/3 evenly spaced ones. For a random walk,
    ~30 log-spaced lags give the same GLS variance as all lags (checked numerically), so the
    subset costs no precision but keeps Σ small."""
    if hi - lo + 1 <= max_lags:
        return np.arange(lo, hi + 1)
    n_log = max(2, (2 * max_lags) // 3)
    log = np.geomspace(max(lo, 1), hi, n_log)
    lin = np.linspace(lo, hi, max(2, max_lags - n_log))
    return np.unique(np.round(np.concatenate([log, lin])).astype(int))



# --------------------------------------------------------------------------------------------
# GLS: covariance model and fit
# --------------------------------------------------------------------------------------------

def msd_covariance(lags: np.ndarray, n_frames: int, variogram: np.ndarray, n_atoms: float | np.ndarray,
                   ndim: int = 3, linear_from: int | None = None,
                   nongaussian: np.ndarray | None = None) -> np.ndarray:
    """Model covariance matrix (Å⁴) of the time-origin-averaged MSD at integer ``lags`` (frames).

    Model: each atom's ``ndim`` Cartesian components are independent Gaussian processes with
    stationary increments whose MSD is ``variogram`` (Å², summed over the components, indexed by
    the lag in frames, ``variogram[0] = 0``, length ≥ 2·``n_frames``). For such a process the
    displacements ``u = x(t+a) - x(t)`` and ``v = x(s+b) - x(s)`` of one component have
    ``Cov(u, v) = ½[γ(s+b-t) + γ(s-t-a) - γ(s+b-t-a) - γ(s-t)]`` (polarisation identity, γ the
    one-component MSD, γ(-τ) = γ(τ)) and, being Gaussian, ``Cov(u², v²) = 2 Cov(u, v)²``. Summing
    over the time origins of the overlapping-origin MSD estimator,

        Σ_ab = (2/ndim) · Σ_k n_ab(k) C_ab(k)² / ((T-a)(T-b) N_a),

    with ``k = s - t``, ``n_ab(k)`` the number of origin pairs at that offset, ``C_ab(k)`` the
    covariance above written with the total (all-component) MSD, T = ``n_frames`` and ``N_a`` the
    number of independent atoms (``n_atoms``; an array per lag for region-resolved MSDs, where the
    smaller-lag count enters: an atom that stays in the region over the longer window also does
    over the shorter one nested in it, so the pairs counted are those of the longer lag).

    For a random walk (γ linear) this is exact, reproducing for a ≤ b ≪ T the known
    ``Σ_ab ∝ a²b - a³/3`` (Qian, Sheetz & Elson, Biophys. J. 60, 910 (1991) for a = b); it is the
    overlapping-origin counterpart of kinisi's ``Σ_ij = σ_i² N_i/N_j`` built from non-overlapping
    observations (McCluskey et al., JCTC 2025 and kinisi's derivation notes). With
    ``linear_from = L`` the variogram is linear from lag L on, so ``C_ab(k) = 0`` once the two
    windows are ≥ L frames apart and only the offsets in between are summed (a speed-up, not an
    approximation). ``nongaussian`` (per lag, ≥ 0) rescales row and column a by √f_a, so the
    diagonal takes the measured excess variance of non-Gaussian (e.g. hopping) displacements.
    """
    lags = np.asarray(lags, dtype=int)
    m = lags.size
    T = int(n_frames)
    g = np.asarray(variogram, dtype=float)
    if g.size < 2 * T + 1:
        raise ValueError("msd_covariance: variogram must cover lags up to 2*n_frames")
    n_atoms = np.broadcast_to(np.asarray(n_atoms, dtype=float), (m,))
    reach = T if linear_from is None else int(linear_from)
    cov = np.empty((m, m))
    for ia in range(m):
        a = lags[ia]
        b = lags[ia:]  # b >= a
        k_lo = max(-(T - 1 - a), -(int(b.max()) + reach))
        k_hi = min(T - 1 - a, a + reach)
        k = np.arange(k_lo, k_hi + 1)[None, :]
        bb = b[:, None]
        c = 0.5 * (g[np.abs(k + bb)] + g[np.abs(k - a)] - g[np.abs(k + bb - a)] - g[np.abs(k)])
        n_pairs = np.minimum(T - 1 - a, T - 1 - bb - k) - np.maximum(0, -k) + 1
        s = (np.clip(n_pairs, 0, None) * c * c).sum(axis=1)
        row = (2.0 / ndim) * s / ((T - a) * (T - b)) / n_atoms[ia]
        cov[ia, ia:] = row
        cov[ia:, ia] = row
    if nongaussian is not None:
        f = np.sqrt(np.asarray(nongaussian, dtype=float))
        cov *= f[:, None] * f[None, :]
    return cov


def _gls_weights(t: np.ndarray, cov: np.ndarray, ridge: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GLS weights ``W`` (β = W y), the parameter covariance and the whitened-residual operator.

    The weight matrix is built from ``R = C + ridge·I`` (C the correlation matrix of ``cov``);
    the parameter covariance is the sandwich ``W Σ Wᵀ`` under ``cov`` (equal to ``(XᵀΣ⁻¹X)⁻¹`` when
    ``ridge = 0``). Returns ``(W (2, m), Cov(β) (2, 2), R⁻¹ scaled to y's units (m, m))``.
    """
    t = np.asarray(t, dtype=float)
    X = np.column_stack([t, np.ones_like(t)])
    sd = np.sqrt(np.clip(np.diag(cov), 1e-300, None))
    corr = cov / np.outer(sd, sd)
    Xs = X / sd[:, None]
    R = corr + ridge * np.eye(len(t))
    try:
        chol = scipy.linalg.cholesky(R, lower=True)
        Rinv_Xs = scipy.linalg.cho_solve((chol, True), Xs)
        Rinv = scipy.linalg.cho_solve((chol, True), np.eye(len(t)))
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
        w, v = np.linalg.eigh(R)
        w = np.clip(w, 1e-10 * w.max(), None)
        Rinv = (v / w) @ v.T
        Rinv_Xs = Rinv @ Xs
    A_inv = np.linalg.inv(Xs.T @ Rinv_Xs)
    W_s = A_inv @ Rinv_Xs.T  # acts on y / sd
    pcov = A_inv if ridge == 0 else W_s @ corr @ W_s.T
    if not np.all(np.isfinite(np.diag(pcov))) or np.any(np.diag(pcov) < 0):  # Σ numerically indefinite
        pcov = A_inv
    return W_s / sd[None, :], pcov, Rinv / np.outer(sd, sd)


def gls_line(t: np.ndarray, y: np.ndarray, cov: np.ndarray, ridge: float = 0.0) -> tuple[np.ndarray, np.ndarray, float]:
    """Generalised least-squares straight line ``y = β₀ t + β₁`` with data covariance ``cov``.

    ``β = (XᵀΣ⁻¹X)⁻¹ XᵀΣ⁻¹ y``, ``Cov(β) = (XᵀΣ⁻¹X)⁻¹`` (Aitken 1935; e.g. Kariya & Kurata,
    *Generalized Least Squares*, 2004), computed on the diagonally normalised Σ (Cholesky;
    eigenvalues of a numerically indefinite Σ are floored). ``ridge > 0`` builds the weights from
    the correlation matrix plus ``ridge``·I — a shrinkage that keeps the near-singular MSD
    covariance from amplifying small errors of the covariance model or of the straight-line model
    (residual curvature at the window start) — and then ``Cov(β) = W Σ Wᵀ`` is the honest sandwich
    variance of those weights under Σ. Returns ``(β, Cov(β), χ²/dof)``, ``χ² = rᵀR⁻¹r`` of the
    residuals (dof = len(y) − 2).
    """
    y = np.asarray(y, dtype=float)
    W, pcov, Rinv = _gls_weights(t, cov, ridge)
    beta = W @ y
    r = y - (beta[0] * np.asarray(t, dtype=float) + beta[1])
    return beta, pcov, float(r @ Rinv @ r / max(len(y) - 2, 1))


def model_variogram(msd_curve: np.ndarray, curve_lags: np.ndarray, linear_from: int, n_frames: int,
               stencil: int = 4) -> np.ndarray:
    """Model MSD (Å²) at every integer lag 0..2T for :func:`msd_covariance`: the measured curve up
    to ``linear_from`` (interpolated on the curve's lag grid), then a straight line continuing it
    with the measured local slope over ``linear_from..linear_from+stencil`` (floored at 0).

    Continuing the measured curve without a kink matters: for a process that is smooth on the
    frame scale (ballistic start) Σ is nearly singular and a kink at the junction — e.g. a line
    with the noisy globally fitted slope, or anchored at the noisy fitted intercept (an
    uncorrelated "nugget") — distorts it badly; the measured short-lag curve is precise.
    """
    lag = np.arange(2 * n_frames + 1, dtype=float)
    g = np.interp(lag, curve_lags, msd_curve)
    top = min(linear_from + max(stencil, 1), int(curve_lags[-1]))
    slope = float(np.polyfit(lag[linear_from:top + 1], g[linear_from:top + 1], 1)[0]) if top > linear_from else 0.0
    g[linear_from:] = g[linear_from] + max(slope, 0.0) * (lag[linear_from:] - linear_from)
    g[0] = 0.0
    return np.maximum(g, 0.0)



def gls_msd_slope(moments: list[tuple[np.ndarray, np.ndarray, np.ndarray]], fit_lags: np.ndarray, dt_ps: float,
                  variogram: np.ndarray, n_frames: int, ndim: int, linear_from: int,
                  ridge: float = GLS_RIDGE, return_weights: bool = False):
    """GLS slope (Å²/ps) of the pooled MSD at ``fit_lags`` (frames), its standard error and the
    slope of each replica under the same weights.

    ``moments`` are the per-replica :func:`msd_moments` at ``fit_lags`` (pooled MSD ``Σs2/Σcount``),
    ``variogram`` the model MSD of :func:`model_variogram`. Σ is :func:`msd_covariance` with the
    independent atoms per origin ``Σcount/(T-a)`` and one measured non-Gaussian factor
    ``f = Var(r²)/((2/d)MSD²)`` (1 for Gaussian displacements, > 1 for hopping): the
    inverse-variance-weighted mean over the fit lags (a lag-a variance rests on ~(T-a)/a
    independent windows per atom), floored at 0.25. A scalar rescales Σ, so it changes the error
    bar, not the slope. Weights and variance: :func:`_gls_weights` with ``ridge`` (sandwich).
    The replica slopes use the pooled weights (β is linear in y). With ``return_weights`` the
    slope's weights on the pooled MSD at ``fit_lags`` (slope = weights @ MSD) are returned fourth.
    """
    cnt = np.array([c for c, _, _ in moments])
    y_rep = np.array([s2 / np.maximum(c, 1) for c, s2, _ in moments])
    c_tot = cnt.sum(axis=0)
    y = np.array([s2 for _, s2, _ in moments]).sum(axis=0) / c_tot
    m4 = np.array([s4 for _, _, s4 in moments]).sum(axis=0) / c_tot
    with np.errstate(divide="ignore", invalid="ignore"):
        f_lag = (m4 - y * y) / ((2.0 / ndim) * y * y)
    w_f = (n_frames - fit_lags) / fit_lags
    ok = np.isfinite(f_lag)
    ng = float(np.clip(np.sum(w_f[ok] * f_lag[ok]) / np.sum(w_f[ok]), 0.25, None)) if ok.any() else 1.0
    n_eff = c_tot / (n_frames - fit_lags)  # independent atoms per origin (= selected atoms without a region)
    cov = ng * msd_covariance(fit_lags, n_frames, variogram, n_eff, ndim=ndim, linear_from=linear_from)
    weights, pcov, _ = _gls_weights(fit_lags * dt_ps, cov, ridge)
    slope_rep = np.array([(weights @ yr)[0] for yr in y_rep])
    out = float((weights @ y)[0]), float(np.sqrt(pcov[0, 0])), slope_rep
    return (*out, weights[0]) if return_weights else out
