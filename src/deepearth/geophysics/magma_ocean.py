"""Basal magma ocean transport properties (Dragulet & Stixrude 2025, Methods).

Electrical conductivity (eq. 12) and electronic thermal conductivity (eq. 13) of the Fe-bearing
silicate melt as fitted functions of pressure, temperature and iron content X = Fe/(Fe+Mg):

``σ_el(P,T,X) = (σ0 + σ1 X + σ2 X²) exp(−(E_σ + P V_σ)/(R T))``
``κ_el(P,T,X) = L0 T (κ0 + κ1 X + κ2 X²) exp(−(E_κ + P V_κ)/(R T))``

with P in GPa and V in cm³/mol, so P V is in kJ/mol (1 GPa · cm³/mol = 1 kJ/mol).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import curve_fit

from deepearth.units import LORENZ_L0, R_J_PER_MOL_K

#: Eq. 12 coefficients (S/m, kJ/mol, cm³/mol).
SIGMA_COEFFS = (48298.096, 491439.911, 290016.809)
E_SIGMA_KJ, V_SIGMA_CM3 = 101.388, -0.027
#: Eq. 13 coefficients (S/m, kJ/mol, cm³/mol); the Lorenz number L0 (W Ω K⁻²) is units.LORENZ_L0.
KAPPA_COEFFS = (139364.808, 559218.167, 122562.441)
E_KAPPA_KJ, V_KAPPA_CM3 = 74.239, 0.035
#: "The pressures relevant for a basal magma ocean on Earth (100–140 GPa)" (Dragulet & Stixrude 2025, Results), where
#: the fits are used; outside it the result is an extrapolation and a warning says so.
FIT_RANGE_P_GPA = (100.0, 140.0)


def _check(P_GPa, T_K, X, warn_outside_range: bool = True):
    p, t, x = (np.asarray(v, dtype=float) for v in (P_GPa, T_K, X))
    if np.any(t <= 0) or not np.all(np.isfinite(t)):
        raise ValueError(f"T_K must be positive, got {T_K!r}")
    if np.any((x < 0) | (x > 1)) or not np.all(np.isfinite(x)):
        raise ValueError(f"X = Fe/(Fe+Mg) must be in [0, 1], got {X!r}")
    if np.any(p < 0) or not np.all(np.isfinite(p)):
        raise ValueError(f"P_GPa must be non-negative, got {P_GPa!r}")
    if warn_outside_range and np.any((p < FIT_RANGE_P_GPA[0]) | (p > FIT_RANGE_P_GPA[1])):
        warnings.warn(f"P = {P_GPa} GPa is outside {FIT_RANGE_P_GPA} GPa, where the BMO fit was made: "
                      "extrapolation", stacklevel=3)
    return p, t, x


def _arrhenius(P, T, E_kJ, V_cm3):
    return np.exp(-(E_kJ + P * V_cm3) * 1e3 / (R_J_PER_MOL_K * T))


def _scalar(x):
    return float(x) if np.ndim(x) == 0 else x


def electrical_conductivity(P_GPa, T_K, X):
    """Electronic electrical conductivity σ_el of the BMO melt, S/m (BMO eq. 12)."""
    P, T, X = _check(P_GPa, T_K, X)
    s0, s1, s2 = SIGMA_COEFFS
    return _scalar((s0 + s1 * X + s2 * X**2) * _arrhenius(P, T, E_SIGMA_KJ, V_SIGMA_CM3))


def electronic_thermal_conductivity(P_GPa, T_K, X):
    """Electronic thermal conductivity κ_el of the BMO melt, W/m/K (BMO eq. 13)."""
    P, T, X = _check(P_GPa, T_K, X)
    k0, k1, k2 = KAPPA_COEFFS
    return _scalar(LORENZ_L0 * T * (k0 + k1 * X + k2 * X**2) * _arrhenius(P, T, E_KAPPA_KJ, V_KAPPA_CM3))


def lorenz_number(P_GPa, T_K, X):
    """Effective Lorenz number κ_el/(σ_el T) in W Ω K⁻² (Wiedemann–Franz check; L0 = 2.44e-8)."""
    return _scalar(electronic_thermal_conductivity(P_GPa, T_K, X) / (electrical_conductivity(P_GPa, T_K, X)
                                                                    * np.asarray(T_K, dtype=float)))


#: Ionic thermal conductivity of MgSiO3 liquid at BMO conditions (W/m/K) added to κ_el for the total;
#: the radiative part (< 1 W/m/K) is neglected (Dragulet & Stixrude 2025, Methods).
KAPPA_IONIC_W_M_K = 4.0


def total_thermal_conductivity(P_GPa, T_K, X, kappa_ionic_W_m_K: float = KAPPA_IONIC_W_M_K):
    """κ = κ_el (eq. 13) + κ_ionic, W/m/K."""
    return _scalar(np.asarray(electronic_thermal_conductivity(P_GPa, T_K, X)) + kappa_ionic_W_m_K)


def conductive_heat_flow_W(radius_m: float, conductivity_W_m_K, adiabat_K_per_m: float = 0.6e-3):
    """Heat conducted down the adiabat through a sphere of radius r: ``Q = 4π r² k dT/dr`` (W).

    Convection is possible only if the BMO's total heat flow exceeds this (Dragulet & Stixrude's 2025 test, with a
    0.6 K/km adiabat).
    """
    if radius_m <= 0:
        raise ValueError(f"radius_m must be positive, got {radius_m}")
    return _scalar(4.0 * np.pi * radius_m**2 * np.asarray(conductivity_W_m_K, dtype=float) * adiabat_K_per_m)



def conductivity_summary(P_GPa, T_K, X) -> dict:
    """σ_el (eq. 12), κ_el (eq. 13), κ = κ_el + κ_ionic and the effective Lorenz number at (P [GPa], T [K],
    X = Fe/(Fe+Mg)), with the extrapolation warnings raised on the way (what ``deepearth geo
    bmo-conductivity`` reports)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = {"P_GPa": P_GPa, "T_K": T_K, "X": X,
                  "sigma_el_S_per_m": electrical_conductivity(P_GPa, T_K, X),
                  "kappa_el_W_per_m_K": electronic_thermal_conductivity(P_GPa, T_K, X),
                  "kappa_total_W_per_m_K": total_thermal_conductivity(P_GPa, T_K, X),
                  "lorenz_number_W_Ohm_per_K2": lorenz_number(P_GPa, T_K, X),
                  "model": f"Dragulet & Stixrude 2025, arXiv:2508.00791 eqs. 12-13 fits; total kappa adds {KAPPA_IONIC_W_M_K:g} W/m/K ionic"}
    result["warnings"] = sorted({str(w.message) for w in caught})
    return result

