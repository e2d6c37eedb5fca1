"""Green–Kubo coefficients: a published reference (sportran silica), analytic Ornstein–Uhlenbeck
processes, calibration of the cepstral error bar, multicomponent decorrelation, Haven ratio."""


import numpy as np
import pytest

from datafiles import data_path
from deepearth.properties.greenkubo import autocorrelation, cepstral_estimate, running_integral
from deepearth.properties.transport import (
    ionic_conductivity,
    nernst_einstein_conductivity,
    thermal_conductivity,
    traceless_shear_components,
    viscosity,
)
from deepearth.units import KB_EV_PER_K


def ou_process(n: int, n_comp: int, dt: float, tau: float, sigma: float, rng) -> np.ndarray:
    """Exact Ornstein–Uhlenbeck samples: ACF σ² exp(−t/τ), so S(0) = 2 σ² τ."""
    a = np.exp(-dt / tau)
    noise = rng.standard_normal((n, n_comp)) * sigma * np.sqrt(1 - a * a)
    x = np.empty((n, n_comp))
    x[0] = rng.standard_normal(n_comp) * sigma
    for i in range(1, n):
        x[i] = a * x[i - 1] + noise[i]
    return x


def test_silica_thermal_conductivity_matches_published_cepstral_value():
    data = np.loadtxt(data_path("sportran-silica", "Silica.dat"), skiprows=6)
    temperature, flux = data[:, 0].mean(), data[:, 1:4]
    ref, ref_err = 2.205, 0.215  # Ercole et al. 2017 / sportran 1.0.0rc4, f* = 28 THz, K* = 33
    res = thermal_conductivity(flux, dt_ps=0.001, volume_A3=3130.431110818, temperature_K=temperature, fstar_THz=28.0)
    assert res.unit == "W/m/K" and res.cutoff_K == 33  # the AIC minimum sportran finds
    assert abs(res.value - ref) < ref_err
    assert ref_err <= res.stderr < 1.3 * ref_err  # Akaike averaging adds the cutoff-choice spread
    single = cepstral_estimate(flux, 0.001, fstar_THz=28.0, cutoff_K=33)  # sportran's own estimator
    kappa_per_s0 = res.value / cepstral_estimate(flux, 0.001, fstar_THz=28.0).S0
    assert single.S0 * kappa_per_s0 == pytest.approx(ref, rel=0.01)
    assert single.S0_stderr * kappa_per_s0 == pytest.approx(ref_err, rel=0.01)
    auto = thermal_conductivity(flux, dt_ps=0.001, volume_A3=3130.431110818, temperature_K=temperature)
    assert 20 < auto.fstar_THz < 35 and abs(auto.value - ref) < ref_err
    assert all(abs(s["value"] - ref) < 2 * ref_err for s in auto.fstar_scan)


def test_ou_process_gk_integral_and_error_calibration():
    """S(0) = 2σ²τ exactly; the 1σ cepstral bar must cover the truth ≈ 68 % of the time."""
    dt, tau, sigma = 0.01, 0.2, 1.5
    truth = 2 * sigma**2 * tau
    rng = np.random.default_rng(7)
    x = ou_process(200_000, 3, dt, tau, sigma, rng)
    est = cepstral_estimate(x, dt)
    assert abs(est.S0 - truth) < 3 * est.S0_stderr and est.S0_stderr / truth < 0.05
    integral = running_integral(autocorrelation(x), dt)
    assert 2 * integral[int(10 * tau / dt)] == pytest.approx(truth, rel=0.05)
    hits = []
    for seed in range(120):
        e = cepstral_estimate(ou_process(8000, 3, dt, tau, sigma, np.random.default_rng(seed)), dt, fstar_THz=10.0)
        hits.append(abs(np.log(truth) - e.log_S0) < e.log_S0_stderr)
    assert 0.56 <= np.mean(hits) <= 0.80


def test_multicomponent_decorrelation_removes_the_mass_flux_contribution():
    """J = A + 3M with A, M independent: the decorrelated coefficient is that of A alone."""
    rng = np.random.default_rng(3)
    dt = 0.01
    a = ou_process(100_000, 3, dt, 0.1, 1.0, rng)
    m = ou_process(100_000, 3, dt, 0.5, 1.0, rng)
    kw = dict(dt_ps=dt, volume_A3=1.0, temperature_K=1.0, units="lj")
    plain = thermal_conductivity(a + 3 * m, **kw)
    decorrelated = thermal_conductivity(a + 3 * m, extra_fluxes=[m], **kw)
    truth_a = 2 * 0.1 / 2  # S_A(0)/(2 V T²) with S_A(0) = 2σ²τ
    assert abs(decorrelated.value - truth_a) < 3 * decorrelated.stderr
    assert plain.value > 20 * truth_a  # 9·2·0.5/2 = 4.5 from M
    assert decorrelated.n_fluxes == 2 and "Bertossa" in decorrelated.method


