"""The Executor protocol: results as tasks finish, failures as values, a dead worker told apart."""

import os

import pytest

from deepearth.parallel import InProcessExecutor, LocalProcessExecutor, TaskFailed, make_executor, map_or_raise


def square_or_fail(x: int) -> int:
    if x == 3:
        raise ValueError("three is not allowed")
    return x * x


def die(x: int) -> int:
    if x == 1:
        os._exit(7)  # a segfault or the OOM killer, as far as the pool can tell
    return x


class DyingLabeller:
    """A reference whose process dies on every configuration (picklable: module level)."""

    name, provenance = "dying", {"labeller": "dying"}

    def label(self, atoms):
        os._exit(9)


@pytest.mark.parametrize("executor", [InProcessExecutor(), LocalProcessExecutor(2)], ids=["inline", "processes"])
def test_every_task_comes_back_once_failures_as_values(executor):
    results = sorted(executor.map(square_or_fail, [(i,) for i in range(5)]), key=lambda r: r.index)
    assert [r.index for r in results] == [0, 1, 2, 3, 4]
    assert [r.value for r in results if r.ok] == [0, 1, 4, 16]
    (bad,) = [r for r in results if not r.ok]
    assert bad.index == 3 and bad.error == "ValueError: three is not allowed" and not bad.crashed
    with pytest.raises(TaskFailed, match="grid point 3 failed: ValueError: three"):
        dict(map_or_raise(executor, square_or_fail, [(i,) for i in range(5)], "grid point"))


def test_a_dead_worker_fails_only_its_own_task_the_others_in_flight_are_rerun():
    results = sorted(LocalProcessExecutor(2).map(die, [(0,), (1,), (2,), (3,)]), key=lambda r: r.index)
    assert [r.index for r in results] == [0, 1, 2, 3]
    assert [r.value for r in results if r.ok] == [0, 2, 3]
    assert results[1].crashed and results[1].error == "the worker exited with code 7 without a result"


def test_submit_and_the_registry():
    with LocalProcessExecutor(2) as ex:
        assert ex.submit(square_or_fail, 4).result() == 16
    assert InProcessExecutor().submit(square_or_fail, 3).exception() is not None
    assert isinstance(make_executor(1), InProcessExecutor) and make_executor(3).workers == 3
    with pytest.raises(ValueError, match="unknown executor 'slurm'"):
        make_executor(2, "slurm")


def test_labelling_stores_a_failing_task_and_a_dead_worker_as_failed_labels(tmp_path):
    from ase.build import bulk

    from deepearth.reference.batch import LabelRequest, label_requests
    from deepearth.store import LabelStore

    class Broken:
        name, provenance = "broken", {"labeller": "broken"}

        def label(self, atoms):
            raise RuntimeError("the code crashed")

    store = LabelStore(tmp_path / "db.db")
    reqs = [LabelRequest(f"c{i}", bulk("Cu", cubic=True), 0) for i in range(2)]
    counts = label_requests(Broken(), reqs, store, lambda cid: "train")
    assert counts == {"ok": 0, "failed": 2, "skipped": 0}
    assert all("RuntimeError: the code crashed" in r.error for r in store.rows())
    dying = [LabelRequest(f"d{i}", bulk("Cu", cubic=True), 0) for i in range(2)]
    counts = label_requests(DyingLabeller(), dying, store, lambda cid: "train", LocalProcessExecutor(2))
    assert counts == {"ok": 0, "failed": 2, "skipped": 0}
    assert all("exited with code 9" in r.error for r in store.rows(parent="initial") if r.candidate_id[0] == "d")
