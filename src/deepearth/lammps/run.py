"""Running a LAMMPS input in this process: commands one by one in a working directory, with a log.

The instance is always closed (also on errors); MPI is not finalised, so any number of runs can
follow in the same process. The process's working directory is changed to ``workdir`` for the
duration of the run (LAMMPS writes relative paths there), so runs in threads of one process must
not overlap; use processes (or :func:`deepearth.lammps.child.run_child`).

The commands are run as given: a caller that builds them from paths or names it did not write
itself passes each through :func:`deepearth.lammps.safe.lammps_word` (a newline in a pasted path is
a new command, ``shell`` included).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from deepearth.lammps.errors import LammpsError
from deepearth.lammps.library import create_lammps

__all__ = ["InProcessRun", "log_tail", "run_in_process", "split_commands"]


def split_commands(commands: str | Iterable[str]) -> list[str]:
    """LAMMPS commands, one per entry: a string is split into lines, ``&`` continuations are joined,
    comments (``#`` outside quotes) and blank lines dropped. A list may hold multi-line strings."""
    lines: list[str] = []
    items = [commands] if isinstance(commands, str) else list(commands)
    for item in items:
        lines.extend(str(item).splitlines() or [""])
    out: list[str] = []
    pending = ""
    for raw in lines:
        line = _strip_comment(raw).rstrip()
        if line.endswith("&"):
            pending += line[:-1].strip() + " "
            continue
        line = (pending + line.strip()).strip()
        pending = ""
        if line:
            out.append(line)
    if pending.strip():
        out.append(pending.strip())
    return out


def _strip_comment(line: str) -> str:
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i]
    return line


def log_tail(log_path: Path, n: int = 8) -> str:
    """The last ``n`` lines of a log as an indented block for error messages ("" if unreadable)."""
    try:
        lines = Path(log_path).read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\nlast lines of the log:\n  " + "\n  ".join(lines[-n:]) if lines else ""


@contextmanager
def _chdir(path: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


@dataclass
class InProcessRun:
    """What :func:`run_in_process` returns: the absolute working directory and log file, the atom
    count after the last command, the requested thermo keywords evaluated then (input units) and
    the wall time (s)."""

    workdir: Path
    log_file: Path
    natoms: int
    final: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0


def run_in_process(commands: str | Iterable[str], workdir: str | os.PathLike, *, log_file: str = "log.lammps",
                   cmdargs: Sequence[str] = (), plugins: bool = False,
                   final_thermo: Sequence[str] = ()) -> InProcessRun:
    """Run LAMMPS ``commands`` (a string or a list, see :func:`split_commands`) in ``workdir``.

    Parameters
    ----------
    workdir:
        Directory the run happens in (created if needed); relative file names resolve there.
    log_file:
        LAMMPS' log (relative to ``workdir``): the echoed input, thermo output and errors.
    cmdargs:
        Extra LAMMPS command-line arguments (e.g. ``["-sf", "omp"]``).
    plugins:
        Load the ``lammps.plugins`` entry points (DeePMD-kit's ``pair_style deepmd``; imports TensorFlow).
    final_thermo:
        Thermo keywords (``vol``, ``press``, ``c_ID[2]``...) evaluated after the last command.

    Raises
    ------
    LammpsError
        When a command fails: the message names the command, its index and the log file, and ends
        with the last lines of the log; also when LAMMPS cannot be loaded.
    """
    cmds = split_commands(commands)
    wd = Path(workdir).resolve()
    wd.mkdir(parents=True, exist_ok=True)
    log_path = wd / log_file
    t0 = time.perf_counter()
    final: dict[str, float] = {}
    with _chdir(wd):
        lmp = create_lammps(cmdargs, log=log_path, plugins=plugins)
        try:
            for i, cmd in enumerate(cmds):
                try:
                    lmp.command(cmd)
                except Exception as exc:  # noqa: BLE001 - the lammps module raises plain Exception
                    raise LammpsError(f"LAMMPS failed at command {i + 1}/{len(cmds)} '{cmd}': "
                                      f"{str(exc).strip()} (log: {log_path}){log_tail(log_path)}",
                                      command=cmd, index=i, log_file=log_path) from None
            natoms = int(lmp.get_natoms())
            for key in final_thermo:
                final[key] = float(lmp.get_thermo(key))
        finally:
            lmp.close()
    return InProcessRun(wd, log_path, natoms, final, time.perf_counter() - t0)
