"""``deepearth analyze`` end to end on files: JSON result + figure, clear errors on bad input."""

import json

import numpy as np
import pytest
from ase import Atoms
from ase.io import write

from datafiles import data_path
from deepearth.cli import main


def test_analyze_thermal_conductivity_on_sportran_silica(tmp_path, capsys):
    silica = data_path("sportran-silica", "Silica.dat")
    rc = main(["analyze", "thermal-conductivity", str(silica), "--columns", "c_flux1[1]", "c_flux1[2]", "c_flux1[3]",
               "--dt-ps", "0.001", "--volume-A3", "3130.431110818", "--temperature-column", "Temp",
               "--out", str(tmp_path)])
    assert rc == 0
    res = json.loads((tmp_path / "thermal_conductivity.json").read_text())
    assert abs(res["value"] - 2.205) < 0.215 and res["unit"] == "W/m/K"
    assert res["inputs"]["temperature_column"] == "Temp" and (tmp_path / "thermal_conductivity.png").is_file()
    assert "W/m/K" in capsys.readouterr().out


def test_analyze_viscosity_table_and_bad_column(tmp_path, capsys):
    rng = np.random.default_rng(0)
    p = rng.standard_normal((4000, 6)) * 100.0  # white noise in bar: S(0) = σ² dt per component
    table = tmp_path / "press.dat"
    np.savetxt(table, np.column_stack([np.arange(4000), p]), header="TimeStep pxx pyy pzz pxy pxz pyz")
    args = ["analyze", "viscosity", str(table), "--columns", "pxx", "pyy", "pzz", "pxy", "pxz", "pyz",
            "--dt-ps", "0.001", "--volume-A3", "1000", "--temperature-K", "3000", "--out", str(tmp_path)]
    assert main(args) == 0
    res = json.loads((tmp_path / "viscosity.json").read_text())
    # white noise: the five traceless components have variance 100², 100², 100², 100²/2, 100²/2
    s0 = np.mean([1, 1, 1, 0.5, 0.5]) * 100.0**2 * 0.001  # bar² ps
    truth = 1000e-30 * s0 * 1e10 * 1e-12 / (2 * 1.380649e-23 * 3000)
    assert res["unit"] == "Pa s" and abs(res["value"] - truth) < 4 * res["stderr"]
    assert main(args[:4] + ["pxx", "pyy", "pzz", "pxy", "pxz", "nope"] + args[10:]) == 2
    assert "no column 'nope'" in capsys.readouterr().err


