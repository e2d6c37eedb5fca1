"""Label many configurations in parallel and persist each label the moment it arrives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ase import Atoms

from deepearth.parallel import Executor, InProcessExecutor, TaskFailed
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
                   on_label: Callable[[LabelRequest, Label], None] | None = None) -> dict:
    """Label the requests not yet in ``store`` on ``executor`` (default: in this process); each
    result is written as soon as it finishes.

    A labelling task that raises is stored as a failed label with the error, like a calculator
    failure; a worker that died (segfault, memory) raises :class:`~deepearth.parallel.TaskFailed`
    and stores nothing, since every configuration in flight died with it. Returns counts
    ``{"ok", "failed", "skipped"}`` (skipped: already in the store from an earlier, interrupted run —
    never recomputed).
    """
    todo = [r for r in requests if not store.has(r.candidate_id)]
    counts = {"ok": 0, "failed": 0, "skipped": len(requests) - len(todo)}
    executor = executor or InProcessExecutor()
    for res in executor.map(_label_one, [(labeller, r.atoms) for r in todo]):
        req = todo[res.index]
        if res.crashed:
            raise TaskFailed(f"labelling {req.candidate_id}: the worker died ({res.error}); nothing was stored "
                             "for the configurations in flight")
        label = res.value if res.ok else Label(atoms=req.atoms, ok=False, error=res.error[:500],
                                               provenance=labeller.provenance)
        store.add(label, req.candidate_id, req.iteration, split_of(req.candidate_id), req.origin_P_GPa,
                  req.origin_T_K, req.parent, req.frame)
        counts["ok" if label.ok else "failed"] += 1
        if on_label:
            on_label(req, label)
    return counts
