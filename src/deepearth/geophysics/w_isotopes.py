"""Diffusive exchange of W isotopes across the core–mantle boundary (Peng, Yoshino & Deng 2025, Methods, eqs. 5–9).

The lowermost mantle is held at the core-equilibrated μ182W = −220 for 4.54 Gyr; W diffuses up with an
effective diffusivity (lattice + grain boundaries, eq. 5). The profile is the half-space erfc solution
(eq. 7); a plume generation zone (PGZ) of height h carries its height average (eq. 8); OIBs mix PGZ
material with ambient mantle in the entrainment ratio (eq. 9; R_max = 11 % ⇔ 1 : 8).
SI units throughout: m, s, m²/s.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import erfc

from deepearth.units import YEAR_S

#: Age of the Earth used by Peng et al. (2025), Gyr and s (4.54 Gyr).
EARTH_AGE_GYR = 4.54
EARTH_AGE_S = EARTH_AGE_GYR * 1e9 * YEAR_S
#: μ182W of the lowermost mantle held at the core-equilibrated value, and of the ambient mantle (Peng et al.
#: 2025, Methods: the core's μ182W = −220; the mantle's 0 by definition of μ182W).
MU182W_CORE = -220.0
MU182W_MANTLE = 0.0
#: PGZ share of the OIB source: the paper's 1 : 8 mixing (R_max ≈ 11 %, eq. 9).
PGZ_FRACTION = 1 / 9


def _positive(name: str, value, allow_zero: bool = True) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    bad = (arr < 0) if allow_zero else (arr <= 0)
    if np.any(bad) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be {'non-negative' if allow_zero else 'positive'} and finite, got {value!r}")
    return arr


def effective_diffusivity(D_lattice_m2_s, D_gb_m2_s, grain_size_m, gb_width_m: float = 1e-9):
    """Eq. 5: ``D_eff = D_lattice + (3 δ / d) D_GB`` (m²/s); δ the GB width (≈ 1 nm), d the grain size.
    The value of :func:`deepearth.properties.arrhenius.effective_diffusivity` (which adds errors)."""
    from deepearth.properties.arrhenius import effective_diffusivity as eq5

    return eq5(D_lattice_m2_s, D_gb_m2_s, grain_size_m, gb_width_m).value


def diffusion_length_m(D_m2_s, time_s=EARTH_AGE_S):
    """Diffusion length ``L = sqrt(D t)`` in m."""
    return np.sqrt(_positive("D_m2_s", D_m2_s) * _positive("time_s", time_s))


def profile_mu182w(y_m, D_eff_m2_s, time_s=EARTH_AGE_S, mu_core: float = MU182W_CORE,
                   mu_mantle: float = MU182W_MANTLE):
    """Eq. 7: μ182W at height ``y_m`` above the CMB, ``C∞ + (C0 − C∞) erfc(y / sqrt(4 D t))``."""
    y = _positive("y_m", y_m)
    a = np.sqrt(4.0 * _positive("D_eff_m2_s", D_eff_m2_s) * _positive("time_s", time_s))
    with np.errstate(divide="ignore", invalid="ignore"):  # D = 0: a step at the CMB
        frac = np.where(y == 0, 1.0, erfc(y / a))
    return mu_mantle + (mu_core - mu_mantle) * frac


def pgz_mu182w(pgz_height_m, D_eff_m2_s, time_s=EARTH_AGE_S, mu_core: float = MU182W_CORE,
               mu_mantle: float = MU182W_MANTLE):
    """Eq. 8: height average of the profile over a PGZ of height h (analytic integral of erfc):

    ``(1/h) ∫0^h erfc(y/a) dy = erfc(h/a) + a/(h√π) (1 − exp(−h²/a²))``, a = sqrt(4 D t).
    """
    h = _positive("pgz_height_m", pgz_height_m, allow_zero=False)
    a = np.sqrt(4.0 * _positive("D_eff_m2_s", D_eff_m2_s) * _positive("time_s", time_s))
    with np.errstate(divide="ignore"):  # D = 0: r = inf, no exchange
        r = h / a
    mean = erfc(r) + (1.0 - np.exp(-(r**2))) / (np.sqrt(np.pi) * r)
    return mu_mantle + (mu_core - mu_mantle) * mean


def entrainment_ratio(drho_thermal, drho_chemical):
    """Eq. 9: ``R_max = (Δρ_T / Δρ_Ch)²`` — the largest fraction of dense PGZ material in a plume."""
    return (_positive("drho_thermal", drho_thermal) / _positive("drho_chemical", drho_chemical, allow_zero=False)) ** 2


def oib_mu182w(D_eff_m2_s, pgz_height_m, time_s=EARTH_AGE_S, mu_core: float = MU182W_CORE,
               mu_mantle: float = MU182W_MANTLE, pgz_fraction: float = PGZ_FRACTION):
    """μ182W of an ocean-island basalt: PGZ material (eq. 8) mixed with ambient mantle, a fraction
    ``pgz_fraction`` of PGZ (the paper's 1 : 8, i.e. R_max ≈ 11 %)."""
    if not 0.0 <= pgz_fraction <= 1.0:
        raise ValueError(f"pgz_fraction must be in [0, 1], got {pgz_fraction}")
    pgz = pgz_mu182w(pgz_height_m, D_eff_m2_s, time_s, mu_core, mu_mantle)
    out = pgz_fraction * pgz + (1.0 - pgz_fraction) * mu_mantle
    return float(out) if np.ndim(out) == 0 else out


@dataclass
class PropagatedValue:
    """A model output with the spread propagated from its inputs by Monte Carlo."""

    median: float
    lower: float  # 2.5th percentile
    upper: float  # 97.5th percentile
    mean: float
    std: float
    n_samples: int
    method: str


def propagate_lognormal_D(fn, D_median_m2_s: float, D_log10_sigma: float, n_samples: int = 20000,
                          seed: int = 0, **kwargs) -> PropagatedValue:
    """Monte-Carlo propagation of a log-normally uncertain diffusivity through ``fn(D, **kwargs)``.

    ``D_log10_sigma`` is the standard deviation of log10 D (Arrhenius extrapolations are uncertain in
    log space). Returns median, 95 % interval, mean and std of the output.
    """
    rng = np.random.default_rng(seed)
    d = 10 ** (np.log10(D_median_m2_s) + D_log10_sigma * rng.standard_normal(n_samples))
    out = np.asarray(fn(d, **kwargs), dtype=float)
    return _percentiles(out, n_samples, f"Monte Carlo, log10 D ~ N(log10 {D_median_m2_s:.3g}, {D_log10_sigma}²)")


def _percentiles(out: np.ndarray, n: int, method: str) -> PropagatedValue:
    lo, med, hi = np.percentile(out, [2.5, 50, 97.5])
    return PropagatedValue(float(med), float(lo), float(hi), float(out.mean()), float(out.std(ddof=1)), n, method)


def oib_mu182w_from_arrhenius(gb_fit, T_K: float, P_GPa: float | None, pgz_height_m: float, grain_size_m: float,
                              lattice_fit=None, D_lattice_m2_s: float = 0.0, gb_width_m: float = 1e-9,
                              time_s: float = EARTH_AGE_S, pgz_fraction: float = PGZ_FRACTION, n_samples: int = 20000,
                              seed: int = 0) -> dict[str, PropagatedValue]:
    """μ182W of OIBs and D_eff at CMB conditions from Arrhenius fits, by Monte Carlo (eqs. 3–9).

    ``gb_fit`` (and optionally ``lattice_fit``) are :class:`deepearth.properties.ArrheniusResult`;
    their parameters are drawn from N(params, covariance) and D_GB, D_lattice evaluated at
    (``T_K``, ``P_GPa``) — usually an extrapolation, flagged by the fits' ``predict``. Without a lattice
    fit ``D_lattice_m2_s`` is used as exact. Returns median and 95 % intervals of D_GB, D_eff (m²/s),
    the diffusion length (m) and the OIB μ182W.
    """
    d_gb = gb_fit.predict(T_K, P_GPa, n_samples=n_samples, seed=seed).samples_m2_per_s[:, 0]
    if lattice_fit is not None:
        d_lat = lattice_fit.predict(T_K, P_GPa, n_samples=n_samples, seed=seed + 1).samples_m2_per_s[:, 0]
    else:
        d_lat = np.full(n_samples, float(D_lattice_m2_s))
    d_eff = effective_diffusivity(d_lat, d_gb, grain_size_m, gb_width_m)
    how = (f"Monte Carlo over the Arrhenius parameter covariance ({n_samples} samples, seed {seed}) at "
           f"{T_K:g} K, {P_GPa} GPa; grain size {grain_size_m:g} m, GB width {gb_width_m:g} m")
    return {"D_gb_m2_per_s": _percentiles(d_gb, n_samples, how),
            "D_eff_m2_per_s": _percentiles(d_eff, n_samples, how),
            "diffusion_length_m": _percentiles(diffusion_length_m(d_eff, time_s), n_samples, how),
            "oib_mu182w": _percentiles(oib_mu182w(d_eff, pgz_height_m, time_s, pgz_fraction=pgz_fraction),
                                       n_samples, how)}


# ---------------------------------------------------------------------------- curves and summaries --

def oib_curves(D_eff_m2_s, heights_km=None, time_s=EARTH_AGE_S, pgz_fraction: float = PGZ_FRACTION) -> dict:
    """μ182W of OIBs against PGZ height (km; default 200 heights from 0.5 to 100 km) for each effective
    diffusivity (m²/s): ``{"pgz_height_km", "D_eff_m2_per_s", "oib_mu182w"}`` (one curve per D; Peng et al. 2025, Fig. 3b)."""
    h = np.geomspace(0.5, 100, 200) if heights_km is None else np.asarray(heights_km, dtype=float)
    d_eff = [float(d) for d in D_eff_m2_s]
    return {"pgz_height_km": h, "D_eff_m2_per_s": d_eff,
            "oib_mu182w": [oib_mu182w(d, h * 1e3, time_s, pgz_fraction=pgz_fraction) for d in d_eff]}


def diffusion_length_curves(D_lattice_m2_s: float, D_gb_m2_s, gb_width_m: float = 1e-9, time_s=EARTH_AGE_S,
                            grain_size_m=None) -> dict:
    """Effective diffusion distance ``sqrt(D_eff t)`` (m) against grain size (m; default 200 sizes from
    10 µm to 10 cm) for each grain-boundary diffusivity (m²/s; Peng et al. 2025, Fig. 3a):
    ``{"grain_size_m", "D_gb_m2_per_s", "diffusion_length_m"}``."""
    d = np.geomspace(1e-5, 1e-1, 200) if grain_size_m is None else np.asarray(grain_size_m, dtype=float)
    d_gb = [float(g) for g in D_gb_m2_s]
    return {"grain_size_m": d, "D_gb_m2_per_s": d_gb,
            "diffusion_length_m": [diffusion_length_m(effective_diffusivity(D_lattice_m2_s, g, d, gb_width_m), time_s)
                                   for g in d_gb]}


@dataclass
class ExchangeSummary:
    """μ182W of OIBs and diffusion lengths for given diffusivities (what ``deepearth geo w-isotopes`` reports),
    with the curves its figures draw (``length_curves`` only when D_lattice and D_GB were given)."""

    time_Gyr: float
    pgz_fraction: float
    rows: list[dict]
    oib_curves: dict
    length_curves: dict | None = None
    model: str = "W isotopes across the CMB (Peng, Yoshino & Deng 2025, Nat. Commun., eqs. 5-9)"

    def to_dict(self) -> dict:
        return {"model": self.model, "time_gyr": self.time_Gyr, "pgz_fraction": self.pgz_fraction,
                "mu_core": MU182W_CORE, "mu_mantle": MU182W_MANTLE, "results": self.rows}


def exchange_summary(D_eff_m2_s=None, D_lattice_m2_s: float | None = None, D_gb_m2_s=None, grain_size_m: float = 1e-4,
                     gb_width_m: float = 1e-9, pgz_heights_km=(1.0, 5.0, 10.0, 50.0),
                     pgz_fraction: float = PGZ_FRACTION, time_Gyr: float = EARTH_AGE_GYR) -> ExchangeSummary:
    """Diffusion length (m) and OIB μ182W at each PGZ height (km) for each effective diffusivity (m²/s):
    ``D_eff_m2_s`` given, or eq. 5 from ``D_lattice_m2_s`` with each of ``D_gb_m2_s`` (grain size and GB
    width in m), after ``time_Gyr``."""
    if D_eff_m2_s:
        d_eff = [float(d) for d in D_eff_m2_s]
    elif D_lattice_m2_s is not None and D_gb_m2_s:
        d_eff = [float(effective_diffusivity(D_lattice_m2_s, g, grain_size_m, gb_width_m)) for g in D_gb_m2_s]
    else:
        raise ValueError("exchange_summary: give D_eff_m2_s, or D_lattice_m2_s with D_gb_m2_s")
    t = time_Gyr * 1e9 * YEAR_S
    rows = [{"D_eff_m2_per_s": d, "diffusion_length_m": float(diffusion_length_m(d, t)),
             "oib_mu182w": {f"{h:g} km": oib_mu182w(d, h * 1e3, t, pgz_fraction=pgz_fraction)
                            for h in pgz_heights_km}} for d in d_eff]
    lengths = None
    if D_lattice_m2_s is not None and D_gb_m2_s:
        lengths = diffusion_length_curves(D_lattice_m2_s, D_gb_m2_s, gb_width_m, t)
    return ExchangeSummary(time_Gyr, pgz_fraction, rows, oib_curves(d_eff, time_s=t, pgz_fraction=pgz_fraction),
                           lengths)


def exchange_from_arrhenius(gb_fit, T_K: float, P_GPa: float | None, pgz_heights_km, grain_size_m: float,
                            lattice_fit=None, D_lattice_m2_s: float = 0.0, gb_width_m: float = 1e-9,
                            time_Gyr: float = EARTH_AGE_GYR, pgz_fraction: float = PGZ_FRACTION,
                            n_samples: int = 20000, seed: int = 0) -> dict:
    """:func:`oib_mu182w_from_arrhenius` at each PGZ height (km): ``{"model", "extrapolated", "results"}``,
    one JSON-ready row per height; ``extrapolated`` says whether (T, P) lies outside the GB fit's data."""
    t = time_Gyr * 1e9 * YEAR_S
    rows = []
    for h in pgz_heights_km:
        res = oib_mu182w_from_arrhenius(gb_fit, T_K, P_GPa, h * 1e3, grain_size_m, lattice_fit, D_lattice_m2_s,
                                        gb_width_m, t, pgz_fraction, n_samples, seed)
        rows.append({"pgz_height_km": h, **{k: asdict(v) for k, v in res.items()}})
    return {"model": "W isotopes across the CMB from Arrhenius fits (Peng, Yoshino & Deng 2025, Nat. Commun., eqs. 3-9), Monte Carlo",
            "extrapolated": bool(gb_fit.predict(T_K, P_GPa).extrapolated), "results": rows}
