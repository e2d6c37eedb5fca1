"""Single-branch Arrhenius fits (W paper eqs. 3–4) and their JSON input: physics and honest error bars."""

import json

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.optimize import curve_fit

from deepearth.properties.arrhenius import ArrheniusResult, arrhenius_fit, from_diffusion_results

R = 8.314462618  # J/mol/K
KJ_PER_EV = 96.485332  # kJ/mol per eV
ONE_SIGMA = stats.norm.cdf(1) - stats.norm.cdf(-1)  # 0.6827


def D_eq4(T, P_GPa, D0, dE_kJ, dV_cm3):
    """Eq. 4 in SI throughout: P in Pa, ΔV in m³/mol, energies in J/mol."""
    return D0 * np.exp(-(dE_kJ * 1e3 + (np.asarray(P_GPa) * 1e9) * (dV_cm3 * 1e-6)) / (R * np.asarray(T)))


# --- exact recovery --------------------------------------------------------------------------------

def test_noiseless_eq3_recovers_D0_and_dH_in_both_units():
    T = np.linspace(2000, 3500, 7)
    fit = arrhenius_fit(T, D_eq4(T, 0, 3e-5, 322.0, 0), 0.1 * D_eq4(T, 0, 3e-5, 322.0, 0))
    assert isinstance(fit, ArrheniusResult) and fit.activation_kind == "dH" and fit.dV_cm3_per_mol is None
    assert fit.D0_m2_per_s == pytest.approx(3e-5, rel=1e-9)
    assert fit.value == pytest.approx(322.0, rel=1e-10) and fit.unit == "kJ/mol"
    assert fit.activation_eV == pytest.approx(322.0 / KJ_PER_EV, rel=1e-8)
    assert fit.activation_stderr_eV == pytest.approx(fit.stderr / KJ_PER_EV, rel=1e-8)
    assert fit.chi2 == pytest.approx(0.0, abs=1e-18) and not fit.covariance_scaled
    # errors of 10 % in D on 7 points: ΔH known to roughly 10-20 kJ/mol, not 0 and not 1000
    assert 3 < fit.stderr < 40


def test_noiseless_eq4_recovers_dE_dV_across_cmb_pressures():
    rng = np.random.default_rng(3)
    T = rng.uniform(2000, 5000, 12)
    P = rng.uniform(25, 135, 12)
    D = D_eq4(T, P, 1e-7, 300.0, 1.5)
    fit = arrhenius_fit(T, D, 0.05 * D, P)
    assert fit.activation_kind == "dE" and fit.param_names == ["lnD0", "dE_kJ_per_mol", "dV_cm3_per_mol"]
    assert fit.value == pytest.approx(300.0, rel=1e-9)
    assert fit.dV_cm3_per_mol == pytest.approx(1.5, rel=1e-8)
    assert fit.D0_m2_per_s == pytest.approx(1e-7, rel=1e-8)
    dH, sdH = fit.activation_enthalpy(140.0)
    assert dH == pytest.approx(300.0 + 140 * 1.5, rel=1e-9) and sdH > 0
    # prediction outside the data (P units checked against the SI truth)
    pred = fit.predict(4500.0, 140.0)
    assert pred.D_m2_per_s == pytest.approx(D_eq4(4500.0, 140.0, 1e-7, 300.0, 1.5), rel=1e-8)
    assert pred.extrapolated and pred.D_lo_m2_per_s < pred.D_m2_per_s < pred.D_hi_m2_per_s
    # an eq. 4 fit cannot predict without a pressure
    fit = arrhenius_fit([2000.0, 3000.0, 4000.0, 3500.0], [1e-13, 1e-12, 1e-11, 4e-12], None, [20.0, 60.0, 30.0, 45.0])
    with pytest.raises(ValueError, match="give P_GPa"):
        fit.predict(3000.0)


