"""PREM and a geotherm along depth (:func:`prem_profile`), at the named boundaries (:func:`conditions`), and
the deviations of computed V_P, V_S, ρ from PREM at a pressure (:func:`prem_deviation`).

At a discontinuity PREM has two sets of values; :func:`conditions` returns both (``*_above`` = shallower
side, ``*_below`` = deeper side). Units in the field names (km, GPa, kg/m³, km/s, m/s², K).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from deepearth.files import json_ready
from deepearth.geophysics.earth.geotherms import INNER_CORE_GRUENEISEN, geotherm_label, geotherm_or_nan
from deepearth.geophysics.earth.prem import (CMB_DEPTH_KM, EARTH_RADIUS_KM, ICB_DEPTH_KM, NUDGE_M,
                                              TRANSITION_ZONE_BASE_DEPTH_KM, check_depth_km, check_pressure_GPa,
                                              layer_at, prem_model, prem_si)

#: The conditions Wan & Li (2026) quote in their Fig. 1: (P in GPa, T in K or a lower bound, text).
SCIENCE_MD_CONDITIONS: dict[str, tuple[float, float | None, str]] = {
    "transition-zone-base": (24.0, 1839.0, "≈ 24 GPa, 1839 K"),
    "CMB": (136.0, 4100.0, "≈ 136 GPa, ≈ 4100 K"),
    "ICB": (330.0, 5400.0, "≈ 330 GPa, > 5400 K"),
    "centre": (360.0, None, "360 GPa"),
}

_CONDITION_NAMES = {"transition-zone-base": "transition-zone-base", "660": "transition-zone-base",
                    "670": "transition-zone-base", "tz-base": "transition-zone-base",
                    "cmb": "CMB", "core-mantle-boundary": "CMB",
                    "icb": "ICB", "inner-core-boundary": "ICB",
                    "centre": "centre", "center": "centre"}
#: PREM depth (km) of each named condition of :func:`conditions`.
CONDITION_DEPTH_KM = {"transition-zone-base": TRANSITION_ZONE_BASE_DEPTH_KM, "CMB": CMB_DEPTH_KM,
                       "ICB": ICB_DEPTH_KM, "centre": EARTH_RADIUS_KM}


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
        return json_ready(asdict(self))


def prem_profile(depth_km=None, geotherm="anzellini2013") -> EarthProfile:
    """PREM P, ρ, V_P, V_S, g and a geotherm's T at ``depth_km`` (km, 0–6371).

    By default the depths are BurnMan's PREM nodes, with both sides of each discontinuity 1 m apart
    (good for plotting). An exact discontinuity depth gives PREM's deeper-side values. ``geotherm`` is
    a :func:`geotherm_K` model (or ``None``: T is NaN); where it does not reach, T is NaN and a note says so.
    """
    if depth_km is None:
        d = np.asarray(prem_model().internal_depth_list(), dtype=float) / 1e3
    else:
        d = np.atleast_1d(check_depth_km(depth_km)).astype(float)
    v = prem_si(d * 1e3)
    notes: list[str] = []
    t = geotherm_or_nan(d, geotherm, notes)
    name, source = geotherm_label(geotherm)
    return EarthProfile(d, EARTH_RADIUS_KM - d, v["P"] / 1e9, v["rho"], v["vp"] / 1e3, v["vs"] / 1e3, v["g"],
                        t, name, source, notes=notes)



def geotherm_profiles(geotherms: Sequence, depth_km=None) -> list[EarthProfile]:
    """One :func:`prem_profile` per geotherm (to compare them), at ``depth_km`` or, by default, at PREM's
    nodes together with 400 evenly spaced depths, so that each geotherm's shape shows between the nodes."""
    if depth_km is None:
        nodes = prem_profile(geotherm=None).depth_km
        depth_km = np.unique(np.concatenate([nodes, np.linspace(0.0, EARTH_RADIUS_KM, 400)]))
    return [prem_profile(depth_km, geotherm=g) for g in geotherms]

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

    T from ``geotherm`` (default ``anzellini2013``; see :func:`geotherm_K`). Wan & Li (2026, Fig. 1) quote 24 GPa /
    1839 K, 136 GPa / ≈ 4100 K, 330 GPa / > 5400 K and 360 GPa; PREM gives 23.83, 135.75, 328.85 and
    363.85 GPa, and ``anzellini2013`` ≈ 1944, 4062, 5527 and 5743 K (other geotherms differ by
    hundreds of K in the mantle and up to ~2000 K in the core).
    """
    key = _CONDITION_NAMES.get(str(name).strip().lower())
    if key is None:
        raise ValueError(f"unknown condition {name!r}; choose one of {sorted(set(_CONDITION_NAMES))}")
    depth = CONDITION_DEPTH_KM[key]
    z = depth * 1e3
    top = prem_si(max(z - NUDGE_M, 0.0))
    bot = prem_si(z) if key == "centre" else prem_si(z + NUDGE_M)
    mid = prem_si(z)
    notes: list[str] = []
    t = float(geotherm_or_nan(np.array([depth]), geotherm, notes)[0])
    gname, source = geotherm_label(geotherm)
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
    p = float(check_pressure_GPa(P_GPa))
    if side not in ("above", "below"):
        raise ValueError(f"side must be 'above' or 'below', got {side!r}")
    sp = _check_value("P_err", P_err, True)
    vals = {"vp": (_check_value("vp_km_s", vp_km_s, False), _check_value("vp_err", vp_err, True), 1e3),
            "vs": (_check_value("vs_km_s", vs_km_s, True), _check_value("vs_err", vs_err, True), 1e3),
            "rho": (_check_value("rho_kg_m3", rho_kg_m3, False), _check_value("rho_err", rho_err, True), 1.0)}
    if all(math.isnan(v[0]) for v in vals.values()):
        raise ValueError("give at least one of vp_km_s, vs_km_s, rho_kg_m3")
    z, top, bot = layer_at(p, side)
    lo, hi = top + NUDGE_M, max(bot - NUDGE_M, top + NUDGE_M)
    z_eval = min(max(z, lo), hi)
    h = min(1e3, (bot - top) / 4)
    z1, z2 = max(lo, z_eval - h), min(hi, z_eval + h)
    at, a1, a2 = prem_si(z_eval), prem_si(z1), prem_si(z2)
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
    t = float(geotherm_or_nan(np.array([z / 1e3]), geotherm, t_notes)[0])
    gname, _ = geotherm_label(geotherm)
    return PremDeviation(p, sp, z / 1e3, side, res["vp"][0], res["vs"][0], res["rho"][0],
                         vals["vp"][0], vals["vs"][0], vals["rho"][0],
                         res["vp"][1], res["vp"][2], res["vs"][1], res["vs"][2], res["rho"][1], res["rho"][2],
                         t, gname, notes + t_notes)


__all__ = ["SCIENCE_MD_CONDITIONS", "CONDITION_DEPTH_KM", "EarthProfile", "prem_profile", "geotherm_profiles",
           "EarthCondition", "conditions", "PremDeviation", "prem_deviation"]
