"""Where independent tasks run: the ``Executor`` protocol (:mod:`deepearth.parallel.core`: in this
process, local processes) and Dask (:mod:`deepearth.parallel.dask`: a ``LocalCluster`` here,
dask-jobqueue SLURM/PBS jobs on a cluster, set up by :mod:`deepearth.parallel.cluster`), by name
(:data:`EXECUTORS`, :func:`make_executor`).

Dask is imported only when a Dask executor is made.
"""

from __future__ import annotations

from typing import Any, Callable

from deepearth.parallel.core import (SINGLE_THREAD_ENV, Executor, InProcessExecutor, LocalProcessExecutor, TaskFailed,
                                     TaskResult, TaskTimeout, collect, death_reason, die_with_parent, error_text,
                                     init_worker, map_or_raise, run_isolated, run_with_deadline, set_single_thread_env)

__all__ = ["EXECUTORS", "SINGLE_THREAD_ENV", "Executor", "InProcessExecutor", "LocalProcessExecutor", "TaskFailed",
           "TaskResult", "TaskTimeout", "collect", "death_reason", "die_with_parent", "error_text", "init_worker",
           "make_executor", "map_or_raise", "run_isolated", "run_with_deadline", "set_single_thread_env"]


def dask_local(workers: int) -> Executor:
    """A :class:`deepearth.parallel.dask.DaskExecutor` on a local cluster of ``workers`` processes
    (Dask is imported here, not when this module is)."""
    from deepearth.parallel.dask import DaskExecutor

    return DaskExecutor(workers)


#: Executors by name, as recipes spell them.
EXECUTORS: dict[str, Callable[[int], Executor]] = {
    "inline": lambda workers: InProcessExecutor(),
    "processes": LocalProcessExecutor,
    "dask": dask_local,
}


def make_executor(workers: int = 1, kind: str | None = None, cluster: Any = None) -> Executor:
    """An executor by name (``inline`` | ``processes`` | ``dask``); by default in-process for one
    worker, local processes for more. ``cluster``, a :class:`deepearth.parallel.cluster.ClusterSpec` (or
    its dict, a recipe's ``[cluster]`` table), makes it a Dask executor on that cluster."""
    if cluster is not None:
        if kind not in (None, "dask"):
            raise ValueError(f"a cluster runs on the 'dask' executor, not {kind!r}")
        from deepearth.parallel.dask import dask_executor

        return dask_executor(workers, cluster)
    kind = kind or ("inline" if workers <= 1 else "processes")
    if kind not in EXECUTORS:
        raise ValueError(f"unknown executor {kind!r} (one of {', '.join(EXECUTORS)})")
    return EXECUTORS[kind](workers)
