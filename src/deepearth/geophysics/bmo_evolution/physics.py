"""The closed-form physics of the BMO model (Dragulet & Stixrude 2025, Methods eqs. 15–18): the liquidus and its slope,
the Fe partition coefficient, the buoyancy flux, the two convective velocity scalings and the magnetic
Reynolds number. SI units unless the name says otherwise; arrays broadcast, scalars give floats.
"""

from __future__ import annotations

import numpy as np

from deepearth.units import MU0

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
    return _scalar(MU0 * np.asarray(u_m_s) * np.asarray(D_m) * np.asarray(sigma_S_m))


def _scalar(x):
    return float(x) if np.ndim(x) == 0 else x


__all__ = ["liquidus_K", "liquidus_slope_K", "partition_coefficient", "buoyancy_flux", "velocity_mlt", "velocity_cia",
           "magnetic_reynolds"]
