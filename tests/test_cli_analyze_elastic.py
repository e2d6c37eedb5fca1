"""``deepearth analyze elastic`` (issue 15) end to end: a published Cij table, a 12-row table, stress
series in the layout the MD workflow writes (ASE and LAMMPS sign/units), the figure's checks, and
one-line refusals."""

import json

import numpy as np
import pytest

from deepearth.cli import main
from deepearth.pipeline.elastic_md import write_stress_series
from deepearth.properties import elastic
from deepearth.report.figure_checks import figure_problems
from deepearth.report.figures import capture_figures

ZHANG = {"C11": 829.78, "C22": 1014.62, "C33": 953.82, "C12": 476.66, "C13": 366.45, "C23": 415.14,
         "C44": 297.22, "C55": 247.61, "C66": 263.62}


def test_published_table_as_named_constants(tmp_path, capsys):
    path = tmp_path / "bdg.json"
    path.write_text(json.dumps({**ZHANG, **{f"{k}_stderr": 5.0 for k in ZHANG}}))
    with capture_figures() as figs:
        rc = main(["analyze", "elastic", "--cij", str(path), "--symmetry", "orthorhombic", "--density-kg-m3",
                   "5145.41", "--pressure-GPa", "100.32", "--temperature-K", "2500", "--out", str(tmp_path)])
    assert rc == 0
    res = json.loads((tmp_path / "elastic.json").read_text())
    assert res["moduli"]["K_voigt"] == pytest.approx(590.53, abs=0.006)
    assert res["moduli"]["Vs_voigt"] == pytest.approx(7.17, abs=0.005)
    assert res["moduli_stderr"]["K_vrh"] > 0 and res["symmetry"] == "orthorhombic"
    assert res["inputs"]["symmetry"] == "orthorhombic" and (tmp_path / "elastic.png").is_file()
    out = capsys.readouterr().out
    assert out.startswith("K_VRH = 587.0 ± ") and "V_S = 7.141 ± " in out and "T = 2500 K" in out
    assert len(figs) == 1 and figure_problems(figs[0]) == []
    # the written elastic.json reads back as a --cij file (density, P, T from it)
    rc = main(["analyze", "elastic", "--cij", str(tmp_path / "elastic.json"), "--out", str(tmp_path / "again")])
    again = json.loads((tmp_path / "again" / "elastic.json").read_text())
    assert rc == 0 and again["moduli"] == res["moduli"] and again["pressure_GPa"] == 100.32


def test_twelve_row_table_with_errors(tmp_path):
    c = elastic.from_independent("cubic", [300.0, 130.0, 150.0])
    table = tmp_path / "cij.txt"
    np.savetxt(table, np.vstack([c, np.where(c != 0, 2.0, 0.0)]), header="Cij (GPa), then their errors")
    assert main(["analyze", "elastic", "--cij", str(table), "--density-kg-m3", "3580", "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "elastic.json").read_text())
    assert res["moduli"]["A_universal"] > 0 and res["C_stderr_GPa"][0][0] == 2.0


def write_series(folder, c, p0=140.0, noise=0.5, n=400, compressive_bar=False, seed=0):
    """Stress series of ± 1 % strains on a cubic crystal at pressure p0 (GPa), white noise, in the
    MD workflow's layout (or as a LAMMPS pressure tensor in bar)."""
    rng = np.random.default_rng(seed)
    folder.mkdir()
    paths = []
    for k, e in enumerate(elastic.strain_set(0.01)):
        sigma = np.array([-p0] * 3 + [0.0] * 3) + c @ e
        series = sigma + noise * rng.standard_normal((n, 6))
        if compressive_bar:
            series = -series * 1e4
        paths.append(write_stress_series(folder / f"strain_{k:02d}.dat", e, series, range(n), 4000.0, 5900.0,
                                         np.eye(3) * 8.0, p0))
    return [str(p) for p in paths]


@pytest.mark.parametrize("lammps", [False, True])
def test_stress_strain_series(tmp_path, capsys, lammps):
    c = elastic.from_independent("cubic", [1200.0, 500.0, 400.0])
    files = write_series(tmp_path / "runs", c, compressive_bar=lammps)
    extra = ["--stress-sign", "compressive", "--stress-units", "bar"] if lammps else []
    assert main(["analyze", "elastic", "--stress-strain", *files, "--symmetry", "cubic", *extra,
                 "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "elastic.json").read_text())
    for name, truth in (("C11", 1200.0), ("C12", 500.0), ("C44", 400.0)):
        value, err = res["independent"][name]
        assert abs(value - truth) < 4 * err and 0 < err < 5.0
    assert res["pressure_GPa"] == 140.0 and res["temperature_K"] == 4000.0 and res["density_kg_m3"] == 5900.0
    assert res["thermodynamic"] == "isothermal" and "140 GPa, T = 4000 K" in capsys.readouterr().out


@pytest.mark.parametrize("argv, words", [
    ([], "give --cij FILE or --stress-strain FILE"),
    (["--cij", "{dir}/five.txt", "--density-kg-m3", "3000"], "5 rows; 6 (Cij) or 12"),
    (["--cij", "{dir}/five.txt"], "5 rows"),
    (["--cij", "{dir}/cubic.txt"], "--density-kg-m3 is needed"),
    (["--cij", "{dir}/named.json", "--symmetry", "cubic", "--density-kg-m3", "3000"], "missing C44"),
    (["--cij", "{dir}/cubic.txt", "--density-kg-m3", "3000", "--symmetry", "cubik"], "unknown crystal system"),
    (["--stress-strain", "{dir}/nostrain.dat", "--density-kg-m3", "3000"], "voigt_strain"),
])
def test_bad_input_is_one_line(tmp_path, capsys, argv, words):
    np.savetxt(tmp_path / "five.txt", np.eye(6)[:5])
    np.savetxt(tmp_path / "cubic.txt", elastic.from_independent("cubic", [300.0, 130.0, 150.0]))
    (tmp_path / "named.json").write_text(json.dumps({"C11": 300.0, "C12": 100.0}))
    (tmp_path / "nostrain.dat").write_text("# step sxx syy szz syz sxz sxy\n" + "0 1 2 3 4 5 6\n" * 20)
    argv = [a.format(dir=tmp_path) for a in argv]
    assert main(["analyze", "elastic", *argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1
