"""Earth conditions: PREM with depth, mantle/core geotherms, named boundaries and deviations from PREM
(SCIENCE.md §6).

Everything seismic comes from **PREM** (Dziewonski & Anderson 1981, *PEPI* 25, 297–356) as tabulated by
BurnMan (``input_seismic/prem.txt``: the polynomial model sampled at ≈ 50–100 km and at both sides of
every discontinuity, linearly interpolated; PREM's published pressure tabulated; gravity integrated here
from the density on a 0.1 km grid, see :func:`_gravity_table`) through ``burnman_cpp`` 0.8 — BurnMan's
C++ port with the Python class names (``classes.seismic.PREM``, ``classes.geotherm.*``, ``minerals.SLB11``).
BurnMan 2.1 itself pins numpy < 2. burnman-cpp is GPL-3.0-or-later; deepearth only imports it (nothing
is vendored). BurnMan's table puts upper-crust
density (2600 kg/m³) in PREM's 3-km ocean layer but keeps PREM's pressure (0.03 GPa at 3 km, from water),
so pressure and ∫ρg dz differ by ≈ 0.05 GPa below 3 km (< 0.1 % below 100 km).

Units: depth and radius in km, pressure in GPa, density in kg/m³, velocities in km/s, gravity in m/s²,
temperature in K (burnman-cpp works in m, Pa, m/s internally).

PREM's transition-zone base (the "660") is its 670-km discontinuity (radius 5701 km, 23.83 GPa); its
core–mantle boundary is at 2891 km (radius 3480 km, 135.75 GPa), the inner-core boundary at 5149.5 km
(radius 1221.5 km, 328.85 GPa) and the centre at 363.85 GPa. At a discontinuity PREM has two sets of
values; :func:`conditions` returns both (``*_above`` = shallower side, ``*_below`` = deeper side).

Geotherms (:data:`GEOTHERMS`): the tabulated profiles burnman-cpp ships, each with its source and range.
Only ``anzellini2013`` reaches the core temperatures of SCIENCE.md §6 (≈ 4100 K at the CMB, > 5400 K at
the ICB), so it is the default; it is tabulated in pressure up to 330.1 GPa and is continued to the
centre along a constant-γ adiabat (see :func:`geotherm_K`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from functools import cache, lru_cache

import numpy as np
from scipy.constants import (
    gravitational_constant as GRAVITATIONAL_CONSTANT,  # CODATA, m³/(kg s²)
)

from deepearth.files import json_ready
from deepearth.units import AVOGADRO

#: Mean radius of the Earth in PREM, km.
EARTH_RADIUS_KM = 6371.0
#: PREM depths of the named boundaries, km (PREM's transition-zone base is its 670-km discontinuity).
TRANSITION_ZONE_BASE_DEPTH_KM = 670.0
CMB_DEPTH_KM = 2891.0
ICB_DEPTH_KM = 5149.5
#: PREM's pressure at the centre, GPa (its range for :func:`prem_deviation`).
PREM_MAX_PRESSURE_GPA = 363.85

#: The conditions SCIENCE.md §6 quotes (review 2026 Fig. 1): (P in GPa, T in K or a lower bound, text).
SCIENCE_MD_CONDITIONS: dict[str, tuple[float, float | None, str]] = {
    "transition-zone-base": (24.0, 1839.0, "≈ 24 GPa, 1839 K"),
    "CMB": (136.0, 4100.0, "≈ 136 GPa, ≈ 4100 K"),
    "ICB": (330.0, 5400.0, "≈ 330 GPa, > 5400 K"),
    "centre": (360.0, None, "360 GPa"),
}

#: Grüneisen parameter of the constant-γ adiabat that continues ``anzellini2013`` through the inner core
#: below its last tabulated point (330.1 GPa): γ ≈ 1.5 for hcp iron at inner-core conditions
#: (ab initio: Alfè, Price & Gillan 2001, *PRB* 64, 045123; Vočadlo et al. 2003, *PEPI* 140, 101).
INNER_CORE_GRUENEISEN = 1.5


@dataclass(frozen=True)
class GeothermModel:
    """A geotherm that burnman-cpp provides: its class, source, depth coverage and how it is indexed."""

    name: str
    burnman_class: str
    source: str
    min_depth_km: float
    max_depth_km: float
    indexed_by: str  # "depth" (tabulated against depth) or "pressure" (tabulated against P, mapped by PREM)
    note: str = ""


#: Geotherms of ``burnman_cpp.classes.geotherm`` (tables checked against burnman-cpp 0.8.0). Their own
#: CMB depths differ from PREM's 2891 km (Brown & Shankland, Stacey: 2885 km; Anderson: 2886 km), so
#: a few km either side of PREM's CMB they may still be on their other side.
GEOTHERMS: dict[str, GeothermModel] = {
    "anzellini2013": GeothermModel(
        "anzellini2013", "Anzellini2013",
        "Anzellini et al. 2013, Science 340, 464 (Fig. S4) for the core; mantle from Steinberger & Holme "
        "2008, JGR 113, B05403. Tabulated in pressure (0–330.1 GPa), mapped to depth with PREM.",
        0.0, EARTH_RADIUS_KM, "pressure",
        "continued below 330.1 GPa (≈ 5170 km) along a constant-γ adiabat T ∝ ρ^γ, γ = 1.5, PREM density"),
    "brown_shankland": GeothermModel(
        "brown_shankland", "BrownShankland",
        "Brown & Shankland 1981, Geophys. J. R. astr. Soc. 66, 579 (mantle adiabat; no thermal boundary "
        "layers)", 270.0, EARTH_RADIUS_KM, "depth", "valid only below 270 km"),
    "anderson": GeothermModel(
        "anderson", "Anderson",
        "Anderson 1982, Phil. Trans. R. Soc. A 306, 21 (with a 700 K jump at the CMB, 2886 km)",
        0.0, EARTH_RADIUS_KM, "depth"),
    "stacey_continental": GeothermModel(
        "stacey_continental", "StaceyContinental",
        "Stacey 1977, PEPI 15, 341 (continental)", 0.0, EARTH_RADIUS_KM, "depth"),
    "stacey_oceanic": GeothermModel(
        "stacey_oceanic", "StaceyOceanic",
        "Stacey 1977, PEPI 15, 341 (oceanic)", 0.0, EARTH_RADIUS_KM, "depth"),
    "katsura2022": GeothermModel(
        "katsura2022", "Katsura2022",
        "Katsura 2022, JGR Solid Earth 127, e2021JB023562 (mantle adiabat, 0–2800 km)",
        0.0, 2800.0, "depth", "mantle only: ends at 2800 km, above the lower thermal boundary layer"),
}
_ALIASES = {"brownshankland": "brown_shankland", "anzellini": "anzellini2013", "katsura": "katsura2022",
            "stacey": "stacey_continental", "staceycontinental": "stacey_continental",
            "staceyoceanic": "stacey_oceanic"}

_CONDITION_NAMES = {"transition-zone-base": "transition-zone-base", "660": "transition-zone-base",
                    "670": "transition-zone-base", "tz-base": "transition-zone-base",
                    "cmb": "CMB", "core-mantle-boundary": "CMB",
                    "icb": "ICB", "inner-core-boundary": "ICB",
                    "centre": "centre", "center": "centre"}
#: PREM depth (km) of each named condition of :func:`conditions`.
CONDITION_DEPTH_KM = {"transition-zone-base": TRANSITION_ZONE_BASE_DEPTH_KM, "CMB": CMB_DEPTH_KM,
                       "ICB": ICB_DEPTH_KM, "centre": EARTH_RADIUS_KM}

_NUDGE_M = 1e-3  # 1 mm: how far off a discontinuity PREM is read to get one side's values
#: Pressures within this distance (GPa) of a PREM discontinuity's pressure are put on the discontinuity,
#: and ``side`` picks its shallower or deeper values (≈ 0.2 km in depth in the lower mantle).
DISCONTINUITY_SNAP_GPA = 0.01


# --------------------------------------------------------------------------------------------- PREM
@lru_cache(maxsize=1)
def _prem():
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
    z = np.unique(np.concatenate([np.linspace(0.0, bounds[-1], 63711), bounds[1:-1] - _NUDGE_M,
                                  bounds[1:-1] + _NUDGE_M]))
    r = (bounds[-1] - z)[::-1]  # increasing radius, from the centre
    rho = np.asarray(_prem().density(bounds[-1] - r), dtype=float)
    integrand = 4.0 * np.pi * r**2 * rho
    mass = np.concatenate([[0.0], np.cumsum(0.5 * (integrand[1:] + integrand[:-1]) * np.diff(r))])
    g = np.zeros_like(r)
    g[r > 0] = GRAVITATIONAL_CONSTANT * mass[r > 0] / r[r > 0] ** 2
    return z, g[::-1]


@lru_cache(maxsize=1)
def _layer_bounds_m() -> np.ndarray:
    """Depths (m) of PREM's surface, discontinuities (incl. gradient breaks) and centre, increasing."""
    d = np.asarray(_prem().table_depth, dtype=float)
    u, counts = np.unique(d, return_counts=True)
    return np.unique(np.concatenate([[0.0], u[counts > 1], [d.max()]]))


