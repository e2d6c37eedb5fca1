"""Running a LAMMPS input in a child Python process (optionally under ``mpirun``).

For inputs that may take the whole process down (``fitpod`` aborts on bad settings; a LAMMPS
``ERROR one`` calls ``MPI_Abort``), that must run on several MPI ranks, or that need a time limit.
The input is written into ``workdir`` as a small Python script from :data:`CHILD_TEMPLATE` (it can be
rerun by hand: ``python lammps_input.py``), run with ``sys.executable`` (``mpirun -np <ranks>`` in
front when ``ranks > 1``), its stdout and stderr appended to a log file, and LAMMPS' own log
written beside it. Every failure — a non-zero exit, a crash, the time limit — is one
:class:`~deepearth.lammps.errors.LammpsError` of one line naming the LAMMPS error and both logs.

The script holds the commands, arguments and log path as Python literals (``repr``), so nothing in
them becomes Python code; what they mean to LAMMPS is the caller's: paths and names pasted into
commands go through :func:`deepearth.lammps.safe.lammps_word` first.
"""

from __future__ import annotations

import os
import shutil
import signal
import string
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from deepearth.lammps.errors import LammpsError
from deepearth.lammps.run import split_commands

__all__ = ["CHILD_TEMPLATE", "ChildRun", "child_script", "find_mpirun", "last_error_line", "run_child"]

#: The script a child process runs; ``$commands``, ``$cmdargs``, ``$lammps_log`` and ``$plugins`` are
#: Python literals. It exits with status 3 after printing which command failed and why.
CHILD_TEMPLATE = string.Template('''\
"""A LAMMPS input run by deepearth.lammps.child (written from its template)."""
import sys

from deepearth.lammps.library import create_lammps

commands = $commands
lmp = create_lammps($cmdargs, log=$lammps_log, plugins=$plugins)
try:
    for i, cmd in enumerate(commands):
        try:
            lmp.command(cmd)
        except Exception as exc:
            print(f"LAMMPS failed at command {i + 1}/{len(commands)} {cmd!r}: {str(exc).strip()}",
                  file=sys.stderr, flush=True)
            sys.exit(3)
finally:
    lmp.close()
''')


@dataclass
class ChildRun:
    """A finished child run: the script, the child's log (stdout + stderr), LAMMPS' log, wall time (s)."""

    workdir: Path
    script: Path
    log_file: Path
    lammps_log: Path
    wall_s: float


def child_script(commands: str | Iterable[str], *, lammps_log: str | os.PathLike, cmdargs: Sequence[str] = (),
                 plugins: bool = False) -> str:
    """The text of the child script for ``commands`` (see :data:`CHILD_TEMPLATE`)."""
    return CHILD_TEMPLATE.substitute(commands=repr(split_commands(commands)),
                                     cmdargs=repr([str(a) for a in cmdargs]),
                                     lammps_log=repr(str(lammps_log)), plugins=repr(bool(plugins)))


def run_child(commands: str | Iterable[str], workdir: str | os.PathLike, *, log_file: str | os.PathLike = "child.log",
              lammps_log: str = "log.lammps", script: str = "lammps_input.py", timeout_s: float | None = None,
              cmdargs: Sequence[str] = (), plugins: bool = False, ranks: int = 1,
              env: Mapping[str, str] | None = None, preexec_fn: Callable[[], None] | None = None,
              label: str | None = None) -> ChildRun:
    """Run LAMMPS ``commands`` in a child process in ``workdir`` and wait for it.

    Parameters
    ----------
    commands:
        The input: one string (as in an input file) or a list of commands (see ``split_commands``).
    workdir:
        Directory the child runs in (created if needed); the script is written there.
    log_file:
        The child's stdout and stderr (appended); relative to ``workdir``.
    lammps_log:
        LAMMPS' log file, relative to ``workdir``.
    script:
        Name of the script written into ``workdir``.
    timeout_s:
        Wall-clock limit in seconds (``None``: none); the child (all ranks) is killed after it.
    cmdargs:
        Extra LAMMPS command-line arguments.
    plugins:
        Load the ``lammps.plugins`` entry points in the child (``pair_style deepmd``).
    ranks:
        MPI ranks; ``> 1`` runs ``mpirun -np ranks`` (the one beside ``sys.executable`` or on ``PATH``).
    env:
        Variables set in the child on top of this process's environment (e.g. thread counts).
    preexec_fn:
        Called in the child before it starts (e.g. to make it die with its parent).
    label:
        What the run is, for the error message (default ``"LAMMPS in <workdir>"``).

    Raises
    ------
    LammpsError
        One line: the label, the exit status (or the time limit), the last LAMMPS error line and both logs.
    """
    wd = Path(workdir).resolve()
    wd.mkdir(parents=True, exist_ok=True)
    log_path = wd / log_file
    lmp_log = wd / lammps_log
    script_path = wd / script
    script_path.write_text(child_script(commands, lammps_log=lmp_log, cmdargs=cmdargs, plugins=plugins))
    argv = [sys.executable, str(script_path)]
    if ranks > 1:
        argv = [find_mpirun(), "-np", str(int(ranks)), *argv]
    what = label or f"LAMMPS in {wd}"
    t0 = time.perf_counter()
    with open(log_path, "a") as log:
        proc = subprocess.Popen(argv, cwd=wd, env=dict(os.environ, **(env or {})), stdout=log,
                                stderr=subprocess.STDOUT, preexec_fn=preexec_fn, start_new_session=True)
        try:
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill(proc)
            raise LammpsError(f"{what} timed out after {timeout_s} s; see {log_path} and {lmp_log}",
                              log_file=log_path) from None
        except BaseException:
            _kill(proc)
            raise
    if code != 0:
        last = last_error_line(lmp_log, log_path)
        raise LammpsError(f"{what} failed (exit {code}){': ' + last if last else ''}; see {log_path} and {lmp_log}",
                          log_file=log_path)
    return ChildRun(wd, script_path, log_path, lmp_log, time.perf_counter() - t0)


def last_error_line(lammps_log: Path, child_log: Path, max_chars: int = 400) -> str:
    """The last ``ERROR`` line of LAMMPS' log, else the last line of the child's log that says
    ``ERROR``/``Error``/``failed``, else its last line ("" when there is none); one line."""
    for path, keys in ((lammps_log, ("ERROR",)), (child_log, ("ERROR", "Error", "failed"))):
        try:
            lines = [ln.strip() for ln in Path(path).read_text(errors="replace").splitlines() if ln.strip()]
        except OSError:
            continue
        hits = [ln for ln in lines if any(k in ln for k in keys)]
        if hits:
            return hits[-1][:max_chars]
        if path == child_log and lines:
            return lines[-1][:max_chars]
    return ""


def find_mpirun() -> str:
    """``mpirun``: beside the Python executable (the mpich wheel's), else on ``PATH``;
    :class:`LammpsError` when there is none."""
    beside = Path(sys.executable).parent / "mpirun"
    found = str(beside) if beside.is_file() else shutil.which("mpirun")
    if not found:
        raise LammpsError("MPI ranks > 1 need 'mpirun' (pip install mpich puts it beside the Python executable); "
                          "none found: use ranks = 1")
    return found


def _kill(proc: subprocess.Popen) -> None:
    """Kill the child's whole process group (mpirun and its ranks) and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