def test_equal_pressures_give_eq3_enthalpy_at_that_pressure():
    T = np.linspace(4000, 5000, 5)
    D = D_eq4(T, 140.0, 1e-7, 300.0, 1.5)
    fit = arrhenius_fit(T, D, P_GPa=140.0)
    assert fit.activation_kind == "dH" and fit.P_GPa == 140.0
    assert fit.value == pytest.approx(300.0 + 140.0 * 1.5, rel=1e-9)  # ΔH = ΔE + PΔV, GPa·cm³/mol = kJ/mol
    with pytest.raises(ValueError, match="with_activation_volume"):
        fit.predict(4500.0, 100.0)
    # NPT-averaged pressures scattered around one target can be forced to eq. 3
    forced = arrhenius_fit(T, D, P_GPa=[139.5, 140.3, 140.1, 139.9, 140.2], fit_dV=False)
    assert forced.activation_kind == "dH" and "treated as one" in forced.method


def test_with_activation_volume_extrapolates_in_pressure_like_the_w_paper():
    """W paper eq. 5 Methods: lattice D from 25 GPa data carried to 140 GPa with an assumed ΔV = 1 cm³/mol."""
    T = np.linspace(1800, 2400, 5)
    D = D_eq4(T, 25.0, 1e-6, 400.0, 1.0)
    fit = arrhenius_fit(T, D, 0.1 * D, P_GPa=25.0)
    ext = fit.with_activation_volume(1.0, 0.5)
    assert fit.value == pytest.approx(400.0 + 25.0 * 1.0, rel=1e-9)  # ΔH at 25 GPa
    assert ext.activation_kind == "dE" and ext.value == pytest.approx(400.0, rel=1e-9)  # ΔE = ΔH − P ΔV
    p = ext.predict(4500.0, 140.0)
    assert p.D_m2_per_s == pytest.approx(D_eq4(4500.0, 140.0, 1e-6, 400.0, 1.0), rel=1e-8)
    # the ΔV uncertainty adds (P − P_ref)/(RT) · σ_ΔV in quadrature to the band
    p0 = fit.with_activation_volume(1.0, 0.0).predict(4500.0, 140.0)
    extra = (140.0 - 25.0) * 1e3 / (R * 4500.0) * 0.5
    assert p.lnD_stderr == pytest.approx(np.hypot(p0.lnD_stderr, extra), rel=1e-9)
    assert fit.with_activation_volume(1.0).predict(3000.0, 25.0).D_m2_per_s == pytest.approx(
        fit.predict(3000.0).D_m2_per_s, rel=1e-12)


# --- the covariance, by independent routes ---------------------------------------------------------

def _lnD_model2(T, lnD0, dH):
    return lnD0 - dH * 1e3 / (R * T)


def _lnD_model3(TP, lnD0, dE, dV):
    T, P = TP
    return lnD0 - (dE + P * dV) * 1e3 / (R * T)


def test_covariance_matches_curve_fit_and_polyfit():
    rng = np.random.default_rng(11)
    T = np.linspace(2000, 3500, 9)
    s = rng.uniform(0.05, 0.3, T.size)  # σ_lnD per point
    D = D_eq4(T, 0, 1e-6, 322.0, 0) * np.exp(rng.normal(0, s))
    fit = arrhenius_fit(T, D, s * D, scale_covariance="never")
    popt, pcov = curve_fit(_lnD_model2, T, np.log(D), p0=[-10, 300], sigma=s, absolute_sigma=True)
    assert np.allclose(fit.params, popt, rtol=1e-6)
    assert np.allclose(fit.covariance, pcov, rtol=1e-6)
    # polyfit in x = 1/(RT) [mol/kJ]: slope = −ΔH, intercept = ln D0; cov='unscaled' is the absolute-σ one
    x = 1e3 / (R * T)
    coef, cov = np.polyfit(x, np.log(D), 1, w=1 / s, cov="unscaled")
    assert fit.value == pytest.approx(-coef[0], rel=1e-8)
    assert fit.stderr == pytest.approx(np.sqrt(cov[0, 0]), rel=1e-8)
    assert fit.lnD0_stderr == pytest.approx(np.sqrt(cov[1, 1]), rel=1e-8)
    # default policy: scale by chi2_red only when it exceeds 1 (= curve_fit's absolute_sigma=False then)
    _, pcov_rel = curve_fit(_lnD_model2, T, np.log(D), p0=[-10, 300], sigma=s, absolute_sigma=False)
    auto = arrhenius_fit(T, D, s * D)
    expected = pcov_rel if auto.chi2_red > 1 else pcov
    assert auto.covariance_scaled == (auto.chi2_red > 1)
    assert np.allclose(auto.covariance, expected, rtol=1e-6)
    assert auto.chi2_red == pytest.approx(np.sum(((np.log(D) - _lnD_model2(T, *popt)) / s) ** 2) / 7, rel=1e-6)


