"""Dask behind the :class:`~deepearth.parallel.core.Executor` protocol: a ``LocalCluster`` on this machine,
or dask-jobqueue SLURM/PBS jobs on a cluster, set up from one
:class:`~deepearth.parallel.cluster.ClusterSpec`.

Same semantics as :class:`~deepearth.parallel.core.LocalProcessExecutor`: ``map`` yields one
:class:`~deepearth.parallel.core.TaskResult` per task as it finishes and never raises; every worker
process runs one task at a time on one thread (:data:`~deepearth.parallel.core.SINGLE_THREAD_ENV`).

How a failure comes back:

- a task that raises: a failed result ``"Type: message"``; retried up to ``retries`` times, the
  k-th retry ``retry_backoff_s × 2^(k-1)`` s after the failure (other tasks go on meanwhile), each
  failed attempt listed in ``TaskResult.attempts``;
- a task that kills its worker (segfault, out of memory, ``os._exit``) or runs past ``timeout_s``
  (the worker-side deadline of :func:`~deepearth.parallel.core.run_with_deadline` kills the worker
  process with ``SIGALRM``): a failed, ``crashed`` result named by the exit status its nanny saw
  (:func:`~deepearth.parallel.core.death_reason`); not retried (rarely transient, the most costly);
- the scheduler fails every task that was on a worker when it died (``allowed-failures = 0``), also
  those only waiting there. Each task records on the scheduler the worker process that starts it,
  so a task that never started on the dead worker is submitted again (not an attempt) and only the
  guilty one fails;
- a task whose worker vanished with its nanny (the job hit its walltime, the node was lost) is not
  to blame: it is submitted again (not an attempt), up to :data:`MAX_LOST_RERUNS` times.

Batch jobs end: each worker retires itself a few minutes before its job's walltime (``--lifetime``,
:func:`~deepearth.parallel.cluster.jobqueue_kwargs`), its running task goes to another worker,
and the cluster submits a job in place of every one that ended (``adapt`` to ``jobs`` jobs).

Dask does not print to the terminal: its stderr handlers are raised to ``CRITICAL`` and the
dashboard is off; its records still reach its own in-memory handlers (the nanny's tell how a worker
died).

How tasks map onto a batch job's cores (MPI labelling tasks included): :mod:`deepearth.parallel.cluster`.
"""

from __future__ import annotations

import collections
import contextlib
import heapq
import logging
import os
import pickle
import re
import shutil
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from deepearth.parallel.cluster import (TASK_CORES_ENV, ClusterSpec, cluster_spec, jobqueue_cluster_class,
                                        jobqueue_kwargs)
from deepearth.parallel.core import (SINGLE_THREAD_ENV, TaskFailed, TaskResult, death_reason, error_text,
                                     run_with_deadline)

#: Seconds between looks at the cluster while tasks wait for a free worker.
POLL_S = 0.05

#: Scheduler options: no dashboard, and its HTTP routes on a free port (not 8787: two runs on one login node).
NO_DASHBOARD = {"dashboard": False, "dashboard_address": ":0"}

#: Seconds to wait for the batch system to accept the jobs (``sbatch`` / ``qsub`` returning).
SUBMIT_WAIT_S = 120.0

#: Times a task is submitted again because a worker died while the task was only waiting there.
MAX_LOST_RERUNS = 3

_METADATA = "deepearth-started"
_DEATH = re.compile(r"Worker process (\d+) (?:exited with status (-?\d+)|was killed by signal (\d+))")


def quiet_dask_logs() -> None:
    """Keep Dask off the terminal: its stderr handlers pass only ``CRITICAL`` and its records do not
    reach the application's root handlers; the nanny keeps logging at ``INFO`` into its in-memory
    handler (its record of how a worker died)."""
    import distributed  # noqa: F401  (installs its handlers)

    for name in ("distributed", "dask_jobqueue"):
        logger = logging.getLogger(name)
        logger.propagate = False
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler:
                handler.setLevel(logging.CRITICAL)
    nanny = logging.getLogger("distributed.nanny")
    if nanny.getEffectiveLevel() > logging.INFO:
        nanny.setLevel(logging.INFO)


