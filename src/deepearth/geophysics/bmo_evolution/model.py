"""Thermal and magnetic evolution of Earth's basal magma ocean (BMO paper, Methods eqs. 14–18).

The paper's equations did not survive in our copy of the text; they are reconstructed here from its
description (after Labrosse, Hernlund & Coltice 2007 and Stixrude, Scipioni & Desjarlais 2020) and are
labelled "reconstructed" where the form is ours. State: outer radius R of the BMO (its top) and the iron
fraction X = Fe/(Fe+Mg) of the well-mixed liquid; the temperature is the liquidus T = T_L(X) (the BMO
sits at its liquidus at its top, where it freezes), and the core cools with it.

Eq. 14 (heat balance at the BMO top; all terms in W)::

    Q = 4π R² k_m (T_L − T_m)/δ
      = −M_B C_B dT_L/dt − M_c C_c dT_L/dt + H − 4π R² ρ_B T_L ΔS dR/dt

  (BMO secular cooling, core secular cooling, radiogenic heat, latent heat of the moving freezing front;
  dR/dt < 0 while the front moves down, > 0 if it melts back up when H > Q).

Eq. 15 (reconstructed, non-linear liquidus with constant Fe–Mg distribution coefficient K_D between
bridgmanite and melt; ideal solid and liquid solutions, Stixrude 1997)::

    T_L(X) = T_Mg − (T_Mg − T_Fe) ln(1 + (K_D − 1) X) / ln K_D

  i.e. the freezing-point depression of MgSiO3, ``ln(x_Mg^s / x_Mg^l) = −ln(1 − X + K_D X)``, linear in
  1/T near T_Mg, normalised so that T_L(0) = T_MgSiO3 and T_L(1) = T_FeSiO3 (K_D → 1: linear).

Eq. 16 (fractional crystallisation; Fe partition coefficient D = X_s/X = K_D/(1 − X + K_D X))::

    M_B dX/dt = (D − 1) X dM_B/dt,   M_B = (4π/3) ρ_B (R³ − r_c³)
    ⇒ dX/dt = 3 R² (D − 1) X / (R³ − r_c³) · dR/dt        (0 without Fe enrichment)

Eqs. 17–18 (Christensen 2010), buoyancy flux F = q/(ρ_B H_T), q = Q/(4π R²), H_T = c_p/(α g) = T/(dT/dz)_ad::

    u_MLT = c_MLT (F D)^(1/3)            u_CIA = c_CIA F^(2/5) D^(1/5) Ω^(−1/5)

Dynamo: Rm = μ0 u D σ_el(P, T, X) (σ from :func:`magma_ocean.electrical_conductivity`, eq. 12) with
D = R − r_c; a dynamo needs Rm > 40 (Christensen & Aubert 2006). Convection needs Q above the heat
conducted down the adiabat, Q_cond = 4π R² k (dT/dz)_ad with k = κ_el (eq. 13) + κ_ionic.

R, X are integrated with a hand-written classical RK4 (vectorised over parameter sets, so the Monte
Carlo runs all samples at once). Parameters and their sources: ``data/bmo_parameters.toml``.
SI units inside; outputs carry their units in their names.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from scipy.constants import mu_0

from deepearth.files import parse_toml
from deepearth.geophysics import magma_ocean

#: Julian year and Gyr in s.
YEAR_S = 365.25 * 86400.0
GYR_S = 1e9 * YEAR_S
_DEFAULT_TOML = "bmo_parameters.toml"

#: Unit each TOML entry must declare (the code's unit for that field).
_UNITS: dict[str, str] = {
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
_NON_NEGATIVE = {"U_ppb", "Th_ppb", "K_ppm", "h_U238_W_per_kg_U", "h_U235_W_per_kg_U", "h_Th232_W_per_kg_Th",
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
        values = {name: getattr(self, name) for name in _UNITS}
        _check_physical(values, self.origin)
        for name, rng in self.ranges.items():
            if name not in _UNITS:
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
            res = resources.files("deepearth.geophysics").joinpath("data", _DEFAULT_TOML)
            text, origin = res.read_text(encoding="utf-8"), _DEFAULT_TOML
        else:
            p = Path(path)
            text, origin = p.read_text(encoding="utf-8"), str(p)
        doc = parse_toml(text, origin)
        doc.pop("meta", None)
        unknown = sorted(set(doc) - set(_UNITS))
        if unknown:
            raise ValueError(f"{origin}: unknown key(s) {unknown}; expected only {sorted(_UNITS)}")
        missing = sorted(set(_UNITS) - set(doc))
        if missing:
            raise ValueError(f"{origin}: missing key(s) {missing}")
        values, ranges, sources = {}, {}, {}
        for name, unit in _UNITS.items():
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
        return {name: getattr(self, name) for name in _UNITS}

    def to_dict(self) -> dict:
        """JSON-ready: value, unit, range and source of every parameter."""
        return {name: {"value": getattr(self, name), "unit": unit,
                       "range": list(self.ranges[name]) if name in self.ranges else None,
                       "source": self.sources.get(name, "")} for name, unit in _UNITS.items()} | {
            "_origin": self.origin}


def _check_physical(v: dict, origin: str, only: str | None = None) -> None:
    """Raise ``ValueError`` for physically impossible values (all keys, or only ``only``)."""
    def bad(name, why):
        if only is None or only == name:
            raise ValueError(f"{origin}: key {name!r}: {why} (got {v[name]!r})")

    for name in _UNITS:
        x = v[name]
        if not math.isfinite(x):
            bad(name, "must be finite")
        if name in _NON_NEGATIVE:
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


# ----------------------------------------------------------------------------------------- physics --

def liquidus_K(X, T_MgSiO3_K, T_FeSiO3_K, K_D):
    """Eq. 15 (reconstructed): ``T_L(X) = T_Mg − (T_Mg − T_Fe) ln(1 + (K_D − 1) X)/ln K_D`` in K.

    T_L(0) = T_MgSiO3, T_L(1) = T_FeSiO3; K_D → 1 gives the linear diagram of earlier models.
    """
    X, K = np.clip(np.asarray(X, dtype=float), 0.0, 1.0), np.asarray(K_D, dtype=float)
    lnK = np.log(K)
    linear = np.abs(lnK) < 1e-9
    frac = np.where(linear, X, np.log1p((K - 1.0) * X) / np.where(linear, 1.0, lnK))
    return _scalar(T_MgSiO3_K - (np.asarray(T_MgSiO3_K) - T_FeSiO3_K) * frac)


def liquidus_slope_K(X, T_MgSiO3_K, T_FeSiO3_K, K_D):
    """dT_L/dX of eq. 15, K per unit X (negative: Fe lowers the liquidus)."""
    X, K = np.clip(np.asarray(X, dtype=float), 0.0, 1.0), np.asarray(K_D, dtype=float)
    lnK = np.log(K)
    linear = np.abs(lnK) < 1e-9
    dfrac = np.where(linear, 1.0, (K - 1.0) / ((1.0 + (K - 1.0) * X) * np.where(linear, 1.0, lnK)))
    return _scalar(-(np.asarray(T_MgSiO3_K) - T_FeSiO3_K) * dfrac)


def partition_coefficient(X, K_D):
    """Fe partition coefficient solid/liquid ``D = X_s/X = K_D/(1 − X + K_D X)`` (eq. 16 text)."""
    X = np.asarray(X, dtype=float)
    return _scalar(K_D / (1.0 - X + K_D * X))


def buoyancy_flux(Q_W, R_m, rho, T_K, adiabat_K_per_m):
    """Buoyancy flux F = α g q/(ρ c_p) = q/(ρ H_T), H_T = T/(dT/dz)_ad, q = Q/(4π R²); m²/s³."""
    q = np.maximum(np.asarray(Q_W, dtype=float), 0.0) / (4.0 * np.pi * np.asarray(R_m) ** 2)
    return q * adiabat_K_per_m / (rho * np.asarray(T_K, dtype=float))


def velocity_mlt(F, D_m, c_mlt=1.0):
    """Eq. 17, mixing-length velocity ``u = c (F D)^(1/3)`` (Christensen 2010), m/s."""
    return _scalar(c_mlt * np.cbrt(np.asarray(F) * np.asarray(D_m)))


def velocity_cia(F, D_m, Omega_rad_s, c_cia=1.0):
    """Eq. 18, Coriolis–inertia–Archimedes velocity ``u = c F^(2/5) D^(1/5) Ω^(−1/5)`` (Christensen 2010), m/s."""
    return _scalar(c_cia * np.asarray(F) ** 0.4 * np.asarray(D_m) ** 0.2 * np.asarray(Omega_rad_s) ** -0.2)


def magnetic_reynolds(u_m_s, D_m, sigma_S_m):
    """``Rm = μ0 u D σ`` (dimensionless)."""
    return _scalar(mu_0 * np.asarray(u_m_s) * np.asarray(D_m) * np.asarray(sigma_S_m))


def _scalar(x):
    return float(x) if np.ndim(x) == 0 else x


# ------------------------------------------------------------------------------------- integration --

def _as_arrays(values: list[dict]) -> SimpleNamespace:
    """Parameter sets → namespace of SI arrays, shape (n,)."""
    a = {k: np.array([v[k] for v in values], dtype=float) for k in _UNITS}
    ns = SimpleNamespace(**a)
    ns.rc = a["core_radius_km"] * 1e3
    ns.D0 = a["initial_thickness_km"] * 1e3
    ns.dmin = a["min_thickness_km"] * 1e3
    ns.delta = a["delta_tbl_km"] * 1e3
    ns.gamma = a["adiabat_K_per_km"] * 1e-3
    ns.t_now = a["present_age_Gyr"] * GYR_S
    # present-day heat production per kg of BSE-like melt, and decay constants (1/s)
    ns.h_now = [a["U_ppb"] * 1e-9 * a["h_U238_W_per_kg_U"], a["U_ppb"] * 1e-9 * a["h_U235_W_per_kg_U"],
                a["Th_ppb"] * 1e-9 * a["h_Th232_W_per_kg_Th"], a["K_ppm"] * 1e-6 * a["h_K40_W_per_kg_K"]]
    ns.lam = [np.log(2.0) / (a[k] * GYR_S) for k in ("half_life_U238_Gyr", "half_life_U235_Gyr",
                                                      "half_life_Th232_Gyr", "half_life_K40_Gyr")]
    return ns


def _heat_terms(t, R, X, p, fe_enrichment: bool) -> dict:
    """Every term of eqs. 14–16 at time t (s) for states R (m), X; arrays broadcast with p's."""
    X = np.clip(X, 0.0, 1.0)
    thick = np.maximum(R - p.rc, 0.0)
    alive = thick > 0.0
    vol = np.maximum(R**3 - p.rc**3, 1e-300)
    M_B = (4.0 / 3.0) * np.pi * p.rho_bmo_kg_m3 * np.where(alive, vol, 0.0)
    T = liquidus_K(X, p.T_MgSiO3_K, p.T_FeSiO3_K, p.K_D)
    area = 4.0 * np.pi * R**2
    Q = area * p.k_mantle_W_m_K * (T - p.T_mantle_K) / p.delta
    decay = sum(h * np.exp(lam * (p.t_now - t)) for h, lam in zip(p.h_now, p.lam))
    H = p.radiogenic_enrichment * M_B * decay
    if fe_enrichment:
        dXdR = np.where(alive, 3.0 * R**2 * (partition_coefficient(X, p.K_D) - 1.0) * X / vol, 0.0)
    else:
        dXdR = np.zeros_like(R * X)
    dTdX = liquidus_slope_K(X, p.T_MgSiO3_K, p.T_FeSiO3_K, p.K_D)
    heat_capacity = M_B * p.cp_bmo_J_kg_K + p.M_core_kg * p.cp_core_J_kg_K  # J/K
    latent_per_m = area * p.rho_bmo_kg_m3 * T * p.dS_fusion_J_kg_K           # J/m of front motion
    # Q − H = −[C dT_L/dX dX/dR + 4πR²ρTΔS] dR/dt   (eq. 14 with eqs. 15–16 substituted)
    dRdt = np.where(alive, -(Q - H) / (heat_capacity * dTdX * dXdR + latent_per_m), 0.0)
    dXdt = dXdR * dRdt
    dTdt = dTdX * dXdt
    return {"T": T, "Q": Q, "H": H, "dRdt": dRdt, "dXdt": dXdt, "M_B": M_B, "thick": thick,
            "Q_bmo": -M_B * p.cp_bmo_J_kg_K * dTdt, "Q_core": -p.M_core_kg * p.cp_core_J_kg_K * dTdt,
            "Q_latent": -latent_per_m * dRdt}


