"""The ``Executor`` protocol and its local backends: independent tasks run somewhere, results come
back as they finish.

One protocol, several backends (as ASE's calculators): :class:`InProcessExecutor` (in order, in
this process: tests, debugging, one worker) and :class:`LocalProcessExecutor` (worker processes on
this machine). A cluster executor (Dask) implements the same two methods and plugs in without
touching its callers: :class:`deepearth.parallel.dask.DaskExecutor` (a Dask ``LocalCluster`` here,
dask-jobqueue SLURM/PBS jobs on a cluster; Dask is imported only when that executor is made).

- ``submit(fn, *args)`` returns a :class:`concurrent.futures.Future`;
- ``map(fn, tasks, timeout_s=None)`` yields one :class:`TaskResult` per task **as it finishes**, so
  the caller can persist each result at once (a killed run loses only the tasks in flight). A task
  that raises, runs past ``timeout_s``, or whose worker dies (segfault, out of memory) comes back as a
  failed ``TaskResult`` with the error text, never as an exception out of ``map``: the caller decides
  what a failure means.

When a worker dies, every task in flight on the pool is lost and nobody knows which one killed
it; :class:`LocalProcessExecutor` then runs each of those tasks again in a process of its own, so the
guilty one is named (and only it fails) and the others complete.

Workers are started with ``spawn`` (TensorFlow and tblite do not survive ``fork``) and pinned to one
thread each (two threads were 7× slower for training on a 2-core machine).
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import signal
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
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
    """Initialiser of every worker process: die with the parent, one thread, and ignore SIGINT: a
    Ctrl-C reaches the whole process group, and the parent stops its workers itself
    (:func:`deepearth.cli.interrupt.stop_workers`); a worker that took it would print "Process
    SpawnProcess-N:" and a traceback into the run's log."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    for key, value in SINGLE_THREAD_ENV.items():
        os.environ[key] = value


class TaskFailed(RuntimeError):
    """A task's failure, raised by :meth:`TaskResult.unwrap` for callers that cannot go on without it."""


@dataclass
class TaskResult:
    """The outcome of task ``index``: ``value`` when ``ok``, else ``error`` (type and message).

    ``crashed``: the task did not fail by itself — its process died (segfault, out of memory, killed)
    or was stopped at the timeout; ``error`` says which.

    ``attempts``: the errors of this task's failed attempts, oldest first, where the executor retries
    (:class:`deepearth.parallel.dask.DaskExecutor`); empty for one attempt that succeeded, and for the
    executors that do not retry.
    """

    index: int
    value: Any = None
    error: str = ""
    crashed: bool = False
    attempts: list[str] = field(default_factory=list)

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

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple],
            timeout_s: float | None = None) -> Iterator[TaskResult]: ...


class TaskTimeout(TimeoutError):
    """A task ran past its wall-clock limit."""


def error_text(exc: BaseException) -> str:
    """``Type: message`` of an exception (the text of a failed :class:`TaskResult`)."""
    return f"{type(exc).__name__}: {exc}".strip() or type(exc).__name__


def collect(futures: dict[Future, int]) -> Iterator[TaskResult]:
    """``TaskResult``s of ``{future: index}`` in the order they finish, failures as values."""
    for fut in as_completed(futures):
        i = futures[fut]
        exc = fut.exception()
        if exc is None:
            yield TaskResult(i, fut.result())
        else:
            yield TaskResult(i, error=error_text(exc), crashed=isinstance(exc, BrokenProcessPool))


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

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple],
            timeout_s: float | None = None) -> Iterator[TaskResult]:
        """Tasks in order. ``timeout_s`` interrupts a task with ``SIGALRM`` (main thread only, and only
        when the task returns to Python: a hang inside compiled code needs :class:`LocalProcessExecutor`)."""
        for i, task in enumerate(tasks):
            with _alarm(timeout_s):
                fut = self.submit(fn, *task)
            yield next(collect({fut: i}))


class _alarm:
    """Raise :class:`TaskTimeout` in the main thread after ``seconds`` (a no-op for ``None`` or elsewhere)."""

    def __init__(self, seconds: float | None):
        import threading

        self.seconds = seconds if threading.current_thread() is threading.main_thread() else None

    def _ring(self, signum, frame):
        raise TaskTimeout(f"exceeded the timeout of {self.seconds:g} s")

    def __enter__(self):
        if self.seconds:
            self._old = signal.signal(signal.SIGALRM, self._ring)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc):
        if self.seconds:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._old)


