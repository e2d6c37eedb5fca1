"""Self-diffusion coefficients from mean squared displacements (Peng et al. 2025, eq. 2).

``D = lim MSD(t)/(2 d t)`` (d = 3 for the full MSD). The MSD of each atom is averaged over all time
origins (FFT algorithm, tidynamics), then over the selected atoms, after removing the
centre-of-mass drift of the whole system. D is fitted on the diffusive regime only, chosen from the
physics (:mod:`.window`): after the caging time, where the local exponent of the MSD has settled at
1, and never beyond half the trajectory.

Slope estimators (details in :func:`diffusion_coefficient`): ``method="gls"`` (default) —
generalised least squares with a model of the MSD covariance (:mod:`.msd_gls`; McCluskey, Coles &
Morgan, J. Chem. Theory Comput. 21, 79 (2025), kinisi), its error bar floored by the scatter of
replicas and of blocks of time origins (:mod:`.scatter`); ``method="ols"`` — ordinary least
squares, error bar from replicas (std/√n) or per-atom fits (std/√N).

Atoms can be selected by species, by index and by a spatial :class:`Region` (e.g. a grain-boundary
slab) whose membership is re-evaluated over time. Finite-size correction: :func:`yeh_hummer_correction`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from deepearth.properties.checks import require_finite_result, require_positive
from deepearth.properties.diffusion.inputs import (as_replicas, as_velocities, check_positions, check_time_axis,
                                                   select_atoms, vacf)
from deepearth.properties.diffusion.msd_gls import (GLS_RIDGE, fit_lag_grid, gls_msd_slope, model_variogram,
                                                    msd_curves, msd_origin_sums)
from deepearth.properties.diffusion.scatter import N_BLOCKS, block_variance, combined_error
from deepearth.properties.diffusion.window import WINDOW_TOLERANCE, caging_time_from_vacf, diffusive_window
from deepearth.properties.trajectory import Region, Trajectory
from deepearth.units import A2_PER_PS_TO_M2_PER_S, KB_J_PER_K

#: Yeh–Hummer constant for a cubic periodic box (Yeh & Hummer, J. Phys. Chem. B 108, 15873 (2004)).
XI_CUBIC: float = 2.837297
#: Fewest frames accepted for an MSD analysis.
MIN_FRAMES: int = 10


@dataclass
class DiffusionResult:
    """Self-diffusion coefficient of one species (or selection) with its uncertainty and provenance.

    ``D_stderr_m2_per_s`` is the reported standard error; ``stderr_source`` says where it comes from.
    GLS: the largest of the GLS bar (``"gls"``, the parameter covariance of the fit,
    ``D_stderr_gls_m2_per_s``), the replica scatter (``"replicas"``, std/√n,
    ``D_stderr_replicas_m2_per_s``) and the time-origin block scatter (``"blocks"``,
    ``D_stderr_blocks_m2_per_s``), a scatter counted × the Student factor of its ``stderr_dof``
    degrees of freedom (:mod:`.scatter`). OLS: ``"replicas"`` (≥ 2 replicas) or ``"per-atom"``
    (std/√N of per-atom fits, one replica). ``fit_window_ps`` is the window and ``window_rule``
    how it was chosen; ``caging_time_ps`` the caging time it starts after.
    """

    species: str
    D_m2_per_s: float
    D_stderr_m2_per_s: float
    n_replicas: int
    fit_window_ps: tuple[float, float]
    diffusive: bool  # False: no regime with local exponent ≈ 1 (e.g. a crystal); D then ≈ 0 by fit
    method: str  # human-readable description of estimator, window and error source
    D_replicas_m2_per_s: list[float] = field(default_factory=list)
    lag_ps: list[float] = field(default_factory=list)
    msd_A2: list[float] = field(default_factory=list)
    units: str = "m^2/s"
    T_K: float | None = None
    P_GPa: float | None = None
    sources: list[str] = field(default_factory=list)
    estimator: str = "gls"  # "gls" | "ols"
    stderr_source: str = "gls"  # "gls" | "replicas" | "blocks" | "per-atom"
    D_stderr_replicas_m2_per_s: float | None = None  # replica spread std/√n (≥ 2 replicas)
    n_atoms: int = 0  # selected atoms, summed over replicas (before any region)
    n_atoms_effective: float | None = None  # region: mean number of atoms in the region per time origin
    n_fit_lags: int = 0  # lags used by the fit
    dimensions: str = "xyz"
    region: dict | None = None
    window_rule: str = ""  # how fit_window_ps was chosen
    caging_time_ps: float | None = None  # the window starts after it (VACF minimum, or from the MSD)
    D_stderr_gls_m2_per_s: float | None = None  # the GLS model bar (independent atoms)
    D_stderr_blocks_m2_per_s: float | None = None  # scatter of time-origin blocks
    stderr_dof: int | None = None  # degrees of freedom of a scatter-based stderr
    n_blocks: int = 0  # time-origin blocks per replica

    @property
    def value(self) -> float:
        """D in m²/s."""
        return self.D_m2_per_s

    @property
    def D_upper_m2_per_s(self) -> float | None:
        """For a result that is not diffusive, the bound to report instead of D: max(D, 0) + 2σ (m²/s,
        ≈ 97.7 % one-sided for a Gaussian bar); ``None`` when diffusive (then D ± σ is the result)."""
        if self.diffusive:
            return None
        return max(self.D_m2_per_s, 0.0) + 2.0 * self.D_stderr_m2_per_s

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
        d["D_upper_m2_per_s"] = self.D_upper_m2_per_s
        if not curves:
            d.pop("lag_ps")
            d.pop("msd_A2")
        return d


def remove_drift(positions: np.ndarray, masses: np.ndarray) -> np.ndarray:
    """Positions (Å) with the centre-of-mass displacement of the whole system subtracted."""
    com = np.einsum("tni,n->ti", positions, masses) / masses.sum()
    return positions - (com - com[0])[:, None, :]


def _dims(dimensions: str) -> list[int]:
    """Cartesian component indices of ``dimensions`` (distinct letters from 'xyz')."""
    dims = sorted({"xyz".index(c) for c in dimensions.lower()} if set(dimensions.lower()) <= set("xyz") else [])
    if not dims or len(dims) != len(dimensions):
        raise ValueError(f"diffusion_coefficient: dimensions must be distinct letters from 'xyz', got {dimensions!r}")
    return dims


def diffusion_coefficient(data: Trajectory | np.ndarray | Sequence[Trajectory | np.ndarray],
                          dt_ps: float | None = None, species: str | None = None,
                          min_fit_start_ps: float = 0.1, remove_com_drift: bool = True,
                          T_K: float | None = None, P_GPa: float | None = None, *,
                          method: str = "gls", atoms: Sequence[int] | None = None,
                          region: Region | None = None, dimensions: str = "xyz",
                          times_ps: Sequence[float] | None = None, max_fit_lags: int = 60,
                          velocities: np.ndarray | Sequence[np.ndarray] | None = None,
                          fit_window_ps: tuple[float, float] | None = None,
                          n_blocks: int = N_BLOCKS) -> DiffusionResult:
    """Self-diffusion coefficient (m²/s) ``D = lim MSD(t)/(2 d t)`` from one or more independent
    replica trajectories (Peng et al. 2025, eq. 2).

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

    Window (:func:`~.window.diffusive_window`, on the pooled MSD; all replicas cut to the shortest):
    from the first lag ≥ max(caging time, ``min_fit_start_ps``) where the local exponent of the MSD
    stays within 0.03 (+ 2 standard errors) of 1 (``WINDOW_TOLERANCE``) over a factor 2 in time, to half the trajectory.
    The caging time is the first minimum of the velocity autocorrelation function when
    ``velocities`` (Å/ps, one ``(T, N, 3)`` array per replica, as the positions) are given, else
    twice the time where the log–log MSD slope falls below 1.5. No such regime (a crystal: the MSD
    plateaus): the late half is fitted and ``diffusive=False``. ``fit_window_ps = (t0, t1)`` sets
    the window by hand instead (the lags within it; ``diffusive`` then only checks that D > 0).

    ``method="gls"`` (default): the slope is fitted by generalised least squares,
    ``β = (XᵀΣ⁻¹X)⁻¹XᵀΣ⁻¹y`` (:func:`gls_line`, with a 1 % ridge, ``GLS_RIDGE``, and the sandwich
    variance), on up to ``max_fit_lags`` lags of the window (log- and evenly spaced). Σ is the
    covariance model of :func:`msd_covariance`: independent atoms whose displacements are Gaussian
    with stationary increments and the measured MSD (the measured curve up to the window start,
    continued linearly with its local slope there), times one measured non-Gaussian factor
    ``f = Var(r²)/((2/d)MSD²)`` (1 for Gaussian displacements; > 1 for hopping). This is the
    approach of McCluskey, Coles & Morgan, J. Chem. Theory Comput. 21, 79 (2025) (kinisi), with the
    exact overlapping-origin covariance in place of kinisi's ``σ_i² N_i/N_j`` from non-overlapping
    counts and the GLS maximum-likelihood line in place of its MCMC posterior. With ≥ 2 replicas the
    replicas are pooled (D from the pooled MSD; the same GLS weights applied to each replica give
    ``D_replicas_m2_per_s``). Atoms in a liquid are not independent, so the GLS bar alone is too
    small (1.4–3× on LJ argon); the reported stderr is the largest of the GLS bar, the replica scatter
    and the scatter of ``n_blocks`` blocks of time origins per replica, a scatter × the Student
    factor of its degrees of freedom (:func:`~.scatter.combined_error`). ``method="ols"``: ordinary
    least squares on the same window; D is the mean of the replica fits, stderr std/√n over
    replicas or std/√N over per-atom fits (one replica). Calibration:
    ``benchmarks/diffusion_calibration.py`` (Langevin) and ``benchmarks/diffusion_calibration_liquid.py``
    (Lennard-Jones liquid through LAMMPS).

    Refused with one ``ValueError`` (:mod:`deepearth.properties.checks`): NaN/inf positions (naming the
    first bad frame and atom), fewer than ``MIN_FRAMES`` frames, dt ≤ 0, T_K ≤ 0, selected atoms that
    never move, velocities of the wrong shape, and a result that is not finite with a positive error bar.
    """
    method = method.lower()
    if method not in ("gls", "ols"):
        raise ValueError(f"diffusion_coefficient: method must be 'gls' or 'ols', got {method!r}")
    if T_K is not None:
        require_positive("diffusion_coefficient: T_K", T_K, "K")
    if P_GPa is not None and not np.isfinite(P_GPa):
        raise ValueError(f"diffusion_coefficient: P_GPa must be finite, got {P_GPa!r}")
    if int(n_blocks) < 2:
        raise ValueError(f"diffusion_coefficient: n_blocks must be >= 2, got {n_blocks!r}")
    replicas = as_replicas(data, dt_ps, times_ps)
    if not replicas:
        raise ValueError("diffusion_coefficient: no trajectories given")
    for r in replicas:
        check_time_axis(r, MIN_FRAMES)
        check_positions(r, cells=region is not None)
    dt = replicas[0].dt_ps
    if any(abs(r.dt_ps - dt) > 1e-9 * dt for r in replicas):
        raise ValueError("diffusion_coefficient: replicas have different frame spacings")
    vels = as_velocities(velocities, replicas)
    dims = _dims(dimensions)
    d = len(dims)
    n_t = min(r.n_frames for r in replicas)
    label = species or ("selection" if atoms is not None else "all")
    if region is not None:
        label += f" in {region.describe()}"

    # positions (and velocities) of the selected atoms (drift removed), region membership (None: no region)
    sel_pos, sel_inside, sel_vel, n_sel = [], [], [], 0
    for k, r in enumerate(replicas):
        pos = remove_drift(r.positions_A, r.masses_amu) if remove_com_drift else r.positions_A
        idx = select_atoms(r, species, atoms)
        n_sel += idx.size
        sel_pos.append(pos[:n_t, idx][:, :, dims])
        if vels is not None:
            v = vels[k]
            if remove_com_drift:
                v = v - (np.einsum("tni,n->ti", v, r.masses_amu) / r.masses_amu.sum())[:, None, :]
            sel_vel.append(v[:n_t, idx][:, :, dims])
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
    i0, i1, diffusive, t_cage, rule = _window(lag[:n_valid], msd_mean[:n_valid], min_fit_start_ps, fit_window_ps,
                                              per_atom, sel_vel, dt, label)
    window = slice(i0, i1)
    n_atoms_eff = None
    if region is not None:
        n_atoms_eff = float(w_tot[i0] / (n_t - curve_lags[i0]))

    err = None
    if method == "ols":
        n_fit = i1 - i0
        d_rep = _to_si(np.array([_wfit(lag[window], m[window], w[window]) for m, w in zip(msd_rep, w_rep)]), d)
        D = float(d_rep.mean())
    else:
        lo, hi = int(curve_lags[i0]), int(curve_lags[i1 - 1])
        fit_lags = fit_lag_grid(lo, hi, max_fit_lags)
        n_fit = fit_lags.size
        sums = [msd_origin_sums(p, fit_lags, ins) for p, ins in zip(sel_pos, sel_inside)]
        mom = [(c.sum(axis=0), s2.sum(axis=0), s4) for c, s2, s4 in sums]
        if np.any(np.array([c for c, _, _ in mom]).sum(axis=0) == 0):
            raise ValueError(f"region {region.to_dict() if region else None}: no atom stays inside over the fit lags")
        g = model_variogram(msd_mean[:n_valid], curve_lags[:n_valid], lo, n_t, stencil=max(4, (hi - lo) // 20))
        try:
            slope, slope_err, slope_rep, weights = gls_msd_slope(mom, fit_lags, dt, g, n_t, d, linear_from=lo,
                                                                 ridge=GLS_RIDGE, return_weights=True)
        except np.linalg.LinAlgError as exc:
            raise ValueError(f"diffusion_coefficient ({label}): the GLS fit of the MSD over lags {lo}-{hi} frames is "
                             f"singular ({exc}); the MSD is (nearly) flat there — too few frames or atoms that "
                             "hardly move; try method='ols' or a longer run") from None
        pooled = np.array([s2 for _, s2, _ in mom]).sum(axis=0) / np.array([c for c, _, _ in mom]).sum(axis=0)
        var_blk, n_blk = block_variance([c for c, _, _ in sums], [s2 for _, s2, _ in sums], pooled, weights,
                                        int(n_blocks))
        d_rep = _to_si(slope_rep, d)  # replica values: the pooled GLS weights applied to each replica's MSD
        err = combined_error(_to_si(slope_err, d), d_rep, _to_si(np.sqrt(var_blk), d) ** 2, n_blk, int(n_blocks))
        D, stderr, source = _to_si(slope, d), err.sigma, err.source
    rep_err = float(d_rep.std(ddof=1) / np.sqrt(len(d_rep))) if len(d_rep) >= 2 else None

    if method == "gls":
        desc = (f"GLS fit of MSD on {rule} ({n_fit} lags) with a Gaussian-displacement MSD covariance "
                f"(McCluskey et al. JCTC 2025); stderr = max(GLS, replica scatter over {len(d_rep)} replicas, "
                f"scatter of {n_blocks} time-origin blocks per replica), a scatter x Student t(dof) -> {source}")
    elif len(replicas) >= 2:
        stderr, source = rep_err, "replicas"
        if not rep_err > 0:
            raise ValueError(f"diffusion_coefficient ({label}): the {len(d_rep)} replicas give identical D, so their "
                             "spread (the OLS error bar) is zero; are they copies of one run? use method='gls'")
        desc = f"OLS fit of MSD on {rule}; stderr from {len(d_rep)} replicas"
    elif region is None:
        if per_atom[0].shape[1] < 2:
            raise ValueError(f"diffusion_coefficient ({label}): method='ols' with one replica takes its error bar from "
                             "the spread of per-atom fits and needs >= 2 selected atoms; use method='gls' or replicas")
        d_atoms = _to_si(np.array([_wfit(lag[window], per_atom[0][window, j], w_rep[0][window])
                                   for j in range(per_atom[0].shape[1])]), d)
        stderr, source = float(d_atoms.std(ddof=1) / np.sqrt(len(d_atoms))), "per-atom"
        desc = f"OLS fit of MSD on {rule}; stderr from per-atom spread (one replica)"
    else:
        raise ValueError("diffusion_coefficient: method='ols' with a region needs >= 2 replicas for an error "
                         "bar; use method='gls'")
    require_finite_result(f"diffusion_coefficient ({label})", float(D), float(stderr),
                          why=f"{n_fit} fit lags over {n_t} frames of {n_sel} atoms")
    if not diffusive:
        desc += "; no diffusive regime found (local exponent never settles at 1): D fitted on the late half (plateau)"
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
        region=region.to_dict() if region is not None else None, window_rule=rule, caging_time_ps=t_cage,
        D_stderr_gls_m2_per_s=None if err is None else err.sigma_gls,
        D_stderr_blocks_m2_per_s=None if err is None else err.sigma_blocks,
        stderr_dof=None if err is None else err.dof, n_blocks=int(n_blocks) if err is not None else 0)


def _window(lag: np.ndarray, msd: np.ndarray, min_start_ps: float, by_hand: tuple[float, float] | None,
            per_atom: list[np.ndarray] | None, velocities: list[np.ndarray], dt: float,
            label: str) -> tuple[int, int, bool, float | None, str]:
    """The fit window ``[i0, i1)`` on ``lag``, whether diffusive, the caging time and a description."""
    if by_hand is not None:
        t0, t1 = (float(x) for x in by_hand)
        i0, i1 = int(np.searchsorted(lag, t0 - 1e-9 * abs(t0))), int(np.searchsorted(lag, t1 + 1e-9 * abs(t1), "right"))
        if not (np.isfinite(t0) and np.isfinite(t1)) or i1 - i0 < 3 or i0 < 1:
            raise ValueError(f"diffusion_coefficient ({label}): fit_window_ps {by_hand!r} holds {max(i1 - i0, 0)} lags "
                             f"> 0 of the MSD (lags {lag[1]:g}-{lag[-1]:g} ps); it needs >= 3")
        diffusive = bool(np.polyfit(lag[i0:i1], msd[i0:i1], 1)[0] > 0)
        return i0, i1, diffusive, None, f"the window {lag[i0]:g}-{lag[i1 - 1]:g} ps given by hand"
    t_cage = None
    if velocities:
        t_cage = caging_time_from_vacf(lag, vacf(velocities, len(lag)))
    pa = np.concatenate(per_atom, axis=1) if per_atom is not None else None
    info: dict = {}
    i0, i1, diffusive = diffusive_window(lag, msd, min_start_ps, caging_time_ps=t_cage, per_atom_msd=pa, details=info)
    t_cage = info["caging_time_ps"]
    how = "the VACF minimum" if velocities else "2 x the ballistic exit (log-log slope < 1.5)"
    rule = (f"the diffusive window {lag[i0]:g}-{lag[i1 - 1]:g} ps (after the caging time {t_cage:.3g} ps from {how}, "
            f"local exponent within {WINDOW_TOLERANCE:g} of 1, to half the run)")
    return i0, i1, diffusive, float(t_cage), rule


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
    Dünweg & Kremer, J. Chem. Phys. 99, 6983 (1993)), with ``D_L`` the coefficient
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