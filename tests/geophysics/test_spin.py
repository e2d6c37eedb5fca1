"""Spin equilibrium: limits of f_HS, exact TI on analytic integrands, error propagation."""

import numpy as np
import pytest

from deepearth.geophysics import spin


def test_high_spin_fraction_limits():
    assert spin.high_spin_fraction(0.0, 4000) == 0.5
    assert spin.high_spin_fraction(5.0, 4000) < 1e-6  # HS much higher in G: low spin
    assert spin.high_spin_fraction(-5.0, 4000) > 1 - 1e-6
    assert spin.high_spin_fraction(1e4, 300) == 0.0  # no overflow
    # f_HS + f_LS symmetry: f(ΔG) + f(−ΔG) = 1
    assert spin.high_spin_fraction(0.3, 5000) + spin.high_spin_fraction(-0.3, 5000) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="T_K must be positive"):
        spin.high_spin_fraction(0.1, 0.0)


def test_thermodynamic_integration_exact_for_linear_integrand_and_errors():
    lam = np.linspace(0, 1, 5)
    res = spin.thermodynamic_integration(lam, 0.2 + 0.4 * lam, stderr_dE_eV=np.full(5, 0.01))
    assert res.value_eV == pytest.approx(0.4)  # ∫ (0.2 + 0.4 λ) dλ
    w = np.array([0.125, 0.25, 0.25, 0.25, 0.125])
    assert res.stderr_eV == pytest.approx(0.01 * np.sqrt(np.sum(w**2)))
    with pytest.raises(ValueError, match="span 0 to 1"):
        spin.thermodynamic_integration([0.0, 0.5], [1.0, 2.0])


def test_equilibrium_property_interpolates():
    assert spin.spin_equilibrium_property(10.0, 30.0, 0.0, 4000) == pytest.approx(20.0)
    assert spin.spin_equilibrium_property(10.0, 30.0, 10.0, 4000) == pytest.approx(30.0)
