"""Store round trip, provenance and the DeePMD npy export; each store test runs on SQLite and on
PostgreSQL (``store_location``, tests/conftest.py)."""

import re

import numpy as np
import pytest
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


def test_round_trip_with_provenance(store_location):
    store = LabelStore(store_location())
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


def test_deepmd_export_virial_sign_and_shapes(tmp_path, store_location):
    store = LabelStore(store_location())
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


def test_export_does_not_depend_on_insertion_order(tmp_path, store_location):
    labs = [labelled(s) for s in range(4)]
    exported = []
    for name, order in (("a", [0, 1, 2, 3]), ("b", [2, 0, 3, 1])):
        store = LabelStore(store_location(name))
        for i in order:
            store.add(labs[i], f"c{i}", iteration=0, split="train")
        (system,) = store.export_deepmd(tmp_path / name, ["Mg", "O"])
        exported.append(np.load(system / "set.000" / "force.npy"))
    assert np.array_equal(exported[0], exported[1])


@pytest.mark.reliability("bad input")
def test_labels_of_another_reference_are_refused(store_location):
    store = LabelStore(store_location())
    prov = labelled(1).provenance
    store.check_provenance(prov)  # empty store: anything goes
    store.add(labelled(1), "a", iteration=0, split="train")
    store.check_provenance(dict(prov))  # the same reference again (a resumed run)
    with pytest.raises(ValueError, match=re.escape(f"{store.path}: labelled with T_el_K = 4000.0")):
        store.check_provenance(dict(prov, T_el_K=3000.0))
    with pytest.raises(ValueError, match="labeller = 'xtb'.*labeller = 'gpaw'"):
        store.check_provenance(dict(prov, labeller="gpaw"))
    bad = labelled(2)
    bad.provenance = dict(bad.provenance, energy="free energy")
    with pytest.raises(ValueError, match=r"provenance keys \['energy'\] of labeller 'xtb' are reserved by ase.db"):
        store.add(bad, "b", iteration=0, split="train")


def _add_labels(location: str, prefix: str, n: int, start) -> None:
    """Child process of the concurrency test: open the store and add ``n`` labels once both are ready."""
    start.wait(timeout=60)
    store = LabelStore(location)
    for i in range(n):
        store.add(labelled(i), f"{prefix}-{i:03d}", iteration=0, split="train")


@pytest.mark.reliability("fault")
def test_two_processes_writing_at_once_lose_nothing(store_location):
    """Two processes open one new store at the same moment (both create its tables) and write into it at
    once: every row of each is there, with its own key-value pairs."""
    import multiprocessing

    location, n = store_location(), 25
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=_add_labels, args=(location, prefix, n, start)) for prefix in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    assert [p.exitcode for p in procs] == [0, 0]
    store = LabelStore(location)
    want = {f"{prefix}-{i:03d}" for prefix in ("a", "b") for i in range(n)}
    assert store.count() == 2 * n
    assert {row.candidate_id for row in store.rows()} == want
    assert all(store.has(cid) for cid in want)  # found through ase.db's key tables, not only the row


@pytest.mark.reliability("bad input")
def test_a_corrupt_store_file_is_one_line_error_and_stays_as_it_was(tmp_path):
    real = tmp_path / "real.db"
    store = LabelStore(real)
    for i in range(20):
        store.add(labelled(i), f"c{i}", iteration=0, split="train")
    data = real.read_bytes()
    rng = np.random.default_rng(0)
    copies = {"garbage.db": rng.integers(0, 256, size=len(data), dtype=np.uint8).tobytes(),
              "text.db": b"this is not a database\n" * 10,
              "truncated-half.db": data[: len(data) // 2],
              "truncated-header.db": data[:50],
              "truncated-last-page.db": data[: len(data) - 100]}
    for name, content in copies.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ValueError) as err:
            LabelStore(path)
        message = str(err.value)
        assert message.startswith(f"{path}: not a readable label store: ") and message.endswith(
            "; nothing was changed"), (name, message)
        assert "\n" not in message, (name, message)
        assert path.read_bytes() == content, name
        assert sorted(p.name for p in tmp_path.glob(f"{name}*")) == [name], name  # no journal or lock left


@pytest.mark.reliability("bad input")
def test_an_sqlite_database_of_something_else_is_not_taken_over(tmp_path):
    import sqlite3

    path = tmp_path / "other.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE notes (text TEXT)")
    before = path.read_bytes()
    with pytest.raises(ValueError, match=re.escape(f"{path}: not a readable label store: ")):
        LabelStore(path)
    assert path.read_bytes() == before


@pytest.mark.reliability("fault")
def test_a_stale_lock_file_of_a_killed_writer_does_not_block(tmp_path):
    """ase.db's own lock file (``<store>.lock``) stays behind when a writer is killed and then blocks every
    later write forever; the store relies on SQLite's locking instead."""
    store = LabelStore(tmp_path / "db.db")
    (tmp_path / "db.db.lock").write_text("")
    store.add(labelled(1), "a", iteration=0, split="train")
    assert store.count() == 1


@pytest.mark.reliability("bad input")
def test_an_unreachable_postgres_url_is_one_line_error_without_the_password():
    import socket

    pytest.importorskip("psycopg2")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    with pytest.raises(ValueError) as err:
        LabelStore(f"postgresql://someone:s3cret@127.0.0.1:{port}/labels")
    message = str(err.value)
    assert message.startswith(f"postgresql://someone:***@127.0.0.1:{port}/labels: cannot open the label store: ")
    assert "\n" not in message and "s3cret" not in message


def test_a_store_labelled_before_versions_were_recorded_accepts_the_same_code(tmp_path):
    """"tblite ?" (no version recorded) matches "tblite 0.8.0"; another code or method does not."""
    from deepearth.store import _same_code_unknown_version

    assert _same_code_unknown_version("tblite ?", "tblite 0.8.0")
    assert not _same_code_unknown_version("tblite ?", "gpaw 26.7.0")
    assert not _same_code_unknown_version("tblite 0.7.0", "tblite 0.8.0")
