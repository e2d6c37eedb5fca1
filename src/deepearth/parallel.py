"""The ``Executor`` protocol: independent tasks run somewhere, results come back as they finish.

One protocol, several backends (as ASE's calculators): :class:`InProcessExecutor` (in order, in
this process: tests, debugging, one worker) and :class:`LocalProcessExecutor` (worker processes on
this machine). A cluster executor (Dask) implements the same two methods and plugs in without
touching its callers.

- ``submit(fn, *args)`` returns a :class:`concurrent.futures.Future`;
- ``map(fn, tasks)`` yields one :class:`TaskResult` per task **as it finishes**, so the caller can
  persist each result at once (a killed run loses only the tasks in flight). A task that raises,
  or whose worker dies (segfault, out of memory), comes back as a failed ``TaskResult`` with the
  error text, never as an exception out of ``map``: the caller decides what a failure means.

Workers are started with ``spawn`` (TensorFlow and tblite do not survive ``fork``) and pinned to one
thread each (two threads were 7× slower for training on a 2-core machine).
"""

from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Protocol

#: Environment for one-thread training and inference (two threads were 7× slower on 2 cores).
SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "DP_INTRA_OP_PARALLELISM_THREADS": "1",
    "DP_INTER_OP_PARALLELISM_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "DP_INFER_BATCH_SIZE": "1024",  # DeePMD's default, set so it does not print a hint per model load
}


def set_single_thread_env() -> None:
    """Pin this process to one thread per library, where the user has not set it (call before
    TensorFlow is imported)."""
    for key, value in SINGLE_THREAD_ENV.items():
        os.environ.setdefault(key, value)


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


def init_worker() -> None:
    """Initialiser of every worker process: die with the parent, one thread."""
    die_with_parent()
    for key, value in SINGLE_THREAD_ENV.items():
        os.environ[key] = value


class TaskFailed(RuntimeError):
    """A task's failure, raised by :meth:`TaskResult.unwrap` for callers that cannot go on without it."""


@dataclass
class TaskResult:
    """The outcome of task ``index``: ``value`` when ``ok``, else ``error`` (type and message).

    ``crashed``: the task did not fail by itself — its worker process died (segfault, out of memory,
    killed), taking every task in flight with it; which task killed it is unknown.
    """

    index: int
    value: Any = None
    error: str = ""
    crashed: bool = False

    @property
    def ok(self) -> bool:
        return not self.error

    def unwrap(self, what: str = "task") -> Any:
        """The value, or :class:`TaskFailed` naming the task and its error."""
        if self.error:
            raise TaskFailed(f"{what} {self.index} failed: {self.error}")
        return self.value


class Executor(Protocol):
    """Where independent tasks run. ``fn`` and the task arguments must be picklable (module-level)."""

    workers: int

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future: ...

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple]) -> Iterator[TaskResult]: ...


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip() or type(exc).__name__


def collect(futures: dict[Future, int]) -> Iterator[TaskResult]:
    """``TaskResult``s of ``{future: index}`` in the order they finish, failures as values."""
    for fut in as_completed(futures):
        i = futures[fut]
        exc = fut.exception()
        if exc is None:
            yield TaskResult(i, fut.result())
        else:
            yield TaskResult(i, error=_error_text(exc), crashed=isinstance(exc, BrokenProcessPool))


class InProcessExecutor:
    """Runs every task in this process, in order (``workers = 1``)."""

    workers = 1

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args))
        except Exception as exc:  # a failure is a value
            fut.set_exception(exc)
        return fut

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple]) -> Iterator[TaskResult]:
        for i, task in enumerate(tasks):
            yield next(collect({self.submit(fn, *task): i}))


class LocalProcessExecutor:
    """Runs tasks in up to ``workers`` spawned processes on this machine, one thread each.

    ``map`` starts a pool for its tasks and shuts it down when they are done; ``submit`` keeps one
    pool open until :meth:`close` (or the end of a ``with`` block).
    """

    def __init__(self, workers: int = 2):
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = int(workers)
        self._pool: ProcessPoolExecutor | None = None

    def _new_pool(self, n: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn"), initializer=init_worker)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        if self._pool is None:
            self._pool = self._new_pool(self.workers)
        return self._pool.submit(fn, *args)

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple]) -> Iterator[TaskResult]:
        tasks = list(tasks)
        if not tasks:
            return
        if len(tasks) == 1:  # no pool for one task
            yield from InProcessExecutor().map(fn, tasks)
            return
        with self._new_pool(min(self.workers, len(tasks))) as pool:
            yield from collect({pool.submit(fn, *task): i for i, task in enumerate(tasks)})

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> "LocalProcessExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


#: Executors by name, as recipes spell them.
EXECUTORS: dict[str, Callable[[int], Executor]] = {
    "inline": lambda workers: InProcessExecutor(),
    "processes": LocalProcessExecutor,
}


def make_executor(workers: int = 1, kind: str | None = None) -> Executor:
    """An executor by name (``inline`` | ``processes``); by default in-process for one worker,
    local processes for more."""
    kind = kind or ("inline" if workers <= 1 else "processes")
    if kind not in EXECUTORS:
        raise ValueError(f"unknown executor {kind!r} (one of {', '.join(EXECUTORS)})")
    return EXECUTORS[kind](workers)


def map_or_raise(executor: Executor, fn: Callable[..., Any], tasks: Iterable[tuple],
                 what: str = "task") -> Iterator[tuple[int, Any]]:
    """``(index, value)`` as tasks finish; the first failure raises :class:`TaskFailed` naming the task."""
    for res in executor.map(fn, tasks):
        yield res.index, res.unwrap(what)
