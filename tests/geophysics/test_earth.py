"""Earth conditions: PREM against Dziewonski & Anderson (1981), geotherms, SCIENCE.md §6, deviations
from PREM with their error propagation, and the SLB2011 periclase BM3 check (SCIENCE.md §4)."""

import json
import math

import numpy as np
import pytest

from deepearth.geophysics import earth as e
from deepearth.geophysics.earth.geotherms import burnman_geotherm
from deepearth.geophysics.earth.prem import prem_model

# Dziewonski & Anderson (1981) Table II (isotropic PREM): depth km -> (side, P GPa, ρ kg/m³, V_P, V_S km/s)
PUBLISHED = [
    (670.0, "above", 23.83, 3992.14, 10.26622, 5.57020),
    (670.0, "below", 23.83, 4380.71, 10.75131, 5.94508),
    (2891.0, "above", 135.75, 5566.45, 13.71660, 7.26466),
    (2891.0, "below", 135.75, 9903.49, 8.06482, 0.0),
    (5149.5, "above", 328.85, 12166.34, 10.35568, 0.0),
    (5149.5, "below", 328.85, 12763.60, 11.02827, 3.50432),
    (6371.0, "below", 363.85, 13088.48, 11.26620, 3.66780),
]


@pytest.mark.parametrize("depth, side, P, rho, vp, vs", PUBLISHED)
def test_prem_matches_dziewonski_anderson_1981(depth, side, P, rho, vp, vs):
    z = depth - 1e-6 if side == "above" else min(depth + 1e-6, e.EARTH_RADIUS_KM)
    prof = e.prem_profile([z], geotherm=None)
    assert prof.P_GPa[0] == pytest.approx(P, abs=0.01)
    assert prof.rho_kg_m3[0] == pytest.approx(rho, abs=0.05)
    assert prof.vp_km_s[0] == pytest.approx(vp, abs=1e-4)
    assert prof.vs_km_s[0] == pytest.approx(vs, abs=1e-4)
    assert prof.radius_km[0] == pytest.approx(e.EARTH_RADIUS_KM - z)


def test_prem_gravity_matches_published():
    prof = e.prem_profile([0.0, 2891.0, 5149.5, 6371.0], geotherm=None)
    # PREM: 9.82 (surface; BurnMan's table has crust in place of the ocean), 10.68 (CMB), 4.40 (ICB), 0
    assert prof.g_m_s2 == pytest.approx([9.82, 10.68, 4.40, 0.0], rel=2e-3, abs=1e-9)
    # near the centre g = (4/3) π G ρ r (burnman-cpp's own PREM.gravity is 50 % high at r = 100 km)
    r_km = np.array([10.0, 100.0, 300.0])
    g = e.prem_profile(e.EARTH_RADIUS_KM - r_km, geotherm=None).g_m_s2
    assert g == pytest.approx(4 / 3 * np.pi * 6.6743e-11 * 13088.48 * r_km * 1e3, rel=2e-3)


def test_hydrostatic_consistency():
    """PREM's tabulated P against ∫ρg dz (g integrated from ρ): locally dP/dz = ρg between the table
    nodes, and cumulatively to 0.3 % below the top 3 km (where BurnMan's table keeps PREM's ocean
    pressure but has crustal density)."""
    m = prem_model()
    zt, pt = np.asarray(m.table_depth) / 1e3, np.asarray(m.table_pressure) / 1e9
    z = np.unique(np.concatenate([np.linspace(0.0, e.EARTH_RADIUS_KM, 20001), zt - 1e-6, zt + 1e-6])
                  .clip(0.0, e.EARTH_RADIUS_KM))
    p = e.prem_profile(z, geotherm=None)
    rg = p.rho_kg_m3 * p.g_m_s2
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (rg[1:] + rg[:-1]) * np.diff(z) * 1e3)]) / 1e9
    node = np.interp(zt, z, cum)
    deep = zt > 3.0
    assert pt[deep] - pt[deep][0] == pytest.approx(node[deep] - node[deep][0], rel=3e-3, abs=2e-3)  # P tabulated to 0.1 kbar
    assert pt[-1] == pytest.approx(e.PREM_MAX_PRESSURE_GPA) and node[-1] == pytest.approx(pt[-1], rel=3e-3)
    checked = 0
    for i in range(zt.size - 1):  # every table interval of > 1 km: ΔP = ∫ρg dz to 1.5 % (table rounding)
        if zt[i + 1] - zt[i] > 1.0 and zt[i] >= 3.0:
            assert pt[i + 1] - pt[i] == pytest.approx(node[i + 1] - node[i], rel=0.015), zt[i]
            checked += 1
    assert checked > 70


