"""PREM with depth (Dziewonski & Anderson 1981, *PEPI* 25, 297–356), as tabulated by BurnMan and read
through ``burnman_cpp`` (see :mod:`deepearth.geophysics.earth` for the table's provenance).

The PREM model object (:func:`prem_model`), its values in SI at depths in m (:func:`prem_si`), gravity
integrated here from the density (:func:`_gravity_table`), pressure ↔ depth (:func:`prem_pressure_GPa`,
:func:`prem_depth_km`), the layer a pressure falls in (:func:`layer_at`), the input checks, and the depths
of the named boundaries. Units: km, GPa outside; m, Pa inside (burnman-cpp works in SI).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from deepearth.units import GRAVITATIONAL_CONSTANT

#: Mean radius of the Earth in PREM, km.
EARTH_RADIUS_KM = 6371.0
#: PREM depths of the named boundaries, km (PREM's transition-zone base is its 670-km discontinuity).
TRANSITION_ZONE_BASE_DEPTH_KM = 670.0
CMB_DEPTH_KM = 2891.0
ICB_DEPTH_KM = 5149.5
#: PREM's pressure at the centre, GPa (its range for :func:`prem_deviation`).
PREM_MAX_PRESSURE_GPA = 363.85

#: How far off a discontinuity (m, 1 mm) PREM is read to get one side's values.
NUDGE_M = 1e-3
#: Pressures within this distance (GPa) of a PREM discontinuity's pressure are put on the discontinuity,
#: and ``side`` picks its shallower or deeper values (≈ 0.2 km in depth in the lower mantle).
DISCONTINUITY_SNAP_GPA = 0.01


# --------------------------------------------------------------------------------------------- PREM
@lru_cache(maxsize=1)
def prem_model():
    """The (cached) burnman-cpp PREM."""
    from burnman_cpp.classes.seismic import PREM

    return PREM()


@lru_cache(maxsize=1)
def _gravity_table() -> tuple[np.ndarray, np.ndarray]:
    """(depth in m, g in m/s²) on a 0.1 km grid: ``g = G M(r) / r²`` with ``M(r) = ∫ 4π r'² ρ dr'`` of
    PREM's density, integrated by the trapezoid rule on that grid (both sides of each discontinuity).

    burnman-cpp's own ``PREM.gravity`` integrates on the table's 50–100 km nodes, which overestimates
    g in the inner core (by 4 % at r = 371 km, 50 % at r = 100 km); on this grid the
    relative error is < 1e-4 for r > 1 km.
    """
    bounds = _layer_bounds_m()
    z = np.unique(np.concatenate([np.linspace(0.0, bounds[-1], 63711), bounds[1:-1] - NUDGE_M,
                                  bounds[1:-1] + NUDGE_M]))
    r = (bounds[-1] - z)[::-1]  # increasing radius, from the centre
    rho = np.asarray(prem_model().density(bounds[-1] - r), dtype=float)
    integrand = 4.0 * np.pi * r**2 * rho
    mass = np.concatenate([[0.0], np.cumsum(0.5 * (integrand[1:] + integrand[:-1]) * np.diff(r))])
    g = np.zeros_like(r)
    g[r > 0] = GRAVITATIONAL_CONSTANT * mass[r > 0] / r[r > 0] ** 2
    return z, g[::-1]


@lru_cache(maxsize=1)
def _layer_bounds_m() -> np.ndarray:
    """Depths (m) of PREM's surface, discontinuities (incl. gradient breaks) and centre, increasing."""
    d = np.asarray(prem_model().table_depth, dtype=float)
    u, counts = np.unique(d, return_counts=True)
    return np.unique(np.concatenate([[0.0], u[counts > 1], [d.max()]]))


def check_depth_km(depth_km, name: str = "depth_km") -> np.ndarray:
    d = np.asarray(depth_km, dtype=float)
    if not np.all(np.isfinite(d)) or np.any(d < 0) or np.any(d > EARTH_RADIUS_KM):
        raise ValueError(f"{name} must be finite and within 0–{EARTH_RADIUS_KM:g} km (PREM), got {depth_km!r}")
    return d


def prem_si(depth_m) -> dict[str, np.ndarray]:
    """PREM at depths in m, SI units (Pa, kg/m³, m/s, m/s²)."""
    m, z = prem_model(), np.atleast_1d(np.asarray(depth_m, dtype=float))
    return {"P": np.asarray(m.pressure(z)), "rho": np.asarray(m.density(z)), "vp": np.asarray(m.v_p(z)),
            "vs": np.asarray(m.v_s(z)), "g": np.interp(z, *_gravity_table())}


def prem_pressure_GPa(depth_km):
    """PREM pressure (GPa) at ``depth_km`` (km, 0–6371)."""
    d = check_depth_km(depth_km)
    out = np.asarray(prem_model().pressure(np.atleast_1d(d) * 1e3)) / 1e9
    return float(out[0]) if d.ndim == 0 else out.reshape(d.shape)


def prem_depth_km(P_GPa):
    """Depth (km) at which PREM has pressure ``P_GPa`` (GPa, 0–363.85); inverse of :func:`prem_pressure_GPa`.

    Where the pressure is that of a discontinuity, PREM's two tabulated pressures there differ by
    ~0.1 MPa, and the depth returned may sit up to ~0.02 km above it.
    """
    p = check_pressure_GPa(P_GPa)
    out = np.asarray(prem_model().depth(np.atleast_1d(p) * 1e9)) / 1e3
    return float(out[0]) if p.ndim == 0 else out.reshape(p.shape)


def check_pressure_GPa(P_GPa, name: str = "P_GPa") -> np.ndarray:
    p = np.asarray(P_GPa, dtype=float)
    if not np.all(np.isfinite(p)) or np.any(p < 0) or np.any(p > PREM_MAX_PRESSURE_GPA):
        raise ValueError(f"{name} must be within PREM's range 0–{PREM_MAX_PRESSURE_GPA} GPa, got {P_GPa!r}")
    return p


def layer_at(P_GPa: float, side: str) -> tuple[float, float, float]:
    """(depth, layer top, layer bottom) in m for a pressure; snaps onto a discontinuity within
    :data:`DISCONTINUITY_SNAP_GPA` and takes the layer on ``side`` of it."""
    bounds = _layer_bounds_m()
    p_bounds = prem_si(bounds)["P"] / 1e9
    inner = np.arange(1, bounds.size - 1)
    near = inner[np.abs(p_bounds[inner] - P_GPa) <= DISCONTINUITY_SNAP_GPA]
    if near.size:
        k = int(near[np.argmin(np.abs(p_bounds[near] - P_GPa))])
        if side == "above":
            return float(bounds[k]), float(bounds[k - 1]), float(bounds[k])
        return float(bounds[k]), float(bounds[k]), float(bounds[k + 1])
    z = float(prem_model().depth(P_GPa * 1e9))
    i = int(np.clip(np.searchsorted(bounds, z, side="right") - 1, 0, bounds.size - 2))
    return z, float(bounds[i]), float(bounds[i + 1])


__all__ = ["EARTH_RADIUS_KM", "TRANSITION_ZONE_BASE_DEPTH_KM", "CMB_DEPTH_KM", "ICB_DEPTH_KM", "PREM_MAX_PRESSURE_GPA",
           "DISCONTINUITY_SNAP_GPA", "NUDGE_M", "prem_model", "prem_si", "prem_pressure_GPa", "prem_depth_km",
           "check_depth_km", "check_pressure_GPa", "layer_at"]
