"""Store round trip, provenance and the DeePMD npy export."""

import numpy as np
from ase.build import bulk

from deepearth.reference.labeller import Label
from deepearth.store import LabelStore, assign_split


def labelled(seed):
    atoms = bulk("MgO", "rocksalt", a=4.0, cubic=True)
    atoms.rattle(0.05, seed=seed)
    rng = np.random.default_rng(seed)
    return Label(atoms=atoms, ok=True, energy_eV=-100.0 - seed, forces_eV_per_A=rng.normal(size=(8, 3)),
                 stress_eV_per_A3=rng.normal(size=6) * 0.01,
                 provenance={"labeller": "xtb", "method": "GFN1-xTB", "T_el_K": 4000.0})


def test_round_trip_with_provenance(tmp_path):
    store = LabelStore(tmp_path / "db.db")
    lab = labelled(1)
    store.add(lab, "it001-a", iteration=1, split="train", origin_P_GPa=140.0, origin_T_K=5000.0,
              parent="explore/iter-000/P140-T5000/traj.extxyz", frame=12)
    store.add(Label(atoms=lab.atoms, ok=False, error="SCF not converged", provenance=lab.provenance),
              "it001-b", iteration=1, split="train")
    assert store.has("it001-a") and store.has("it001-b") and not store.has("x")
    assert store.count(ok=True) == 1 and store.count(ok=False) == 1
    (back,) = store.configurations()
    assert np.allclose(back.get_forces(), lab.forces_eV_per_A)
    assert np.allclose(back.get_stress(), lab.stress_eV_per_A3)
    assert back.get_potential_energy() == lab.energy_eV
    info = back.info
    assert (info["method"], info["T_el_K"], info["iteration"], info["origin_P_GPa"], info["origin_T_K"],
            info["frame"]) == ("GFN1-xTB", 4000.0, 1, 140.0, 5000.0, 12)
    assert info["parent"].endswith("traj.extxyz")
    (failed,) = store.rows(ok=False)
    assert failed.error == "SCF not converged"


def test_deepmd_export_virial_sign_and_shapes(tmp_path):
    store = LabelStore(tmp_path / "db.db")
    labs = [labelled(s) for s in range(3)]
    for i, lab in enumerate(labs):
        store.add(lab, f"c{i}", iteration=0, split="train")
    (system,) = store.export_deepmd(tmp_path / "npy", ["Mg", "O"])
    virial = np.load(system / "set.000" / "virial.npy")
    v0 = labs[0].atoms.get_volume()
    from ase.stress import voigt_6_to_full_3x3_stress

    assert np.allclose(virial[0], (-voigt_6_to_full_3x3_stress(labs[0].stress_eV_per_A3) * v0).ravel())
    assert np.load(system / "set.000" / "force.npy").shape == (3, 24)
    assert np.load(system / "set.000" / "energy.npy").tolist() == [-100.0, -101.0, -102.0]
    types = np.loadtxt(system / "type.raw", dtype=int)
    assert [["Mg", "O"][t] for t in types] == labs[0].atoms.get_chemical_symbols()


def test_split_is_deterministic_and_near_fraction():
    splits = [assign_split(f"c{i}", 7, 0.2) for i in range(2000)]
    assert splits == [assign_split(f"c{i}", 7, 0.2) for i in range(2000)]
    assert 0.17 < splits.count("valid") / 2000 < 0.23


def test_json_markers_are_strict_and_atomic(tmp_path):
    import json

    from deepearth.files import read_json, write_json_atomic

    write_json_atomic(tmp_path / "r.json", {"rmse": float("nan"), "xs": [1.0, float("inf")], "n": 0})
    assert read_json(tmp_path / "r.json") == {"rmse": None, "xs": [1.0, None], "n": 0}
    json.loads((tmp_path / "r.json").read_text())  # strict parser accepts it
    assert not (tmp_path / "r.json.tmp").exists()


def test_export_does_not_depend_on_insertion_order(tmp_path):
    labs = [labelled(s) for s in range(4)]
    exported = []
    for name, order in (("a", [0, 1, 2, 3]), ("b", [2, 0, 3, 1])):
        store = LabelStore(tmp_path / f"{name}.db")
        for i in order:
            store.add(labs[i], f"c{i}", iteration=0, split="train")
        (system,) = store.export_deepmd(tmp_path / name, ["Mg", "O"])
        exported.append(np.load(system / "set.000" / "force.npy"))
    assert np.array_equal(exported[0], exported[1])


def test_labels_of_another_reference_are_refused(tmp_path):
    import pytest

    store = LabelStore(tmp_path / "db.db")
    prov = labelled(1).provenance
    store.check_provenance(prov)  # empty store: anything goes
    store.add(labelled(1), "a", iteration=0, split="train")
    store.check_provenance(dict(prov))  # the same reference again (a resumed run)
    with pytest.raises(ValueError, match=r"db.db: labelled with T_el_K = 4000.0.*T_el_K = 3000.0"):
        store.check_provenance(dict(prov, T_el_K=3000.0))
    with pytest.raises(ValueError, match="labeller = 'xtb'.*labeller = 'gpaw'"):
        store.check_provenance(dict(prov, labeller="gpaw"))
    bad = labelled(2)
    bad.provenance = dict(bad.provenance, energy="free energy")
    with pytest.raises(ValueError, match=r"provenance keys \['energy'\] of labeller 'xtb' are reserved by ase.db"):
        store.add(bad, "b", iteration=0, split="train")
