"""``deepearth analyze eos``: isothermal and P–V–T tables end to end (JSON, figures that pass the
figure checks, the one-line result), and one-line errors."""

import json

import numpy as np
import pytest
from scipy.optimize import brentq

from deepearth.cli import main
from deepearth.properties import eos
from deepearth.report.figure_checks import figure_problems
from deepearth.report.figures import capture_figures

V0, K0, K0P = 18.671, 161.4, 3.84


def write_table(path, header, columns):
    np.savetxt(path, np.column_stack(columns), header=" ".join(header))
    return path


@pytest.fixture
def pv_table(tmp_path):
    rng = np.random.default_rng(0)
    P = np.linspace(5, 140, 12)
    v = np.array([brentq(lambda x: eos.vinet_pressure(x, V0, K0, K0P) - p, 0.3 * V0, 1.3 * V0) for p in P])
    dp = 0.005 * P
    return write_table(tmp_path / "pv.dat", ["V_A3", "P_GPa", "dP"], [v, P + rng.normal(0, dp), dp])


def test_isothermal_fit_writes_json_figure_and_one_line(pv_table, tmp_path, capsys):
    out = tmp_path / "out"
    with capture_figures() as figs:
        rc = main(["analyze", "eos", str(pv_table), "--volume-column", "V_A3", "--pressure-column", "P_GPa",
                   "--stderr-columns", "P_GPa=dP", "--form", "vinet", "--out", str(out)])
    assert rc == 0
    res = json.loads((out / "eos.json").read_text())
    assert res["form"] == "vinet" and res["weighted"] and res["n_points"] == 12
    assert abs(res["K0"] - K0) < 4 * res["K0_stderr"] and abs(res["V0"] - V0) < 4 * res["V0_stderr"]
    assert res["inputs"]["stderr_columns"] == ["P_GPa=dP"] and (out / "eos.png").is_file()
    line = capsys.readouterr().out.splitlines()[0]
    assert "V0 = " in line and "K0 = " in line and "K0' = " in line and "±" in line
    assert [figure_problems(f) for f in figs] == [[]]


def test_fixed_parameter_flag(pv_table, tmp_path):
    out = tmp_path / "bm2"
    assert main(["analyze", "eos", str(pv_table), "--volume-column", "V_A3", "--pressure-column", "P_GPa",
                 "--fix", "K0_prime=4", "--out", str(out)]) == 0
    res = json.loads((out / "eos.json").read_text())
    assert res["K0_prime"] == 4.0 and res["fixed"] == {"K0_prime": 4.0} and res["K0_prime_stderr"] == 0


def test_pvt_table_one_panel_per_isotherm(tmp_path, capsys):
    """A Mie–Grüneisen-like grid: P = P_vinet(V) + γ/V (E − E_ref), γ = 1.5 (V/V0); E = 3 k_B T per atom."""
    kb = 8.617333262e-5
    rows = []
    for T in (1000.0, 2000.0, 3000.0):
        for v in np.linspace(13.5, 17.5, 6):
            gamma = 1.5 * v / V0
            e = 6 * kb * T  # per MgO (2 atoms), classical
            rows.append((v, T, eos.vinet_pressure(v, V0, K0, K0P) + gamma / v * e * 160.21766208, e))
    V, T, P, E = np.array(rows).T
    table = write_table(tmp_path / "grid.dat", ["V", "T", "P", "E"], [V, T, P, E])
    out = tmp_path / "pvt"
    with capture_figures() as figs:
        assert main(["analyze", "eos", str(table), "--volume-column", "V", "--pressure-column", "P",
                     "--energy-column", "E", "--temperature-column", "T", "--form", "vinet", "--out", str(out)]) == 0
    res = json.loads((out / "eos.json").read_text())
    assert res["T_K"] == [1000.0, 2000.0, 3000.0] and len(res["isotherms"]) == 3
    assert np.allclose(res["gamma"], 1.5 * np.asarray(res["volumes_A3"]) / V0, rtol=1e-3)
    assert (out / "eos.png").is_file() and (out / "eos_thermal.png").is_file()
    assert "at 1000 K" in capsys.readouterr().out
    assert len(figs) == 2 and all(figure_problems(f) == [] for f in figs)
    assert len([ax for ax in figs[0].axes if ax.get_visible()]) == 6  # 3 isotherms × (fit, residuals)


@pytest.mark.parametrize("extra, message", [
    (["--energy-column", "dP"], "not both"),
    (["--stderr-columns", "nope=dP"], "'nope' is not one of the value columns"),
    (["--fix", "K0prime=4"], "need one of V0, K0, K0_prime, E0"),
    (["--prior", "K0_prime=4,0.5"], "a prior needs point errors"),
])
def test_bad_flags_are_one_line(pv_table, tmp_path, capsys, extra, message):
    rc = main(["analyze", "eos", str(pv_table), "--volume-column", "V_A3", "--pressure-column", "P_GPa",
               "--out", str(tmp_path / "bad")] + extra)
    err = capsys.readouterr().err
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1, err