def test_depth_pressure_round_trip():
    rng = np.random.default_rng(1)
    z = np.sort(rng.uniform(0.0, e.EARTH_RADIUS_KM, 300))
    assert e.prem_depth_km(e.prem_pressure_GPa(z)) == pytest.approx(z, abs=1e-6)
    p = np.linspace(0.0, e.PREM_MAX_PRESSURE_GPA, 200)
    assert e.prem_pressure_GPa(e.prem_depth_km(p)) == pytest.approx(p, abs=1e-6)
    assert e.prem_depth_km(135.75) == pytest.approx(2891.0, abs=0.05)
    assert e.prem_depth_km(0.0) == 0.0 and e.prem_depth_km(363.85) == pytest.approx(6371.0)


def test_conditions_against_science_md():
    for name, (p_ref, t_ref, _) in e.SCIENCE_MD_CONDITIONS.items():
        c = e.conditions(name)
        assert c.P_GPa == pytest.approx(p_ref, rel=0.015), name  # 23.83, 135.75, 328.85, 363.85 GPa
        assert c.depth_km == e.CONDITION_DEPTH_KM[name]
    assert e.conditions("660").T_K == pytest.approx(1839.0, abs=150)  # §6 "≈"; anzellini2013 ≈ 1944 K
    cmb = e.conditions("CMB")
    assert cmb.T_K == pytest.approx(4100.0, rel=0.02)
    assert (cmb.rho_above_kg_m3, cmb.rho_below_kg_m3) == pytest.approx((5566.45, 9903.49), abs=0.05)
    assert (cmb.vp_above_km_s, cmb.vp_below_km_s) == pytest.approx((13.7166, 8.06482), abs=1e-4)
    assert (cmb.vs_above_km_s, cmb.vs_below_km_s) == pytest.approx((7.26466, 0.0), abs=1e-4)
    assert e.conditions("ICB").T_K > 5400.0
    centre = e.conditions("center")
    assert centre.rho_below_kg_m3 == pytest.approx(13088.48) and centre.g_m_s2 == 0.0
    assert centre.T_K > e.conditions("ICB").T_K
    json.dumps(cmb.to_dict())
    with pytest.raises(ValueError, match="unknown condition"):
        e.conditions("moho")


def test_geotherms_metadata_and_ranges():
    for name, info in e.GEOTHERMS.items():
        gt = burnman_geotherm(name)
        if info.indexed_by == "depth":
            assert float(gt.minimum_depth) / 1e3 == info.min_depth_km
            assert float(gt.maximum_depth) / 1e3 == info.max_depth_km
        t = e.geotherm_K(np.linspace(max(info.min_depth_km, 300.0), min(info.max_depth_km, 2800.0), 30), name)
        assert np.all(np.isfinite(t)) and np.all((t > 1000) & (t < 4500))
    assert e.geotherm_K(1000.0, "Brown-Shankland") == pytest.approx(e.geotherm_K(1000.0, "brown_shankland"))
    with pytest.raises(ValueError, match="katsura2022.*2800"):
        e.geotherm_K(2891.0, "katsura2022")
    with pytest.raises(ValueError, match="270"):
        e.geotherm_K(100.0, "brown_shankland")
    with pytest.raises(ValueError, match="unknown geotherm"):
        e.geotherm_K(100.0, "hot")
    with pytest.raises(ValueError, match="depth_km"):
        e.geotherm_K(6400.0)
    with pytest.raises(ValueError, match="extend_inner_core"):
        e.geotherm_K(6371.0, extend_inner_core=False)
    prof = e.prem_profile([100.0, 1000.0], geotherm="brown_shankland")
    assert math.isnan(prof.T_K[0]) and prof.T_K[1] > 1900 and prof.notes
    assert json.loads(json.dumps(prof.to_dict()))["T_K"][0] is None


