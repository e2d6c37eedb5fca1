"""Fault injection into labelling: a reference that raises, hangs, lies (NaN, wrong shapes, wrong
units), dies, or fails once; a resumed run with changed inputs. Nothing labelled is ever lost, no bad
label reaches training, and every failure is stored with its reason."""

import pytest
from faulty import FaultyLabeller, copper

from deepearth.parallel import InProcessExecutor, LocalProcessExecutor
from deepearth.reference.batch import LabelRequest, label_requests
from deepearth.store import LabelStore, StaleWork

pytestmark = pytest.mark.reliability("fault")


def requests(faults: list[str], prefix: str = "c") -> list[LabelRequest]:
    return [LabelRequest(f"{prefix}{i}", copper(i, f), 0) for i, f in enumerate(faults)]


def run(store, reqs, executor=None, **policy):
    return label_requests(FaultyLabeller(), reqs, store, lambda cid: "train", executor, **policy)


def errors(store) -> dict[str, str]:
    return {r.candidate_id: r.error for r in store.rows(ok=False)}


@pytest.mark.parametrize("fault, reason", [
    ("raise", "RuntimeError: SCF did not converge"),
    ("nan", "invalid label: non-finite force on atom 3 (Cu)"),
    ("shape", "invalid label: forces have shape (31, 3) for 32 atoms"),
    ("huge", "invalid label: force"),
])
def test_a_bad_label_is_stored_as_failed_with_its_reason_and_never_trained_on(tmp_path, fault, reason):
    store = LabelStore(tmp_path / "db.db")
    counts = run(store, requests(["", fault, ""]))
    assert counts == {"ok": 2, "failed": 1, "skipped": 0}
    assert errors(store)["c1"].startswith(reason)
    assert [a.info["candidate_id"] for a in store.configurations()] == ["c0", "c2"]


def test_a_configuration_that_kills_its_worker_fails_alone_with_the_reason(tmp_path):
    store = LabelStore(tmp_path / "db.db")
    counts = run(store, requests(["", "die", "", ""]), LocalProcessExecutor(2))
    assert counts == {"ok": 3, "failed": 1, "skipped": 0}  # the others in flight were rerun, not lost
    assert "SIGSEGV (segmentation fault)" in errors(store)["c1"]


def test_a_hanging_reference_times_out_in_a_worker_even_inside_compiled_code(tmp_path):
    store = LabelStore(tmp_path / "db.db")
    counts = run(store, requests(["", "hang-c", "hang"]), LocalProcessExecutor(2), timeout_s=3)
    assert counts == {"ok": 1, "failed": 2, "skipped": 0}
    assert all("timeout of 3 s" in e for e in errors(store).values())


def test_a_hanging_reference_times_out_in_process(tmp_path):
    store = LabelStore(tmp_path / "db.db")
    counts = run(store, requests(["hang", ""]), InProcessExecutor(), timeout_s=1)
    assert counts == {"ok": 1, "failed": 1, "skipped": 0}
    assert errors(store)["c0"] == "TaskTimeout: exceeded the timeout of 1 s"


def test_a_transient_failure_is_retried_with_backoff(tmp_path):
    store = LabelStore(tmp_path / "db.db")
    flaky = f"flaky:{tmp_path}"
    counts = run(store, requests([flaky, "", flaky]), LocalProcessExecutor(2), max_attempts=2, retry_backoff_s=0.01)
    assert counts == {"ok": 3, "failed": 0, "skipped": 0}
    assert store.count(ok=False) == 2 and "node lost" in errors(store)["c0"]  # each attempt is on record


def test_a_resume_retries_failed_labels_up_to_max_attempts_and_then_leaves_them(tmp_path):
    store = LabelStore(tmp_path / "db.db")
    reqs = requests(["raise", ""])
    assert run(store, reqs) == {"ok": 1, "failed": 1, "skipped": 0}
    assert run(store, reqs, max_attempts=3) == {"ok": 0, "failed": 1, "skipped": 1}  # two more tries
    assert store.failed_attempts("c0") == 3
    assert run(store, reqs, max_attempts=3) == {"ok": 0, "failed": 0, "skipped": 2}  # out of attempts
    assert store.count(ok=True) == 1


def test_a_changed_configuration_under_an_old_id_is_refused_not_reused(tmp_path):
    store = LabelStore(tmp_path / "db.db")
    run(store, requests(["", ""]))
    changed = [LabelRequest("c0", copper(0), 0), LabelRequest("c1", copper(99), 0)]  # c1 now other atoms
    with pytest.raises(StaleWork, match="'c1' was labelled for other atoms"):
        run(store, changed)
    assert store.count() == 2  # nothing written
    assert run(store, requests(["", ""])) == {"ok": 0, "failed": 0, "skipped": 2}  # same inputs: reused


def test_imported_frames_with_nan_or_absurd_forces_are_rejected_not_trained_on(tmp_path, capsys):
    import numpy as np
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.io import write

    from deepearth.cli import main

    frames = []
    for i in range(3):
        atoms = copper(i)
        forces = np.zeros((len(atoms), 3))
        if i == 1:
            forces[5, 2] = np.nan
        if i == 2:
            forces[0, 0] = 5e4  # Hartree/Bohr mistaken for eV/Å, or worse
        atoms.calc = SinglePointCalculator(atoms, energy=-100.0 - i, forces=forces)
        frames.append(atoms)
    data = tmp_path / "dft.extxyz"
    write(data, frames)
    assert main(["import", str(data), "--run", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "2 frames rejected (stored as failed labels, never trained on), first: frame 1: invalid label: " \
           "non-finite force on atom 5 (Cu)" in out
    store = LabelStore(tmp_path / "run" / "deepearth.db")
    assert store.count(ok=True) == 1 and store.count(ok=False) == 2
    assert "beyond 1000 eV/Å" in store.rows(ok=False, frame=2)[0].error
