"""BM3 EOS: internal consistency and recovery of known parameters."""

import numpy as np
import pytest

from deepearth.properties.eos import bm3_energy, bm3_pressure, fit_birch_murnaghan3
from deepearth.units import EV_PER_A3_TO_GPA

# SLB2011 periclase BM3 parameters quoted in SCIENCE.md §4 (V0 = 11.244 cm³/mol -> Å³ per MgO)
V0_PER_MGO = 11.244e-6 / 6.02214076e23 * 1e30
K0, K0P = 161.4, 3.84


def test_pressure_is_minus_energy_derivative():
    v = np.linspace(0.6, 1.05, 30) * V0_PER_MGO
    h = 1e-4
    dE = (bm3_energy(v + h, 0.0, V0_PER_MGO, K0, K0P) - bm3_energy(v - h, 0.0, V0_PER_MGO, K0, K0P)) / (2 * h)
    assert np.allclose(-dE * EV_PER_A3_TO_GPA, bm3_pressure(v, V0_PER_MGO, K0, K0P), rtol=1e-6, atol=1e-6)


def test_known_limits():
    assert bm3_pressure(V0_PER_MGO, V0_PER_MGO, K0, K0P) == pytest.approx(0.0)
    # bulk modulus at V0: K = -V dP/dV = K0
    h = 1e-6 * V0_PER_MGO
    dpdv = (bm3_pressure(V0_PER_MGO + h, V0_PER_MGO, K0, K0P) - bm3_pressure(V0_PER_MGO - h, V0_PER_MGO, K0, K0P)) / (2 * h)
    assert -V0_PER_MGO * dpdv == pytest.approx(K0, rel=1e-6)


def test_fit_recovers_periclase_parameters_with_honest_errors():
    rng = np.random.default_rng(0)
    v = np.linspace(0.65, 1.0, 12) * V0_PER_MGO * 8  # an 8-formula-unit cell, 0-140 GPa
    p = bm3_pressure(v, V0_PER_MGO * 8, K0, K0P) + rng.normal(0, 0.5, v.size)
    fit = fit_birch_murnaghan3(v, p)
    assert fit.V0_A3 / 8 == pytest.approx(V0_PER_MGO, abs=3 * fit.V0_stderr_A3 / 8 + 1e-3)
    assert fit.K0_GPa == pytest.approx(K0, abs=4 * fit.K0_stderr_GPa)
    assert fit.K0_prime == pytest.approx(K0P, abs=4 * fit.K0_prime_stderr)
    assert 0 < fit.K0_stderr_GPa < 10
    assert fit.volume(100.0) == pytest.approx(v[np.argmin(abs(bm3_pressure(v, V0_PER_MGO * 8, K0, K0P) - 100))], rel=0.05)


def test_fit_needs_four_points():
    with pytest.raises(ValueError, match="at least 4 needed"):
        fit_birch_murnaghan3([1, 2, 3], [3, 2, 1])
