"""One executor interface for independent tasks: in-process or local worker processes.

Workers are started with ``spawn`` (TensorFlow and tblite do not survive ``fork``) and pinned to
one thread each. Results are handed back one by one as they finish, so the caller can persist
each (a killed run loses only tasks in flight).
"""

from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Callable, Iterable, Iterator

from deepearth.potentials.deepmd import SINGLE_THREAD_ENV


def _init_worker() -> None:
    for key, value in SINGLE_THREAD_ENV.items():
        os.environ[key] = value


def run_tasks(fn: Callable[..., Any], tasks: Iterable[tuple], workers: int = 1) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, fn(*task))`` as tasks finish; ``workers == 1`` runs in this process, in order.

    An exception inside a task is re-raised here with the task index in the message.
    """
    tasks = list(tasks)
    if workers <= 1 or len(tasks) <= 1:
        for i, task in enumerate(tasks):
            yield i, fn(*task)
        return
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=ctx,
                             initializer=_init_worker) as pool:
        futures = {pool.submit(fn, *task): i for i, task in enumerate(tasks)}
        for fut in as_completed(futures):
            i = futures[fut]
            try:
                result = fut.result()
            except Exception as exc:
                raise RuntimeError(f"task {i} ({getattr(fn, '__name__', fn)}) failed: {exc}") from exc
            yield i, result