def _check_depth_km(depth_km, name: str = "depth_km") -> np.ndarray:
    d = np.asarray(depth_km, dtype=float)
    if not np.all(np.isfinite(d)) or np.any(d < 0) or np.any(d > EARTH_RADIUS_KM):
        raise ValueError(f"{name} must be finite and within 0–{EARTH_RADIUS_KM:g} km (PREM), got {depth_km!r}")
    return d


def _prem_si(depth_m) -> dict[str, np.ndarray]:
    """PREM at depths in m, SI units (Pa, kg/m³, m/s, m/s²)."""
    m, z = _prem(), np.atleast_1d(np.asarray(depth_m, dtype=float))
    return {"P": np.asarray(m.pressure(z)), "rho": np.asarray(m.density(z)), "vp": np.asarray(m.v_p(z)),
            "vs": np.asarray(m.v_s(z)), "g": np.interp(z, *_gravity_table())}


def prem_pressure_GPa(depth_km):
    """PREM pressure (GPa) at ``depth_km`` (km, 0–6371)."""
    d = _check_depth_km(depth_km)
    out = np.asarray(_prem().pressure(np.atleast_1d(d) * 1e3)) / 1e9
    return float(out[0]) if d.ndim == 0 else out.reshape(d.shape)


def prem_depth_km(P_GPa):
    """Depth (km) at which PREM has pressure ``P_GPa`` (GPa, 0–363.85); inverse of :func:`prem_pressure_GPa`.

    Where the pressure is that of a discontinuity, PREM's two tabulated pressures there differ by
    ~0.1 MPa, and the depth returned may sit up to ~0.02 km above it.
    """
    p = _check_pressure(P_GPa)
    out = np.asarray(_prem().depth(np.atleast_1d(p) * 1e9)) / 1e3
    return float(out[0]) if p.ndim == 0 else out.reshape(p.shape)