def test_underestimated_errors_are_scaled_and_said_so():
    rng = np.random.default_rng(5)
    T = np.linspace(2000, 3500, 10)
    D = D_eq4(T, 0, 1e-6, 300.0, 0) * np.exp(rng.normal(0, 0.3, T.size))
    fit = arrhenius_fit(T, D, 0.03 * D)  # claimed 3 %, true scatter 30 %
    assert fit.chi2_red > 10 and fit.covariance_scaled and "scaled by chi2_red" in fit.method
    never = arrhenius_fit(T, D, 0.03 * D, scale_covariance="never")
    assert fit.stderr == pytest.approx(never.stderr * np.sqrt(fit.chi2_red), rel=1e-9)


def test_eq4_and_unweighted_covariances_match_curve_fit():
    rng = np.random.default_rng(2)
    T = rng.uniform(2500, 5000, 10)
    P = rng.uniform(25, 135, 10)
    D = D_eq4(T, P, 1e-7, 300.0, 1.5) * np.exp(rng.normal(0, 0.1, 10))
    fit = arrhenius_fit(T, D, 0.1 * D, P, scale_covariance="never")
    popt, pcov = curve_fit(_lnD_model3, (T, P), np.log(D), p0=[-15, 300, 1], sigma=np.full(10, 0.1),
                           absolute_sigma=True)
    assert np.allclose(fit.params, popt, rtol=1e-6) and np.allclose(fit.covariance, pcov, rtol=1e-5)
    # no errors: OLS with covariance from the residuals = curve_fit's default
    ols = arrhenius_fit(T, D, None, P)
    popt, pcov = curve_fit(_lnD_model3, (T, P), np.log(D), p0=[-15, 300, 1])
    assert np.allclose(ols.params, popt, rtol=1e-6) and np.allclose(ols.covariance, pcov, rtol=1e-5)
    assert not ols.weighted and np.isnan(ols.chi2_red) and "residual scatter" in ols.method


# --- calibration: do 1σ bars cover the truth 68 % of the time? --------------------------------------

def _auto_coverage(dof):
    """P(|z| < max(1, sqrt(χ²_dof/dof))): 1σ coverage when the covariance is scaled only if χ²_red > 1."""
    f = lambda c: stats.chi2.pdf(c, dof) * (2 * stats.norm.cdf(max(1.0, np.sqrt(c / dof))) - 1)  # noqa: E731
    return integrate.quad(f, 0, np.inf, limit=200)[0]


def test_error_bars_and_extrapolated_band_are_calibrated():
    n_rep, T = 500, np.linspace(2000, 3500, 10)
    s = np.linspace(0.05, 0.25, T.size)  # σ_lnD, different per point
    truth = D_eq4(T, 0, 1e-6, 322.0, 0)
    T_x, D_x = 5000.0, D_eq4(5000.0, 0, 1e-6, 322.0, 0)  # far extrapolation (CMB temperature)
    hits = {"never": np.zeros(3), "auto": np.zeros(3)}
    for seed in range(n_rep):
        D = truth * np.exp(np.random.default_rng(seed).normal(0, s))
        for mode in hits:
            fit = arrhenius_fit(T, D, s * D, scale_covariance=mode)
            lo, hi = fit.predict(T_x).D_lo_m2_per_s, fit.predict(T_x).D_hi_m2_per_s
            hits[mode] += [abs(fit.value - 322.0) < fit.stderr, abs(fit.lnD0 - np.log(1e-6)) < fit.lnD0_stderr,
                           lo < D_x < hi]
    cov_never = hits["never"] / n_rep
    cov_auto = hits["auto"] / n_rep
    assert np.all(np.abs(cov_never - ONE_SIGMA) < 0.05), cov_never
    # the default (scale when chi2_red > 1) is conservative by a predictable amount (~0.71 at 8 dof)
    assert np.all(np.abs(cov_auto - _auto_coverage(8)) < 0.05), cov_auto
    assert np.all(cov_auto >= cov_never)