def run_with_deadline(timeout_s: float | None, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a worker process that the kernel kills with ``SIGALRM`` after ``timeout_s``
    (no Python handler: it works even inside a hung compiled library).

    Called in a worker thread (a Dask worker runs its task in one), it leaves the disposition of
    ``SIGALRM`` as it is (only the main thread may change it): the default, terminate; a worker
    that handles ``SIGALRM`` itself cannot be given a deadline (``RuntimeError``)."""
    if timeout_s:
        import threading

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
        elif signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, None):
            raise RuntimeError("cannot enforce the timeout: this worker handles SIGALRM itself")
        signal.alarm(max(1, math.ceil(timeout_s)))
    try:
        return fn(*args)
    finally:
        if timeout_s:
            signal.alarm(0)


def death_reason(exitcode: int | None, timeout_s: float | None) -> str:
    """What a worker's exit code says about how it died."""
    if exitcode is not None and exitcode < 0:
        sig = -exitcode
        if sig == signal.SIGALRM:
            return f"timed out: killed after the timeout of {timeout_s:g} s"
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
        why = {signal.SIGSEGV: "segmentation fault", signal.SIGKILL: "killed: out of memory?",
               signal.SIGABRT: "aborted", signal.SIGBUS: "bus error"}.get(sig, "killed")
        return f"the worker died: {name} ({why})"
    return f"the worker exited with code {exitcode} without a result"


def _isolated_child(conn, fn, args, timeout_s):
    init_worker()
    try:
        conn.send((True, run_with_deadline(timeout_s, fn, *args)))
    except BaseException as exc:  # a failure is a value
        conn.send((False, error_text(exc)))
    finally:
        conn.close()


def run_isolated(fn: Callable[..., Any], indexed: list[tuple[int, tuple]], workers: int,
                 timeout_s: float | None = None) -> Iterator[TaskResult]:
    """Each ``(index, args)`` in a spawned process of its own, up to ``workers`` at a time; a process
    that dies or passes ``timeout_s`` fails only its own task, with the reason (``crashed``)."""
    ctx = mp.get_context("spawn")
    pending, running = list(indexed), []
    while pending or running:
        while pending and len(running) < workers:
            i, args = pending.pop(0)
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_isolated_child, args=(send, fn, args, timeout_s), daemon=True)
            proc.start()
            send.close()
            running.append((i, proc, recv, time.monotonic()))
        for item in list(running):
            i, proc, recv, t0 = item
            result = None
            if recv.poll():
                try:
                    ok, payload = recv.recv()
                    result = TaskResult(i, payload) if ok else TaskResult(i, error=payload)
                except EOFError:  # died while sending
                    pass
            if result is None and not proc.is_alive():
                proc.join()
                result = TaskResult(i, error=death_reason(proc.exitcode, timeout_s), crashed=True)
            elif result is None and timeout_s and time.monotonic() - t0 > timeout_s + 30:  # the alarm failed
                proc.kill()
                proc.join()
                result = TaskResult(i, error=death_reason(-signal.SIGALRM, timeout_s), crashed=True)
            if result is not None:
                proc.join(timeout=5)
                recv.close()
                running.remove(item)
                yield result
        if running:
            time.sleep(0.05)


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

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple],
            timeout_s: float | None = None) -> Iterator[TaskResult]:
        """Tasks on a pool; each task killed at ``timeout_s``. The tasks a dead worker took with it are
        run again one process each (:func:`run_isolated`): only the guilty one fails."""
        tasks = list(tasks)
        if not tasks:
            return
        if len(tasks) == 1 and not timeout_s:  # no pool for one task
            yield from InProcessExecutor().map(fn, tasks)
            return
        lost = []
        with self._new_pool(min(self.workers, len(tasks))) as pool:
            futures = {pool.submit(run_with_deadline, timeout_s, fn, *task): i for i, task in enumerate(tasks)}
            for res in collect(futures):
                if res.crashed:
                    lost.append(res.index)
                else:
                    yield res
        if lost:
            yield from run_isolated(fn, [(i, tasks[i]) for i in sorted(lost)], self.workers, timeout_s)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> "LocalProcessExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def map_or_raise(executor: Executor, fn: Callable[..., Any], tasks: Iterable[tuple],
                 what: str = "task") -> Iterator[tuple[int, Any]]:
    """``(index, value)`` as tasks finish; the first failure raises :class:`TaskFailed` naming the task."""
    for res in executor.map(fn, tasks):
        yield res.index, res.unwrap(what)
