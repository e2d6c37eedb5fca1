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

#: Environment for one-thread training and inference (two threads were 7× slower on 2 cores).
SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "DP_INTRA_OP_PARALLELISM_THREADS": "1",
    "DP_INTER_OP_PARALLELISM_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "DP_INFER_BATCH_SIZE": "1024",  # DeePMD's default, set so it does not print a hint per model load
}


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no orphans after ``kill -9``).

    Orphaned workers would otherwise keep writing into the run directory while a resumed run
    redoes the same task. A no-op where ``prctl`` is unavailable.
    """
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _init_worker() -> None:
    die_with_parent()
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