@dataclass
class ConductivityFit:
    """Eq. 12/13-form fit ``A(X) exp(−(E + P V)/(R T))`` with A(X) = a0 + a1 X + a2 X² (S/m).

    For κ the prefactor includes ``L0 T``. Standard errors from the least-squares covariance of the
    fit in log space.
    """

    a_S_per_m: tuple[float, float, float]
    E_kJ_per_mol: float
    V_cm3_per_mol: float
    stderr: dict
    n_points: int
    quantity: str

    def __call__(self, P_GPa, T_K, X):
        P, T, X = (np.asarray(v, dtype=float) for v in (P_GPa, T_K, X))
        a0, a1, a2 = self.a_S_per_m
        pre = (LORENZ_L0 * T if self.quantity == "kappa" else 1.0) * (a0 + a1 * X + a2 * X**2)
        return _scalar(pre * _arrhenius(P, T, self.E_kJ_per_mol, self.V_cm3_per_mol))

    def to_dict(self) -> dict:
        return asdict(self)


def fit_conductivity(P_GPa, T_K, X, values, quantity: str = "sigma") -> ConductivityFit:
    """Fit eq. 12 (``quantity='sigma'``, values in S/m) or eq. 13 (``'kappa'``, W/m/K) to a table of
    first-principles results at (P, T, X). With a single X the quadratic terms are fixed to zero
    (the per-composition fits, eqs. 10–11). Least squares on ln(value), so each point counts by its
    relative error.
    """
    if quantity not in ("sigma", "kappa"):
        raise ValueError(f"quantity must be 'sigma' or 'kappa', got {quantity!r}")
    P, T, X, y = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (P_GPa, T_K, X, values))
    if not (P.shape == T.shape == X.shape == y.shape):
        raise ValueError("P_GPa, T_K, X and values must have the same length")
    if np.any(y <= 0):
        raise ValueError("conductivities must be positive to be fitted in log space")
    _check(P, T, X, warn_outside_range=False)  # fitting data may lie anywhere
    n_x = len(np.unique(X))
    n_par = 2 + min(n_x, 3)
    if y.size < n_par + 1:
        raise ValueError(f"need more than {n_par} points for this fit, got {y.size}")
    pre_t = LORENZ_L0 * T if quantity == "kappa" else np.ones_like(T)
    target = np.log(y / pre_t)

    def model(_, *p):
        a = list(p[:-2]) + [0.0] * (3 - (len(p) - 2))
        amp = np.maximum(a[0] + a[1] * X + a[2] * X**2, 1e-300)
        return np.log(amp) - (p[-2] + P * p[-1]) * 1e3 / (R_J_PER_MOL_K * T)

    params, cov = curve_fit(model, None, target, p0=_initial_guess(P, T, X, target, n_par - 2), maxfev=20000)
    err = np.sqrt(np.diag(cov)) if np.all(np.isfinite(cov)) else np.full(len(params), np.nan)
    a = tuple(float(v) for v in list(params[:-2]) + [0.0] * (3 - (n_par - 2)))
    a_err = [float(v) for v in list(err[:-2]) + [0.0] * (3 - (n_par - 2))]
    return ConductivityFit(a, float(params[-2]), float(params[-1]),
                           {"a_S_per_m": a_err, "E_kJ_per_mol": float(err[-2]), "V_cm3_per_mol": float(err[-1])},
                           int(y.size), quantity)


def _initial_guess(P, T, X, target, n_amp):
    """Start for the non-linear fit: with a free ln A per composition the model is linear in
    (ln A_x, E, V); the amplitudes are then fitted by a polynomial in X."""
    xs, index = np.unique(X, return_inverse=True)
    rt = R_J_PER_MOL_K * T / 1e3
    if len(xs) + 2 < target.size:
        design = np.column_stack([np.eye(len(xs))[index], -1.0 / rt, -P / rt])
        sol = np.linalg.lstsq(design, target, rcond=None)[0]
        amps, E, V = np.exp(sol[:-2]), sol[-2], sol[-1]
    else:
        E, V = 100.0, 0.0
        amps = np.full(len(xs), float(np.exp(np.median(target + E / rt))))
    coeffs = np.polyfit(xs, amps, n_amp - 1)[::-1] if len(xs) > 1 else amps[:1]
    return list(coeffs) + [float(E), float(V)]