class _Errors(logging.Handler):
    """Collects the exceptions of the error records it sees."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.errors: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.errors.append(record.exc_info[1])


def submit_jobs(cluster, jobs: int, submit: str, wait_s: float = SUBMIT_WAIT_S) -> None:
    """Scale a dask-jobqueue ``cluster`` to ``jobs`` jobs and wait (at most ``wait_s`` s) until the
    batch system accepted each (not until they start): a refused submission (bad account, partition,
    directive) is a ``RuntimeError`` with the batch system's own message, not a traceback on the
    terminal and a run that waits for ever."""
    catch = _Errors()
    loggers = [logging.getLogger(name) for name in ("tornado.application", "asyncio")]
    for logger in loggers:
        logger.addHandler(catch)
    try:
        cluster.scale(jobs=jobs)
        deadline = time.monotonic() + wait_s
        while True:
            if catch.errors:
                text = str(catch.errors[0])
                said = text.split("stderr:", 1)[-1].strip() or text
                raise RuntimeError(f"{submit} refused the job: {' '.join(said.split())}")
            submitted = [job for job in cluster.workers.values() if getattr(job, "job_id", None)]
            if len(cluster.workers) >= jobs and len(submitted) == len(cluster.workers):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{submit} did not accept {jobs} job(s) within {wait_s:g} s")
            time.sleep(POLL_S)
    finally:
        for logger in loggers:
            logger.removeHandler(catch)


def run_task(timeout_s: float | None, task_cores: int, mark: str | None, fn: Callable[..., Any],
             *args: Any) -> tuple[bool, Any, BaseException | None]:
    """On a worker: ``fn(*args)`` within ``timeout_s`` (the worker process dies with ``SIGALRM``
    past it). Returns ``(True, value, None)`` or ``(False, "Type: message", exception or None)``.

    ``mark``: a run id; the worker process's pid is then recorded on the scheduler under this task's
    key before ``fn`` starts, so that the client can tell the task that killed a worker from those
    only waiting on it."""
    for key, value in SINGLE_THREAD_ENV.items():
        os.environ.setdefault(key, value)
    os.environ[TASK_CORES_ENV] = str(task_cores)
    if mark is not None:
        from distributed import get_client, get_worker

        get_client().set_metadata([_METADATA, mark, str(get_worker().get_current_task())], os.getpid())
    try:
        return True, run_with_deadline(timeout_s, fn, *args), None
    except BaseException as exc:  # a failure is a value
        try:
            pickle.dumps(exc)
        except Exception:
            exc = None
        return False, error_text(exc) if exc is not None else "task failed (unpicklable exception)", exc


@dataclass
class _Outcome:
    """How one submission of a task ended (client side)."""

    ok: bool
    value: Any = None
    error: str = ""
    crashed: bool = False
    retryable: bool = False
    lost: bool = False  # not the task's fault (its worker died of another task, or vanished): submit again


class DaskExecutor:
    """Tasks on a Dask cluster (see the module docstring for the failure semantics).

    ``workers``: worker processes of a ``local`` cluster (ignored for ``slurm`` / ``pbs``, where
    ``jobs × workers_per_job`` decide). ``retries`` / ``retry_backoff_s`` (s) default to the spec's.
    The cluster starts on the first ``submit`` or ``map`` (a jobqueue cluster then submits its jobs)
    and stops at :meth:`close` or the end of a ``with`` block.
    """

    def __init__(self, workers: int = 2, cluster: ClusterSpec | None = None, *, retries: int | None = None,
                 retry_backoff_s: float | None = None):
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.spec = cluster or ClusterSpec()
        self.workers = int(workers) if self.spec.kind == "local" else self.spec.jobs * self.spec.workers_per_job
        self.retries = self.spec.retries if retries is None else int(retries)
        self.retry_backoff_s = self.spec.retry_backoff_s if retry_backoff_s is None else float(retry_backoff_s)
        if self.retries < 0 or self.retry_backoff_s < 0:
            raise ValueError(f"retries and retry_backoff_s must be ≥ 0, got {self.retries}, {self.retry_backoff_s}")
        self._cluster = None
        self._client = None
        self._lock = threading.Lock()
        self._held: set = set()  # futures of submit() not yet done (a dropped Dask future is cancelled)
        self._threads_now, self._threads_at = 1, -1e9

    # -- the cluster --------------------------------------------------------------------------------
    def client(self):
        """The ``distributed.Client`` of this executor's cluster (started on the first call)."""
        with self._lock:
            if self._client is None:
                import dask
                from distributed import Client

                quiet_dask_logs()
                settings = {
                    "distributed.scheduler.allowed-failures": 0,  # a dead worker fails its tasks at once
                    "distributed.scheduler.worker-saturation": 1.0,  # one task per thread sent to a worker
                    "distributed.worker.daemon": False,  # tasks may start child processes
                    "distributed.nanny.pre-spawn-environ": {
                        **dask.config.get("distributed.nanny.pre-spawn-environ", {}), **SINGLE_THREAD_ENV},
                }
                with dask.config.set(settings):
                    cluster = self._new_cluster()
                try:
                    self._client = Client(cluster, set_as_default=False)
                except BaseException:
                    cluster.close()
                    raise
                self._cluster = cluster
            return self._client

    @property
    def cluster(self):
        """The Dask cluster object (``LocalCluster``, ``SLURMCluster``, ``PBSCluster``) once started, else ``None``."""
        return self._cluster

    def _new_cluster(self):
        spec = self.spec
        if spec.kind == "local":
            from distributed import LocalCluster

            return LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                scheduler_kwargs=NO_DASHBOARD, silence_logs=logging.CRITICAL, memory_limit=0,
                                local_directory=spec.local_directory)
        cls = jobqueue_cluster_class(spec.kind)
        submit = cls.job_cls.submit_command
        if shutil.which(submit) is None:
            raise RuntimeError(f"cluster.kind = {spec.kind!r} needs {submit}, which is not on this machine: start the "
                               "run on a login node of the cluster")
        cluster = cls(**jobqueue_kwargs(spec), silence_logs="critical", scheduler_options=NO_DASHBOARD)
        try:
            submit_jobs(cluster, spec.jobs, submit)
            cluster.adapt(minimum_jobs=spec.jobs, maximum_jobs=spec.jobs)  # replace the jobs that end
        except BaseException:
            from distributed.core import Status

            for job in cluster.workers.values():  # never submitted: nothing to cancel
                if not getattr(job, "job_id", None):
                    job.status = Status.failed
            with contextlib.suppress(Exception):
                cluster.close()
            raise
        return cluster

    def close(self) -> None:
        """Stop the workers (cancelling the batch jobs) and the scheduler."""
        with self._lock:
            client, cluster = self._client, self._cluster
            self._client = self._cluster = None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    def __enter__(self) -> "DaskExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the protocol -------------------------------------------------------------------------------
    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """``fn(*args)`` on a worker; the ``Future`` holds its value or its exception (the task's own,
        or :class:`~deepearth.parallel.core.TaskFailed` with its text; Dask's ``KilledWorker`` for a dead
        worker). No retries, no timeout."""
        out: Future = Future()
        dfut = self.client().submit(run_task, None, self.spec.task_cores, None, fn, *args, pure=False)
        self._held.add(dfut)

        def done(f) -> None:
            self._held.discard(f)
            try:
                if f.status == "finished":
                    ok, payload, exc = f.result()
                    if ok:
                        out.set_result(payload)
                    else:
                        out.set_exception(exc if exc is not None else TaskFailed(payload))
                else:
                    out.set_exception(f.exception() or TaskFailed(f"task {f.status}"))
            except BaseException as exc:  # the result could not be fetched
                if not out.done():
                    out.set_exception(exc)

        dfut.add_done_callback(done)
        return out

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple],
            timeout_s: float | None = None) -> Iterator[TaskResult]:
        """One :class:`~deepearth.parallel.core.TaskResult` per task, as they finish; each task killed at
        ``timeout_s`` (s); a task that raised retried after a backoff.

        Tasks wait here and go to the cluster as worker threads free up (no more in flight than
        threads): Dask would otherwise queue a task behind an hour-long one on a busy worker while
        another worker idles, and a worker's death would take the queued tasks with it. Jobs that
        start later (a batch queue) are used as they join."""
        tasks = list(tasks)
        if not tasks:
            return
        from distributed import as_completed

        client = self.client()
        run_id = uuid.uuid4().hex
        todo = collections.deque(range(len(tasks)))  # not yet sent, in order; retries go first
        live: dict[str, tuple[int, Any]] = {}  # Dask key -> (task index, future)
        attempts: dict[int, list[str]] = {i: [] for i in range(len(tasks))}
        lost_reruns = dict.fromkeys(range(len(tasks)), 0)
        backoff: list[tuple[float, int]] = []  # (when, index) of retries in their backoff
        finished = as_completed(loop=client.loop)

        try:
            while todo or live or backoff:
                while backoff and backoff[0][0] <= time.monotonic():
                    todo.appendleft(heapq.heappop(backoff)[1])
                for _ in range(min(len(todo), self._threads() - len(live))):
                    i = todo.popleft()
                    fut = client.submit(run_task, timeout_s, self.spec.task_cores, run_id, fn, *tasks[i], pure=False)
                    live[fut.key] = (i, fut)
                    finished.add(fut)
                batch = finished.next_batch(block=not (todo or backoff)) if finished.count() else []
                if not batch:
                    time.sleep(POLL_S)
                    continue
                for fut in batch:
                    i, _ = live.pop(fut.key)
                    out = self._outcome(fut, run_id, timeout_s)
                    fut.release()
                    if out.lost and lost_reruns[i] < MAX_LOST_RERUNS:
                        lost_reruns[i] += 1
                        todo.appendleft(i)
                        continue
                    if out.lost:
                        out.error = f"{out.error} ({MAX_LOST_RERUNS + 1} times)"
                    if out.ok:
                        yield TaskResult(i, out.value, attempts=attempts[i])
                        continue
                    attempts[i].append(out.error)
                    k = len(attempts[i])
                    if out.retryable and k <= self.retries:
                        heapq.heappush(backoff, (time.monotonic() + self.retry_backoff_s * 2 ** (k - 1), i))
                        continue
                    error = out.error if k == 1 else f"{out.error} (after {k} attempts)"
                    yield TaskResult(i, error=error, crashed=out.crashed, attempts=attempts[i])
        finally:
            if live:
                client.cancel([fut for _, fut in live.values()])
            with contextlib.suppress(Exception):  # forget which worker started which task
                client.set_metadata([_METADATA, run_id], {})

    def _threads(self) -> int:
        """Worker threads in the cluster now (at least 1: a task waits for the first job to start);
        asked of the scheduler at most every ``POLL_S × 10`` s."""
        now = time.monotonic()
        if now - self._threads_at > 10 * POLL_S:
            self._threads_now = max(1, sum(self._client.nthreads().values()))
            self._threads_at = now
        return self._threads_now

    # -- telling failures apart ---------------------------------------------------------------------
    def _outcome(self, fut, run_id: str, timeout_s: float | None) -> _Outcome:
        from distributed import KilledWorker

        try:
            if fut.status == "finished":
                ok, payload, _ = fut.result()
                return _Outcome(True, payload) if ok else _Outcome(False, error=payload, retryable=True)
            exc = fut.exception()
        except Exception as fetch:  # the worker holding the result died before it was fetched
            return _Outcome(False, error=f"the result was lost: {error_text(fetch)}", crashed=True, lost=True)
        if not isinstance(exc, KilledWorker):
            return _Outcome(False, error=error_text(exc) if exc else f"task {fut.status}", retryable=True)
        worker = exc.last_worker
        started = self._client.get_metadata([_METADATA, run_id, str(fut.key)], None)
        if started is None or started != getattr(worker, "pid", None):
            return _Outcome(False, error=f"lost with a worker that died of another task before this one started "
                                         f"there (last: {worker.address})", crashed=True, lost=True)
        code = self._exit_code(worker)
        if code is None:
            return _Outcome(False, error=f"lost with its worker, which vanished without an exit status (its job "
                                         f"ended or its node was lost?; last: {worker.address})", crashed=True,
                            lost=True)
        return _Outcome(False, error=death_reason(code, timeout_s), crashed=True)

    def _exit_code(self, worker, wait_s: float = 3.0) -> int | None:
        """The exit code (negative: the signal) of the dead ``worker`` process, from its nanny's log;
        ``None`` where the nanny is gone or does not say."""
        nanny, pid, client = getattr(worker, "nanny", None), getattr(worker, "pid", None), self._client
        if not nanny or not pid:
            return None
        deadline = time.monotonic() + wait_s
        while True:
            try:
                lines = client.sync(lambda: client.rpc(nanny).get_logs(n=1000), callback_timeout=wait_s)
            except Exception:  # the nanny is gone with its job or node
                return None
            for _level, line in lines:
                m = _DEATH.search(line)
                if m and int(m.group(1)) == pid:
                    return int(m.group(2)) if m.group(2) is not None else -int(m.group(3))
            if time.monotonic() > deadline:
                return None
            time.sleep(0.1)


def dask_executor(workers: int = 2, cluster: ClusterSpec | dict | None = None) -> DaskExecutor:
    """A :class:`DaskExecutor` from a spec or a ``[cluster]`` table (checked by :func:`cluster_spec`)."""
    if isinstance(cluster, dict):
        cluster = cluster_spec(cluster)
    return DaskExecutor(workers, cluster)
