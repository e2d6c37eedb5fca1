"""Universal-potential baselines (CHGNet, SevenNet): forces = −dE/dx, the virial/stress sign convention of
the validation code, errors on real PBE data in a sane range, and one-line errors for bad names."""

import json

import numpy as np
import pytest
from ase.build import bulk
from ase.io import write

from datafiles import data_path
from deepearth.reference import read_frames, universal
from deepearth.reference.universal import (BASELINES, BaselineUnavailable, UniversalEvaluator, shifted_energy_rmse,
                                           universal_calculator, universal_labeller)

#: One model per package: the other registry entries share its code path.
FAMILY = [pytest.param("chgnet-0.3.0", id="chgnet"), pytest.param("sevennet-0", id="sevennet")]


@pytest.fixture(scope="module")
def evaluators():
    import torch

    torch.set_num_threads(1)
    cache = {}

    def get(name):
        pytest.importorskip(BASELINES[name].package)
        if name not in cache:
            cache[name] = UniversalEvaluator(name)
        return cache[name]

    return get


def rattled_mgo():
    atoms = bulk("MgO", "rocksalt", a=4.21, cubic=True)
    atoms.rattle(0.08, seed=3)
    return atoms


@pytest.mark.parametrize("name", FAMILY)
def test_forces_are_minus_the_energy_gradient(name, evaluators):
    ev = evaluators(name)
    atoms = rattled_mgo()
    args = (atoms.cell.array, atoms.get_chemical_symbols())
    _, forces, _ = ev.evaluate(atoms.positions, *args)
    assert np.abs(forces).max() > 0.3  # rattled: the check is not trivially 0 = 0
    h = 5e-3  # Å; the models run in float32 (≈ 5e-6 eV on 50 eV), central differences
    for i, k in [(0, 0), (1, 2), (4, 1), (7, 0)]:
        e = []
        for sign in (1, -1):
            pos = atoms.positions.copy()
            pos[i, k] += sign * h
            e.append(ev.evaluate(pos, *args)[0])
        assert -(e[0] - e[1]) / (2 * h) == pytest.approx(forces[i, k], abs=5e-3)


@pytest.mark.parametrize("name", FAMILY)
def test_virial_is_minus_stress_times_volume_in_the_ase_sign(name, evaluators):
    """validation_errors takes model stress = −virial/V and compares it with ASE-sign labels: the
    evaluator's virial must give the ASE calculator's stress, and that stress must be (1/V) dE/dε
    (tension > 0), checked by straining the cell."""
    ev = evaluators(name)
    atoms = rattled_mgo()
    e0, _, virial = ev.evaluate(atoms.positions, atoms.cell.array, atoms.get_chemical_symbols())
    vol = atoms.get_volume()
    ref = atoms.copy()
    ref.calc = universal_calculator(name)
    stress = ref.get_stress(voigt=False)
    assert ref.get_potential_energy() == pytest.approx(e0, abs=1e-4)
    np.testing.assert_allclose(-virial / vol, stress, atol=1e-6)
    assert np.trace(stress) < 0  # a = 4.21 Å is below the PBE lattice constant of MgO (≈ 4.25 Å): compressed
    h = 2e-3
    for i, j in [(0, 0), (2, 2), (0, 1)]:
        e = []
        for sign in (1, -1):
            strain = np.eye(3)
            strain[i, j] += sign * h / (1 if i == j else 2)
            strain[j, i] += 0 if i == j else sign * h / 2
            e.append(ev.evaluate(atoms.positions @ strain, atoms.cell.array @ strain, atoms.get_chemical_symbols())[0])
        assert (e[0] - e[1]) / (2 * h) / vol == pytest.approx(stress[i, j], abs=3e-4)  # eV/Å³ (0.05 GPa)


@pytest.mark.parametrize("name", FAMILY)
def test_labeller_marks_its_labels_as_a_baseline(name, evaluators):
    evaluators(name)  # skips without the package
    label = universal_labeller(name).label(rattled_mgo())
    assert label.ok and label.stress_eV_per_A3.shape == (6,)
    prov = label.provenance
    assert prov["baseline"] is True and prov["trained_on"].startswith("MPtrj") and prov["labeller"] == name
    assert prov["code"].split()[0] == BASELINES[name].package


