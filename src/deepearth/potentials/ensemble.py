"""Train a committee of models (different seeds) of one backend in parallel worker processes."""

from __future__ import annotations

from pathlib import Path

from deepearth.parallel import Executor, InProcessExecutor, map_or_raise
from deepearth.potentials.base import Potential


def train_member(potential: Potential, workdir: str, train: list[str], valid: list[str], seed: int) -> str:
    """Train one model of ``potential`` in ``workdir`` (a worker task: paths as strings); its path."""
    return str(potential.train(Path(workdir), [Path(s) for s in train], [Path(s) for s in valid], seed))


def train_committee(potential: Potential, workdir: Path, train_systems: list[Path], valid_systems: list[Path],
                    seeds: list[int], executor: Executor | None = None, on_done=None) -> list[Path]:
    """Train ``len(seeds)`` members of ``potential`` (a configured backend, e.g. ``DeepMDPotential``:
    members differ by the network seed; ``PODPotential``: by the bootstrap resample) in
    ``workdir/member-k`` on ``executor`` (default: in this process); finished members are not retrained (``Potential.train`` is idempotent)."""
    tasks = [(potential, str(Path(workdir) / f"member-{k}"), [str(s) for s in train_systems],
              [str(s) for s in valid_systems], seed) for k, seed in enumerate(seeds)]
    models: list[Path | None] = [None] * len(tasks)
    for i, path in map_or_raise(executor or InProcessExecutor(), train_member, tasks, "committee member"):
        models[i] = Path(path)
        if on_done:
            on_done(i, models[i])
    return models  # type: ignore[return-value]