def _check_pressure(P_GPa, name: str = "P_GPa") -> np.ndarray:
    p = np.asarray(P_GPa, dtype=float)
    if not np.all(np.isfinite(p)) or np.any(p < 0) or np.any(p > PREM_MAX_PRESSURE_GPA):
        raise ValueError(f"{name} must be within PREM's range 0–{PREM_MAX_PRESSURE_GPA} GPa, got {P_GPa!r}")
    return p


# ----------------------------------------------------------------------------------------- geotherms
@cache
def _burnman_geotherm(name: str):
    from burnman_cpp.classes import geotherm

    return getattr(geotherm, GEOTHERMS[name].burnman_class)()


def _resolve_geotherm(model) -> str:
    key = str(model).strip().lower().replace("-", "_").replace(" ", "_")
    key = _ALIASES.get(key.replace("_", ""), _ALIASES.get(key, key))
    if key not in GEOTHERMS:
        raise ValueError(f"unknown geotherm model {model!r}; choose one of {sorted(GEOTHERMS)} "
                         "or pass a burnman-cpp geotherm object")
    return key


def geotherm_K(depth_km, model="anzellini2013", *, extend_inner_core: bool = True):
    """Temperature (K) of a geotherm at ``depth_km`` (km).

    ``model`` is a name of :data:`GEOTHERMS` (each with its source and coverage) or any burnman-cpp
    geotherm object with ``temperatures(depths_m)``, e.g. ``burnman_cpp.classes.geotherm.AdiabaticGeotherm``
    of a mineral assemblage. Depths outside a model's coverage raise ``ValueError`` (``brown_shankland``
    starts at 270 km; ``katsura2022`` is a mantle adiabat that ends at 2800 km, above the CMB).

    ``anzellini2013`` (default; Anzellini et al. 2013 core, Steinberger & Holme 2008 mantle) is tabulated
    against pressure up to 330.1 GPa (PREM depth ≈ 5170 km, just inside the inner core). With
    ``extend_inner_core`` it continues to the centre along the adiabat of constant Grüneisen parameter,
    ``dlnT/dlnρ = γ`` ⇒ ``T = T_end (ρ/ρ_end)^γ`` with PREM's density and γ = :data:`INNER_CORE_GRUENEISEN`
    (1.5, hcp Fe): ≈ 5740 K at the centre. Without it, depths beyond 330.1 GPa raise ``ValueError``.
    """
    d = _check_depth_km(depth_km)
    z = np.atleast_1d(d).astype(float) * 1e3
    if not isinstance(model, str):
        if not hasattr(model, "temperatures"):
            raise ValueError(f"model must be a geotherm name or an object with temperatures(depths_m), got {model!r}")
        out = np.asarray(model.temperatures(z), dtype=float)
        return float(out[0]) if d.ndim == 0 else out.reshape(d.shape)
    name = _resolve_geotherm(model)
    info, gt = GEOTHERMS[name], _burnman_geotherm(name)
    if info.indexed_by == "depth":
        lo, hi = float(gt.minimum_depth) / 1e3, float(gt.maximum_depth) / 1e3
        if np.any(z / 1e3 < lo) or np.any(z / 1e3 > hi):
            raise ValueError(f"depth_km {depth_km!r} is outside the {name} geotherm ({lo:g}–{hi:g} km; "
                             f"{info.source}){'; ' + info.note if info.note else ''}")
        out = np.asarray(gt.temperatures(z), dtype=float)
    else:
        p = _prem_si(z)["P"]
        p_end = float(gt.maximum_pressure)
        inside = p <= p_end
        out = np.full(z.shape, np.nan)
        if np.any(inside):
            out[inside] = np.asarray(gt.temperatures_from_pressures(p[inside]), dtype=float)
        if np.any(~inside):
            if not extend_inner_core:
                raise ValueError(f"depth_km {depth_km!r} is beyond the {name} table (P ≤ {p_end / 1e9:.4g} GPa, "
                                 f"PREM depth {_prem().depth(p_end) / 1e3:.1f} km); pass extend_inner_core=True "
                                 "for the constant-γ inner-core adiabat")
            z_end = float(_prem().depth(p_end))
            t_end = float(np.asarray(gt.temperatures_from_pressures(np.array([p_end])))[0])
            rho_end = float(_prem_si(z_end)["rho"][0])
            out[~inside] = t_end * (_prem_si(z[~inside])["rho"] / rho_end) ** INNER_CORE_GRUENEISEN
    return float(out[0]) if d.ndim == 0 else out.reshape(d.shape)


