"""The training envelope (issue 17): what the shared CaSiO3 melt covers, where a frame leaves it (in
words), the file next to a model (closed world, validated; None for old models)."""

import json

import numpy as np
import pytest
from ase.build import bulk

from datafiles import data_path
from deepearth.potentials.envelope import (ENVELOPE_FILE, TrainingEnvelope, envelope_from_systems, frame_pressure_GPa,
                                           load_envelope, pair_key, pair_minima, save_envelope)
from deepearth.reference import read_frames
from deepearth.store import write_deepmd_npy
from deepearth.units import stress_to_pressure_gpa


@pytest.fixture(scope="module")
def casio3():
    frames = read_frames(data_path("casio3-melt-pbe", "train_4000K.xyz"))
    for atoms in frames:
        atoms.info["origin_T_K"] = 4000.0
    return frames


@pytest.fixture(scope="module")
def envelope(casio3):
    return TrainingEnvelope.from_frames(casio3)


def test_pair_keys_and_minima_by_minimum_image():
    assert pair_key("O", "Mg") == "Mg-O" and pair_key("Si", "O") == "O-Si"
    mgo = bulk("MgO", "rocksalt", a=4.21)  # primitive cell: the neighbours are periodic images
    minima = pair_minima(mgo)
    assert minima["Mg-O"] == pytest.approx(4.21 / 2)
    assert minima["O-O"] == pytest.approx(4.21 / np.sqrt(2)) and minima["Mg-Mg"] == pytest.approx(4.21 / np.sqrt(2))


def test_casio3_melt_envelope(casio3, envelope):
    """The 4000 K frames of the shared melt: O-O no closer than 1.52 Å (the issue's number), the
    density and virial-pressure range of its README, T from origin_T_K."""
    assert envelope.n_frames == 110 and envelope.elements == ["Ca", "O", "Si"]
    assert set(envelope.min_pair_distance_A) == {"Ca-Ca", "Ca-O", "Ca-Si", "O-O", "O-Si", "Si-Si"}
    assert envelope.min_pair_distance_A["O-O"] == pytest.approx(1.52, abs=0.01)
    lo, hi = envelope.pressure_GPa
    assert lo == pytest.approx(-5.5, abs=0.1) and hi == pytest.approx(128.7, abs=0.1)  # the README's range
    masses = casio3[0].get_masses().sum()
    volumes = [a.get_volume() for a in casio3]
    assert envelope.density_g_per_cm3[0] == pytest.approx(masses / max(volumes) * 1.66053907, rel=1e-6)
    assert envelope.temperature_K == (4000.0, 4000.0)


def test_pressure_from_cached_stress_or_extxyz_virial(casio3):
    atoms = casio3[0]
    assert frame_pressure_GPa(atoms) == pytest.approx(stress_to_pressure_gpa(atoms.get_stress()))
    bare = atoms.copy()  # no calculator: the extxyz virial of the header (W = -sigma V)
    bare.info["virial"] = (-atoms.get_stress(voigt=False) * atoms.get_volume()).ravel()
    assert frame_pressure_GPa(bare) == pytest.approx(frame_pressure_GPa(atoms))
    bare.info.pop("virial")
    assert frame_pressure_GPa(bare) is None


def test_inside_and_outside_in_words(casio3, envelope):
    assert envelope.violations(casio3[7]) == []
    frame = casio3[7].copy()
    frame.calc = None
    frame.info["origin_T_K"] = 5000.0
    oxygens = [i for i, s in enumerate(frame.get_chemical_symbols()) if s == "O"]
    frame.positions[oxygens[1]] = frame.positions[oxygens[0]] + [1.17, 0.0, 0.0]
    found = envelope.violations(frame)
    assert found[0] == "O-O pair at 1.17 Å, closest in training 1.52 Å"
    assert "temperature 5000 K, training 4000–4000 K" in found
    assert envelope.configuration_violations(frame) == [v for v in found if not v.startswith("temperature")]
    assert envelope.violations(frame, tolerance=0.0)[0].startswith("O-O pair at 1.17 Å")
    # 1.40 Å is inside the 10 % tolerance (> 0.9 x 1.52 = 1.37 Å), outside a 5 % one
    frame.positions[oxygens[1]] = frame.positions[oxygens[0]] + [1.40, 0.0, 0.0]
    assert not any(v.startswith("O-O") for v in envelope.violations(frame))
    assert any(v.startswith("O-O pair at 1.40") for v in envelope.violations(frame, tolerance=0.05))


