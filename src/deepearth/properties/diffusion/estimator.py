"""Self-diffusion coefficients from mean squared displacements (W paper eq. 2; SCIENCE.md §3).

``D = lim MSD(t)/(2 d t)`` (d = 3 for the full MSD). The MSD of each atom is averaged over all time
origins (FFT algorithm, tidynamics), then over the selected atoms, after removing the
centre-of-mass drift of the whole system. D is fitted on the diffusive regime only — where the MSD
grows linearly after the ballistic/caging start (:func:`diffusive_window`) — and never beyond half
the trajectory.

Slope estimators (details in :func:`diffusion_coefficient`): ``method="gls"`` (default) —
generalised least squares with a model of the MSD covariance (:mod:`.msd_gls`; McCluskey, Coles &
Morgan, J. Chem. Theory Comput. 21, 79 (2025), kinisi), error bar from one trajectory; ``method="ols"``
— ordinary least squares, error bar from replicas (std/√n) or per-atom fits (std/√N).

Atoms can be selected by species, by index and by a spatial :class:`Region` (e.g. a grain-boundary
slab) whose membership is re-evaluated over time. Finite-size correction: :func:`yeh_hummer_correction`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.ndimage import uniform_filter1d

from deepearth.properties.checks import require_finite_result, require_positive
from deepearth.properties.diffusion.inputs import as_replicas, check_positions, check_time_axis, select_atoms
from deepearth.properties.diffusion.msd_gls import (GLS_RIDGE, fit_lag_grid, gls_msd_slope, model_variogram,
                                                    msd_curves, msd_moments)
from deepearth.properties.trajectory import Region, Trajectory
from deepearth.units import A2_PER_PS_TO_M2_PER_S, KB_J_PER_K

#: Yeh–Hummer constant for a cubic periodic box (Yeh & Hummer, J. Phys. Chem. B 108, 15873 (2004)).
XI_CUBIC: float = 2.837297
#: Fewest frames accepted for an MSD analysis.
MIN_FRAMES: int = 10


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



def _dims(dimensions: str) -> list[int]:
    """Cartesian component indices of ``dimensions`` (distinct letters from 'xyz')."""
    dims = sorted({"xyz".index(c) for c in dimensions.lower()} if set(dimensions.lower()) <= set("xyz") else [])
    if not dims or len(dims) != len(dimensions):
        raise ValueError(f"diffusion_coefficient: dimensions must be distinct letters from 'xyz', got {dimensions!r}")
    return dims


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

    Refused with one ``ValueError`` (:mod:`deepearth.properties.checks`): NaN/inf positions (naming the
    first bad frame and atom), fewer than ``MIN_FRAMES`` frames, dt ≤ 0, T_K ≤ 0, selected atoms that
    never move, and a result that is not finite with a positive error bar.
    """
    method = method.lower()
    if method not in ("gls", "ols"):
        raise ValueError(f"diffusion_coefficient: method must be 'gls' or 'ols', got {method!r}")
    if T_K is not None:
        require_positive("diffusion_coefficient: T_K", T_K, "K")
    if P_GPa is not None and not np.isfinite(P_GPa):
        raise ValueError(f"diffusion_coefficient: P_GPa must be finite, got {P_GPa!r}")
    replicas = as_replicas(data, dt_ps, times_ps)
    if not replicas:
        raise ValueError("diffusion_coefficient: no trajectories given")
    for r in replicas:
        check_time_axis(r, MIN_FRAMES)
        check_positions(r, cells=region is not None)
    dt = replicas[0].dt_ps
    if any(abs(r.dt_ps - dt) > 1e-9 * dt for r in replicas):
        raise ValueError("diffusion_coefficient: replicas have different frame spacings")
    dims = _dims(dimensions)
    d = len(dims)
    n_t = min(r.n_frames for r in replicas)
    label = species or ("selection" if atoms is not None else "all")
    if region is not None:
        label += f" in {region.axis}-slab {region.centre_A:g}±{region.width_A / 2:g} Å"

    # positions of the selected atoms (drift removed), region membership (None: no region)
    sel_pos, sel_inside, n_sel = [], [], 0
    for r in replicas:
        pos = remove_drift(r.positions_A, r.masses_amu) if remove_com_drift else r.positions_A
        idx = select_atoms(r, species, atoms)
        n_sel += idx.size
        sel_pos.append(pos[:n_t, idx][:, :, dims])
        inside = None
        if region is not None:
            inside = region.contains(r.positions_A[:n_t, idx], r.cells_A[:n_t])
            if not inside.any():
                raise ValueError(f"{r.source or 'trajectory'}: no selected atom is ever inside the region "
                                 f"{region.to_dict()}")
        sel_inside.append(inside)
    _check_mobile(label, sel_pos, replicas, remove_com_drift)

    # the MSD curve (all lags; a grid of lags when region-masked) per replica, and pooled
    curve_lags, msd_rep, w_rep, per_atom = msd_curves(sel_pos, sel_inside, n_t)
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
        n_fit = i1 - i0
        d_rep = _to_si(np.array([_wfit(lag[window], m[window], w[window]) for m, w in zip(msd_rep, w_rep)]), d)
        D = float(d_rep.mean())
    else:
        lo, hi = int(curve_lags[i0]), int(curve_lags[i1 - 1])
        fit_lags = fit_lag_grid(lo, hi, max_fit_lags)
        n_fit = fit_lags.size
        mom = [msd_moments(p, fit_lags, ins) for p, ins in zip(sel_pos, sel_inside)]
        if np.any(np.array([c for c, _, _ in mom]).sum(axis=0) == 0):
            raise ValueError(f"region {region.to_dict() if region else None}: no atom stays inside over the fit lags")
        g = model_variogram(msd_mean[:n_valid], curve_lags[:n_valid], lo, n_t, stencil=max(4, (hi - lo) // 20))
        try:
            slope, slope_err, slope_rep = gls_msd_slope(mom, fit_lags, dt, g, n_t, d, linear_from=lo, ridge=GLS_RIDGE)
        except np.linalg.LinAlgError as exc:
            raise ValueError(f"diffusion_coefficient ({label}): the GLS fit of the MSD over lags {lo}-{hi} frames is "
                             f"singular ({exc}); the MSD is (nearly) flat there — too few frames or atoms that "
                             "hardly move; try method='ols' or a longer run") from None
        D, stderr, source = _to_si(slope, d), _to_si(slope_err, d), "gls"
        d_rep = _to_si(slope_rep, d)  # replica values: the pooled GLS weights applied to each replica's MSD
    rep_err = float(d_rep.std(ddof=1) / np.sqrt(len(d_rep))) if len(d_rep) >= 2 else None

    if method == "gls":
        desc = (f"GLS fit of MSD on the diffusive window ({n_fit} lags) with a Gaussian-displacement MSD "
                f"covariance (McCluskey et al. JCTC 2025); stderr from the GLS covariance")
        if rep_err is not None:
            desc += f"; replica spread over {len(d_rep)} replicas also reported"
    elif len(replicas) >= 2:
        stderr, source = rep_err, "replicas"
        if not rep_err > 0:
            raise ValueError(f"diffusion_coefficient ({label}): the {len(d_rep)} replicas give identical D, so their "
                             "spread (the OLS error bar) is zero; are they copies of one run? use method='gls'")
        desc = f"OLS fit of MSD on the diffusive window; stderr from {len(d_rep)} replicas"
    elif region is None:
        if per_atom[0].shape[1] < 2:
            raise ValueError(f"diffusion_coefficient ({label}): method='ols' with one replica takes its error bar from "
                             "the spread of per-atom fits and needs >= 2 selected atoms; use method='gls' or replicas")
        d_atoms = _to_si(np.array([_wfit(lag[window], per_atom[0][window, j], w_rep[0][window])
                                   for j in range(per_atom[0].shape[1])]), d)
        stderr, source = float(d_atoms.std(ddof=1) / np.sqrt(len(d_atoms))), "per-atom"
        desc = "OLS fit of MSD on the diffusive window; stderr from per-atom spread (one replica)"
    else:
        raise ValueError("diffusion_coefficient: method='ols' with a region needs >= 2 replicas for an error "
                         "bar; use method='gls'")
    require_finite_result(f"diffusion_coefficient ({label})", float(D), float(stderr),
                          why=f"{n_fit} fit lags over {n_t} frames of {n_sel} atoms")
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


def _check_mobile(label: str, sel_pos: list[np.ndarray], replicas: list[Trajectory], drift_removed: bool) -> None:
    """Refuse selections whose atoms never move (max displacement ≲ rounding): their MSD is zero and
    no slope or error bar can be fitted."""
    disp = max(float(np.max(np.abs(p - p[:1]))) for p in sel_pos)
    scale = max(1.0, max(float(np.max(np.abs(p))) for p in sel_pos))
    if disp > 1e-9 * scale:
        return
    hint = ""
    if drift_removed and any(r.n_atoms == 1 for r in replicas):
        hint = ("; a system of one atom never moves once its centre-of-mass drift is removed "
                "(pass remove_com_drift=False)")
    raise ValueError(f"diffusion_coefficient ({label}): all selected atoms are immobile (largest displacement "
                     f"{disp:.3g} Å over {sel_pos[0].shape[0]} frames); the MSD is zero{hint}")


def _to_si(slope_A2_per_ps, d: int):
    """D (m²/s) from an MSD slope (Å²/ps) in ``d`` dimensions: slope / (2d)."""
    return slope_A2_per_ps / (2 * d) * A2_PER_PS_TO_M2_PER_S


def _wfit(t: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """OLS slope of ``y(t)`` over the points with finite ``y`` and weight ``w > 0``."""
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
    require_positive("yeh_hummer_correction: viscosity", viscosity_Pa_s, "Pa s")
    require_positive("yeh_hummer_correction: box length", box_length_A, "Å")
    require_positive("yeh_hummer_correction: temperature", T_K, "K")
    if not (np.isfinite(xi) and xi >= 0):
        raise ValueError(f"yeh_hummer_correction: xi must be finite and >= 0, got {xi!r}")
    if not np.isfinite(D_m2_per_s):
        raise ValueError(f"yeh_hummer_correction: D must be finite, got {D_m2_per_s!r} m²/s")
    if not (np.isfinite(D_stderr_m2_per_s) and np.isfinite(viscosity_stderr_Pa_s)) \
            or D_stderr_m2_per_s < 0 or viscosity_stderr_Pa_s < 0:
        raise ValueError("yeh_hummer_correction: standard errors must be finite and >= 0, got "
                         f"{D_stderr_m2_per_s!r} m²/s and {viscosity_stderr_Pa_s!r} Pa s")
    correction = xi * KB_J_PER_K * T_K / (6.0 * np.pi * viscosity_Pa_s * box_length_A * 1e-10)
    err = np.hypot(D_stderr_m2_per_s, correction * viscosity_stderr_Pa_s / viscosity_Pa_s)
    return float(D_m2_per_s + correction), float(err)