def test_inner_core_adiabat_continuity():
    gt = burnman_geotherm("anzellini2013")
    z_end = e.prem_depth_km(float(gt.maximum_pressure) / 1e9)
    below, above = e.geotherm_K([z_end - 1e-3, z_end + 1e-3])
    assert above == pytest.approx(below, abs=0.5)  # no jump where the table ends
    t = e.geotherm_K(np.linspace(z_end, e.EARTH_RADIUS_KM, 50))
    assert np.all(np.diff(t) > 0)
    rho = e.prem_profile([z_end, e.EARTH_RADIUS_KM], geotherm=None).rho_kg_m3
    assert t[-1] == pytest.approx(t[0] * (rho[1] / rho[0]) ** e.INNER_CORE_GRUENEISEN, rel=1e-6)


def test_default_profile_has_both_sides_of_discontinuities():
    prof = e.prem_profile()
    assert prof.depth_km[0] == 0.0 and prof.depth_km[-1] == e.EARTH_RADIUS_KM
    assert np.all(np.isfinite(prof.T_K)) and prof.geotherm == "anzellini2013"
    i = np.argmin(np.abs(prof.depth_km - 2891.0))
    assert {round(x, 1) for x in prof.rho_kg_m3[i - 1:i + 2]} >= {5566.4, 9903.5}


def test_deviation_zero_for_prem_and_one_percent():
    for P in (10.0, 23.0, 60.0, 120.0, 200.0, 340.0):
        z = e.prem_depth_km(P)
        ref = e.prem_profile([z], geotherm=None)
        vs = ref.vs_km_s[0] if ref.vs_km_s[0] > 0 else None
        d = e.prem_deviation(P, ref.vp_km_s[0], vs, ref.rho_kg_m3[0])
        assert d.depth_km == pytest.approx(z, abs=1e-6)
        assert d.dlnVp_pct == pytest.approx(0.0, abs=1e-6) and d.dlnrho_pct == pytest.approx(0.0, abs=1e-6)
        if vs is not None:
            assert d.dlnVs_pct == pytest.approx(0.0, abs=1e-6)
            assert e.prem_deviation(P, vs_km_s=1.01 * vs).dlnVs_pct == pytest.approx(1.0, abs=1e-6)
        else:
            assert math.isnan(d.dlnVs_pct)
    d = e.prem_deviation(60.0, vp_km_s=11.0, vp_err=0.11)
    assert d.dlnVp_err_pct == pytest.approx(100 * 0.11 / d.vp_prem_km_s)
    assert math.isnan(d.dlnVs_pct) and math.isnan(d.dlnrho_pct)
    json.dumps(d.to_dict())


def test_deviation_sides_of_the_cmb():
    mantle = e.prem_deviation(135.75, 13.7166, 7.26466, 5566.45)
    core = e.prem_deviation(135.75, 8.06482, None, 9903.49, side="below")
    assert mantle.rho_prem_kg_m3 == pytest.approx(5566.45, abs=0.01) and mantle.dlnrho_pct == pytest.approx(0, abs=1e-5)
    assert core.rho_prem_kg_m3 == pytest.approx(9903.49, abs=0.01) and core.dlnVp_pct == pytest.approx(0, abs=1e-5)
    liquid = e.prem_deviation(135.75, vs_km_s=0.0, side="below")
    assert math.isnan(liquid.dlnVs_pct) and "outer core" in liquid.notes[0]