def _rk4(p, fe_enrichment: bool, dt_s: float, n_steps: int):
    """Classical RK4 for (R, X); returns t (s), R, X histories (n_steps+1, n) and the frozen mask."""
    n = p.rc.size
    R = np.empty((n_steps + 1, n))
    X = np.empty((n_steps + 1, n))
    R[0], X[0] = p.rc + p.D0, p.X0
    frozen = np.zeros((n_steps + 1, n), dtype=bool)

    def f(t, r, x):
        h = _heat_terms(t, r, x, p, fe_enrichment)
        return h["dRdt"], h["dXdt"]

    for i in range(n_steps):
        t, r, x = i * dt_s, R[i], X[i]
        k1r, k1x = f(t, r, x)
        k2r, k2x = f(t + dt_s / 2, r + dt_s / 2 * k1r, x + dt_s / 2 * k1x)
        k3r, k3x = f(t + dt_s / 2, r + dt_s / 2 * k2r, x + dt_s / 2 * k2x)
        k4r, k4x = f(t + dt_s, r + dt_s * k3r, x + dt_s * k3x)
        r_new = r + dt_s / 6.0 * (k1r + 2 * k2r + 2 * k3r + k4r)
        x_new = np.clip(x + dt_s / 6.0 * (k1x + 2 * k2x + 2 * k3x + k4x), 0.0, 1.0)
        done = frozen[i] | (r_new - p.rc < p.dmin)
        frozen[i + 1] = done
        R[i + 1] = np.where(done, p.rc, r_new)
        X[i + 1] = np.where(frozen[i], x, x_new)
    return np.arange(n_steps + 1) * dt_s, R, X, frozen


