"""Label many configurations in parallel and persist each label the moment it arrives."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from ase import Atoms

from deepearth.parallel import Executor, InProcessExecutor
from deepearth.reference.labeller import Label, Labeller


@dataclass
class LabelRequest:
    """A configuration to label, its unique id and where it came from."""

    candidate_id: str
    atoms: Atoms
    iteration: int
    origin_P_GPa: float | None = None
    origin_T_K: float | None = None
    parent: str = "initial"
    frame: int = -1
    extra: dict = field(default_factory=dict)


def _label_one(labeller: Labeller, atoms: Atoms) -> Label:
    return labeller.label(atoms)


def label_requests(labeller: Labeller, requests: list[LabelRequest], store, split_of: Callable[[str], str],
                   executor: Executor | None = None,
                   on_label: Callable[[LabelRequest, Label], None] | None = None,
                   max_attempts: int = 1, retry_backoff_s: float = 0.0,
                   timeout_s: float | None = None) -> dict:
    """Label the requests that have no good label in ``store`` on ``executor`` (default: in this
    process); each result is written as soon as it finishes.

    - A request whose id is in the store for another configuration raises
      :class:`~deepearth.store.StaleWork` before anything runs (the inputs changed).
    - A configuration whose labelling failed ``max_attempts`` times (in this run and earlier ones)
      is not tried again; one with fewer failures is (a resume retries it). Within this call a
      failure is retried after ``retry_backoff_s × 2^(k-1)`` seconds.
    - A task that raises, returns an invalid label (:func:`~deepearth.store.label_problem`), runs
      past ``timeout_s`` or kills its worker (segfault, memory) is stored as a failed attempt with the
      reason; the executor reruns what a dead worker took with it, so only the guilty configuration
      fails. Timeouts and crashes are not retried within the call (they are rarely transient and
      cost the most).

    Returns counts ``{"ok", "failed", "skipped"}`` (failed: configurations left without a label;
    skipped: already labelled, or out of attempts, from an earlier run — never recomputed).
    """
    for r in requests:
        store.check_configuration(r.candidate_id, r.atoms)
    todo = [r for r in requests if not store.has_label(r.candidate_id)
            and store.failed_attempts(r.candidate_id) < max_attempts]
    counts = {"ok": 0, "failed": 0, "skipped": len(requests) - len(todo)}
    executor = executor or InProcessExecutor()
    retry = 0
    while todo:
        again = []
        for res in executor.map(_label_one, [(labeller, r.atoms) for r in todo], timeout_s=timeout_s):
            req = todo[res.index]
            label = res.value if res.ok else Label(atoms=req.atoms, ok=False, error=res.error[:500],
                                                   provenance=labeller.provenance)
            label = store.add(label, req.candidate_id, req.iteration, split_of(req.candidate_id), req.origin_P_GPa,
                              req.origin_T_K, req.parent, req.frame)
            if not label.ok and not res.crashed and store.failed_attempts(req.candidate_id) < max_attempts:
                again.append(req)
                continue
            counts["ok" if label.ok else "failed"] += 1
            if on_label:
                on_label(req, label)
        todo, retry = again, retry + 1
        if todo and retry_backoff_s:
            time.sleep(retry_backoff_s * 2 ** (retry - 1))
    return counts
