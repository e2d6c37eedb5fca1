"""Basal magma ocean transport properties (BMO paper, Methods; SCIENCE.md §5).

Electrical conductivity (eq. 12) and electronic thermal conductivity (eq. 13) of the Fe-bearing
silicate melt as fitted functions of pressure, temperature and iron content X = Fe/(Fe+Mg):

``σ_el(P,T,X) = (σ0 + σ1 X + σ2 X²) exp(−(E_σ + P V_σ)/(R T))``
``κ_el(P,T,X) = L0 T (κ0 + κ1 X + κ2 X²) exp(−(E_κ + P V_κ)/(R T))``

with P in GPa and V in cm³/mol, so P V is in kJ/mol (1 GPa · cm³/mol = 1 kJ/mol).
"""

from __future__ import annotations

import warnings

import numpy as np

from deepearth.units import R_J_PER_MOL_K

#: Eq. 12 coefficients (S/m, kJ/mol, cm³/mol).
SIGMA_COEFFS = (48298.096, 491439.911, 290016.809)
E_SIGMA_KJ, V_SIGMA_CM3 = 101.388, -0.027
#: Eq. 13 coefficients (S/m, kJ/mol, cm³/mol) and the Lorenz number L0 (W Ω K⁻²).
KAPPA_COEFFS = (139364.808, 559218.167, 122562.441)
E_KAPPA_KJ, V_KAPPA_CM3 = 74.239, 0.035
LORENZ_L0 = 2.44e-8
#: "The pressures relevant for a basal magma ocean on Earth (100–140 GPa)" (BMO paper, Results), where
#: the fits are used; outside it the result is an extrapolation and a warning says so.
FIT_RANGE_P_GPA = (100.0, 140.0)


def _check(P_GPa, T_K, X):
    P, T, X = (np.asarray(v, dtype=float) for v in (P_GPa, T_K, X))
    if np.any(T <= 0) or not np.all(np.isfinite(T)):
        raise ValueError(f"T_K must be positive, got {T_K!r}")
    if np.any((X < 0) | (X > 1)) or not np.all(np.isfinite(X)):
        raise ValueError(f"X = Fe/(Fe+Mg) must be in [0, 1], got {X!r}")
    if np.any(P < 0) or not np.all(np.isfinite(P)):
        raise ValueError(f"P_GPa must be non-negative, got {P_GPa!r}")
    if np.any((P < FIT_RANGE_P_GPA[0]) | (P > FIT_RANGE_P_GPA[1])):
        warnings.warn(f"P = {P_GPa} GPa is outside {FIT_RANGE_P_GPA} GPa, where the BMO fit was made: "
                      "extrapolation", stacklevel=3)
    return P, T, X


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