def _diagnostics(t, R, X, frozen, p, fe_enrichment: bool, flow: str) -> dict:
    """Heat flows, conductivities, velocity and Rm along the trajectories (arrays (nt, n))."""
    h = _heat_terms(t[:, None], R, X, p, fe_enrichment)
    T, D = h["T"], h["thick"]
    P = np.broadcast_to(p.pressure_GPa, T.shape)
    sigma = magma_ocean.electrical_conductivity(P, T, np.clip(X, 0, 1))                       # eq. 12
    kappa = magma_ocean.total_thermal_conductivity(P, T, np.clip(X, 0, 1), p.kappa_ionic_W_m_K)  # eq. 13 + ionic
    # magma_ocean.conductive_heat_flow_W, vectorised over the radius (it takes a scalar radius)
    Q_cond = 4.0 * np.pi * R**2 * kappa * p.gamma
    F = buoyancy_flux(h["Q"], R, p.rho_bmo_kg_m3, T, p.gamma)
    u = velocity_mlt(F, D, p.c_mlt) if flow == "mlt" else velocity_cia(F, D, p.Omega_rad_s, p.c_cia)
    u = np.where(frozen, 0.0, u)
    Rm = magnetic_reynolds(u, D, sigma)
    return {**h, "sigma": sigma, "kappa": kappa, "Q_cond": Q_cond, "u": u, "Rm": Rm}


