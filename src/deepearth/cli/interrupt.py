"""Stopping ``deepearth run`` with Ctrl-C (SIGINT) or ``kill`` (SIGTERM): the worker processes are
stopped, the executor shuts down as on any error (its queues and semaphores released: no
``resource_tracker: ... leaked semaphore objects``), and the command prints one line saying how to
resume, exiting 130 (SIGINT) or 143 (SIGTERM) as shells expect.

Without a handler SIGTERM ends the process at once (no clean-up at all: the leaked semaphores), and
SIGINT raises ``KeyboardInterrupt`` wherever the main thread is, often inside a process pool that
then waits for its running tasks (a production replica: an hour) before the traceback.
"""

from __future__ import annotations

import multiprocessing as mp
import shlex
import signal
import sys
import time

#: Exit status after each signal (128 + the signal number, what a shell reports for a killed job).
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Stopped(KeyboardInterrupt):
    """Raised in the main thread by SIGINT or SIGTERM (a ``KeyboardInterrupt``, so that no
    ``except Exception`` takes it for a failure)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def stop_workers(wait_s: float = 5.0) -> None:
    """Terminate this process's worker processes (its ``multiprocessing`` children: a process pool's
    workers, the one-task processes of a rerun) and wait up to ``wait_s`` for them; those still
    alive are killed. A Dask cluster's workers are left to the executor's ``close()`` (it stops the
    cluster and cancels batch jobs)."""
    if "distributed" in sys.modules:
        return
    children = mp.active_children()
    for proc in children:
        proc.terminate()
    deadline = time.monotonic() + wait_s
    for proc in children:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join(1.0)


class StopOnSignals:
    """While the block runs, SIGINT and SIGTERM stop the worker processes and raise
    :class:`Stopped` in the main thread; a second signal while stopping is ignored (the clean-up
    finishes). ``signum``: the signal that came, else ``None``."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signum: int | None = None
        self._old: dict = {}

    def _handler(self, signum, frame) -> None:
        if self.signum is not None:
            return
        self.signum = signum
        for proc in mp.active_children() if "distributed" not in sys.modules else []:
            proc.terminate()  # a pool shutting down would otherwise wait for their running tasks
        raise Stopped(signum)

    def __enter__(self) -> "StopOnSignals":
        self._old = {s: signal.signal(s, self._handler) for s in self.SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for s, old in self._old.items():
            signal.signal(s, old)


def resume_command(recipe: str, run_dir: str | None) -> str:
    """The command that resumes the run: the same one."""
    return "deepearth run " + shlex.quote(str(recipe)) + (f" --run-dir {shlex.quote(str(run_dir))}" if run_dir else "")