def _geotherm_label(model) -> tuple[str, str]:
    if model is None:
        return "none", ""
    if not isinstance(model, str):
        return type(model).__name__, f"user-supplied burnman-cpp geotherm {type(model).__name__}"
    info = GEOTHERMS[_resolve_geotherm(model)]
    return info.name, info.source + (f" [{info.note}]" if info.note else "")


def _geotherm_or_nan(depth_km: np.ndarray, model, notes: list[str]) -> np.ndarray:
    """Geotherm at each depth, NaN (with a note) where the model does not cover it."""
    t = np.full(depth_km.shape, np.nan)
    if model is None:
        return t
    if isinstance(model, str) and GEOTHERMS[_resolve_geotherm(model)].indexed_by == "depth":
        info = GEOTHERMS[_resolve_geotherm(model)]
        ok = (depth_km >= info.min_depth_km) & (depth_km <= info.max_depth_km)
        if np.any(ok):
            t[ok] = geotherm_K(depth_km[ok], model)
        if not np.all(ok):
            notes.append(f"T_K is NaN outside the {info.name} geotherm's {info.min_depth_km:g}–"
                         f"{info.max_depth_km:g} km")
        return t
    return np.asarray(geotherm_K(depth_km, model), dtype=float)


# ---------------------------------------------------------------------------------------- profiles
def _json_list(a) -> list:
    return [None if not math.isfinite(x) else float(x) for x in np.ravel(np.asarray(a, dtype=float))]