def _last_crossing(t_Gyr, y, level):
    """Per column: last time y > level (linear interpolation to the crossing), t_end if still above, 0 if never."""
    above = y > level
    out = np.zeros(y.shape[1])
    for j in range(y.shape[1]):
        idx = np.flatnonzero(above[:, j])
        if idx.size == 0:
            continue
        i = idx[-1]
        if i == len(t_Gyr) - 1:
            out[j] = t_Gyr[-1]
        else:
            y0, y1 = y[i, j], y[i + 1, j]
            out[j] = t_Gyr[i] + (y0 - level) / (y0 - y1) * (t_Gyr[i + 1] - t_Gyr[i])
    return out


def _first_drop(t_Gyr, margin):
    """Per column: first time margin (Q − Q_cond) ≤ 0, interpolated; t_end if never."""
    out = np.full(margin.shape[1], t_Gyr[-1])
    for j in range(margin.shape[1]):
        idx = np.flatnonzero(margin[:, j] <= 0)
        if idx.size == 0:
            continue
        i = idx[0]
        if i == 0:
            out[j] = t_Gyr[0]
        else:
            m0, m1 = margin[i - 1, j], margin[i, j]
            out[j] = t_Gyr[i - 1] + m0 / (m0 - m1) * (t_Gyr[i] - t_Gyr[i - 1])
    return out


