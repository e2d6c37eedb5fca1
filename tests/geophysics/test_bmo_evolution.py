"""BMO thermal and magnetic evolution (BMO paper eqs. 14–18): numerics, physics, parameters, paper."""

import json
import shutil
from importlib import resources

import numpy as np
import pytest

from deepearth.geophysics import bmo_evolution as be
from deepearth.geophysics import magma_ocean as mo
from deepearth.units import GYR_S

# Paper (Results 2.3): Rm > 40 for 3.3 Gyr with Fe enrichment (MLT), 1.4 Gyr without; CIA: 1.3 Gyr shorter.
PAPER_FE_MLT, PAPER_NOFE_MLT, PAPER_CIA_SHORTENING = 3.3, 1.4, 1.3


@pytest.fixture(scope="module")
def params():
    return be.BMOParameters.from_toml()


@pytest.fixture(scope="module")
def runs(params):
    return {(fe, flow): be.evolve_bmo(params, fe_enrichment=fe, flow=flow, dt_Myr=5.0)
            for fe in (True, False) for flow in ("mlt", "cia")}


# --------------------------------------------------------------------------------------- numerics --

def test_rk4_lifetime_converged_on_halving_dt(params):
    """Halving dt (2 → 1 Myr) changes the lifetime by < 1 % (case with a genuine Rm = 40 crossing; the
    BMO without enrichment freezes before 2 Gyr, so the run stops there)."""
    a = be.evolve_bmo(params, fe_enrichment=False, dt_Myr=2.0, t_end_Gyr=2.0).dynamo_lifetime_Gyr
    b = be.evolve_bmo(params, fe_enrichment=False, dt_Myr=1.0, t_end_Gyr=2.0).dynamo_lifetime_Gyr
    assert 0.5 < a < 2.0
    assert abs(a - b) / b < 0.01


def test_rk4_is_fourth_order(params):
    """Error of the final thickness falls ~2⁴ = 16× per halving of dt (Euler would give 2×, midpoint 4×)."""
    ref = be.evolve_bmo(params, dt_Myr=10.0).thickness_km[-1]
    err = [abs(be.evolve_bmo(params, dt_Myr=dt).thickness_km[-1] - ref) for dt in (450.0, 225.0)]
    assert err[1] > 0
    assert 8.0 < err[0] / err[1] < 32.0


# ---------------------------------------------------------------------------------------- physics --

@pytest.mark.parametrize("K_D", [0.05, 0.1, 0.3, 1.0])
def test_liquidus_end_members_and_shape(K_D):
    T_mg, T_fe = 5900.0, 4000.0
    assert be.liquidus_K(0.0, T_mg, T_fe, K_D) == pytest.approx(T_mg, abs=1e-9)
    assert be.liquidus_K(1.0, T_mg, T_fe, K_D) == pytest.approx(T_fe, abs=1e-9)
    x = np.linspace(0, 1, 101)
    T = be.liquidus_K(x, T_mg, T_fe, K_D)
    assert np.all(np.diff(T) < 0)  # Fe lowers the liquidus
    # the analytic slope agrees with a finite difference
    h = 1e-6
    fd = (be.liquidus_K(0.4 + h, T_mg, T_fe, K_D) - be.liquidus_K(0.4 - h, T_mg, T_fe, K_D)) / (2 * h)
    assert be.liquidus_slope_K(0.4, T_mg, T_fe, K_D) == pytest.approx(fd, rel=1e-5)
    if K_D < 1:  # non-linear: above the linear diagram at intermediate X (Fe-poor side stays refractory)
        assert be.liquidus_K(0.5, T_mg, T_fe, K_D) > 0.5 * (T_mg + T_fe)
    else:
        assert be.liquidus_K(0.5, T_mg, T_fe, K_D) == pytest.approx(0.5 * (T_mg + T_fe))


def test_partition_coefficient_limits():
    assert be.partition_coefficient(0.0, 0.1) == pytest.approx(0.1)
    assert be.partition_coefficient(1.0, 0.1) == pytest.approx(1.0)  # pure Fe end member: X_s = X = 1


