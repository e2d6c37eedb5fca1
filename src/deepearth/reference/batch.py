"""Label many configurations in parallel and persist each label the moment it arrives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ase import Atoms

from deepearth.parallel import run_tasks
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
                   workers: int = 1, on_label: Callable[[LabelRequest, Label], None] | None = None) -> dict:
    """Label the requests not yet in ``store``; each result is written as soon as it finishes.

    Returns counts ``{"ok", "failed", "skipped"}`` (skipped: already in the store from an earlier,
    interrupted run — never recomputed).
    """
    todo = [r for r in requests if not store.has(r.candidate_id)]
    counts = {"ok": 0, "failed": 0, "skipped": len(requests) - len(todo)}
    for i, label in run_tasks(_label_one, [(labeller, r.atoms) for r in todo], workers):
        req = todo[i]
        store.add(label, req.candidate_id, req.iteration, split_of(req.candidate_id), req.origin_P_GPa,
                  req.origin_T_K, req.parent, req.frame)
        counts["ok" if label.ok else "failed"] += 1
        if on_label:
            on_label(req, label)
    return counts
