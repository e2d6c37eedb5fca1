"""Self-diffusion coefficients from mean squared displacements (W paper eq. 2; SCIENCE.md §3).

``D = lim MSD(t)/(2 d t)`` (d = 3 for the full MSD). The MSD of each atom is averaged over all time
origins (FFT algorithm, tidynamics), then over the selected atoms, after removing the
centre-of-mass drift of the whole system. D is fitted on the diffusive regime only — where the MSD
grows linearly after the ballistic/caging start (:func:`diffusive_window`) — and never beyond half
the trajectory.

Two estimators of the slope:

* ``method="gls"`` (default) — generalised least squares with a model of the MSD covariance matrix
  (:func:`msd_covariance`, :func:`gls_line`), the statistically efficient estimator of
  McCluskey, Coles & Morgan, J. Chem. Theory Comput. 21, 79 (2025) (kinisi). Its standard error
  comes from the same covariance, so one trajectory gives an error bar; with ≥ 2 replicas the
  replica spread is reported beside it.
* ``method="ols"`` — ordinary least squares (the earlier behaviour). Standard error from
  independent replicas (std/√n) or, with one replica, from the spread of per-atom fits (std/√N).

Atoms can be selected by species, by index and by a spatial :class:`Region` (e.g. a grain-boundary
slab) whose membership is re-evaluated over time. Finite-size correction: :func:`yeh_hummer_correction`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import scipy.linalg
import tidynamics
from scipy.ndimage import uniform_filter1d

from deepearth.properties.trajectory import Region, Trajectory
from deepearth.units import A2_PER_PS_TO_M2_PER_S, KB_J_PER_K

#: Yeh–Hummer constant for a cubic periodic box (Yeh & Hummer, J. Phys. Chem. B 108, 15873 (2004)).
XI_CUBIC: float = 2.837297
#: Fewest frames accepted for an MSD analysis.
MIN_FRAMES: int = 10
_DIMS = {"x": 0, "y": 1, "z": 2}
#: Shrinkage of the GLS weight matrix (fraction of the diagonal, see :func:`gls_line`). On the
#: Langevin calibration (benchmarks/diffusion_calibration.py) 1 % removes the bias left by residual
#: curvature at the window start and the covariance-model noise of short trajectories, for ≈ 10 %
#: more statistical error than the unregularised GLS.
GLS_RIDGE: float = 0.01


@dataclass
class DiffusionResult:
    """Self-diffusion coefficient of one species (or selection) with its uncertainty and provenance.

    ``D_stderr_m2_per_s`` is the reported standard error; ``stderr_source`` says where it comes from:
    ``"gls"`` (the GLS parameter covariance, ``(XᵀΣ⁻¹X)⁻¹``), ``"replicas"`` (std/√n of the replica
    fits, OLS with ≥ 2 replicas) or ``"per-atom"`` (std/√N of per-atom OLS fits, one replica).
    With ≥ 2 replicas ``D_stderr_replicas_m2_per_s`` is the replica spread (std/√n) in any case.
    """

    species: str
    D_m2_per_s: float
    D_stderr_m2_per_s: float
    n_replicas: int
    fit_window_ps: tuple[float, float]
    diffusive: bool  # False: no regime with log-log slope ≈ 1 (e.g. a crystal); D then ≈ 0 by fit
    method: str  # human-readable description of estimator, window and error source
    D_replicas_m2_per_s: list[float] = field(default_factory=list)
    lag_ps: list[float] = field(default_factory=list)
    msd_A2: list[float] = field(default_factory=list)
    units: str = "m^2/s"
    T_K: float | None = None
    P_GPa: float | None = None
    sources: list[str] = field(default_factory=list)
    estimator: str = "gls"  # "gls" | "ols"
    stderr_source: str = "gls"  # "gls" | "replicas" | "per-atom"
    D_stderr_replicas_m2_per_s: float | None = None  # replica spread std/√n (≥ 2 replicas)
    n_atoms: int = 0  # selected atoms, summed over replicas (before any region)
    n_atoms_effective: float | None = None  # region: mean number of atoms in the region per time origin
    n_fit_lags: int = 0  # lags used by the fit
    dimensions: str = "xyz"
    region: dict | None = None

    @property
    def value(self) -> float:
        """D in m²/s."""
        return self.D_m2_per_s

    @property
    def stderr(self) -> float:
        """Standard error of D in m²/s (see ``stderr_source``)."""
        return self.D_stderr_m2_per_s

    @property
    def unit(self) -> str:
        """Unit of :attr:`value` and :attr:`stderr`."""
        return self.units

    def to_dict(self, curves: bool = False) -> dict:
        """JSON-friendly dict; the MSD curve (``lag_ps``, ``msd_A2``) only with ``curves=True``."""
        d = asdict(self)
        d["fit_window_ps"] = list(self.fit_window_ps)
        if not curves:
            d.pop("lag_ps")
            d.pop("msd_A2")
        return d


# --------------------------------------------------------------------------------------------
# MSD curves and the diffusive window
# --------------------------------------------------------------------------------------------

def msd_per_atom(positions: np.ndarray) -> np.ndarray:
    """MSD of each atom over all time origins, ``(T, N)`` in Å² from unwrapped ``(T, N, k)`` Å (FFT).

    ``MSD_i(n) = 1/(T-n) Σ_t |r_i(t+n) - r_i(t)|²`` (Calandrini et al., Collection SFN 12, 201 (2011)).
    """
    positions = np.asarray(positions, dtype=float)
    return np.stack([tidynamics.msd(positions[:, i, :]) for i in range(positions.shape[1])], axis=1)


def remove_drift(positions: np.ndarray, masses: np.ndarray) -> np.ndarray:
    """Positions (Å) with the centre-of-mass displacement of the whole system subtracted."""
    com = np.einsum("tni,n->ti", positions, masses) / masses.sum()
    return positions - (com - com[0])[:, None, :]


def local_slope(lag: np.ndarray, msd: np.ndarray) -> np.ndarray:
    """d ln MSD / d ln t on the lags > 0 (same length as ``lag``; NaN where undefined)."""
    slope = np.full_like(msd, np.nan, dtype=float)
    ok = (lag > 0) & (msd > 0)
    if ok.sum() >= 3:
        slope[ok] = np.gradient(np.log(msd[ok]), np.log(lag[ok]))
    return slope


def diffusive_window(lag_ps: np.ndarray, msd: np.ndarray, min_start_ps: float = 0.1,
                     tolerance: float = 0.3, min_loglog_slope: float = 0.5) -> tuple[int, int, bool]:
    """Indices ``[i0, i1)`` of the fit window and whether the regime is diffusive.

    ``lag_ps`` (ps, increasing, evenly spaced) and ``msd`` (Å²) are the MSD curve. The window ends
    at half the curve (beyond it few time origins remain). It starts at the earliest lag ≥
    ``min_start_ps`` from which the MSD grows linearly: the smoothed local derivative dMSD/dt stays
    within ``±tolerance`` of the reference slope for a run of lags (a tenth of the range, ≥ 3), so
    that noise at long lags cannot push the start late. The reference is the median derivative from
    the current start to the window end, refined as the start moves: the median ignores the tail
    of the transient and, unlike the median over the late half alone, rests on the precise short
    lags as well as the noisy long ones. The motion counts as
    diffusive when that window covers at least a fifth of the range and the log–log slope has
    reached ``min_loglog_slope`` at its end. (Requiring a log–log slope ≈ 1 alone fails on real
    data: the ballistic/caging start leaves an offset, MSD = 6Dt + c, whose log–log slope
    approaches 1 only slowly.) Otherwise — a crystal or glass, whose MSD plateaus — the late half of
    the range is returned with ``diffusive=False``.
    """
    n = len(lag_ps)
    i1 = max(n // 2, 3)
    i_min = int(np.searchsorted(lag_ps, min_start_ps))
    i_min = min(max(i_min, 1), i1 - 2)
    fallback = (i_min + (i1 - i_min) // 2, i1, False)
    width = max(3, (i1 - i_min) // 10)
    min_len = max(3, (i1 - i_min) // 5)
    deriv = uniform_filter1d(np.gradient(msd[:i1], lag_ps[:i1]), width, mode="nearest")
    i0 = i_min
    for _ in range(6):  # reference slope: median derivative from the current start, refined
        reference = float(np.median(deriv[i0:i1]))
        if not reference > 0:
            return fallback
        good = np.abs(deriv[i_min:i1] - reference) <= tolerance * reference
        # first lag from which the derivative stays in the band for a run of `width` lags: the
        # transient (ballistic rise, caging overshoot) is at the start; later noise must not move i0
        run = np.convolve(good.astype(int), np.ones(width, dtype=int), "valid") == width
        starts = np.flatnonzero(run[:max(0, (i1 - i_min) - min_len + 1)])
        if starts.size == 0:
            return fallback
        new_i0 = i_min + int(starts[0])
        if new_i0 == i0:
            break
        i0 = new_i0
    slope = uniform_filter1d(np.nan_to_num(local_slope(lag_ps[:i1], msd[:i1])), width, mode="nearest")
    if slope[i1 - 1] < min_loglog_slope:
        return fallback
    return i0, i1, True


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


def _variogram(msd_curve: np.ndarray, curve_lags: np.ndarray, linear_from: int, n_frames: int,
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


# --------------------------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------------------------

def _as_replicas(data, dt_ps: float | None, times_ps=None) -> list[Trajectory]:
    """Trajectory | [Trajectory] | positions (T, N, 3) | [positions] → a list of Trajectory."""
    items = data if isinstance(data, (list, tuple)) else [data]
    out = []
    for item in items:
        if isinstance(item, Trajectory):
            out.append(item)
            continue
        pos = np.asarray(item, dtype=float)
        if pos.ndim != 3 or pos.shape[2] != 3:
            raise ValueError(f"diffusion_coefficient: positions must have shape (n_frames, n_atoms, 3), got {pos.shape}")
        if times_ps is not None and dt_ps is None:
            t = np.asarray(times_ps, dtype=float)
            dt_ps = float(t[1] - t[0]) if t.size > 1 else None
        if dt_ps is None or not dt_ps > 0:
            raise ValueError("diffusion_coefficient: dt_ps (time between frames, ps) is required with position arrays")
        n = pos.shape[1]
        out.append(Trajectory(pos, np.zeros((len(pos), 3, 3)), ["X"] * n, np.ones(n), float(dt_ps), "array",
                              times_ps=None if times_ps is None else np.asarray(times_ps, dtype=float)))
    return out


def _check_time_axis(r: Trajectory) -> None:
    name = r.source or "trajectory"
    if r.n_frames < MIN_FRAMES:
        raise ValueError(f"{name}: {r.n_frames} frames; an MSD analysis needs at least {MIN_FRAMES}")
    if not (np.isfinite(r.dt_ps) and r.dt_ps > 0):
        raise ValueError(f"{name}: frame spacing dt_ps must be > 0, got {r.dt_ps}")
    if r.times_ps is None:
        return
    t = np.asarray(r.times_ps, dtype=float)
    if t.shape != (r.n_frames,):
        raise ValueError(f"{name}: times_ps has {t.size} entries for {r.n_frames} frames")
    steps = np.diff(t)
    if np.any(steps <= 0):
        i = int(np.flatnonzero(steps <= 0)[0])
        raise ValueError(f"{name}: time axis is not increasing (frame {i}: {t[i]} ps, frame {i + 1}: {t[i + 1]} ps)")
    if not np.allclose(steps, steps.mean(), rtol=1e-4, atol=0):
        raise ValueError(f"{name}: time axis is not evenly spaced (spacings {steps.min():g}..{steps.max():g} ps); "
                         "MSD lags need uniformly spaced frames")
    if not np.isclose(steps.mean(), r.dt_ps, rtol=1e-4, atol=0):
        raise ValueError(f"{name}: the frame times are {steps.mean():g} ps apart but dt_ps = {r.dt_ps} ps")


def _selection(r: Trajectory, species: str | None, atoms: Sequence[int] | None) -> np.ndarray:
    idx = np.arange(r.n_atoms)
    if species is not None:
        idx = r.select(species)
    if atoms is not None:
        want = np.asarray(atoms, dtype=int).ravel()
        if want.size == 0:
            raise ValueError(f"{r.source or 'trajectory'}: empty atom index list")
        if want.min() < -r.n_atoms or want.max() >= r.n_atoms:
            raise ValueError(f"{r.source or 'trajectory'}: atom indices out of range 0..{r.n_atoms - 1}")
        want = np.unique(want % r.n_atoms)
        idx = np.intersect1d(idx, want)
        if idx.size == 0:
            raise ValueError(f"{r.source or 'trajectory'}: no selected atoms left "
                             f"(species {species!r} ∩ the given indices is empty)")
    return idx


def _dims(dimensions: str) -> list[int]:
    dims = sorted({_DIMS[c] for c in dimensions.lower()} if set(dimensions.lower()) <= set(_DIMS) else [])
    if not dims or len(dims) != len(dimensions):
        raise ValueError(f"diffusion_coefficient: dimensions must be distinct letters from 'xyz', got {dimensions!r}")
    return dims


def _window_ok(inside: np.ndarray, lag: int) -> np.ndarray:
    """(T-lag, N) bool: the atom is inside at every frame t..t+lag."""
    outside = np.concatenate([np.zeros((1, inside.shape[1]), dtype=np.int64),
                              np.cumsum(~inside, axis=0, dtype=np.int64)])
    return (outside[lag + 1:] - outside[:inside.shape[0] - lag]) == 0


def _moments(pos: np.ndarray, lags: np.ndarray, inside: np.ndarray | None):
    """Sums over (origin, atom) pairs at each lag: count, Σr², Σr⁴ (Å², Å⁴)."""
    T = pos.shape[0]
    cnt = np.zeros(len(lags))
    s2 = np.zeros(len(lags))
    s4 = np.zeros(len(lags))
    for j, a in enumerate(lags):
        if a == 0:
            cnt[j] = T * pos.shape[1] if inside is None else inside.sum()
            continue
        r2 = ((pos[a:] - pos[:T - a]) ** 2).sum(axis=2)
        if inside is not None:
            ok = _window_ok(inside, a)
            r2 = np.where(ok, r2, 0.0)
            cnt[j] = ok.sum()
        else:
            cnt[j] = r2.size
        s2[j] = r2.sum()
        s4[j] = (r2 * r2).sum()
    return cnt, s2, s4


# --------------------------------------------------------------------------------------------
# The estimator
# --------------------------------------------------------------------------------------------

def diffusion_coefficient(data: Trajectory | np.ndarray | Sequence[Trajectory | np.ndarray],
                          dt_ps: float | None = None, species: str | None = None,
                          min_fit_start_ps: float = 0.1, remove_com_drift: bool = True,
                          T_K: float | None = None, P_GPa: float | None = None, *,
                          method: str = "gls", atoms: Sequence[int] | None = None,
                          region: Region | None = None, dimensions: str = "xyz",
                          times_ps: Sequence[float] | None = None,
                          max_fit_lags: int = 60) -> DiffusionResult:
    """Self-diffusion coefficient (m²/s) ``D = lim MSD(t)/(2 d t)`` from one or more independent
    replica trajectories (W paper eq. 2; SCIENCE.md §3).

    ``data`` is a :class:`Trajectory` (see :func:`read_trajectory`), a list of them (replicas), or
    unwrapped positions ``(n_frames, n_atoms, 3)`` in Å (or a list of such arrays) with ``dt_ps``,
    the time between frames in ps (or ``times_ps``, the frame times, checked to be uniform); arrays
    count all atoms as one species of equal mass. At least 10 frames are required.

    Selection: ``species`` (symbol), ``atoms`` (indices), both intersected, and ``region`` — a
    :class:`Region` slab re-evaluated in every frame. Region convention: an atom contributes the
    displacement over (origin t, lag n) only if it is inside the region at every saved frame
    t, t+1, …, t+n (it "stays inside for the whole lag"), as in grain-boundary MSD analyses.
    Because atoms that leave are dropped, the MSD *across* a thin slab is biased low; for a slab
    normal to z use ``dimensions="xy"`` (in-plane D, ``d = 2``), which is unbiased when motion along
    z is independent of motion in the plane. ``dimensions`` picks the Cartesian components of the
    MSD (d = their number).

    ``method="gls"`` (default): the slope is fitted by generalised least squares,
    ``β = (XᵀΣ⁻¹X)⁻¹XᵀΣ⁻¹y`` (:func:`gls_line`, with a 1 % ridge, ``GLS_RIDGE``, and the sandwich
    variance), on up to ``max_fit_lags`` lags of the window (log- and evenly spaced). Σ is the
    covariance model of :func:`msd_covariance`: independent atoms whose displacements are Gaussian
    with stationary increments and the measured MSD (the measured curve up to the window start,
    continued linearly with its local slope there), times one measured non-Gaussian factor
    ``f = Var(r²)/((2/d)MSD²)`` (1 for Gaussian displacements; > 1 for hopping). This is the
    approach of McCluskey, Coles & Morgan, J. Chem. Theory Comput. 21, 79 (2025) (kinisi), with the
    exact overlapping-origin covariance in place of kinisi's ``σ_i² N_i/N_j`` from non-overlapping
    counts and the GLS maximum-likelihood line in place of its MCMC posterior. The reported
    ``stderr`` is the GLS one (``stderr_source="gls"``); it assumes independent atoms (no
    collective motion). With ≥ 2 replicas the replicas are pooled (D from the pooled MSD, the same
    GLS weights applied to each replica give ``D_replicas_m2_per_s``) and the replica spread std/√n
    is reported beside it (``D_stderr_replicas_m2_per_s``) — compare the two: a replica spread well
    above the GLS error points at correlations the model lacks. ``method="ols"``: ordinary least
    squares (the earlier estimator); D is the mean of the replica fits, stderr std/√n over
    replicas or std/√N over per-atom fits (one replica). Calibration of both:
    ``benchmarks/diffusion_calibration.py``.

    All replicas must share the frame spacing; the longer ones are cut to the shortest. The window
    (:func:`diffusive_window`, starting at ≥ ``min_fit_start_ps``) is chosen on the pooled MSD.
    If no linear regime is found (a crystal) the late half is fitted and ``diffusive=False``.
    """
    method = method.lower()
    if method not in ("gls", "ols"):
        raise ValueError(f"diffusion_coefficient: method must be 'gls' or 'ols', got {method!r}")
    replicas = _as_replicas(data, dt_ps, times_ps)
    if not replicas:
        raise ValueError("diffusion_coefficient: no trajectories given")
    for r in replicas:
        _check_time_axis(r)
    dt = replicas[0].dt_ps
    if any(abs(r.dt_ps - dt) > 1e-9 * dt for r in replicas):
        raise ValueError("diffusion_coefficient: replicas have different frame spacings")
    dims = _dims(dimensions)
    d = len(dims)
    n_t = min(r.n_frames for r in replicas)
    label = species or ("selection" if atoms is not None else "all")
    if region is not None:
        label += f" in {region.axis}-slab {region.centre_A:g}±{region.width_A / 2:g} Å"

    # positions of the selected atoms (drift removed), region membership
    sel_pos, sel_inside, n_sel = [], [], 0
    for r in replicas:
        pos = remove_drift(r.positions_A, r.masses_amu) if remove_com_drift else r.positions_A
        idx = _selection(r, species, atoms)
        n_sel += idx.size
        sel_pos.append(pos[:n_t, idx][:, :, dims])
        if region is not None:
            inside = region.contains(r.positions_A[:n_t, idx], r.cells_A[:n_t])
            if not inside.any():
                raise ValueError(f"{r.source or 'trajectory'}: no selected atom is ever inside the region "
                                 f"{region.to_dict()}")
            sel_inside.append(inside)

    # the MSD curve (all lags; a grid of lags when region-masked) per replica, and pooled
    if region is None:
        curve_lags = np.arange(n_t)
        per_atom = [msd_per_atom(p) for p in sel_pos]
        msd_rep = np.array([m.mean(axis=1) for m in per_atom])
        w_rep = np.array([p.shape[1] for p in sel_pos], dtype=float)[:, None] * np.ones(n_t)
    else:
        per_atom = None
        step = max(1, int(np.ceil((n_t - 1) / 200)))
        curve_lags = np.arange(0, n_t, step)
        mom = [_moments(p, curve_lags, ins) for p, ins in zip(sel_pos, sel_inside)]
        w_rep = np.array([c for c, _, _ in mom])
        msd_rep = np.array([np.where(c > 0, s2 / np.maximum(c, 1), np.nan) for c, s2, _ in mom])
    w_tot = w_rep.sum(axis=0)
    msd_mean = np.nansum(np.nan_to_num(msd_rep) * w_rep, axis=0) / np.maximum(w_tot, 1)
    lag = curve_lags * dt
    valid = np.flatnonzero(w_tot > 0)
    n_valid = int(valid[-1]) + 1 if valid.size else 0
    if region is not None and n_valid < max(MIN_FRAMES // 2, 5):
        raise ValueError(f"region {region.to_dict()}: atoms stay inside for too few frames to measure an MSD "
                         f"(longest stay {curve_lags[n_valid - 1] if n_valid else 0} frames)")
    i0, i1, diffusive = diffusive_window(lag[:n_valid], msd_mean[:n_valid], min_fit_start_ps)
    window = slice(i0, i1)
    n_atoms_eff = None
    if region is not None:
        n_atoms_eff = float(w_tot[i0] / (n_t - curve_lags[i0]))

    if method == "ols":
        if region is None:
            d_rep = np.array([np.polyfit(lag[window], m[window], 1)[0] for m in msd_rep]) / (2 * d)
        else:
            d_rep = np.array([_wfit(lag[window], m[window], w[window]) for m, w in zip(msd_rep, w_rep)]) / (2 * d)
        d_rep *= A2_PER_PS_TO_M2_PER_S
        D = float(d_rep.mean())
        rep_err = float(d_rep.std(ddof=1) / np.sqrt(len(d_rep))) if len(d_rep) >= 2 else None
        n_fit = i1 - i0
        if len(replicas) >= 2:
            stderr, source = rep_err, "replicas"
            desc = f"OLS fit of MSD on the diffusive window; stderr from {len(d_rep)} replicas"
        elif region is None:
            d_atoms = np.array([np.polyfit(lag[window], per_atom[0][window, j], 1)[0]
                                for j in range(per_atom[0].shape[1])]) / (2 * d) * A2_PER_PS_TO_M2_PER_S
            stderr, source = float(d_atoms.std(ddof=1) / np.sqrt(len(d_atoms))), "per-atom"
            desc = "OLS fit of MSD on the diffusive window; stderr from per-atom spread (one replica)"
        else:
            raise ValueError("diffusion_coefficient: method='ols' with a region needs >= 2 replicas for an error "
                             "bar; use method='gls'")
    else:
        lo, hi = int(curve_lags[i0]), int(curve_lags[i1 - 1])
        fit_lags = _fit_lags(lo, hi, max_fit_lags)
        n_fit = fit_lags.size
        mom = [_moments(p, fit_lags, ins) for p, ins in
               zip(sel_pos, sel_inside if region is not None else [None] * len(sel_pos))]
        cnt = np.array([c for c, _, _ in mom])
        if np.any(cnt.sum(axis=0) == 0):
            raise ValueError(f"region {region.to_dict() if region else None}: no atom stays inside over the fit lags")
        y_rep = np.array([s2 / np.maximum(c, 1) for c, s2, _ in mom])
        c_tot = cnt.sum(axis=0)
        y = np.array([s2 for _, s2, _ in mom]).sum(axis=0) / c_tot
        m4 = np.array([s4 for _, _, s4 in mom]).sum(axis=0) / c_tot
        # non-Gaussian excess f = Var(r²)/((2/d) MSD²) (1 for Gaussian displacements), one number:
        # the inverse-variance-weighted mean over the fit lags (a lag-a variance rests on ~(T-a)/a
        # independent windows per atom). A scalar rescales Σ, so it changes the error bar, not D.
        with np.errstate(divide="ignore", invalid="ignore"):
            f_lag = (m4 - y * y) / ((2.0 / d) * y * y)
        w_f = (n_t - fit_lags) / fit_lags
        ok = np.isfinite(f_lag)
        ng = float(np.clip(np.sum(w_f[ok] * f_lag[ok]) / np.sum(w_f[ok]), 0.25, None)) if ok.any() else 1.0
        n_eff = c_tot / (n_t - fit_lags)  # independent atoms per origin (= selected atoms without a region)
        t_fit = fit_lags * dt
        stencil = max(4, (hi - lo) // 20)
        g = _variogram(msd_mean[:n_valid], curve_lags[:n_valid], lo, n_t, stencil)
        cov = ng * msd_covariance(fit_lags, n_t, g, n_eff, ndim=d, linear_from=lo)
        weights, pcov, _ = _gls_weights(t_fit, cov, GLS_RIDGE)
        beta = weights @ y
        slope_err = float(np.sqrt(pcov[0, 0]))
        D = float(beta[0]) / (2 * d) * A2_PER_PS_TO_M2_PER_S
        stderr = slope_err / (2 * d) * A2_PER_PS_TO_M2_PER_S
        source = "gls"
        # replica values: the same GLS weights applied to each replica's MSD (β is linear in y)
        d_rep = np.array([(weights @ yr)[0] for yr in y_rep]) / (2 * d) * A2_PER_PS_TO_M2_PER_S
        rep_err = float(d_rep.std(ddof=1) / np.sqrt(len(d_rep))) if len(d_rep) >= 2 else None
        desc = (f"GLS fit of MSD on the diffusive window ({n_fit} lags) with a Gaussian-displacement MSD "
                f"covariance (McCluskey et al. JCTC 2025); stderr from the GLS covariance")
        if rep_err is not None:
            desc += f"; replica spread over {len(d_rep)} replicas also reported"
    if not diffusive:
        desc += "; no diffusive regime found (no linear MSD growth): D fitted on the late half (plateau)"
    if region is not None:
        desc += "; region: atoms counted only for lags over which they stay inside"
    return DiffusionResult(
        species=label, D_m2_per_s=D, D_stderr_m2_per_s=float(stderr), n_replicas=len(replicas),
        fit_window_ps=(float(lag[i0]), float(lag[i1 - 1])), diffusive=diffusive, method=desc,
        D_replicas_m2_per_s=[float(x) for x in d_rep], lag_ps=[float(x) for x in lag[:n_valid]],
        msd_A2=[float(x) for x in msd_mean[:n_valid]], T_K=T_K, P_GPa=P_GPa,
        sources=[r.source for r in replicas], estimator=method, stderr_source=source,
        D_stderr_replicas_m2_per_s=rep_err, n_atoms=int(n_sel), n_atoms_effective=n_atoms_eff,
        n_fit_lags=int(n_fit), dimensions="".join("xyz"[k] for k in dims),
        region=region.to_dict() if region is not None else None)


def _fit_lags(lo: int, hi: int, max_lags: int) -> np.ndarray:
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


def _wfit(t: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    ok = np.isfinite(y) & (w > 0)
    return float(np.polyfit(t[ok], y[ok], 1)[0])


# --------------------------------------------------------------------------------------------
# Finite-size correction
# --------------------------------------------------------------------------------------------

def yeh_hummer_correction(D_m2_per_s: float, viscosity_Pa_s: float, box_length_A: float, T_K: float,
                          xi: float = XI_CUBIC, *, D_stderr_m2_per_s: float = 0.0,
                          viscosity_stderr_Pa_s: float = 0.0) -> tuple[float, float]:
    """Finite-size-corrected self-diffusion coefficient and its standard error (m²/s).

    ``D_∞ = D_L + ξ k_B T / (6 π η L)`` (Yeh & Hummer, J. Phys. Chem. B 108, 15873 (2004);
    Dünweg & Kremer, J. Chem. Phys. 99, 6983 (1993); SCIENCE.md §3), with ``D_L`` the coefficient
    measured in a periodic cubic box of edge ``L`` (``box_length_A``, Å), ``η`` the shear viscosity
    (Pa·s), ``T`` in K and ξ = 2.837297 for a cubic box. The error is propagated to first order
    with independent errors: ``σ² = σ_D² + (ΔD·σ_η/η)²``, ``ΔD`` the correction (L and T exact).
    """
    if not viscosity_Pa_s > 0:
        raise ValueError(f"yeh_hummer_correction: viscosity must be > 0 Pa s, got {viscosity_Pa_s}")
    if not box_length_A > 0:
        raise ValueError(f"yeh_hummer_correction: box length must be > 0 Å, got {box_length_A}")
    if not T_K > 0:
        raise ValueError(f"yeh_hummer_correction: temperature must be > 0 K, got {T_K}")
    if D_stderr_m2_per_s < 0 or viscosity_stderr_Pa_s < 0:
        raise ValueError("yeh_hummer_correction: standard errors must be >= 0")
    correction = xi * KB_J_PER_K * T_K / (6.0 * np.pi * viscosity_Pa_s * box_length_A * 1e-10)
    err = np.hypot(D_stderr_m2_per_s, correction * viscosity_stderr_Pa_s / viscosity_Pa_s)
    return float(D_m2_per_s + correction), float(err)