def test_eq4_error_bars_are_calibrated():
    rng0 = np.random.default_rng(100)
    T = rng0.uniform(2500, 5000, 12)
    P = rng0.uniform(25, 135, 12)
    truth = D_eq4(T, P, 1e-7, 300.0, 1.5)
    hits = np.zeros(3)
    n_rep = 400
    for seed in range(n_rep):
        D = truth * np.exp(np.random.default_rng(seed).normal(0, 0.15, T.size))
        fit = arrhenius_fit(T, D, 0.15 * D, P, scale_covariance="never")
        hits += [abs(fit.value - 300.0) < fit.stderr, abs(fit.dV_cm3_per_mol - 1.5) < fit.dV_stderr_cm3_per_mol,
                 abs(fit.activation_enthalpy(135.0)[0] - 502.5) < fit.activation_enthalpy(135.0)[1]]
    assert np.all(np.abs(hits / n_rep - ONE_SIGMA) < 0.06), hits / n_rep


def test_monte_carlo_band_agrees_with_linear_band_and_is_reproducible():
    rng = np.random.default_rng(8)
    T = np.linspace(2000, 3500, 8)
    D = D_eq4(T, 0, 1e-6, 322.0, 0) * np.exp(rng.normal(0, 0.02, T.size))
    fit = arrhenius_fit(T, D, 0.02 * D)
    Tq = np.array([2500.0, 4000.0, 5000.0])
    lin = fit.predict(Tq)
    mc = fit.predict(Tq, n_samples=20000, seed=1)
    for a, b in zip(lin, mc):
        assert np.allclose(a, b, rtol=0.01)
    assert np.allclose(mc.lnD_stderr, lin.lnD_stderr, rtol=0.03)
    assert mc.samples_m2_per_s.shape == (20000, 3)
    assert np.array_equal(mc.samples_m2_per_s, fit.predict(Tq, n_samples=20000, seed=1).samples_m2_per_s)
    assert lin.lnD_stderr[2] > lin.lnD_stderr[0]  # band widens with extrapolation
    assert list(lin.extrapolated) == [False, True, True]
    assert lin.log10D_stderr[1] == pytest.approx(lin.lnD_stderr[1] / np.log(10))


# --- DiffusionResult JSON in -----------------------------------------------------------------------

def _dr(T, D, s, P=25.0, species="W", diffusive=True):
    """A dict as written by DiffusionResult.to_dict()."""
    return {"species": species, "D_m2_per_s": D, "D_stderr_m2_per_s": s, "n_replicas": 4,
            "fit_window_ps": [10.0, 500.0], "diffusive": diffusive, "method": "OLS", "D_replicas_m2_per_s": [],
            "units": "m^2/s", "T_K": T, "P_GPa": P, "sources": []}


def test_from_diffusion_results_files_and_dicts(tmp_path):
    T = [2000.0, 2250.0, 2500.0, 2750.0]
    D = list(D_eq4(np.array(T), 0, 1e-6, 322.0, 0))
    (tmp_path / "a.json").write_text(json.dumps(_dr(T[0], D[0], 0.1 * D[0])))
    (tmp_path / "b.json").write_text(json.dumps([_dr(T[1], D[1], 0.1 * D[1]), _dr(T[1], 1e-9, 1e-10, species="Mg")]))
    data = from_diffusion_results([tmp_path / "a.json", str(tmp_path / "b.json"),
                                   _dr(T[2], D[2], 0.1 * D[2]), _dr(T[3], D[3], 0.1 * D[3])], "W")
    assert list(data.T_K) == T and np.allclose(data.D_stderr_m2_per_s, 0.1 * np.array(D))
    assert list(data.P_GPa) == [25.0] * 4
    fit = arrhenius_fit(*data)
    assert fit.value == pytest.approx(322.0, rel=1e-9) and fit.P_GPa == 25.0