def _stored_minus_released(r, p):
    """Heat released from the state trajectory alone (J): −ΔU of BMO + core + latent + ∫H dt."""
    t = r.time_Gyr * GYR_S
    R = (p.core_radius_km + r.thickness_km) * 1e3
    M_B = 4 / 3 * np.pi * p.rho_bmo_kg_m3 * (R**3 - (p.core_radius_km * 1e3) ** 3)
    C = 0.5 * (M_B[1:] + M_B[:-1]) * p.cp_bmo_J_kg_K + p.M_core_kg * p.cp_core_J_kg_K
    cooling = -np.sum(C * np.diff(r.T_K))
    Rm, Tm = 0.5 * (R[1:] + R[:-1]), 0.5 * (r.T_K[1:] + r.T_K[:-1])
    latent = -np.sum(4 * np.pi * Rm**2 * p.rho_bmo_kg_m3 * Tm * p.dS_fusion_J_kg_K * np.diff(R))
    radiogenic = np.trapezoid(r.Q_radiogenic_TW * 1e12, t)
    return cooling, latent, radiogenic


@pytest.mark.parametrize("fe", [True, False])
def test_heat_balance_is_conserved(params, fe):
    """∫Q dt equals the change in stored heat (BMO + core) + latent heat + radiogenic heat (eq. 14)."""
    r = be.evolve_bmo(params, fe_enrichment=fe, dt_Myr=5.0)
    if r.frozen_at_Gyr is not None:  # drop the last (clamped) step at complete freezing
        r = be.BMOEvolution(**{k: (v[:-1] if isinstance(v, np.ndarray) else v) for k, v in vars(r).items()})
    cooling, latent, radiogenic = _stored_minus_released(r, params)
    out = np.trapezoid(r.Q_total_TW * 1e12, r.time_Gyr * GYR_S)
    assert out == pytest.approx(cooling + latent + radiogenic, rel=2e-3)
    assert latent > 0 and radiogenic > 0 and (cooling > 0 if fe else cooling == 0)
    # the stored term-by-term heat flows add up to the total at every step
    total = r.Q_bmo_cooling_TW + r.Q_core_cooling_TW + r.Q_radiogenic_TW + r.Q_latent_TW
    np.testing.assert_allclose(total, r.Q_total_TW, rtol=1e-9)


def test_without_fe_enrichment_x_and_t_stay_constant(runs, params):
    r = runs[(False, "mlt")]
    assert np.all(r.X_Fe == params.X0)
    assert np.ptp(r.T_K) == 0.0
    assert r.thickness_km[-1] < r.thickness_km[0]
    e = runs[(True, "mlt")]
    assert np.all(np.diff(e.X_Fe) > 0) and e.T_K[-1] < e.T_K[0] - 500  # enrichment lowers T_L


def test_rm_by_hand_for_one_state(runs, params):
    r = runs[(True, "mlt")]
    i = 700
    T, X, D = r.T_K[i], r.X_Fe[i], r.thickness_km[i] * 1e3
    R = params.core_radius_km * 1e3 + D
    sigma = mo.electrical_conductivity(params.pressure_GPa, T, X)
    F = r.Q_total_TW[i] * 1e12 / (4 * np.pi * R**2) * (params.adiabat_K_per_km * 1e-3) / (params.rho_bmo_kg_m3 * T)
    u = params.c_mlt * (F * D) ** (1 / 3)
    assert r.sigma_S_m[i] == pytest.approx(sigma, rel=1e-12)
    assert r.u_m_s[i] == pytest.approx(u, rel=1e-10)
    assert r.Rm[i] == pytest.approx(4e-7 * np.pi * u * D * sigma, rel=1e-8)
    u_cia = params.c_cia * F**0.4 * D**0.2 * params.Omega_rad_s**-0.2
    assert runs[(True, "cia")].Rm[i] == pytest.approx(4e-7 * np.pi * u_cia * D * sigma, rel=1e-8)
    # convective test: same as magma_ocean.conductive_heat_flow_W with κ_el + 4 W/m/K
    k = mo.total_thermal_conductivity(params.pressure_GPa, T, X, params.kappa_ionic_W_m_K)
    q_cond = mo.conductive_heat_flow_W(R, k, params.adiabat_K_per_km * 1e-3)
    assert r.Q_cond_TW[i] * 1e12 == pytest.approx(q_cond, rel=1e-10)