@pytest.mark.parametrize("name", FAMILY)
def test_validation_errors_on_pbe_casio3_melt(name, evaluators):
    """Two frames at 2500 K and two at 4000 K (135 atoms): forces and stresses of a universal potential are
    close to PBE; energies are not on our energy zero, so only the shifted energy error is small.
    Measured (one core): chgnet-0.3.0 F 0.31 eV/Å, S 1.0 GPa, E 460 → 9.1 meV/atom after the shift;
    sevennet-0 F 0.22 eV/Å, S 1.5 GPa, E 27 → 10.4 meV/atom."""
    from deepearth.potentials.validation import validation_errors

    frames = []
    for temp in (2500, 4000):
        part = read_frames(data_path("casio3-melt-pbe", f"train_{temp}K.xyz"))
        for atoms in (part[0], part[45]):
            atoms.info["temperature_K"] = float(temp)
            frames.append(atoms)
    res = validation_errors(evaluators(name), frames, bin_by="temperature", n_bootstrap=20)
    assert res.n_frames == 4 and set(res.bins) == {"2500", "4000"}
    assert 0.05 < res.rmse_force_eV_per_A < 0.6
    assert 0.1 < res.rmse_stress_GPa < 5.0
    ref, mod = res.parity["energy_eV_per_atom"]
    shifted = shifted_energy_rmse(frames, ref, mod, res.parity["bin"]["energy_eV_per_atom"])
    assert shifted["rmse_energy_shifted_meV_per_atom"] < 30
    assert shifted["rmse_energy_shifted_meV_per_atom"] <= res.rmse_energy_meV_per_atom
    assert abs(shifted["energy_shift_meV_per_atom"]) < 1000 and set(shifted["bins"]) == {"2500", "4000"}


def test_cli_baseline_alone_then_next_to_nothing_else(tmp_path, capsys):
    """`deepearth validate DATA --baseline NAME` without a model: the baseline's table and files."""
    pytest.importorskip("chgnet")
    from deepearth.cli import main

    data = tmp_path / "three.xyz"
    write(data, read_frames(data_path("casio3-melt-pbe", "train_3000K.xyz"))[:3], format="extxyz")
    out = tmp_path / "v"
    assert main(["validate", str(data), "--baseline", "chgnet-0.3.0", "--T-K", "3000", "--bin-by", "temperature",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "baseline chgnet-0.3.0" in text and "E-shift" in text
    doc = json.loads((out / "validation.json").read_text())
    base = doc["baselines"]["chgnet-0.3.0"]
    assert base["n_frames"] == 3 and base["provenance"]["baseline"] is True
    assert base["rmse_energy_shifted_meV_per_atom"] < base["rmse_energy_meV_per_atom"]
    assert "rmse_energy_shifted_meV_per_atom" in base["bins"]["3000"]
    assert (out / "baseline-chgnet-0.3.0.json").is_file() and "model" not in doc
    assert main(["validate", str(data), "--out", str(out)]) == 2
    assert "--baseline NAME" in capsys.readouterr().err


def test_unknown_name_and_missing_package_are_one_line(monkeypatch):
    with pytest.raises(ValueError, match=r"unknown baseline 'mace-mp-0' \(known: chgnet-0.3.0, .*sevennet-mf-0\)"):
        universal_calculator("mace-mp-0")
    with pytest.raises(ValueError, match="unknown baseline"):
        universal_labeller("7net-0")
    monkeypatch.setattr(universal.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(BaselineUnavailable, match=r"'sevennet-mf-0' needs the sevenn package: pip install -e '\.\[baselines\]'") as exc:
        universal_calculator("sevennet-mf-0")
    assert isinstance(exc.value, ImportError) and isinstance(exc.value, ValueError)
    assert "\n" not in str(exc.value)


def test_shifted_energy_removes_a_per_element_offset():
    """Two compositions, model = reference + per-element offsets + noise: the shift absorbs the offsets."""
    a, b = bulk("MgO", "rocksalt", a=4.2, cubic=True), bulk("Mg", "hcp", a=3.2)
    frames = [a, b, a, b]
    ref = np.array([-5.0, -1.5, -5.1, -1.6])
    mu = {"Mg": 0.3, "O": -0.7}
    mod = ref + np.array([np.mean([mu[s] for s in f.get_chemical_symbols()]) for f in frames]) + [1e-3, -1e-3, 0, 0]
    out = shifted_energy_rmse(frames, ref, mod)
    assert out["rmse_energy_shifted_meV_per_atom"] < 1.0
    assert out["energy_shift_meV_per_atom"] == pytest.approx(1000 * (0.5 * (-0.2) + 0.5 * 0.3), abs=1.0)