@dataclass
class EarthProfile:
    """PREM (Dziewonski & Anderson 1981, BurnMan's table) and a geotherm along depth.

    Arrays share one shape: depth (km), radius (km), pressure (GPa), density (kg/m³), V_P and V_S (km/s),
    gravity (m/s²) and temperature (K; NaN where the geotherm does not reach).
    """

    depth_km: np.ndarray
    radius_km: np.ndarray
    P_GPa: np.ndarray
    rho_kg_m3: np.ndarray
    vp_km_s: np.ndarray
    vs_km_s: np.ndarray
    g_m_s2: np.ndarray
    T_K: np.ndarray
    geotherm: str = "anzellini2013"
    geotherm_source: str = ""
    seismic_model: str = "PREM (Dziewonski & Anderson 1981, PEPI 25, 297), BurnMan table via burnman-cpp"
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready dict (arrays as lists; NaN as null)."""
        out = {}
        for k, v in asdict(self).items():
            out[k] = _json_list(v) if isinstance(v, np.ndarray) else v
        return out


def prem_profile(depth_km=None, geotherm="anzellini2013") -> EarthProfile:
    """PREM P, ρ, V_P, V_S, g and a geotherm's T at ``depth_km`` (km, 0–6371).

    By default the depths are BurnMan's PREM nodes, with both sides of each discontinuity 1 m apart
    (good for plotting). An exact discontinuity depth gives PREM's deeper-side values. ``geotherm`` is
    a :func:`geotherm_K` model (or ``None``: T is NaN); where it does not reach, T is NaN and a note says so.
    """
    if depth_km is None:
        d = np.asarray(_prem().internal_depth_list(), dtype=float) / 1e3
    else:
        d = np.atleast_1d(_check_depth_km(depth_km)).astype(float)
    v = _prem_si(d * 1e3)
    notes: list[str] = []
    t = _geotherm_or_nan(d, geotherm, notes)
    name, source = _geotherm_label(geotherm)
    return EarthProfile(d, EARTH_RADIUS_KM - d, v["P"] / 1e9, v["rho"], v["vp"] / 1e3, v["vs"] / 1e3, v["g"],
                        t, name, source, notes=notes)


# -------------------------------------------------------------------------------------- conditions
@dataclass
class EarthCondition:
    """PREM and a geotherm at a named boundary; ``*_above``/``*_below`` are the shallower/deeper sides
    of the discontinuity (equal at the centre). Units in the field names; ``science_md`` quotes §6."""

    name: str
    depth_km: float
    radius_km: float
    P_GPa: float
    T_K: float
    rho_above_kg_m3: float
    rho_below_kg_m3: float
    vp_above_km_s: float
    vp_below_km_s: float
    vs_above_km_s: float
    vs_below_km_s: float
    g_m_s2: float
    geotherm: str
    geotherm_source: str
    science_md: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return json_ready(asdict(self))


def conditions(name: str, geotherm="anzellini2013") -> EarthCondition:
    """Depth, P, T, ρ, V_P, V_S at ``"transition-zone-base"`` (alias ``"660"``: PREM's 670-km
    discontinuity), ``"CMB"`` (2891 km), ``"ICB"`` (5149.5 km) or ``"centre"`` (6371 km).

    T from ``geotherm`` (default ``anzellini2013``; see :func:`geotherm_K`). SCIENCE.md §6 quotes 24 GPa /
    1839 K, 136 GPa / ≈ 4100 K, 330 GPa / > 5400 K and 360 GPa; PREM gives 23.83, 135.75, 328.85 and
    363.85 GPa, and ``anzellini2013`` ≈ 1944, 4062, 5527 and 5743 K (other geotherms differ by
    hundreds of K in the mantle and up to ~2000 K in the core).
    """
    key = _CONDITION_NAMES.get(str(name).strip().lower())
    if key is None:
        raise ValueError(f"unknown condition {name!r}; choose one of {sorted(set(_CONDITION_NAMES))}")
    depth = CONDITION_DEPTH_KM[key]
    z = depth * 1e3
    top = _prem_si(max(z - _NUDGE_M, 0.0))
    bot = _prem_si(z) if key == "centre" else _prem_si(z + _NUDGE_M)
    mid = _prem_si(z)
    notes: list[str] = []
    t = float(_geotherm_or_nan(np.array([depth]), geotherm, notes)[0])
    gname, source = _geotherm_label(geotherm)
    if key == "transition-zone-base":
        notes.append("PREM's transition-zone base is its 670-km discontinuity (the seismological '660')")
    if key == "centre" and gname == "anzellini2013":
        notes.append(f"T from the constant-γ inner-core adiabat (γ = {INNER_CORE_GRUENEISEN}) below 330.1 GPa")
    f = lambda a: float(a[0])  # noqa: E731
    return EarthCondition(key, depth, EARTH_RADIUS_KM - depth, f(mid["P"]) / 1e9, t,
                          f(top["rho"]), f(bot["rho"]), f(top["vp"]) / 1e3, f(bot["vp"]) / 1e3,
                          f(top["vs"]) / 1e3, f(bot["vs"]) / 1e3, f(mid["g"]), gname, source,
                          SCIENCE_MD_CONDITIONS[key][2], notes)


# --------------------------------------------------------------------------------------- deviations
@dataclass
class PremDeviation:
    """Deviations of a material's V_P, V_S, ρ at pressure P from PREM at the depth of that pressure.

    ``dln*_pct = 100 (X − X_PREM) / X_PREM`` (%), with 1σ uncertainties ``dln*_err_pct`` propagated to
    first order (Gaussian) from the value's error and the pressure's error (through dX_PREM/dP).
    NaN where the value was not given, or where PREM's value is zero (V_S of the outer core).
    """

    P_GPa: float
    P_err_GPa: float
    depth_km: float
    side: str
    vp_prem_km_s: float
    vs_prem_km_s: float
    rho_prem_kg_m3: float
    vp_km_s: float
    vs_km_s: float
    rho_kg_m3: float
    dlnVp_pct: float
    dlnVp_err_pct: float
    dlnVs_pct: float
    dlnVs_err_pct: float
    dlnrho_pct: float
    dlnrho_err_pct: float
    T_geotherm_K: float
    geotherm: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return json_ready(asdict(self))


def _check_value(name: str, value, allow_zero: bool) -> float:
    if value is None:
        return float("nan")
    x = float(value)
    if not math.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'non-negative' if allow_zero else 'positive'} and finite, got {value!r}")
    return x


_LABEL = {"vp": "Vp", "vs": "Vs", "rho": "rho"}


def _layer_at(P_GPa: float, side: str) -> tuple[float, float, float]:
    """(depth, layer top, layer bottom) in m for a pressure; snaps onto a discontinuity within
    :data:`DISCONTINUITY_SNAP_GPA` and takes the layer on ``side`` of it."""
    bounds = _layer_bounds_m()
    p_bounds = _prem_si(bounds)["P"] / 1e9
    inner = np.arange(1, bounds.size - 1)
    near = inner[np.abs(p_bounds[inner] - P_GPa) <= DISCONTINUITY_SNAP_GPA]
    if near.size:
        k = int(near[np.argmin(np.abs(p_bounds[near] - P_GPa))])
        if side == "above":
            return float(bounds[k]), float(bounds[k - 1]), float(bounds[k])
        return float(bounds[k]), float(bounds[k]), float(bounds[k + 1])
    z = float(_prem().depth(P_GPa * 1e9))
    i = int(np.clip(np.searchsorted(bounds, z, side="right") - 1, 0, bounds.size - 2))
    return z, float(bounds[i]), float(bounds[i + 1])


def prem_deviation(P_GPa: float, vp_km_s: float | None = None, vs_km_s: float | None = None,
                   rho_kg_m3: float | None = None, *, vp_err: float = 0.0, vs_err: float = 0.0,
                   rho_err: float = 0.0, P_err: float = 0.0, side: str = "above",
                   geotherm="anzellini2013") -> PremDeviation:
    """Deviation (%) of V_P (km/s), V_S (km/s) and ρ (kg/m³) computed at ``P_GPa`` from PREM at the depth
    where PREM has that pressure; errors are 1σ in the value's unit (``P_err`` in GPa).

    ``dlnX = 100 (X/X_PREM − 1)`` and, to first order,
    ``σ(dlnX) = 100 sqrt[(σ_X/X_PREM)² + (X/X_PREM² · dX_PREM/dP · σ_P)²]``, with dX_PREM/dP the PREM
    gradient within the layer (PREM is piecewise linear between its nodes).

    A pressure within :data:`DISCONTINUITY_SNAP_GPA` of a PREM discontinuity is compared with the
    ``side`` ("above": shallower, e.g. the mantle at the CMB; "below": deeper, e.g. the outer core) of it.
    ``T_geotherm_K`` is the ``geotherm`` temperature at that depth, for reference (NaN where not covered).

    Raises ``ValueError`` for P outside 0–363.85 GPa, negative or non-finite values or errors, an
    unknown ``side``, or no value given.
    """
    p = float(_check_pressure(P_GPa))
    if side not in ("above", "below"):
        raise ValueError(f"side must be 'above' or 'below', got {side!r}")
    sp = _check_value("P_err", P_err, True)
    vals = {"vp": (_check_value("vp_km_s", vp_km_s, False), _check_value("vp_err", vp_err, True), 1e3),
            "vs": (_check_value("vs_km_s", vs_km_s, True), _check_value("vs_err", vs_err, True), 1e3),
            "rho": (_check_value("rho_kg_m3", rho_kg_m3, False), _check_value("rho_err", rho_err, True), 1.0)}
    if all(math.isnan(v[0]) for v in vals.values()):
        raise ValueError("give at least one of vp_km_s, vs_km_s, rho_kg_m3")
    z, top, bot = _layer_at(p, side)
    lo, hi = top + _NUDGE_M, max(bot - _NUDGE_M, top + _NUDGE_M)
    z_eval = min(max(z, lo), hi)
    h = min(1e3, (bot - top) / 4)
    z1, z2 = max(lo, z_eval - h), min(hi, z_eval + h)
    at, a1, a2 = _prem_si(z_eval), _prem_si(z1), _prem_si(z2)
    dP = float(a2["P"][0] - a1["P"][0]) / 1e9
    notes: list[str] = []
    res: dict[str, tuple[float, float, float]] = {}
    for k, (x, sx, scale) in vals.items():
        ref = float(at[k][0]) / scale
        if math.isnan(x):
            res[k] = (ref, float("nan"), float("nan"))
            continue
        if ref == 0.0:
            notes.append(f"PREM {_LABEL[k]} is zero here (liquid outer core): dln{_LABEL[k]} undefined")
            res[k] = (ref, float("nan"), float("nan"))
            continue
        dref_dp = float(a2[k][0] - a1[k][0]) / scale / dP if dP > 0 else 0.0
        dev = 100.0 * (x / ref - 1.0)
        err = 100.0 * math.hypot(sx / ref, x / ref**2 * dref_dp * sp)
        res[k] = (ref, dev, err)
    t_notes: list[str] = []
    t = float(_geotherm_or_nan(np.array([z / 1e3]), geotherm, t_notes)[0])
    gname, _ = _geotherm_label(geotherm)
    return PremDeviation(p, sp, z / 1e3, side, res["vp"][0], res["vs"][0], res["rho"][0],
                         vals["vp"][0], vals["vs"][0], vals["rho"][0],
                         res["vp"][1], res["vp"][2], res["vs"][1], res["vs"][2], res["rho"][1], res["rho"][2],
                         t, gname, notes + t_notes)


# -------------------------------------------------------------------------- SLB2011 reference EOS
@dataclass
class ReferenceEOSFit:
    """A BM3 fit (:func:`deepearth.properties.eos.fit_birch_murnaghan3`) of a burnman-cpp mineral's P(V)
    along an isotherm, next to the dataset's own parameters. Volumes per mole of formula units."""

    mineral: str
    dataset: str
    T_K: float
    P_min_GPa: float
    P_max_GPa: float
    n_points: int
    V0_cm3_mol: float
    K0_GPa: float
    K0_prime: float
    V0_stderr_cm3_mol: float
    K0_stderr_GPa: float
    K0_prime_stderr: float
    dataset_V0_cm3_mol: float
    dataset_K0_GPa: float
    dataset_K0_prime: float
    rms_residual_GPa: float

    def to_dict(self) -> dict:
        return asdict(self)


