"""`deepearth validate` end to end on real PBE data (casio3-melt-pbe), with the fast POD backend."""

import json

import pytest

from datafiles import data_path
from deepearth.cli import main


def test_kfold_then_held_out_with_a_fold_model(tmp_path, capsys):
    """2-fold POD cross-validation on the 2500 K PBE melt: errors of the size the W paper reports at
    these conditions (≲ 20 meV/atom, ≲ 0.5 eV/Å here with half the frames); the pooled RMSE is the
    RMS of the folds'; a fold's model re-validated on its own held-out fold gives that fold's error."""
    data = str(data_path("casio3-melt-pbe", "train_2500K.xyz"))
    out = tmp_path / "kfold"
    assert main(["validate", data, "--kfold", "2", "--backend", "pod", "--T-K", "2500", "--bin-by", "temperature",
                 "--out", str(out)]) == 0
    res = json.loads((out / "validation.json").read_text())
    assert res["n_frames"] == 80 and set(res["bins"]) == {"2500"}
    assert res["rmse_energy_meV_per_atom"] < 20 and res["rmse_force_eV_per_A"] < 0.5
    assert 0 < res["rmse_force_stderr"] < 0.1 * res["rmse_force_eV_per_A"]
    folds = res["folds"]
    pooled_e = (sum(f["n_test"] * f["rmse_energy_meV_per_atom"] ** 2 for f in folds) / 80) ** 0.5
    assert res["rmse_energy_meV_per_atom"] == pytest.approx(pooled_e, rel=1e-9)
    assert (out / "parity.png").stat().st_size > 1000
    capsys.readouterr()
    assert main(["validate", data, "--model", res["models"][0], "--bin-by", "pressure", "--out", str(tmp_path / "m")]) == 0
    whole = json.loads((tmp_path / "m" / "validation.json").read_text())
    assert whole["n_frames"] == 80 and len(whole["bins"]) >= 2
    # on all 80 frames the fold-0 model has seen half of them: its error lies below its own held-out error
    assert whole["rmse_force_eV_per_A"] < folds[0]["rmse_force_eV_per_A"]


def test_bad_input_is_one_line(tmp_path, capsys):
    data = str(data_path("casio3-melt-pbe", "train_2500K.xyz"))
    assert main(["validate", data, "--out", str(tmp_path)]) == 2
    assert "either --model" in capsys.readouterr().err
    assert main(["validate", data, "--model", str(tmp_path / "m.pb"), "--out", str(tmp_path)]) == 2
    assert "no such model file" in capsys.readouterr().err
    assert main(["validate", data, "--kfold", "2", "--T-K", "1", "2", "--out", str(tmp_path)]) == 2
    assert "one per file" in capsys.readouterr().err