def test_analyze_diffusion_of_a_random_walk(tmp_path):
    rng = np.random.default_rng(1)
    n_frames, n_atoms, dt, d_true = 400, 64, 0.1, 0.5  # Å²/ps
    steps = rng.standard_normal((n_frames, n_atoms, 3)) * np.sqrt(2 * d_true * dt)
    pos = np.cumsum(steps, axis=0)
    frames = []
    for i, x in enumerate(pos):
        a = Atoms("Ar" * n_atoms, positions=x, cell=[200, 200, 200], pbc=True)
        a.info["time_ps"] = i * dt
        frames.append(a)
    traj = tmp_path / "walk.extxyz"
    write(traj, frames)
    assert main(["analyze", "diffusion", str(traj), "--species", "Ar", "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "diffusion_Ar.json").read_text())
    expected = d_true * 1e-8 * (1 - 1 / n_atoms)  # removing the COM drift of N independent walkers
    assert abs(res["D_m2_per_s"] - expected) < 3 * res["D_stderr_m2_per_s"]
    assert (tmp_path / "diffusion_Ar.png").is_file()


def test_analyze_arrhenius_from_diffusion_result_files(tmp_path):
    """Synthetic D(T) with ΔH = 300 kJ/mol and 5 % errors → ΔH recovered within 3σ, extrapolation band."""
    rng = np.random.default_rng(0)
    files = []
    for i, T in enumerate([2000, 2250, 2500, 2750, 3000, 3250, 3500]):
        d = 1e-6 * np.exp(-300e3 / (8.314462618 * T)) * np.exp(rng.normal(0, 0.05))
        f = tmp_path / f"d{i}.json"
        f.write_text(json.dumps({"species": "W", "D_m2_per_s": d, "D_stderr_m2_per_s": 0.05 * d, "T_K": T,
                                 "P_GPa": 25.0, "diffusive": True}))
        files.append(str(f))
    assert main(["analyze", "arrhenius", *files, "--species", "W", "--predict-T-K", "4000", "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "arrhenius_W.json").read_text())
    assert abs(res["activation_kJ_per_mol"] - 300) < 3 * res["activation_stderr_kJ_per_mol"]
    pred = res["prediction"]
    truth = 1e-6 * np.exp(-300e3 / (8.314462618 * 4000))
    assert pred["extrapolated"] == [True] and pred["D_lo_m2_per_s"][0] < pred["D_m2_per_s"][0] < pred["D_hi_m2_per_s"][0]
    assert abs(np.log(pred["D_m2_per_s"][0] / truth)) < 3 * pred["lnD_stderr"][0]
    assert (tmp_path / "arrhenius_W.png").is_file()
    assert main(["analyze", "arrhenius", *files, "--species", "Fe", "--out", str(tmp_path)]) == 2


# --- issue 16: bad input gives one line and a non-zero exit, never "nan ± 0" or a traceback ---------------------

def _walk_frames(n_frames=60, n_atoms=8, seed=0):
    pos = 5.0 + np.cumsum(np.random.default_rng(seed).standard_normal((n_frames, n_atoms, 3)) * 0.3, axis=0)
    frames = []
    for i, x in enumerate(pos):
        a = Atoms("Ar" * n_atoms, positions=x, cell=[30, 30, 30], pbc=True)
        a.info["time_ps"] = i * 0.1
        frames.append(a)
    return frames


def _fails_with_one_line(capsys, argv, *expected):
    rc = main(argv)
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert rc != 0 and "\n" not in err and err.startswith("error:"), (rc, captured)
    assert "Traceback" not in err and "nan ±" not in captured.out
    for text in expected:
        assert text in err, err
    return err


@pytest.mark.reliability("bad input")
def test_analyze_diffusion_nan_coordinate_fails_with_one_line(tmp_path, capsys):
    frames = _walk_frames()
    pos = frames[50].get_positions()
    pos[3, 1] = np.nan
    frames[50].set_positions(pos)
    traj = tmp_path / "nan.extxyz"
    write(traj, frames)
    _fails_with_one_line(capsys, ["analyze", "diffusion", str(traj), "--out", str(tmp_path)],
                         str(traj), "frame 50, atom 3, y")
    assert not list(tmp_path.glob("diffusion_*.json"))


@pytest.mark.reliability("bad input")
def test_analyze_diffusion_corrupt_files_fail_with_one_line(tmp_path, capsys):
    frames = _walk_frames(20, 64)
    good = tmp_path / "good.extxyz"
    write(good, frames)
    lines = good.read_text().splitlines()
    cut = tmp_path / "cut.extxyz"
    cut.write_text("\n".join(lines[:-10]) + "\n")
    _fails_with_one_line(capsys, ["analyze", "diffusion", str(cut), "--out", str(tmp_path)],
                         str(cut), f"truncated at line {len(lines) - 10}")
    frames[12] = frames[12][:-1]
    count = tmp_path / "count.extxyz"
    write(count, frames)
    _fails_with_one_line(capsys, ["analyze", "diffusion", str(count), "--out", str(tmp_path)],
                         "frame 12 has 63 atoms, frame 0 has 64")
    traj = tmp_path / "cut.traj"
    write(tmp_path / "good.traj", _walk_frames(20, 8))
    data = (tmp_path / "good.traj").read_bytes()
    traj.write_bytes(data[: len(data) * 3 // 4])
    _fails_with_one_line(capsys, ["analyze", "diffusion", str(traj), "--out", str(tmp_path)],
                         str(traj), "truncated or corrupt")


@pytest.mark.reliability("bad input")
def test_analyze_diffusion_single_atom_fails_with_one_line(tmp_path, capsys):
    traj = tmp_path / "one.extxyz"
    write(traj, _walk_frames(12, 1))
    _fails_with_one_line(capsys, ["analyze", "diffusion", str(traj), "--out", str(tmp_path)], "immobile")


@pytest.mark.parametrize("analysis, columns, expected", [
    ("viscosity", ["pxx", "pyy", "pzz", "pxy", "pxz", "pyz"], "pressure_tensor: shear component P_xy is constant"),
    ("thermal-conductivity", ["pxx", "pyy", "pzz"], "heat_flux: J_x is constant"),
    ("conductivity", ["pxy", "pxz", "pyz"], "charge current: J_x is constant"),
])
@pytest.mark.reliability("bad input")
def test_analyze_green_kubo_constant_series_fails_with_one_line(tmp_path, capsys, analysis, columns, expected):
    table = tmp_path / "const.dat"  # a constant series used to give a viscosity of 2e-318 Pa s
    np.savetxt(table, np.column_stack([np.arange(4000), np.full((4000, 6), 3.0)]),
               header="TimeStep pxx pyy pzz pxy pxz pyz")
    _fails_with_one_line(capsys, ["analyze", analysis, str(table), "--columns", *columns, "--dt-ps", "0.001",
                                  "--volume-A3", "1000", "--temperature-K", "3000", "--out", str(tmp_path)], expected)


@pytest.mark.reliability("bad input")
def test_analyze_green_kubo_nan_row_names_the_line(tmp_path, capsys):
    p = np.random.default_rng(0).standard_normal((4000, 6))
    p[99, 3] = np.nan
    table = tmp_path / "press.dat"
    np.savetxt(table, np.column_stack([np.arange(4000), p]), header="TimeStep pxx pyy pzz pxy pxz pyz")
    _fails_with_one_line(capsys, ["analyze", "viscosity", str(table), "--columns", "pxx", "pyy", "pzz", "pxy", "pxz",
                                  "pyz", "--dt-ps", "0.001", "--volume-A3", "1000", "--temperature-K", "3000",
                                  "--out", str(tmp_path)], f"{table}:101: column 'pxy' is nan")


@pytest.mark.reliability("bad input")
def test_analyze_arrhenius_single_temperature_fails_with_one_line(tmp_path, capsys):
    files = []
    for i in range(3):
        f = tmp_path / f"d{i}.json"
        f.write_text(json.dumps({"species": "W", "D_m2_per_s": 1e-12 * (i + 1), "D_stderr_m2_per_s": 1e-13,
                                 "T_K": 3000.0, "diffusive": True}))
        files.append(str(f))
    _fails_with_one_line(capsys, ["analyze", "arrhenius", *files, "--species", "W", "--out", str(tmp_path)],
                         "all temperatures are equal")