def test_traceless_components_are_independent_and_equivalent_for_isotropic_stress():
    rng = np.random.default_rng(1)
    g = rng.standard_normal((200_000, 3, 3))
    sym = (g + g.transpose(0, 2, 1)) / 2 + 5.0 * np.eye(3)  # isotropic fluctuations about a pressure
    p6 = np.stack([sym[:, 0, 0], sym[:, 1, 1], sym[:, 2, 2], sym[:, 0, 1], sym[:, 0, 2], sym[:, 1, 2]], axis=1)
    cov = np.cov(traceless_shear_components(p6).T)
    assert np.allclose(np.diag(cov), 0.5, rtol=0.02)
    assert np.allclose(cov - np.diag(np.diag(cov)), 0.0, atol=0.01)


def test_viscosity_units_and_value_for_known_spectrum():
    """Each shear component an OU process in bar: η = V·2σ²τ/(2 k_B T), converted to Pa s."""
    rng = np.random.default_rng(11)
    dt, tau, sigma = 0.002, 0.05, 200.0
    s5 = ou_process(100_000, 5, dt, tau, sigma, rng)  # the five traceless components, built back into a tensor
    xx = s5[:, 3] + s5[:, 4] / np.sqrt(3.0)
    yy = -s5[:, 3] + s5[:, 4] / np.sqrt(3.0)
    zz = -2 * s5[:, 4] / np.sqrt(3.0)
    p6 = np.stack([xx, yy, zz, s5[:, 0], s5[:, 1], s5[:, 2]], axis=1)
    assert np.allclose(traceless_shear_components(p6), s5)
    volume, temperature = 1000.0, 3000.0
    res = viscosity(p6, dt_ps=dt, volume_A3=volume, temperature_K=temperature)
    truth = volume * 1e-30 * (sigma * 1e5) ** 2 * tau * 1e-12 / (KB_EV_PER_K * 1.602176634e-19 * temperature)
    assert res.unit == "Pa s" and abs(res.value - truth) < 3 * res.stderr and res.stderr < 0.05 * truth


def test_ionic_conductivity_of_independent_ions_has_haven_ratio_one():
    """Uncorrelated ions: σ = σ_NE, H = 1. Velocities OU with D = σ_v² τ per component."""
    rng = np.random.default_rng(5)
    n_ions, dt, tau, sv = 20, 0.005, 0.05, 3.0
    v = ou_process(40_000, 3 * n_ions, dt, tau, sv, rng).reshape(-1, n_ions, 3)
    charges = np.array([1.0, -1.0] * (n_ions // 2))
    d_m2_s = sv**2 * tau * 1e-8
    volume, temperature = 2000.0, 2500.0
    ne = nernst_einstein_conductivity({"Na": d_m2_s, "Cl": d_m2_s}, {"Na": 10, "Cl": 10}, {"Na": 1.0, "Cl": -1.0},
                                      volume, temperature)
    res = ionic_conductivity(v, dt, volume, temperature, charges=charges, nernst_einstein_S_per_m=ne)
    assert res.unit == "S/m"
    assert abs(res.extra["haven_ratio"] - 1.0) < 3 * res.extra["haven_ratio_stderr"]
    assert res.extra["haven_ratio_stderr"] < 0.1


def _noise(*shape):
    return np.random.default_rng(0).standard_normal(shape)


@pytest.mark.parametrize("call, message", [
    (lambda: thermal_conductivity(np.zeros((10, 3)), 0.001, 1.0, 1.0), "10 samples; at least 16 needed"),
    (lambda: thermal_conductivity(np.full((100, 3), np.nan), 0.001, 1.0, 1.0), "NaN"),
    (lambda: thermal_conductivity(np.zeros((100, 2)), 0.001, 1.0, 1.0), "shape"),
    (lambda: thermal_conductivity(np.ones((100, 3)), -1.0, 1.0, 1.0), "dt_ps"),
    (lambda: viscosity(np.ones((100, 3)), 0.001, 1.0, 1.0), "xx yy zz|shape"),
    (lambda: ionic_conductivity(np.ones((100, 4, 3)), 0.001, 1.0, 1.0), "without charges"),
    (lambda: thermal_conductivity(np.ones((100, 3)), 0.001, 1.0, 1.0, units="real"), "units"),
    (lambda: thermal_conductivity(_noise(100, 3), 0.001, 1.0, 1.0, extra_fluxes=[_noise(100, 3)] * 3),
     "decorrelated"),
])
def test_bad_input_gives_one_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_nonzero_mean_flux_is_flagged():
    rng = np.random.default_rng(2)
    x = ou_process(50_000, 3, 0.01, 0.1, 1.0, rng) + 0.5
    res = thermal_conductivity(x, 0.01, 1.0, 1.0, units="lj")
    assert res.warnings and "mean flux" in res.warnings[0]