def test_density_and_unknown_elements(casio3, envelope):
    dense = casio3[0].copy()
    dense.calc = None
    dense.set_cell(dense.cell * 0.5, scale_atoms=True)
    assert any(v.startswith("density") for v in envelope.violations(dense))
    other = casio3[0].copy()
    other.calc = None
    other.symbols[0] = "Mg"
    assert envelope.violations(other)[0] == "element(s) Mg not in training (Ca, O, Si)"
    # Ca-Mg and Mg-O never seen: any such pair within the cutoff is outside
    assert any(v.startswith("Mg-O pair at") and "none closer than 4.00 Å" in v for v in envelope.violations(other))


def test_round_trip_and_file_next_to_the_model(tmp_path, envelope):
    assert TrainingEnvelope.from_dict(json.loads(json.dumps(envelope.to_dict()))) == envelope
    model = tmp_path / "member-0" / "model.pod"
    model.parent.mkdir()
    model.write_text("{}")
    assert load_envelope(model) is None  # a model from before envelopes
    assert save_envelope(envelope, model) == model.parent / ENVELOPE_FILE
    assert load_envelope(model) == envelope and load_envelope(model.parent) == envelope


def test_from_npy_systems(tmp_path, casio3):
    write_deepmd_npy(tmp_path / "s", casio3[:5], ["Ca", "Si", "O"])
    env = envelope_from_systems([tmp_path / "s"])
    direct = TrainingEnvelope.from_frames(casio3[:5])
    assert env.n_frames == 5 and env.temperature_K is None  # npy systems carry no temperature
    assert env.min_pair_distance_A == pytest.approx(direct.min_pair_distance_A)
    assert env.pressure_GPa == pytest.approx(direct.pressure_GPa) and env.density_g_per_cm3 == pytest.approx(
        direct.density_g_per_cm3)


@pytest.mark.reliability("bad input")
@pytest.mark.parametrize("edit, key", [
    (lambda d: d.update(elements=["Xx"]), "elements"),
    (lambda d: d["min_pair_distance_A"].update({"O-Ca": 1.0}), "min_pair_distance_A"),
    (lambda d: d["min_pair_distance_A"].update({"O-O": float("nan")}), "min_pair_distance_A.O-O"),
    (lambda d: d["min_pair_distance_A"].update({"O-O": -1.0}), "min_pair_distance_A.O-O"),
    (lambda d: d.update(density_g_per_cm3=[5.0, 1.0]), "density_g_per_cm3"),
    (lambda d: d.update(pressure_GPa=[0.0, "x"]), "pressure_GPa"),
    (lambda d: d.update(n_frames=0), "n_frames"),
    (lambda d: d.update(format="other/1"), "format"),
])
def test_damaged_envelope_is_one_error_naming_the_key(tmp_path, envelope, edit, key):
    data = envelope.to_dict()
    edit(data)
    (tmp_path / ENVELOPE_FILE).write_text(json.dumps(data))
    with pytest.raises(ValueError, match=f"{ENVELOPE_FILE}: key '{key}"):
        load_envelope(tmp_path / "model.pod")


@pytest.mark.reliability("bad input")
def test_envelope_link_out_of_the_model_folder_is_refused(tmp_path, envelope):
    outside = tmp_path / "elsewhere.json"
    outside.write_text(json.dumps(envelope.to_dict()))
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / ENVELOPE_FILE).symlink_to(outside)
    with pytest.raises(ValueError, match="not a plain file in the model's folder"):
        load_envelope(tmp_path / "model" / "model.pod")
    with pytest.raises(ValueError, match="at least one frame"):
        TrainingEnvelope.from_frames([])


def test_deepmd_training_records_the_envelope(tmp_path, casio3, monkeypatch):
    """DeepMDPotential.train writes envelope.json next to model.pb (dp itself faked: the envelope
    comes from the npy systems, not from the network); a finished model without one gets it."""
    from deepearth.potentials import deepmd

    def fake_dp(args, cwd, log):
        if args[0] == "freeze":
            (cwd / "frozen.pb").write_bytes(b"graph")

    monkeypatch.setattr(deepmd, "_dp", fake_dp)
    write_deepmd_npy(tmp_path / "s", casio3[:6], ["Ca", "Si", "O"])
    backend = deepmd.DeepMDPotential(["Ca", "Si", "O"])
    model = backend.train(tmp_path / "member-0", [tmp_path / "s"], [], seed=1)
    assert load_envelope(model) == envelope_from_systems([tmp_path / "s"])
    (model.parent / ENVELOPE_FILE).unlink()
    assert backend.train(tmp_path / "member-0", [tmp_path / "s"], [], seed=1) == model
    assert load_envelope(model).n_frames == 6
