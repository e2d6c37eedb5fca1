"""`deepearth validate` end to end on real PBE data (casio3-melt-pbe), with the fast POD backend."""

import json
import re

import numpy as np
import pytest
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from datafiles import data_path
from deepearth.cli import main
from deepearth.potentials.envelope import ENVELOPE_FILE, TrainingEnvelope, save_envelope
from deepearth.potentials.registry import make_potential
from deepearth.reference import read_frames
from deepearth.store import export_frames_deepmd


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
    f = res["per_frame"]["force_rmse_eV_per_A"]
    assert f["median"] <= f["p95"] <= f["max"] == res["worst_frames"][0]["force_rmse_eV_per_A"]
    assert len(res["worst_frames"]) == 5 and res["worst_frames"][0]["id"].startswith("train_2500K.xyz:")
    assert res["envelope"]["checked"]  # each held-out frame against its own fold's training frames
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


def _squeezed(atoms, distance: float):
    """``atoms`` with its closest O–O pair moved to ``distance`` Å (labels kept, now stale)."""
    out = atoms.copy()
    d = np.where(np.outer(out.symbols == "O", out.symbols == "O") & ~np.eye(len(out), dtype=bool),
                 out.get_all_distances(mic=True), np.inf)
    i, j = np.unravel_index(np.argmin(d), d.shape)
    vec = out.get_distance(i, j, mic=True, vector=True)
    out.positions[j] = out.positions[i] + vec * distance / np.linalg.norm(vec)
    out.calc = SinglePointCalculator(out, **atoms.calc.results)
    return out


def test_percentiles_worst_frames_and_envelope_flags_are_printed(tmp_path, capsys):
    """A small POD model of the 2500 K melt on 20 frames at 3000 K plus one with an O–O pair at 1.15 Å:
    the table has RMSE and MAE with bars and the per-frame median/p95/max; ``--worst 3`` lists three
    frames by id; a model without an envelope is said to have none, once; with the envelope (rebuilt
    from the training data, or recorded next to the model) the squeezed frame is flagged and counted."""
    train = read_frames(data_path("casio3-melt-pbe", "train_2500K.xyz"))
    systems = export_frames_deepmd(train, tmp_path / "data", ["Ca", "O", "Si"])
    model = make_potential("pod", ["Ca", "O", "Si"], two_body=6, three_body=(4, 2), four_body=(0, 0)).train(
        tmp_path / "model", systems, [], seed=0)
    (model.parent / ENVELOPE_FILE).unlink(missing_ok=True)  # a model trained before envelopes were recorded
    held_out = read_frames(data_path("casio3-melt-pbe", "train_3000K.xyz"))[:20]
    data = tmp_path / "held_out.xyz"
    write(data, held_out + [_squeezed(held_out[5], 1.15)], format="extxyz")
    out = tmp_path / "v"
    capsys.readouterr()
    assert main(["validate", str(data), "--model", str(model), "--worst", "3", "--bin-by", "pressure",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert re.search(r"RMSE +MAE +median +p95 +max", text)
    assert re.search(r"F \(eV/Å\) +[\d.]+ ± [\d.]+ +[\d.]+ ± [\d.]+( +[\d.]+){3}\n", text)
    assert "worst 3 frames by force RMSE:" in text and "held_out.xyz:" in text
    assert text.count("has no training envelope") == 1 and "per pressure:" in text
    doc = json.loads((out / "validation.json").read_text())
    assert len(doc["worst_frames"]) == 3 and doc["n_outside_envelope"] is None
    assert len(doc["parity"]["frames"]["id"]) == 21 and (out / "frame_errors.png").stat().st_size > 1000

    assert main(["validate", str(data), "--model", str(model), "--worst", "21", "--out", str(out),
                 "--envelope-from", str(data_path("casio3-melt-pbe", "train_2500K.xyz"))]) == 0
    text = capsys.readouterr().out
    rows = [line for line in text.splitlines() if re.match(r" +\d+ held_out\.xyz:\d+ ", line)]
    assert len(rows) == 21
    assert "O-O pair at 1.15 Å, closest in training" in next(r for r in rows if " held_out.xyz:20 " in r)
    n_out = int(re.search(r"(\d+) of 21 frames outside the training envelope", text).group(1))
    assert 1 <= n_out == sum(not r.endswith("inside the training envelope") for r in rows)

    save_envelope(TrainingEnvelope.from_frames(train), model)  # recorded with the model: read by default
    assert main(["validate", str(data), "--model", str(model), "--worst", "21", "--json", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    squeezed = next(w for w in summary["worst_frames"] if w["id"] == "held_out.xyz:20")
    assert any("O-O pair at 1.15" in r for r in squeezed["outside_envelope"])
    assert summary["n_outside_envelope"] == n_out and "parity" not in summary

    assert main(["validate", str(data), "--model", str(model), "--worst", "-1", "--out", str(out)]) == 2
    assert "--worst" in capsys.readouterr().err
