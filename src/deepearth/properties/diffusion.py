"""Self-diffusion coefficients from mean squared displacements (W paper eq. 2; SCIENCE.md §3).

``D = lim MSD(t)/(6t)``. The MSD of each atom is averaged over all time origins with the FFT
algorithm (tidynamics), then over the atoms of a species, after removing the centre-of-mass drift.
D is fitted by least squares on the diffusive regime only — where the MSD grows linearly after the
ballistic/caging start (see :func:`diffusive_window`) — and never beyond half the trajectory.
The standard error comes from independent replicas (std/√n); with one replica, from the spread of
per-atom values (std/√N, which neglects cross-correlations between atoms).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import tidynamics
from scipy.ndimage import uniform_filter1d

from deepearth.properties.trajectory import Trajectory
from deepearth.units import A2_PER_PS_TO_M2_PER_S


@dataclass
class DiffusionResult:
    """Self-diffusion coefficient of one species with its uncertainty and provenance."""

    species: str
    D_m2_per_s: float
    D_stderr_m2_per_s: float
    n_replicas: int
    fit_window_ps: tuple[float, float]
    diffusive: bool  # False: no regime with log-log slope ≈ 1 (e.g. a crystal); D then ≈ 0 by fit
    method: str
    D_replicas_m2_per_s: list[float] = field(default_factory=list)
    lag_ps: list[float] = field(default_factory=list)
    msd_A2: list[float] = field(default_factory=list)
    units: str = "m^2/s"
    T_K: float | None = None
    P_GPa: float | None = None
    sources: list[str] = field(default_factory=list)

    @property
    def value(self) -> float:
        return self.D_m2_per_s

    @property
    def stderr(self) -> float:
        return self.D_stderr_m2_per_s

    @property
    def unit(self) -> str:
        return self.units

    def to_dict(self, curves: bool = False) -> dict:
        d = asdict(self)
        d["fit_window_ps"] = list(self.fit_window_ps)
        if not curves:
            d.pop("lag_ps")
            d.pop("msd_A2")
        return d


def msd_per_atom(positions: np.ndarray) -> np.ndarray:
    """MSD of each atom over all time origins, ``(T, N)`` in Å² from unwrapped ``(T, N, 3)`` Å (FFT)."""
    positions = np.asarray(positions, dtype=float)
    return np.stack([tidynamics.msd(positions[:, i, :]) for i in range(positions.shape[1])], axis=1)


def remove_drift(positions: np.ndarray, masses: np.ndarray) -> np.ndarray:
    """Positions with the centre-of-mass displacement of the whole system subtracted."""
    com = np.einsum("tni,n->ti", positions, masses) / masses.sum()
    return positions - (com - com[0])[:, None, :]


def local_slope(lag: np.ndarray, msd: np.ndarray) -> np.ndarray:
    """d ln MSD / d ln t on the lags > 0 (same length as ``lag``; first entry NaN)."""
    slope = np.full_like(msd, np.nan, dtype=float)
    ok = (lag > 0) & (msd > 0)
    if ok.sum() >= 3:
        slope[ok] = np.gradient(np.log(msd[ok]), np.log(lag[ok]))
    return slope


def diffusive_window(lag_ps: np.ndarray, msd: np.ndarray, min_start_ps: float = 0.1,
                     tolerance: float = 0.3, min_loglog_slope: float = 0.5) -> tuple[int, int, bool]:
    """Indices ``[i0, i1)`` of the fit window and whether the regime is diffusive.

    The window ends at half the trajectory (beyond it few time origins remain). It starts at the
    earliest lag ≥ ``min_start_ps`` after which the MSD grows linearly: the smoothed local
    derivative dMSD/dt stays within ``±tolerance`` of its median over the late half of the range.
    The motion counts as diffusive when that window covers at least a fifth of the range and the
    log–log slope has reached ``min_loglog_slope`` at its end. (Requiring a log–log slope ≈ 1 alone
    fails on real data: the ballistic/caging start leaves an offset, MSD = 6Dt + c, whose log–log
    slope approaches 1 only slowly.) Otherwise — a crystal or glass, whose MSD plateaus — the late
    half of the range is returned with ``diffusive=False``.
    """
    n = len(lag_ps)
    i1 = max(n // 2, 3)
    i_min = int(np.searchsorted(lag_ps, min_start_ps))
    i_min = min(max(i_min, 1), i1 - 2)
    fallback = (i_min + (i1 - i_min) // 2, i1, False)
    width = max(3, (i1 - i_min) // 10)
    deriv = uniform_filter1d(np.gradient(msd[:i1], lag_ps[:i1]), width, mode="nearest")
    reference = float(np.median(deriv[(i_min + i1) // 2:i1]))
    if not reference > 0:
        return fallback
    bad = np.flatnonzero(np.abs(deriv[i_min:i1] - reference) > tolerance * reference)
    i0 = i_min if bad.size == 0 else i_min + int(bad[-1]) + 1
    if i1 - i0 < max(3, (i1 - i_min) // 5):
        return fallback
    slope = uniform_filter1d(np.nan_to_num(local_slope(lag_ps[:i1], msd[:i1])), width, mode="nearest")
    if slope[i1 - 1] < min_loglog_slope:
        return fallback
    return i0, i1, True


def _fit_slope(lag: np.ndarray, msd: np.ndarray) -> float:
    """Least-squares slope of MSD vs lag (Å²/ps)."""
    return float(np.polyfit(lag, msd, 1)[0])


def _as_replicas(data, dt_ps: float | None) -> list[Trajectory]:
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
        if dt_ps is None or not dt_ps > 0:
            raise ValueError("diffusion_coefficient: dt_ps (time between frames, ps) is required with position arrays")
        n = pos.shape[1]
        out.append(Trajectory(pos, np.zeros((len(pos), 3, 3)), ["X"] * n, np.ones(n), float(dt_ps), "array"))
    return out


def diffusion_coefficient(data, dt_ps: float | None = None, species: str | None = None,
                          min_fit_start_ps: float = 0.1, remove_com_drift: bool = True,
                          T_K: float | None = None, P_GPa: float | None = None) -> DiffusionResult:
    """Self-diffusion coefficient (m²/s) from one or more independent replica trajectories.

    ``data`` is a :class:`Trajectory` (see :func:`read_trajectory`), a list of them (replicas), or
    unwrapped positions ``(n_frames, n_atoms, 3)`` in Å (or a list of such arrays) with ``dt_ps``, the
    time between frames in ps; arrays count all atoms as one species of equal mass. ``species``
    selects atoms of trajectories (``None``: all atoms).

    All replicas must share the frame spacing. The window is chosen on the replica-averaged MSD
    and applied to every replica; D is the mean of the replica fits, its standard error the
    std/√n of those fits (or std/√N of per-atom fits when there is one replica).
    """
    replicas = _as_replicas(data, dt_ps)
    if not replicas:
        raise ValueError("diffusion_coefficient: no trajectories given")
    dt = replicas[0].dt_ps
    if any(abs(r.dt_ps - dt) > 1e-9 * dt for r in replicas):
        raise ValueError("diffusion_coefficient: replicas have different frame spacings")
    n_t = min(r.n_frames for r in replicas)
    lag = np.arange(n_t) * dt
    per_atom = []
    for r in replicas:
        pos = remove_drift(r.positions_A, r.masses_amu) if remove_com_drift else r.positions_A
        atoms = r.select(species) if species is not None else slice(None)
        per_atom.append(msd_per_atom(pos[:n_t, atoms]))
    msd_rep = np.array([m.mean(axis=1) for m in per_atom])
    msd_mean = msd_rep.mean(axis=0)
    i0, i1, diffusive = diffusive_window(lag, msd_mean, min_fit_start_ps)
    window = slice(i0, i1)
    d_rep = np.array([_fit_slope(lag[window], m[window]) / 6.0 for m in msd_rep]) * A2_PER_PS_TO_M2_PER_S
    if len(replicas) >= 2:
        stderr = float(d_rep.std(ddof=1) / np.sqrt(len(d_rep)))
        method = f"OLS fit of MSD on the diffusive window; stderr from {len(d_rep)} replicas"
    else:
        d_atoms = np.array([_fit_slope(lag[window], per_atom[0][window, j]) / 6.0
                            for j in range(per_atom[0].shape[1])]) * A2_PER_PS_TO_M2_PER_S
        stderr = float(d_atoms.std(ddof=1) / np.sqrt(len(d_atoms)))
        method = "OLS fit of MSD on the diffusive window; stderr from per-atom spread (one replica)"
    if not diffusive:
        method += "; no diffusive regime found (no linear MSD growth): D fitted on the late half (plateau)"
    return DiffusionResult(
        species=species or "all", D_m2_per_s=float(d_rep.mean()), D_stderr_m2_per_s=stderr, n_replicas=len(replicas),
        fit_window_ps=(float(lag[i0]), float(lag[i1 - 1])), diffusive=diffusive, method=method,
        D_replicas_m2_per_s=[float(x) for x in d_rep], lag_ps=[float(x) for x in lag],
        msd_A2=[float(x) for x in msd_mean], T_K=T_K, P_GPa=P_GPa, sources=[r.source for r in replicas])