def test_fe_enrichment_lengthens_the_dynamo(runs):
    for flow in ("mlt", "cia"):
        assert runs[(True, flow)].dynamo_lifetime_Gyr > runs[(False, flow)].dynamo_lifetime_Gyr + 0.3
    assert runs[(True, "cia")].dynamo_lifetime_Gyr < runs[(True, "mlt")].dynamo_lifetime_Gyr  # CIA shortens


def test_bmo_keeps_convecting_while_molten(runs):
    """Paper (Results 2.2): Q_cond stays well below the total heat flow."""
    r = runs[(True, "mlt")]
    assert r.convects_throughout and r.convective_until_Gyr == pytest.approx(4.5)
    assert np.all(r.Q_cond_TW < 0.2 * r.Q_total_TW)


# ---------------------------------------------------------------------------- parameters and API --

def test_every_parameter_has_unit_and_source(params):
    d = params.to_dict()
    for name, entry in d.items():
        if name.startswith("_"):
            continue
        assert entry["unit"] and len(entry["source"]) > 10, name
        if entry["range"] is not None:
            assert entry["range"][0] <= entry["value"] <= entry["range"][1]
    assert params.core_radius_km == 3480.0 and params.Rm_crit == 40.0


def _edit_toml(tmp_path, old, new):
    src = resources.files("deepearth.geophysics").joinpath("data", "bmo_parameters.toml")
    text = src.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "bad_params.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize("old, new, match", [
    ("[K_D]", "[K_Dee]", r"bad_params\.toml: unknown key.*K_Dee"),
    ("[Rm_crit]\nvalue = 40.0", "[Rm_crit]\nvalu = 40.0", r"bad_params\.toml.*'Rm_crit'.*(unknown field|value)"),
    ('[T_mantle_K]\nvalue = 2600.0\nrange = [2300.0, 2900.0]\nunit = "K"',
     '[T_mantle_K]\nvalue = 2600.0\nrange = [2300.0, 2900.0]\nunit = "C"', r"bad_params\.toml.*'T_mantle_K'.*unit"),
    ("[initial_thickness_km]\nvalue = 1000.0\nrange = [750.0, 1250.0]",
     "[initial_thickness_km]\nvalue = -10.0\nrange = [-20.0, 1250.0]", r"bad_params\.toml.*'initial_thickness_km'.*positive"),
    ("[X0]\nvalue = 0.12\nrange = [0.10, 0.14]", "[X0]\nvalue = 1.2", r"bad_params\.toml.*'X0'.*\[0, 1\]"),
    ("[T_FeSiO3_K]\nvalue = 4000.0\nrange = [3500.0, 4600.0]", "[T_FeSiO3_K]\nvalue = 0.0",
     r"bad_params\.toml.*'T_FeSiO3_K'.*T <= 0"),
    ("[K_D]\nvalue = 0.1", "[K_D]\nvalue = 0.01", r"bad_params\.toml.*'K_D'.*outside its range"),
    ('source = "Turcotte & Schubert 2014, Table 4.2"', 'source = ""', r"bad_params\.toml.*'half_life.*source"),
])
def test_bad_toml_names_file_and_key(tmp_path, old, new, match):
    with pytest.raises(ValueError, match=match):
        be.BMOParameters.from_toml(_edit_toml(tmp_path, old, new))


def test_missing_key_and_bad_values_in_code(tmp_path, params):
    src = resources.files("deepearth.geophysics").joinpath("data", "bmo_parameters.toml")
    text = src.read_text(encoding="utf-8")
    start = text.index("[Omega_rad_s]")
    path = tmp_path / "missing.toml"
    path.write_text(text[:start] + text[text.index("[c_mlt]"):], encoding="utf-8")
    with pytest.raises(ValueError, match=r"missing\.toml: missing key.*Omega_rad_s"):
        be.BMOParameters.from_toml(path)
    with pytest.raises(ValueError, match="'T_mantle_K'.*liquidus"):
        params.with_values(T_mantle_K=6000.0)
    with pytest.raises(ValueError, match="flow must be"):
        be.evolve_bmo(params, flow="magic")
    shutil.copy(src, tmp_path / "ok.toml")  # a copy of the packaged file is read fine
    assert be.BMOParameters.from_toml(tmp_path / "ok.toml") == params


