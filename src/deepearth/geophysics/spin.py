"""Spin equilibrium of Fe in the basal magma ocean (Dragulet & Stixrude 2025, Methods; reconstructed).

``ΔG = G_HS − G_LS`` per Fe from thermodynamic integration ``ΔG = ∫0^1 ⟨E_HS − E_LS⟩_λ dλ``;
high-spin fraction ``f_HS = 1/(1 + exp(ΔG/(k_B T)))``; a property in spin equilibrium is
``f_HS p_HS + (1 − f_HS) p_LS``. Energies in eV per Fe, T in K.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepearth.units import KB_EV_PER_K


@dataclass
class FreeEnergyDifference:
    """ΔG (eV per Fe) with its standard error from the λ-point standard errors."""

    value_eV: float
    stderr_eV: float
    method: str


def thermodynamic_integration(lambdas, mean_dE_eV, stderr_dE_eV=None) -> FreeEnergyDifference:
    """``ΔG = ∫0^1 ⟨E_HS − E_LS⟩_λ dλ`` by the trapezoid rule over the given λ points (must span 0…1).

    ``stderr_dE_eV`` (standard errors of the λ-point averages, independent) propagates to ΔG through
    the trapezoid weights.
    """
    lam = np.asarray(lambdas, dtype=float)
    de = np.asarray(mean_dE_eV, dtype=float)
    if lam.shape != de.shape or lam.size < 2:
        raise ValueError("need at least two (λ, ⟨ΔE⟩) points of matching length")
    order = np.argsort(lam)
    lam, de = lam[order], de[order]
    if not (np.isclose(lam[0], 0.0) and np.isclose(lam[-1], 1.0)):
        raise ValueError(f"λ points must span 0 to 1, got {lam[0]}…{lam[-1]}")
    w = np.zeros_like(lam)
    dl = np.diff(lam)
    w[:-1] += dl / 2
    w[1:] += dl / 2
    err = 0.0
    if stderr_dE_eV is not None:
        se = np.asarray(stderr_dE_eV, dtype=float)[order]
        err = float(np.sqrt(np.sum((w * se) ** 2)))
    return FreeEnergyDifference(float(np.sum(w * de)), err, f"trapezoid over {lam.size} λ points")


def high_spin_fraction(delta_G_eV, T_K):
    """``f_HS = 1/(1 + exp(ΔG/(k_B T)))`` with ΔG = G_HS − G_LS per Fe (eV)."""
    T = np.asarray(T_K, dtype=float)
    if np.any(T <= 0):
        raise ValueError(f"T_K must be positive, got {T_K!r}")
    x = np.asarray(delta_G_eV, dtype=float) / (KB_EV_PER_K * T)
    out = 0.5 * (1.0 - np.tanh(x / 2.0))  # = 1/(1+e^x), without overflow
    return float(out) if np.ndim(out) == 0 else out


def spin_equilibrium_property(p_high_spin, p_low_spin, delta_G_eV, T_K):
    """A property (σ, κ...) in spin equilibrium: ``f_HS p_HS + (1 − f_HS) p_LS``."""
    f = high_spin_fraction(delta_G_eV, T_K)
    return f * np.asarray(p_high_spin, dtype=float) + (1.0 - f) * np.asarray(p_low_spin, dtype=float)
