"""Effective bulk diffusivity (W paper eq. 5) and the isotope mass exponent, with propagated errors."""

import json

import numpy as np
import pytest

from deepearth.properties import arrhenius
from deepearth.properties.arrhenius.derived import effective_diffusivity, isotope_exponent


def test_effective_diffusivity_hand_numbers():
    # W paper: liquid-like D_GB 2.19e-9 m²/s, 0.1 mm grains, δ = 1 nm: 3δ/d = 3e-5
    res = effective_diffusivity(5e-15, 2.19e-9, 1e-4, 1e-9, D_lattice_stderr_m2_per_s=1e-15,
                                D_gb_stderr_m2_per_s=0.5e-9)
    assert res.value == pytest.approx(5e-15 + 6.57e-14, rel=1e-12) and res.unit == "m^2/s"
    assert res.stderr == pytest.approx(np.sqrt(1e-30 + (1.5e-14) ** 2), rel=1e-12)
    v, e = effective_diffusivity(0.0, 1e-10, np.array([1e-4, 1e-3, 1e-2]))
    assert np.allclose(v, [3e-15, 3e-16, 3e-17], rtol=1e-12) and np.all(e == 0)
    json.dumps(res.to_dict(), allow_nan=False)


def test_isotope_exponent_hand_numbers():
    # review 2026 §3.3: β = 0.322 and 0.274 give D(3He)/D(4He) = 1.097 and 1.082 (masses 3 and 4)
    assert isotope_exponent(1.097e-9, 0.0, 1.0e-9, 0.0, 3.0, 4.0).value == pytest.approx(0.322, abs=5e-4)
    assert isotope_exponent(1.082e-9, 0.0, 1.0e-9, 0.0, 3.0, 4.0).value == pytest.approx(0.274, abs=5e-4)
    res = isotope_exponent(1.097e-9, 0.01 * 1.097e-9, 1.0e-9, 0.01e-9, 3.016, 4.003)  # real 3He, 4He masses
    assert res.value == pytest.approx(np.log(1.097) / np.log(4.003 / 3.016), rel=1e-12)
    assert res.stderr == pytest.approx(np.sqrt(2) * 0.01 / np.log(4.003 / 3.016), rel=1e-12)
    corr = isotope_exponent(1.097e-9, 0.01 * 1.097e-9, 1.0e-9, 0.01e-9, 3.016, 4.003, correlation=0.5)
    assert corr.stderr == pytest.approx(0.01 / np.log(4.003 / 3.016), rel=1e-12)
    beta, err = isotope_exponent(2.0, 0.0, 1.0, 0.0, 1.0, 4.0)  # ratio 2 for mass ratio 4: β = 1/2 (Graham)
    assert beta == pytest.approx(0.5) and err == 0.0
    # still importable from where the Arrhenius fits live
    assert arrhenius.isotope_exponent is isotope_exponent and arrhenius.effective_diffusivity is effective_diffusivity


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="grain size"):
        effective_diffusivity(1e-15, 1e-10, 1e-10, 1e-9)
    with pytest.raises(ValueError, match="grain_size_m must be > 0"):
        effective_diffusivity(1e-15, 1e-10, 0.0)
    with pytest.raises(ValueError, match="D_gb_stderr_m2_per_s must be finite and >= 0"):
        effective_diffusivity(1e-15, 1e-10, 1e-4, D_gb_stderr_m2_per_s=-1.0)
    with pytest.raises(ValueError, match="must exceed m_light_amu"):
        isotope_exponent(1e-9, 1e-11, 1e-9, 1e-11, 4.0, 3.0)
    with pytest.raises(ValueError, match="D_heavy_m2_per_s must be a finite number > 0"):
        isotope_exponent(1e-9, 1e-11, 0.0, 1e-11, 3.0, 4.0)
