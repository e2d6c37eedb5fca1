"""``deepearth analyze melting|rdf|phase`` (issue 15) end to end on files: coexistence runs whose solid
part grows or shrinks by construction, rock-salt frames, a superionic trajectory; the figures pass
figure_checks; a run that melts at every T says so in one line with the next T to try."""

import json

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.io import write

from deepearth.cli import main
from deepearth.report.figure_checks import figure_problems
from deepearth.report.figures import capture_figures


def _coexistence_file(path, T, speed, n_frames=12, seed=0):
    """An fcc Cu slab below z_i(t) = 21 + speed·t Å, a random gas above it; extxyz with time_ps, T_K and
    the built solid labels in the first frame (as deepearth.pipeline.melting writes them)."""
    rng = np.random.default_rng(seed)
    crystal = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((4, 4, 12))
    cell = crystal.cell.array
    frames = []
    for k in range(n_frames):
        zi = 21.0 + speed * k
        pos = crystal.positions + rng.normal(0, 0.1, crystal.positions.shape)
        gas = pos[:, 2] >= zi
        pos[gas] = rng.uniform((0, 0, zi + 1.0), (cell[0, 0], cell[1, 1], cell[2, 2] - 1.0), (gas.sum(), 3))
        a = Atoms(crystal.numbers, positions=pos, cell=cell, pbc=True)
        a.info.update(time_ps=0.5 * k, T_K=T)
        if k == 0:
            a.arrays["solid_label"] = (~gas).astype(int)
        frames.append(a)
    write(path, frames, format="extxyz")
    return path


def test_melting_brackets_two_runs_and_draws_them(tmp_path, capsys):
    cold = _coexistence_file(tmp_path / "cold.extxyz", 1200.0, +1.0)
    hot = _coexistence_file(tmp_path / "hot.extxyz", 1400.0, -1.0, seed=1)
    with capture_figures() as figs:
        rc = main(["analyze", "melting", str(cold), str(hot), "--pressure-GPa", "0", "--out", str(tmp_path / "a")])
    assert rc == 0
    res = json.loads((tmp_path / "a" / "melting.json").read_text())
    b = res["bracket"]
    assert b["bracketed"] and (b["T_crystallises_K"], b["T_melts_K"], b["T_m_K"]) == (1200.0, 1400.0, 1300.0)
    assert [s["verdict"] for s in res["series"]] == ["crystallises", "melts"]
    assert "equal-error point" in res["series"][0]["threshold_rule"]  # the file's solid_label array was used
    out = capsys.readouterr().out
    assert "T_m at 0 GPa = 1300 ± 58 K" in out and "melting.png" in out
    assert len(figs) == 1 and figure_problems(figs[0]) == []


def test_melting_everywhere_is_one_line_with_the_next_T(tmp_path, capsys):
    files = [str(_coexistence_file(tmp_path / f"{T}.extxyz", T, -1.8, seed=k)) for k, T in enumerate((1400, 1500))]
    rc = main(["analyze", "melting", *files, "--temperatures-K", "1400", "1500", "--out", str(tmp_path)])
    assert rc == 1
    last = [line for line in capsys.readouterr().out.splitlines() if line.startswith("no melting bracket")]
    assert len(last) == 1 and "T_m is below 1400 K; try T = 1300 K" in last[0]


def test_melting_refuses_too_few_frames_and_missing_temperature(tmp_path, capsys):
    short = _coexistence_file(tmp_path / "short.extxyz", 1200.0, 1.0, n_frames=6)
    assert main(["analyze", "melting", str(short), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "too few frames for an error bar at 1200 K: 6 frames" in err and len(err.splitlines()) == 1
    crystal = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(3)
    frames = [crystal.copy() for _ in range(12)]
    for k, f in enumerate(frames):
        f.info["time_ps"] = 0.1 * k
    write(tmp_path / "noT.extxyz", frames)
    assert main(["analyze", "melting", str(tmp_path / "noT.extxyz"), "--out", str(tmp_path)]) == 2
    assert "no temperature: give --temperatures-K" in capsys.readouterr().err


def test_rdf_of_rock_salt_frames(tmp_path, capsys):
    rng = np.random.default_rng(4)
    mgo = bulk("MgO", "rocksalt", a=4.2, cubic=True).repeat(3)
    frames = []
    for k in range(6):
        a = mgo.copy()
        a.positions += rng.normal(0, 0.1, a.positions.shape)
        a.info["time_ps"] = 0.1 * k
        frames.append(a)
    write(tmp_path / "mgo.extxyz", frames)
    with capture_figures() as figs:
        rc = main(["analyze", "rdf", str(tmp_path / "mgo.extxyz"), "--pairs", "total", "Mg-O", "O-O",
                   "--out", str(tmp_path)])
    assert rc == 0
    res = json.loads((tmp_path / "rdf.json").read_text())["rdf"]
    assert [r["pair"] for r in res] == ["total", "Mg-O", "O-O"]
    assert res[1]["coordination"] == pytest.approx(6.0, abs=0.05) and res[2]["coordination"] == pytest.approx(12, abs=0.1)
    assert "g_Mg-O(r): first peak 2.07 Å, CN 6.00" in capsys.readouterr().out
    assert len(figs) == 1 and figure_problems(figs[0]) == []
    assert main(["analyze", "rdf", str(tmp_path / "mgo.extxyz"), "--pairs", "MgO", "--out", str(tmp_path)]) == 2
    assert "--pairs: 'MgO' is not 'total' or A-B" in capsys.readouterr().err


def test_phase_of_a_superionic_trajectory(tmp_path, capsys):
    rng = np.random.default_rng(0)
    mgo = bulk("MgO", "rocksalt", a=4.2, cubic=True).repeat(3)
    mg = np.array(mgo.get_chemical_symbols()) == "Mg"
    walk = rng.uniform(0, 12.6, (mg.sum(), 3))
    frames = []
    for k in range(80):
        a = mgo.copy()
        a.positions += rng.normal(0, 0.1, a.positions.shape)
        walk = walk + rng.normal(0, np.sqrt(2 * 0.5 * 0.05), walk.shape) * (k > 0)
        a.positions[mg] = walk
        a.info["time_ps"] = 0.05 * k
        frames.append(a)
    write(tmp_path / "si.extxyz", frames)
    assert main(["analyze", "phase", str(tmp_path / "si.extxyz"), "--temperature-K", "3000", "--out",
                 str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("phase: superionic") and "Mg diffuses through the crystalline O sublattice" in out
    assert json.loads((tmp_path / "phase.json").read_text())["phase"] == "superionic"
