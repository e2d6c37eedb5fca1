"""Geotherms: the tabulated profiles burnman-cpp ships, each with its source and depth range
(:data:`GEOTHERMS`), and :func:`geotherm_K`, the temperature (K) at depths in km.

Only ``anzellini2013`` reaches the core temperatures Wan & Li (2026, Fig. 1) quote (≈ 4100 K at the CMB, > 5400 K at
the ICB), so it is the default; it is tabulated in pressure up to 330.1 GPa and is continued to the
centre along a constant-γ adiabat (:data:`INNER_CORE_GRUENEISEN`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from deepearth.geophysics.earth.prem import EARTH_RADIUS_KM, check_depth_km, prem_model, prem_si

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


@cache
def burnman_geotherm(name: str):
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
    d = check_depth_km(depth_km)
    z = np.atleast_1d(d).astype(float) * 1e3
    if not isinstance(model, str):
        if not hasattr(model, "temperatures"):
            raise ValueError(f"model must be a geotherm name or an object with temperatures(depths_m), got {model!r}")
        out = np.asarray(model.temperatures(z), dtype=float)
        return float(out[0]) if d.ndim == 0 else out.reshape(d.shape)
    name = _resolve_geotherm(model)
    info, gt = GEOTHERMS[name], burnman_geotherm(name)
    if info.indexed_by == "depth":
        lo, hi = float(gt.minimum_depth) / 1e3, float(gt.maximum_depth) / 1e3
        if np.any(z / 1e3 < lo) or np.any(z / 1e3 > hi):
            raise ValueError(f"depth_km {depth_km!r} is outside the {name} geotherm ({lo:g}–{hi:g} km; "
                             f"{info.source}){'; ' + info.note if info.note else ''}")
        out = np.asarray(gt.temperatures(z), dtype=float)
    else:
        p = prem_si(z)["P"]
        p_end = float(gt.maximum_pressure)
        inside = p <= p_end
        out = np.full(z.shape, np.nan)
        if np.any(inside):
            out[inside] = np.asarray(gt.temperatures_from_pressures(p[inside]), dtype=float)
        if np.any(~inside):
            if not extend_inner_core:
                raise ValueError(f"depth_km {depth_km!r} is beyond the {name} table (P ≤ {p_end / 1e9:.4g} GPa, "
                                 f"PREM depth {prem_model().depth(p_end) / 1e3:.1f} km); pass extend_inner_core=True "
                                 "for the constant-γ inner-core adiabat")
            z_end = float(prem_model().depth(p_end))
            t_end = float(np.asarray(gt.temperatures_from_pressures(np.array([p_end])))[0])
            rho_end = float(prem_si(z_end)["rho"][0])
            out[~inside] = t_end * (prem_si(z[~inside])["rho"] / rho_end) ** INNER_CORE_GRUENEISEN
    return float(out[0]) if d.ndim == 0 else out.reshape(d.shape)


def geotherm_label(model) -> tuple[str, str]:
    if model is None:
        return "none", ""
    if not isinstance(model, str):
        return type(model).__name__, f"user-supplied burnman-cpp geotherm {type(model).__name__}"
    info = GEOTHERMS[_resolve_geotherm(model)]
    return info.name, info.source + (f" [{info.note}]" if info.note else "")


def geotherm_or_nan(depth_km: np.ndarray, model, notes: list[str]) -> np.ndarray:
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


__all__ = ["INNER_CORE_GRUENEISEN", "GeothermModel", "GEOTHERMS", "geotherm_K", "burnman_geotherm", "geotherm_label",
           "geotherm_or_nan"]