def test_from_diffusion_results_names_the_bad_entry(tmp_path):
    bad = tmp_path / "run3.json"
    bad.write_text(json.dumps({**_dr(3000.0, 1e-12, 1e-13), "T_K": None}))
    with pytest.raises(ValueError, match=r"run3\.json.*T_K"):
        from_diffusion_results([_dr(2000.0, 1e-13, 1e-14), bad], "W")
    with pytest.raises(ValueError, match=r"entry 1.*D_m2_per_s = 0.0"):
        from_diffusion_results([_dr(2000.0, 1e-13, 1e-14), _dr(2500.0, 0.0, 1e-14)], "W")
    with pytest.raises(ValueError, match="not diffusive"):
        from_diffusion_results([_dr(2000.0, 1e-13, 1e-14, diffusive=False)], "W")
    with pytest.raises(ValueError, match=r"species 'Pt'.*'W'"):
        from_diffusion_results([_dr(2000.0, 1e-13, 1e-14)], "Pt")
    with pytest.raises(ValueError, match="missing/non-finite for entry 1"):
        from_diffusion_results([_dr(2000.0, 1e-13, 1e-14), _dr(2500.0, 1e-12, None)], "W")


# --- bad input -------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, kwargs, message", [
    (([3000.0], [1e-12]), {}, "at least 2"),
    (([3000.0, 3500.0], [1e-12, 1e-11], None, [25.0, 135.0]), {}, "at least 3 points"),
    (([3000.0, -5.0], [1e-12, 1e-11]), {}, r"T_K\[1\] = -5"),
    (([3000.0, 3500.0], [1e-12, 0.0]), {}, r"D_m2_per_s\[1\] = 0"),
    (([3000.0, 3500.0], [1e-12, 1e-11], [1e-13, -1e-12]), {}, "must be >= 0"),
    (([3000.0, 3500.0], [1e-12, 1e-11], [1e-13, 0.0]), {}, "infinite weight"),
    (([3000.0, 3500.0, 4000.0], [1e-12, 1e-11]), {}, "T_K has 3 values but D_m2_per_s has 2"),
    (([3000.0, 3000.0, 3000.0], [1e-12, 2e-12, 3e-12]), {}, "all temperatures are equal"),
    (([2000.0, 3000.0, 4000.0], [1e-13, 1e-12, 1e-11], None, [20.0, 30.0, 40.0]), {}, "linear function of temperature"),
])
def test_bad_input_is_one_clear_error(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        arrhenius_fit(*args, **kwargs)


def test_undetermined_error_bars_are_refused_not_nan():
    # 2 points, no errors: no degrees of freedom for a covariance — refused rather than returned as nan
    with pytest.raises(ValueError, match="no degrees of freedom"):
        arrhenius_fit([2000.0, 3000.0], [1e-13, 1e-11])
    # the same in one branch of a two-branch fit
    with pytest.raises(ValueError, match="low-temperature branch.*no degrees of freedom"):
        arrhenius_fit([2000.0, 2200.0, 3000.0, 3200.0, 3400.0], [1e-13, 2e-13, 1e-11, 2e-11, 3.5e-11], break_T_K=2500.0)
    fit = arrhenius_fit([2000.0, 3000.0], [1e-13, 1e-11], [1e-14, 1e-12])  # with errors: defined
    d = json.loads(json.dumps(fit.to_dict(), allow_nan=False))
    assert d["value"] == pytest.approx(fit.value) and d["activation_stderr_kJ_per_mol"] > 0
    assert d["unit"] == "kJ/mol" and d["param_names"] == ["lnD0", "dH_kJ_per_mol"]
