"""`deepearth geo ...` end to end: JSON results, figures, bad input as one line."""

import json
from pathlib import Path

import numpy as np

from deepearth.cli import main


def test_w_isotopes_cli_reproduces_the_paper(tmp_path, capsys):
    out = tmp_path / "w"
    assert main(["geo", "w-isotopes", "--D-eff", "6.2e-15", "7.1e-14", "--pgz-height-km", "5",
                 "--out", str(out)]) == 0
    res = json.loads((out / "w_isotopes.json").read_text())
    mu = [r["oib_mu182w"]["5 km"] for r in res["results"]]
    assert -0.2 < mu[0] < 0 and abs(mu[1] + 0.55) < 0.01
    assert abs(res["results"][0]["diffusion_length_m"] - 30) < 1
    assert (out / "oib_mu182w_vs_pgz_height.png").stat().st_size > 1000


def test_w_isotopes_from_lattice_and_gb_diffusivities(tmp_path):
    out = tmp_path / "w"
    assert main(["geo", "w-isotopes", "--D-lattice", "1e-20", "--D-gb", "1e-10", "1e-9", "--grain-size-mm", "0.1",
                 "--out", str(out)]) == 0
    res = json.loads((out / "w_isotopes.json").read_text())
    assert abs(res["results"][0]["D_eff_m2_per_s"] / (1e-20 + 3e-9 / 1e-4 * 1e-10) - 1) < 1e-12
    assert (out / "distance_vs_grain_size.png").is_file()


def test_bmo_conductivity_cli_flags_extrapolation_and_bad_x(tmp_path, capsys):
    assert main(["geo", "bmo-conductivity", "--P", "300", "--T", "5000", "--X", "0.1", "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "bmo_conductivity.json").read_text())
    assert res["sigma_el_S_per_m"] > 0 and any("extrapolation" in w for w in res["warnings"])
    capsys.readouterr()
    assert main(["geo", "bmo-conductivity", "--P", "130", "--T", "5000", "--X", "1.3"]) == 2
    assert "X = Fe/(Fe+Mg) must be in [0, 1], got 1.3" in capsys.readouterr().err


def test_geo_w_isotopes_from_an_arrhenius_result_file(tmp_path):
    from deepearth.properties import arrhenius_fit

    T = np.array([2000.0, 2500.0, 3000.0, 3500.0])
    D = 1e-6 * np.exp(-200e3 / (8.314462618 * T))
    fit_file = tmp_path / "gb.json"
    fit_file.write_text(json.dumps(arrhenius_fit(T, D, 0.1 * D).to_dict()))
    out = tmp_path / "geo"
    assert main(["geo", "w-isotopes", "--arrhenius-gb", str(fit_file), "--T-K", "4000", "--pgz-height-km", "5",
                 "--out", str(out)]) == 0
    res = json.loads((out / "w_isotopes.json").read_text())
    row = res["results"][0]
    assert res["extrapolated"] is True
    assert row["D_eff_m2_per_s"]["lower"] < row["D_eff_m2_per_s"]["median"] < row["D_eff_m2_per_s"]["upper"]
    assert row["oib_mu182w"]["median"] < 0
    assert main(["geo", "w-isotopes", "--arrhenius-gb", str(fit_file), "--out", str(out)]) == 2  # no --T-K


def test_prem_cli_profile_conditions_and_deviation(tmp_path, capsys):
    """PREM at the CMB (Dziewonski & Anderson 1981: 135.75 GPa); a computed V_S 1 % above PREM's reads +1 %."""
    out = tmp_path / "prem"
    vs_cmb = 7.26466 * 1.01
    assert main(["geo", "prem", "--step-km", "100", "--out", str(out),
                 "--compare", f"P=135.751,vs={vs_cmb},vs_err=0.0726466"]) == 0
    res = json.loads((out / "prem.json").read_text())
    assert abs(res["conditions"]["CMB"]["P_GPa"] - 135.75) < 0.01
    assert len(res["profile"]["depth_km"]) == 64
    dev = res["deviations"][0]
    assert abs(dev["dlnVs_pct"] - 1.0) < 1e-3 and abs(dev["dlnVs_err_pct"] - 1.0) < 1e-3
    assert (out / "prem.png").stat().st_size > 1000 and (out / "prem_deviation.png").is_file()
    assert main(["geo", "prem", "--out", str(out), "--compare", "vs=7"]) == 2
    assert "needs P=" in capsys.readouterr().err


def test_bmo_evolution_cli_four_cases_with_mc_spread(tmp_path, capsys):
    """The four standard cases; Fe enrichment lengthens the dynamo, CIA shortens it; bad TOML is one line."""
    out = tmp_path / "bmo"
    assert main(["geo", "bmo-evolution", "--dt-Myr", "5", "--mc-samples", "4", "--out", str(out)]) == 0
    res = json.loads((out / "bmo_evolution.json").read_text())
    life = {(c["fe_enrichment"], c["flow"]): c["dynamo_lifetime_Gyr"] for c in res["cases"]}
    assert life[(True, "mlt")] > life[(False, "mlt")] and life[(True, "mlt")] > life[(True, "cia")]
    assert abs(life[(False, "mlt")] - 1.4) < 0.3  # the paper's no-enrichment lifetime (test_bmo_evolution explains)
    assert all("Monte Carlo" in c["lifetime_uncertainty"]["method"] for c in res["cases"])
    assert all(Path(f).is_file() for f in res["figures"]) and (out / "bmo_evolution_fe_mlt.json").is_file()
    bad = tmp_path / "bad.toml"
    bad.write_text("[X0]\nvalue = 2.0\nunit = '1'\nsource = 'test'\n")
    assert main(["geo", "bmo-evolution", "--parameters", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and len(err.strip().splitlines()) == 1


def test_geo_recipe_runs_every_model_and_names_bad_keys(tmp_path, capsys):
    recipe = tmp_path / "geo.toml"
    recipe.write_text('[w_isotopes]\nD_eff = [6.2e-15]\npgz_height_km = [5]\n\n'
                      '[bmo-conductivity]\nP = 130.0\nT = 5000.0\nX = 0.3\n\n[prem]\nstep_km = 500\n')
    out = tmp_path / "out"
    assert main(["geo", "recipe", str(recipe), "--out", str(out)]) == 0
    w = json.loads((out / "w-isotopes" / "w_isotopes.json").read_text())
    assert -0.2 < w["results"][0]["oib_mu182w"]["5 km"] < 0
    assert (out / "bmo-conductivity" / "bmo_conductivity.json").is_file() and (out / "prem" / "prem.png").is_file()
    capsys.readouterr()
    recipe.write_text("[prem]\nstep_km = 'x'\n")
    assert main(["geo", "recipe", str(recipe), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "[prem]" in err and "step-km" in err and len(err.strip().splitlines()) == 1
    recipe.write_text("[mars]\nx = 1\n")
    assert main(["geo", "recipe", str(recipe), "--out", str(out)]) == 2
    assert "[mars] is not a geophysics model" in capsys.readouterr().err
