"""Parameters of the BMO evolution model: :class:`BMOParameters`, read from a TOML file where every value
has its unit and its source (default: the packaged ``data/bmo_parameters.toml``, a reconstructed Table S3),
checked to be physically possible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

from deepearth.files import parse_toml
from deepearth.geophysics.bmo_evolution.physics import liquidus_K

#: The packaged parameter file (in ``deepearth/geophysics/data``).
DEFAULT_TOML = "bmo_parameters.toml"

#: Unit each TOML entry must declare (the code's unit for that field), in the fields' order.
PARAMETER_UNITS: dict[str, str] = {
    "core_radius_km": "km", "initial_thickness_km": "km", "X0": "1", "pressure_GPa": "GPa",
    "K_D": "1", "T_MgSiO3_K": "K", "T_FeSiO3_K": "K", "T_mantle_K": "K", "delta_tbl_km": "km",
    "k_mantle_W_m_K": "W/m/K", "rho_bmo_kg_m3": "kg/m^3", "cp_bmo_J_kg_K": "J/kg/K", "M_core_kg": "kg",
    "cp_core_J_kg_K": "J/kg/K", "dS_fusion_J_kg_K": "J/kg/K", "U_ppb": "ppb", "Th_ppb": "ppb",
    "K_ppm": "ppm", "h_U238_W_per_kg_U": "W/kg", "h_U235_W_per_kg_U": "W/kg", "h_Th232_W_per_kg_Th": "W/kg",
    "h_K40_W_per_kg_K": "W/kg", "half_life_U238_Gyr": "Gyr", "half_life_U235_Gyr": "Gyr",
    "half_life_Th232_Gyr": "Gyr", "half_life_K40_Gyr": "Gyr", "radiogenic_enrichment": "1",
    "present_age_Gyr": "Gyr", "adiabat_K_per_km": "K/km", "kappa_ionic_W_m_K": "W/m/K",
    "Omega_rad_s": "rad/s", "c_mlt": "1", "c_cia": "1", "Rm_crit": "1", "min_thickness_km": "km",
}
#: Fields that may be zero (all others must be > 0).
NON_NEGATIVE = {"U_ppb", "Th_ppb", "K_ppm", "h_U238_W_per_kg_U", "h_U235_W_per_kg_U", "h_Th232_W_per_kg_Th",
                 "h_K40_W_per_kg_K", "radiogenic_enrichment", "X0"}


@dataclass(frozen=True)
class BMOParameters:
    """Parameters of the BMO evolution model (reconstructed Table S3); units in the field names.

    ``ranges`` maps a field to its (low, high) uncertainty interval, ``sources`` to its citation,
    ``origin`` names the TOML file it came from. Construction checks that every value is physically
    possible (``ValueError`` otherwise).
    """

    core_radius_km: float
    initial_thickness_km: float
    X0: float
    pressure_GPa: float
    K_D: float
    T_MgSiO3_K: float
    T_FeSiO3_K: float
    T_mantle_K: float
    delta_tbl_km: float
    k_mantle_W_m_K: float
    rho_bmo_kg_m3: float
    cp_bmo_J_kg_K: float
    M_core_kg: float
    cp_core_J_kg_K: float
    dS_fusion_J_kg_K: float
    U_ppb: float
    Th_ppb: float
    K_ppm: float
    h_U238_W_per_kg_U: float
    h_U235_W_per_kg_U: float
    h_Th232_W_per_kg_Th: float
    h_K40_W_per_kg_K: float
    half_life_U238_Gyr: float
    half_life_U235_Gyr: float
    half_life_Th232_Gyr: float
    half_life_K40_Gyr: float
    radiogenic_enrichment: float
    present_age_Gyr: float
    adiabat_K_per_km: float
    kappa_ionic_W_m_K: float
    Omega_rad_s: float
    c_mlt: float
    c_cia: float
    Rm_crit: float
    min_thickness_km: float
    ranges: dict = field(default_factory=dict, compare=False)
    sources: dict = field(default_factory=dict, compare=False)
    origin: str = field(default="<code>", compare=False)

    def __post_init__(self):
        values = {name: getattr(self, name) for name in PARAMETER_UNITS}
        _check_physical(values, self.origin)
        for name, rng in self.ranges.items():
            if name not in PARAMETER_UNITS:
                raise ValueError(f"{self.origin}: range given for unknown key {name!r}")
            lo, hi = rng
            if not lo <= values[name] <= hi:
                raise ValueError(f"{self.origin}: key {name!r}: value {values[name]} outside its range [{lo}, {hi}]")
            for end in (lo, hi):
                _check_physical({**values, name: end}, self.origin, only=name)

    @classmethod
    def from_toml(cls, path: str | Path | None = None) -> BMOParameters:
        """Read parameters from a TOML file (default: the packaged ``data/bmo_parameters.toml``).

        Every table ``[key]`` needs ``value`` (number), ``unit`` (the unit the code expects) and
        ``source`` (non-empty string); ``range = [low, high]`` is optional. Unknown or missing keys,
        wrong units and impossible values raise ``ValueError`` naming the file and the key.
        """
        if path is None:
            res = resources.files("deepearth.geophysics").joinpath("data", DEFAULT_TOML)
            text, origin = res.read_text(encoding="utf-8"), DEFAULT_TOML
        else:
            p = Path(path)
            text, origin = p.read_text(encoding="utf-8"), str(p)
        doc = parse_toml(text, origin)
        doc.pop("meta", None)
        unknown = sorted(set(doc) - set(PARAMETER_UNITS))
        if unknown:
            raise ValueError(f"{origin}: unknown key(s) {unknown}; expected only {sorted(PARAMETER_UNITS)}")
        missing = sorted(set(PARAMETER_UNITS) - set(doc))
        if missing:
            raise ValueError(f"{origin}: missing key(s) {missing}")
        values, ranges, sources = {}, {}, {}
        for name, unit in PARAMETER_UNITS.items():
            entry = doc[name]
            if not isinstance(entry, dict):
                raise ValueError(f"{origin}: key {name!r} must be a table with value/unit/source")
            extra = set(entry) - {"value", "unit", "source", "range"}
            if extra:
                raise ValueError(f"{origin}: key {name!r} has unknown field(s) {sorted(extra)}")
            v = entry.get("value")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"{origin}: key {name!r}: 'value' must be a finite number, got {v!r}")
            if entry.get("unit") != unit:
                raise ValueError(f"{origin}: key {name!r}: unit must be {unit!r}, got {entry.get('unit')!r}")
            src = entry.get("source")
            if not isinstance(src, str) or not src.strip():
                raise ValueError(f"{origin}: key {name!r}: a non-empty 'source' string is required")
            if "range" in entry:
                r = entry["range"]
                if (not isinstance(r, list) or len(r) != 2
                        or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in r)
                        or not r[0] <= r[1]):
                    raise ValueError(f"{origin}: key {name!r}: 'range' must be [low, high] with low <= high, got {r!r}")
                ranges[name] = (float(r[0]), float(r[1]))
            values[name], sources[name] = float(v), src
        return cls(**values, ranges=ranges, sources=sources, origin=origin)

    def with_values(self, **changes) -> BMOParameters:
        """A copy with some values replaced (re-validated; ranges that no longer hold are dropped)."""
        ranges = {k: r for k, r in self.ranges.items() if k not in changes or r[0] <= changes[k] <= r[1]}
        return replace(self, **changes, ranges=ranges)

    def values(self) -> dict[str, float]:
        """The numerical values, by field name."""
        return {name: getattr(self, name) for name in PARAMETER_UNITS}

    def to_dict(self) -> dict:
        """JSON-ready: value, unit, range and source of every parameter."""
        return {name: {"value": getattr(self, name), "unit": unit,
                       "range": list(self.ranges[name]) if name in self.ranges else None,
                       "source": self.sources.get(name, "")} for name, unit in PARAMETER_UNITS.items()} | {
            "_origin": self.origin}


def _check_physical(v: dict, origin: str, only: str | None = None) -> None:
    """Raise ``ValueError`` for physically impossible values (all keys, or only ``only``)."""
    def bad(name, why):
        if only is None or only == name:
            raise ValueError(f"{origin}: key {name!r}: {why} (got {v[name]!r})")

    for name in PARAMETER_UNITS:
        x = v[name]
        if not math.isfinite(x):
            bad(name, "must be finite")
        if name in NON_NEGATIVE:
            if x < 0:
                bad(name, "must be non-negative")
        elif x <= 0:
            bad(name, "must be positive" + (" (T <= 0 K is impossible)" if name.endswith("_K") else "")
                + (" (thickness cannot be negative or zero)" if "thickness" in name else ""))
    if not 0.0 <= v["X0"] <= 1.0:
        bad("X0", "X = Fe/(Fe+Mg) must lie in [0, 1]")
    if not 0.0 < v["K_D"] <= 1.0:
        bad("K_D", "the model needs 0 < K_D <= 1 (Fe incompatible in bridgmanite)")
    if v["T_FeSiO3_K"] >= v["T_MgSiO3_K"]:
        bad("T_FeSiO3_K", f"must be below T_MgSiO3_K = {v['T_MgSiO3_K']} (Fe lowers the liquidus)")
    if v["initial_thickness_km"] <= v["min_thickness_km"]:
        bad("initial_thickness_km", f"must exceed min_thickness_km = {v['min_thickness_km']}")
    if v["T_mantle_K"] >= float(liquidus_K(v["X0"], v["T_MgSiO3_K"], v["T_FeSiO3_K"], v["K_D"])):
        bad("T_mantle_K", "must be below the BMO liquidus T_L(X0), or heat would flow into the BMO")


__all__ = ["BMOParameters", "PARAMETER_UNITS", "NON_NEGATIVE", "DEFAULT_TOML"]
