"""`deepearth train` end to end on real PBE data (casio3-melt-pbe, 2500 K) with the POD backend at the
recipe defaults (2+3+4-body), and its one-line errors."""

import json

from datafiles import data_path
from deepearth import load_potential
from deepearth.cli import main


def first_frames(src, dst, n: int, atoms_per_frame: int = 135):
    """The first ``n`` frames of an extxyz file (each: count line, header, atom lines), copied verbatim."""
    lines = src.read_text().splitlines(keepends=True)
    dst.write_text("".join(lines[: n * (atoms_per_frame + 2)]))
    return dst


def test_train_one_model_prints_a_table_and_validates(tmp_path, capsys):
    data = first_frames(data_path("casio3-melt-pbe", "train_2500K.xyz"), tmp_path / "casio3.xyz", 24)
    out = tmp_path / "model"
    assert main(["train", str(data), "--backend", "pod", "--out", str(out), "--type-map", "Si,Ca", "O"]) == 0
    text = capsys.readouterr().out
    for key in ("backend", "frames", "E RMSE held-out", "F RMSE held-out", "S RMSE held-out", "calibration",
                "member-0", "record"):
        assert key in text
    assert "one model: no committee spread to calibrate" in text and "species Si Ca O" in text
    doc = json.loads((out / "training.json").read_text())
    assert doc["complete"] and doc["n_train"] + doc["n_valid"] == 24 and doc["type_map"] == ["Si", "Ca", "O"]
    assert doc["settings"]["bootstrap"] is False and doc["settings"]["four_body"] == [4, 2]  # one full fit
    assert doc["calibration"] is None
    model = out / "member-0" / "model.pod"
    assert doc["models"] == [str(model)]
    assert json.loads(model.read_text())["type_map"] == ["Si", "Ca", "O"]
    load_potential(model)
    assert main(["validate", str(data), "--model", str(model), "--out", str(tmp_path / "val")]) == 0


def test_errors_are_one_line(tmp_path, capsys):
    data = str(data_path("casio3-melt-pbe", "train_2500K.xyz"))
    assert main(["train", data, "--backend", "pod", "--steps", "100", "--out", str(tmp_path / "a")]) == 2
    assert "--steps sets DeePMD training steps" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "missing.xyz"), "--backend", "pod", "--out", str(tmp_path / "b")]) == 2
    assert "missing.xyz: no such file or folder" in capsys.readouterr().err
    # VASP and Quantum ESPRESSO frames (water) are two references: refused before any training
    outcar = str(data_path("dpdata-fixtures", "poscars", "OUTCAR.h2o.md"))
    qe = str(data_path("dpdata-fixtures", "qe.scf", "02.out"))
    assert main(["train", outcar, qe, "--backend", "pod", "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "error: mixed references: code 'Quantum ESPRESSO" in err and "'VASP" in err and "--allow-mixed" in err
    assert not (tmp_path / "c").exists()
    assert main(["train", data, "--backend", "pod", "--committee", "0", "--out", str(tmp_path / "d")]) == 2
    assert "committee must be at least 1" in capsys.readouterr().err


def test_deepmd_backend_takes_steps(tmp_path, capsys):
    """The DeePMD path: --steps reaches the network's training (20 steps: a smoke test, not a model)."""
    data = first_frames(data_path("casio3-melt-pbe", "train_2500K.xyz"), tmp_path / "casio3.xyz", 8)
    out = tmp_path / "dp"
    assert main(["train", str(data), "--backend", "deepmd", "--steps", "20", "--out", str(out)]) == 0
    doc = json.loads((out / "training.json").read_text())
    assert doc["settings"]["training_steps"] == 20 and "bootstrap" not in doc["settings"]
    assert json.loads((out / "member-0" / "input.json").read_text())["training"]["numb_steps"] == 20
    assert doc["models"] == [str(out / "member-0" / "model.pb")]
    assert "member-0" in capsys.readouterr().out