def _steps(dt_Myr: float, t_end_Gyr: float) -> tuple[float, int]:
    if not (dt_Myr > 0 and math.isfinite(dt_Myr)):
        raise ValueError(f"dt_Myr must be positive, got {dt_Myr}")
    if not (t_end_Gyr > 0 and math.isfinite(t_end_Gyr)):
        raise ValueError(f"t_end_Gyr must be positive, got {t_end_Gyr}")
    n = max(1, int(round(t_end_Gyr * 1e3 / dt_Myr)))
    return t_end_Gyr * GYR_S / n, n


def _check_flow(flow: str) -> None:
    if flow not in ("mlt", "cia"):
        raise ValueError(f"flow must be 'mlt' (eq. 17) or 'cia' (eq. 18), got {flow!r}")


# ------------------------------------------------------------------------------------------- API --

@dataclass
class BMOEvolution:
    """Result of :func:`evolve_bmo`: time series (after the BMO has frozen, if it does, the series stop).

    Heat flows in TW: ``Q_total_TW`` (eq. 14 left side) = ``Q_bmo_cooling_TW + Q_core_cooling_TW +
    Q_radiogenic_TW + Q_latent_TW`` (right side); ``Q_cond_TW`` is the heat conducted down the adiabat.
    ``dynamo_lifetime_Gyr``: last time Rm > Rm_crit (interpolated; = t_end if still above).
    ``convective_until_Gyr``: first time Q_total ≤ Q_cond (= t_end if the BMO convects throughout,
    see ``convects_throughout``). ``frozen_at_Gyr``: time the BMO fully crystallised, or None.
    """

    time_Gyr: np.ndarray
    T_K: np.ndarray
    thickness_km: np.ndarray
    X_Fe: np.ndarray
    Q_total_TW: np.ndarray
    Q_cond_TW: np.ndarray
    Q_bmo_cooling_TW: np.ndarray
    Q_core_cooling_TW: np.ndarray
    Q_radiogenic_TW: np.ndarray
    Q_latent_TW: np.ndarray
    u_m_s: np.ndarray
    sigma_S_m: np.ndarray
    kappa_W_m_K: np.ndarray
    Rm: np.ndarray
    dynamo_lifetime_Gyr: float
    convective_until_Gyr: float
    convects_throughout: bool
    frozen_at_Gyr: float | None
    fe_enrichment: bool
    flow: str
    dt_Myr: float
    params: BMOParameters

    def to_dict(self) -> dict:
        """JSON-ready dict (arrays → lists, NaN → None, parameters with units and sources)."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                out[f.name] = [None if not np.isfinite(x) else float(x) for x in v]
            elif isinstance(v, BMOParameters):
                out[f.name] = v.to_dict()
            else:
                out[f.name] = v
        return out


def evolve_bmo(params: BMOParameters | None = None, *, fe_enrichment: bool = True, flow: str = "mlt",
               dt_Myr: float = 1.0, t_end_Gyr: float = 4.5) -> BMOEvolution:
    """Integrate eqs. 14–16 with RK4 from t = 0 (4.5 Ga) to ``t_end_Gyr`` and evaluate eqs. 17–18 and Rm.

    ``fe_enrichment=False`` holds X at X0 (then T_L, σ are constant and only latent and radiogenic heat
    are released). ``flow``: ``"mlt"`` (eq. 17) or ``"cia"`` (eq. 18). ``dt_Myr``: RK4 step (Myr).
    """
    _check_flow(flow)
    params = BMOParameters.from_toml() if params is None else params
    dt_s, n_steps = _steps(dt_Myr, t_end_Gyr)
    p = _as_arrays([params.values()])
    t, R, X, frozen = _rk4(p, fe_enrichment, dt_s, n_steps)
    d = _diagnostics(t, R, X, frozen, p, fe_enrichment, flow)
    t_Gyr = t / GYR_S
    frozen_idx = np.flatnonzero(frozen[:, 0])
    stop = frozen_idx[0] + 1 if frozen_idx.size else len(t)
    frozen_at = float(t_Gyr[frozen_idx[0]]) if frozen_idx.size else None
    life = float(_last_crossing(t_Gyr, d["Rm"], params.Rm_crit)[0])
    margin = (d["Q"] - d["Q_cond"])[:stop]
    conv = float(_first_drop(t_Gyr[:stop], margin)[0])
    throughout = bool(np.all(margin > 0)) and frozen_at is None

    def col(a, scale=1.0):
        return np.asarray(a)[:stop, 0] * scale

    return BMOEvolution(
        time_Gyr=t_Gyr[:stop], T_K=col(d["T"]), thickness_km=col(d["thick"], 1e-3), X_Fe=col(np.clip(X, 0, 1)),
        Q_total_TW=col(d["Q"], 1e-12), Q_cond_TW=col(d["Q_cond"], 1e-12), Q_bmo_cooling_TW=col(d["Q_bmo"], 1e-12),
        Q_core_cooling_TW=col(d["Q_core"], 1e-12), Q_radiogenic_TW=col(d["H"], 1e-12),
        Q_latent_TW=col(d["Q_latent"], 1e-12), u_m_s=col(d["u"]), sigma_S_m=col(d["sigma"]),
        kappa_W_m_K=col(d["kappa"]), Rm=col(d["Rm"]), dynamo_lifetime_Gyr=life, convective_until_Gyr=conv,
        convects_throughout=throughout, frozen_at_Gyr=frozen_at, fe_enrichment=fe_enrichment, flow=flow,
        dt_Myr=t_end_Gyr * 1e3 / n_steps, params=params)


@dataclass
class LifetimeUncertainty:
    """Dynamo lifetime (Gyr) with its Monte-Carlo spread: median and 16–84 % interval.

    ``n_at_end``: samples still above Rm_crit at t_end (their lifetime is a lower bound, t_end).
    ``method`` states how the spread was obtained — uncertainty is a feature of the result.
    """

    median_Gyr: float
    p16_Gyr: float
    p84_Gyr: float
    nominal_Gyr: float
    n_samples: int
    n_at_end: int
    seed: int
    fe_enrichment: bool
    flow: str
    sampled: list[str]
    method: str
    lifetimes_Gyr: list[float]

    def to_dict(self) -> dict:
        return asdict(self)


def dynamo_lifetime_uncertainty(params: BMOParameters | None = None, n_samples: int = 200, seed: int = 0, *,
                                fe_enrichment: bool = True, flow: str = "mlt", dt_Myr: float = 2.0,
                                t_end_Gyr: float = 4.5) -> LifetimeUncertainty:
    """Monte Carlo over the TOML ranges: every parameter with a ``range`` is drawn independently and
    uniformly within it, all samples are integrated together (vectorised RK4) and the lifetime
    (last time Rm > Rm_crit) is summarised by its median and 16th/84th percentiles.
    """
    _check_flow(flow)
    if n_samples < 2:
        raise ValueError(f"n_samples must be at least 2, got {n_samples}")
    params = BMOParameters.from_toml() if params is None else params
    rng = np.random.default_rng(seed)
    base = params.values()
    names = sorted(params.ranges)
    draws = {k: rng.uniform(*params.ranges[k], size=n_samples) for k in names}
    sets = [{**base, **{k: float(draws[k][i]) for k in names}} for i in range(n_samples)]
    dt_s, n_steps = _steps(dt_Myr, t_end_Gyr)
    p = _as_arrays(sets)
    t, R, X, frozen = _rk4(p, fe_enrichment, dt_s, n_steps)
    d = _diagnostics(t, R, X, frozen, p, fe_enrichment, flow)
    t_Gyr = t / GYR_S
    life = _last_crossing(t_Gyr, d["Rm"], base["Rm_crit"])
    nominal = evolve_bmo(params, fe_enrichment=fe_enrichment, flow=flow, dt_Myr=dt_Myr,
                         t_end_Gyr=t_end_Gyr).dynamo_lifetime_Gyr
    p16, med, p84 = np.percentile(life, [16, 50, 84])
    method = (f"Monte Carlo: {n_samples} parameter sets (seed {seed}), each of the {len(names)} parameters "
              f"with a TOML range drawn independently and uniformly within it; RK4 with dt = {dt_Myr} Myr; "
              f"lifetime = last time Rm > {base['Rm_crit']:g}; median and 16-84 % percentiles. Uncertainty "
              "is a feature: the reconstructed parameter table is uncertain, and so is the lifetime.")
    return LifetimeUncertainty(float(med), float(p16), float(p84), float(nominal), n_samples,
                               int(np.sum(life >= t_end_Gyr)), seed, fe_enrichment, flow, names, method,
                               [float(x) for x in life])