def test_to_dict_is_json(runs):
    d = runs[(False, "cia")].to_dict()
    s = json.dumps(d)
    assert "dynamo_lifetime_Gyr" in s and d["params"]["K_D"]["source"]
    assert len(d["Rm"]) == len(d["time_Gyr"])


def test_monte_carlo_uncertainty(params):
    a = be.dynamo_lifetime_uncertainty(params, n_samples=24, seed=3, fe_enrichment=False, dt_Myr=10.0)
    b = be.dynamo_lifetime_uncertainty(params, n_samples=24, seed=3, fe_enrichment=False, dt_Myr=10.0)
    assert a.lifetimes_Gyr == b.lifetimes_Gyr  # reproducible
    assert a.p16_Gyr < a.median_Gyr < a.p84_Gyr
    assert "Monte Carlo" in a.method and "uniformly" in a.method and "K_D" in a.sampled
    json.dumps(a.to_dict())


def test_figures_are_written(tmp_path, runs):
    from deepearth.report import bmo_figures

    res = {"Fe enrichment, MLT": runs[(True, "mlt")], "no enrichment, MLT": runs[(False, "mlt")],
           "Fe enrichment, CIA": runs[(True, "cia")]}
    paths = [bmo_figures.rm_vs_time(res, tmp_path / "rm.png"), bmo_figures.evolution_panels(res, tmp_path / "ev.png"),
             bmo_figures.heat_budget(res["Fe enrichment, MLT"], tmp_path / "q.png")]
    assert all(p.stat().st_size > 10_000 for p in paths)


# ------------------------------------------------------------------------------- vs the paper --
# Tolerance: our Table S3 is a reconstruction, and the parameters' own TOML ranges move the lifetime by
# about ±0.9 Gyr without enrichment (Monte Carlo 16–84 %: 0.98–2.72 Gyr, 300 samples) and 2.7–≥4.5 Gyr
# with it. We therefore require (i) the paper's value to lie within our 16–84 % Monte Carlo interval and
# (ii) the nominal run without enrichment within ±0.3 Gyr of 1.4 Gyr (≈ 20 %, a third of that
# half-width, so it tests the reconstructed equations rather than the parameter noise). With
# enrichment our nominal run still has Rm > 40 at t = 4.5 Gyr (crossing at ≈ 4.8 Gyr if continued),
# so only the bound "≥ paper" is asserted; the miss is reported, not hidden.


def test_lifetime_without_enrichment_vs_paper(runs):
    assert runs[(False, "mlt")].dynamo_lifetime_Gyr == pytest.approx(PAPER_NOFE_MLT, abs=0.3)


def test_lifetime_with_enrichment_vs_paper(runs):
    assert runs[(True, "mlt")].dynamo_lifetime_Gyr >= PAPER_FE_MLT


@pytest.mark.parametrize("fe, paper", [(True, PAPER_FE_MLT), (False, PAPER_NOFE_MLT)])
def test_paper_lifetime_inside_monte_carlo_interval(params, fe, paper):
    u = be.dynamo_lifetime_uncertainty(params, n_samples=48, seed=0, fe_enrichment=fe, dt_Myr=5.0)
    assert u.p16_Gyr <= paper <= u.p84_Gyr


@pytest.mark.xfail(strict=True, reason="known miss: our CIA velocities are ~5x below MLT, so CIA shortens the "
                   "Fe-enriched lifetime by > 3 Gyr, not the paper's 1.3 Gyr (prefactors/Ω not in our copy)")
def test_cia_shortening_vs_paper(runs):
    shortening = runs[(True, "mlt")].dynamo_lifetime_Gyr - runs[(True, "cia")].dynamo_lifetime_Gyr
    assert shortening == pytest.approx(PAPER_CIA_SHORTENING, abs=0.5)
