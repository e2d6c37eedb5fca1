"""W-isotope exchange across the CMB: equation limits and the W paper's statements (SCIENCE.md §5)."""

import numpy as np
import pytest
from scipy.integrate import quad

from deepearth.geophysics import w_isotopes as w
from deepearth.units import YEAR_S

T = w.EARTH_AGE_S


def test_effective_diffusivity_eq5():
    assert w.effective_diffusivity(1e-20, 1e-12, 1e-4) == pytest.approx(1e-20 + 3e-9 / 1e-4 * 1e-12)
    assert w.effective_diffusivity(1e-20, 0.0, 1e-4) == 1e-20
    with pytest.raises(ValueError, match="grain_size_m must be > 0"):
        w.effective_diffusivity(1e-20, 1e-12, -1e-4)


def test_profile_limits():
    assert w.profile_mu182w(0.0, 1e-15) == pytest.approx(-220.0)  # the CMB stays core-equilibrated
    assert w.profile_mu182w(1e5, 1e-15) == pytest.approx(0.0, abs=1e-12)  # far above: ambient mantle
    assert w.profile_mu182w(10.0, 0.0) == 0.0 and w.profile_mu182w(0.0, 0.0) == -220.0  # D = 0: a step
    assert w.profile_mu182w(10.0, 1e-15, time_s=0.0) == 0.0  # t = 0


def test_pgz_average_matches_numerical_integral():
    D, h = 3e-15, 2000.0
    numeric = quad(lambda y: w.profile_mu182w(y, D), 0, h, points=[50, 200])[0] / h
    assert w.pgz_mu182w(h, D) == pytest.approx(numeric, rel=1e-8)
    assert w.pgz_mu182w(h, 0.0) == 0.0


def test_paper_diffusion_lengths():
    assert w.diffusion_length_m(6.2e-15, T) == pytest.approx(30.0, rel=0.02)  # "L ≈ 30 m"
    # W in (Mg,Fe)O liquid at 5000 K, 140 GPa: D = 2.19e-9 m²/s -> ≈ 18 km over 4.5 Gyr
    assert w.diffusion_length_m(2.19e-9, 4.5e9 * YEAR_S) / 1e3 == pytest.approx(18.0, rel=0.03)


def test_paper_oib_statements():
    for D in (5.0e-16, 6.2e-15):  # GB-assisted D_eff at 4000-5000 K, 140 GPa, 0.1 mm grains
        for h in (5e3, 1e4, 5e4):
            assert -0.2 < w.oib_mu182w(D, h) < 0.0  # "within 0.2 in μ182W", h ≥ 5 km
    # upper bound with the liquid-like D_eff = 7.1e-14 m²/s: "still within 0.55" at h = 5 km
    assert w.oib_mu182w(7.1e-14, 5e3) == pytest.approx(-0.55, abs=0.01)
    assert w.oib_mu182w(7.1e-14, 5e3) > w.oib_mu182w(7.1e-14, 1e3)  # thinner PGZ, larger deficit


def test_entrainment_and_mixing():
    assert w.entrainment_ratio(1.0, 3.0) == pytest.approx(1 / 9)  # R_max = 11 % <-> 1 : 8
    assert w.oib_mu182w(1e-15, 5e3, pgz_fraction=0.0) == 0.0
    assert w.oib_mu182w(1e-15, 5e3, pgz_fraction=1.0) == pytest.approx(w.pgz_mu182w(5e3, 1e-15))
    with pytest.raises(ValueError, match="pgz_fraction"):
        w.oib_mu182w(1e-15, 5e3, pgz_fraction=1.5)


def test_monte_carlo_propagation_of_a_known_gaussian():
    """log L = (log D + log t)/2 is linear in log D: its spread must be exactly half of log D's."""
    res = w.propagate_lognormal_D(lambda d: np.log10(w.diffusion_length_m(d)), 1e-15, 0.4, n_samples=40000)
    assert res.std == pytest.approx(0.2, rel=0.02)
    assert res.median == pytest.approx(np.log10(w.diffusion_length_m(1e-15)), abs=0.01)
    assert res.upper - res.lower == pytest.approx(2 * 1.96 * 0.2, rel=0.03)


def test_mu182w_from_arrhenius_fit_propagates_a_known_gaussian_uncertainty():
    """D_GB from an Arrhenius fit with a known ln D covariance: the MC spread of ln D_eff (lattice 0)
    must equal the linear propagation σ²_lnD = gᵀCg, and μ182W follow D monotonically."""
    from deepearth.properties import arrhenius_fit

    T = np.array([2000.0, 2500.0, 3000.0, 3500.0])
    D = 1e-6 * np.exp(-200e3 / (8.314462618 * T))
    fit = arrhenius_fit(T, D, 0.1 * D, scale_covariance="never")  # noiseless: σ from the given errors only
    res = w.oib_mu182w_from_arrhenius(fit, T_K=4000.0, P_GPa=None, pgz_height_m=5e3, grain_size_m=1e-4,
                                      n_samples=40000)
    lin = fit.predict(4000.0)
    f = 3 * 1e-9 / 1e-4
    assert res["D_eff_m2_per_s"].median == pytest.approx(f * lin.D_m2_per_s, rel=0.01)
    expected_hi = f * lin.D_m2_per_s * np.exp(1.959964 * lin.lnD_stderr)
    assert res["D_eff_m2_per_s"].upper == pytest.approx(expected_hi, rel=0.02)
    mu = res["oib_mu182w"]
    assert mu.lower < mu.median < mu.upper < 0  # faster diffusion → more negative; all below ambient 0
    assert mu.median == pytest.approx(w.oib_mu182w(f * lin.D_m2_per_s, 5e3), rel=0.01)