_A3_PER_CM3_MOL = 1e24 / AVOGADRO  # Å³ per formula unit for 1 cm³/mol


def slb2011_bm3_fit(mineral: str = "periclase", T_K: float = 300.0, P_GPa=None) -> ReferenceEOSFit:
    """Fit our BM3 to P(V) of ``burnman_cpp.minerals.SLB11.<mineral>`` (Stixrude & Lithgow-Bertelloni
    2011, GJI 184, 1180) at ``T_K`` over ``P_GPa`` (default 0–120 GPa, 25 points).

    At the dataset's reference temperature (300 K) SLB's thermal pressure vanishes, so the fit must
    return the tabulated V0, K0, K0' — for periclase 11.244 cm³/mol, 161.4 GPa, 3.84 (SCIENCE.md §4).
    """
    from burnman_cpp.minerals import SLB11

    from deepearth.properties.eos import fit_birch_murnaghan3

    factory = getattr(SLB11, mineral, None)
    if factory is None or not callable(factory):
        raise ValueError(f"burnman_cpp.minerals.SLB11 has no mineral {mineral!r}")
    if not (math.isfinite(T_K) and T_K > 0):
        raise ValueError(f"T_K must be positive, got {T_K!r}")
    p = np.linspace(0.0, 120.0, 25) if P_GPa is None else np.asarray(P_GPa, dtype=float)
    if p.ndim != 1 or p.size < 4 or np.any(~np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"P_GPa must be >= 4 finite non-negative pressures, got {P_GPa!r}")
    m = factory()
    v = np.empty(p.size)
    for i, pi in enumerate(p):
        m.set_state(float(pi) * 1e9, float(T_K))
        v[i] = float(m.molar_volume) * 1e6 * _A3_PER_CM3_MOL  # m³/mol -> cm³/mol -> Å³ per formula unit
    fit = fit_birch_murnaghan3(v, p, guess=(float(v.max()) * 1.02, 200.0, 4.0))
    rms = float(np.sqrt(np.mean((fit.pressure(v) - p) ** 2)))
    par = m.params
    return ReferenceEOSFit(
        str(m.name), "SLB 2011 (burnman_cpp.minerals.SLB11)", float(T_K), float(p.min()), float(p.max()),
        int(p.size), fit.V0_A3 / _A3_PER_CM3_MOL, fit.K0_GPa, fit.K0_prime,
        fit.V0_stderr_A3 / _A3_PER_CM3_MOL, fit.K0_stderr_GPa, fit.K0_prime_stderr,
        float(par.V_0) * 1e6, float(par.K_0) / 1e9, float(par.Kprime_0), rms)