def test_deviation_error_propagation_monte_carlo():
    P0, sP, sv = 60.0, 2.0, 0.05
    vs0 = 1.01 * e.prem_deviation(P0, vs_km_s=6.5).vs_prem_km_s
    d = e.prem_deviation(P0, vs_km_s=vs0, vs_err=sv, P_err=sP, rho_kg_m3=4700.0, rho_err=20.0)
    rng = np.random.default_rng(7)
    n = 3000
    ps, vs, rho = P0 + sP * rng.standard_normal(n), vs0 + sv * rng.standard_normal(n), 4700 + 20 * rng.standard_normal(n)
    mc = np.array([[x.dlnVs_pct, x.dlnrho_pct] for x in
                   (e.prem_deviation(p, vs_km_s=v, rho_kg_m3=r) for p, v, r in zip(ps, vs, rho))])
    assert mc[:, 0].std(ddof=1) == pytest.approx(d.dlnVs_err_pct, rel=0.06)
    assert mc[:, 1].std(ddof=1) == pytest.approx(d.dlnrho_err_pct, rel=0.06)
    assert mc[:, 0].mean() == pytest.approx(d.dlnVs_pct, abs=3 * d.dlnVs_err_pct / math.sqrt(n))
    # the pressure term matters here: without it the error would be clearly smaller
    assert d.dlnrho_err_pct > 1.3 * 100 * 20.0 / d.rho_prem_kg_m3


def test_deviation_bad_input():
    with pytest.raises(ValueError, match="P_GPa"):
        e.prem_deviation(-1.0, vp_km_s=10.0)
    with pytest.raises(ValueError, match="P_GPa"):
        e.prem_deviation(364.0, vp_km_s=10.0)
    with pytest.raises(ValueError, match="P_GPa"):
        e.prem_deviation(float("nan"), vp_km_s=10.0)
    with pytest.raises(ValueError, match="vs_km_s"):
        e.prem_deviation(50.0, vs_km_s=-1.0)
    with pytest.raises(ValueError, match="vp_km_s"):
        e.prem_deviation(50.0, vp_km_s=-10.0)
    with pytest.raises(ValueError, match="rho_err"):
        e.prem_deviation(50.0, rho_kg_m3=4500.0, rho_err=-1.0)
    with pytest.raises(ValueError, match="side"):
        e.prem_deviation(50.0, vp_km_s=10.0, side="left")
    with pytest.raises(ValueError, match="at least one"):
        e.prem_deviation(50.0)
    with pytest.raises(ValueError, match="depth_km"):
        e.prem_profile([-1.0])


def test_slb2011_periclase_bm3_fit():
    fit = e.slb2011_bm3_fit("periclase", T_K=300.0)
    assert fit.V0_cm3_mol == pytest.approx(11.244, abs=5e-4)
    assert fit.K0_GPa == pytest.approx(161.4, abs=0.05)
    assert fit.K0_prime == pytest.approx(3.84, abs=0.005)
    assert fit.rms_residual_GPa < 1e-6  # at SLB's reference 300 K the isotherm is exactly BM3
    hot = e.slb2011_bm3_fit("periclase", T_K=2000.0)  # thermal pressure: larger V0, softer K0
    assert hot.V0_cm3_mol > 11.4 and hot.K0_GPa < 150.0
    with pytest.raises(ValueError, match="no mineral"):
        e.slb2011_bm3_fit("unobtainium")


def test_figures(tmp_path):
    from deepearth.report import earth_figures as f

    geotherms = e.geotherm_profiles(("anzellini2013", "brown_shankland", "katsura2022"))
    assert f.prem_figure(e.prem_profile(geotherm=None), geotherms, tmp_path / "prem.png").stat().st_size > 10_000
    devs = [e.prem_deviation(P, 12.0, 6.8, 5000.0, vp_err=0.1) for P in (40.0, 100.0)]
    assert f.deviation_figure(devs, tmp_path / "dev.png", labels=["a", "b"]).exists()
    with pytest.raises(ValueError):
        f.deviation_figure([], tmp_path / "x.png")
