"""Train a committee of models (different seeds) in parallel worker processes."""

from __future__ import annotations

from pathlib import Path

from deepearth.parallel import run_tasks


def _train_member(hyper: dict, type_map: list[str], workdir: str, train: list[str], valid: list[str],
                  seed: int) -> str:
    from deepearth.potentials.deepmd import DeepMDPotential

    backend = DeepMDPotential(type_map=type_map, **hyper)
    return str(backend.train(Path(workdir), [Path(s) for s in train], [Path(s) for s in valid], seed))


def train_committee(hyper: dict, type_map: list[str], workdir: Path, train_systems: list[Path],
                    valid_systems: list[Path], seeds: list[int], workers: int = 1, on_done=None) -> list[Path]:
    """Train ``len(seeds)`` members in ``workdir/member-k``; finished members are not retrained."""
    tasks = [(hyper, type_map, str(Path(workdir) / f"member-{k}"), [str(s) for s in train_systems],
              [str(s) for s in valid_systems], seed) for k, seed in enumerate(seeds)]
    models: list[Path | None] = [None] * len(tasks)
    for i, path in run_tasks(_train_member, tasks, workers):
        models[i] = Path(path)
        if on_done:
            on_done(i, models[i])
    return models  # type: ignore[return-value]
