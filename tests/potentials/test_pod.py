"""LAMMPS ML-POD backend: fitpod on EMT-labelled Cu/Al data; the model's forces and stress are
derivatives of its energy, the energy is extensive, bootstrap members differ, training is idempotent."""

import json

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from deepearth import load_potential
from deepearth.potentials.committee import Committee, calibration_factor
from deepearth.potentials.pod import (PODCalculator, PODPotential, read_model,
                                      read_npy_system, write_pod_extxyz)
from deepearth.store import write_deepmd_npy

TYPE_MAP = ["Al", "Cu"]
HYPER = dict(rcut_A=4.5, two_body=6, three_body=(4, 3))


def _frames(n, seed):
    """Rattled 16-atom Cu12Al4 fcc cells at two densities, labelled by ASE's EMT (a many-body
    reference unrelated to POD)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        a = bulk("Cu", "fcc", a=3.61 * (1.0 if i % 2 == 0 else 1.04), cubic=True).repeat((2, 2, 1))
        symbols = a.get_chemical_symbols()
        for j in (0, 5, 10, 15):
            symbols[j] = "Al"
        a.set_chemical_symbols(symbols)
        a.rattle(0.12, rng=rng)
        a.calc = EMT()
        a.get_potential_energy()
        out.append(a)
    return out


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("pod")
    train, valid = _frames(32, 1), _frames(10, 2)
    write_deepmd_npy(root / "train", train, TYPE_MAP)
    write_deepmd_npy(root / "valid", valid, TYPE_MAP)
    full = PODPotential(TYPE_MAP, bootstrap=False, **HYPER).train(root / "full", [root / "train"],
                                                                   [root / "valid"], seed=0)
    boot = PODPotential(TYPE_MAP, **HYPER)
    members = [boot.train(root / f"member-{k}", [root / "train"], [], seed=k) for k in range(4)]
    return dict(root=root, valid=valid, full=full, members=members, backend=boot)


def _atoms_eval(ev, a):
    return ev.evaluate(a.positions, a.cell.array, a.get_chemical_symbols())


def test_extxyz_is_what_fitpod_reads(tmp_path):
    a = _frames(1, 0)[0]
    write_deepmd_npy(tmp_path / "s", [a], TYPE_MAP)
    fr = read_npy_system(tmp_path / "s")
    write_pod_extxyz(fr, tmp_path / "f.xyz")
    lines = (tmp_path / "f.xyz").read_text().splitlines()
    assert lines[0] == "16" and all(len(line) < 1024 for line in lines)
    for key in ("Lattice=", "energy=", "stress="):
        assert key in lines[1]
    sym, *nums = lines[2].split()
    assert sym == a.get_chemical_symbols()[0] and len(nums) == 6
    assert np.allclose([float(x) for x in nums[3:]], a.get_forces()[0], atol=1e-8)
    stress = np.array(lines[1].split('stress="')[1].split('"')[0].split(), float).reshape(3, 3)
    assert np.allclose(stress, a.get_stress(voigt=False), atol=1e-9)  # ASE sign


def test_held_out_accuracy(trained):
    ev = trained["backend"].evaluator(trained["full"])
    df, de, scale = [], [], []
    for a in trained["valid"]:
        e, f, _ = _atoms_eval(ev, a)
        df.append(f - a.get_forces())
        de.append((e - a.get_potential_energy()) / len(a))
        scale.append(a.get_forces())
    rmse_f = np.sqrt(np.mean(np.square(df)))
    assert rmse_f < 0.1 * np.sqrt(np.mean(np.square(scale)))  # force scale ≈ 1.2 eV/Å
    assert np.sqrt(np.mean(np.square(de))) < 2e-3  # eV/atom


def test_forces_and_stress_are_energy_derivatives(trained):
    ev = trained["backend"].evaluator(trained["full"])
    a = trained["valid"][1].copy()
    # a general (tilted) cell: exercises the rotation into LAMMPS' lower-triangular frame
    a.set_cell(a.cell.array @ np.array([[1.0, 0.03, -0.02], [0.01, 0.98, 0.04], [-0.03, 0.02, 1.02]]),
               scale_atoms=True)
    e0, f, w = _atoms_eval(ev, a)
    h = 1e-4
    for i, k in [(0, 0), (3, 1), (7, 2), (12, 0)]:
        es = []
        for s in (h, -h):
            b = a.copy()
            b.positions[i, k] += s
            es.append(_atoms_eval(ev, b)[0])
        assert -(es[0] - es[1]) / (2 * h) == pytest.approx(f[i, k], abs=2e-4)
    a.calc = PODCalculator(trained["full"])
    stress = a.get_stress(voigt=False)
    assert np.allclose(stress, -w / a.get_volume(), atol=1e-10)
    assert np.allclose(a.get_forces(), f, atol=1e-10) and a.get_potential_energy() == pytest.approx(e0)
    vol = a.get_volume()
    for i, j in [(0, 0), (1, 2), (2, 2), (0, 1)]:
        es = []
        for s in (h, -h):
            eps = np.eye(3)
            eps[i, j] += s / 2
            eps[j, i] += s / 2
            b = a.copy()
            b.set_cell(a.cell.array @ eps, scale_atoms=True)
            es.append(_atoms_eval(ev, b)[0])
        # ASE: stress = (1/V) dE/dε (positive = tensile)
        assert (es[0] - es[1]) / (2 * h) / vol == pytest.approx(stress[i, j], abs=2e-6)


def test_energy_is_extensive_and_invariant(trained):
    ev = trained["backend"].evaluator(trained["full"])
    a = trained["valid"][0]
    e1, f1, w1 = _atoms_eval(ev, a)
    big = a.repeat((2, 2, 2))
    e8, f8, w8 = _atoms_eval(ev, big)
    assert e8 == pytest.approx(8 * e1, rel=1e-10, abs=1e-8)
    assert np.allclose(f8[: len(a)], f1, atol=1e-8) and np.allclose(w8, 8 * w1, atol=1e-7)
    shifted = a.copy()
    shifted.translate([5.3, -2.1, 11.7])  # outside the cell: wrapped
    assert _atoms_eval(ev, shifted)[0] == pytest.approx(e1, abs=1e-9)
    d = ev.descriptor(a.positions, a.cell.array, a.get_chemical_symbols())
    assert d.shape[0] == len(a) and d.shape[1] > 10 and np.all(np.isfinite(d))
    perm = np.random.default_rng(0).permutation(len(a))
    b = a[perm]
    assert np.allclose(ev.descriptor(b.positions, b.cell.array, b.get_chemical_symbols()), d[perm], atol=1e-10)


def test_bootstrap_members_differ_and_average_to_the_full_fit(trained):
    backend = trained["backend"]
    committee = Committee(trained["members"], backend)
    full = backend.evaluator(trained["full"])
    picks = [json.loads((m.parent / "frames.json").read_text())["train_frame_indices"] for m in trained["members"]]
    assert all(len(p) == 32 for p in picks) and len({tuple(p) for p in picks}) == 4
    spreads, dev_mean, errs = [], [], []
    for a in trained["valid"]:
        pred = committee.predict(a)
        _, ff, _ = _atoms_eval(full, a)
        spreads.append(pred.forces_eV_per_A.std(axis=0))
        dev_mean.append(pred.forces_eV_per_A.mean(axis=0) - ff)
        errs.append(pred.forces_eV_per_A.mean(axis=0) - a.get_forces())
    spread = np.sqrt(np.mean(np.square(spreads)))
    assert spread > 1e-4  # members differ
    assert np.sqrt(np.mean(np.square(dev_mean))) < 0.5 * np.sqrt(np.mean(np.square(errs)))
    s = calibration_factor(np.array(spreads), np.array(errs))
    assert np.isfinite(s) and s > 0


def test_training_is_idempotent_and_the_model_loads(trained, tmp_path):
    model = trained["full"]
    mtime = model.stat().st_mtime_ns
    backend = PODPotential(TYPE_MAP, bootstrap=False, **HYPER)
    assert backend.train(model.parent, [trained["root"] / "train"], [], seed=0) == model
    assert model.stat().st_mtime_ns == mtime
    manifest = read_model(model)
    assert manifest["type_map"] == TYPE_MAP
    calc = load_potential(model)
    assert isinstance(calc, PODCalculator)
    (tmp_path / "x.pod").write_text("species Al\n")  # a LAMMPS POD file is not a model
    with pytest.raises(ValueError, match="not a deepearth POD model"):
        load_potential(tmp_path / "x.pod")


def test_fitpod_error_is_one_line_naming_workdir(trained, tmp_path):
    bad = PODPotential(TYPE_MAP, rcut_A=4.5, two_body=4, three_body=(3, 2), four_body=(5, 2))
    with pytest.raises(RuntimeError) as info:
        bad.train(tmp_path / "bad", [trained["root"] / "train"], [], seed=0)
    msg = str(info.value)
    assert "\n" not in msg and str(tmp_path / "bad") in msg and "four-body" in msg and "train.log" in msg
    assert not (tmp_path / "bad" / "model.pod").exists()
