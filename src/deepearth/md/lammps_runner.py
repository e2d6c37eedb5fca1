"""The LAMMPS production runner of ``md``: run an input, hand back its output as numpy arrays.

One job: execute a LAMMPS input in a working directory (:func:`deepearth.lammps.run.run_in_process`)
and return what the caller asked for — the thermo table of every ``run``, the files written by
``fix ave/time``, ``fix ave/chunk``, ``fix print`` (:func:`~deepearth.lammps.output.read_lammps_table`),
text ``dump custom`` files (:func:`~deepearth.lammps.dump.read_dump`) and final thermo keywords.
Per-step global computes are recorded with a ``fix ave/time`` file (see :func:`ave_time_fix`), which
costs nothing in Python.

Units are the caller's: ``units`` is a required argument and is the first command issued
(``lj``, ``metal``, ``real``...). Nothing is converted here. Loading LAMMPS (the mpich wheel's
``libmpi``, the DeePMD plugin) is :mod:`deepearth.lammps.library`'s job; importing this module
imports no LAMMPS, DeePMD or TensorFlow.

A run that blows up (lost atoms, non-numeric pressure or coordinates, atoms out of range) raises
:class:`LammpsBlowUp`: an :class:`~deepearth.md.engine.MDBlowUp` (what engines raise) that is also a
:class:`~deepearth.lammps.errors.LammpsError` (the failing command, the log).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deepearth.lammps.dump import Dump, read_dump
from deepearth.lammps.errors import LammpsError
from deepearth.lammps.safe import lammps_word
from deepearth.lammps.output import LammpsTable, read_lammps_table, read_thermo
from deepearth.lammps.run import run_in_process, split_commands
from deepearth.md.engine import MDBlowUp

__all__ = ["BLOW_UP_ERRORS", "LammpsBlowUp", "LammpsRun", "ave_time_fix", "run_lammps"]

#: LAMMPS errors that mean the dynamics blew up (not a bad input): matched in the error message.
BLOW_UP_ERRORS = re.compile(r"Lost atoms|Non-numeric (pressure|atom coords|positions|box)|Out of range atoms"
                            r"|Too many neighbor bins|Domain too large for neighbor bins"
                            r"|Did not assign all atoms correctly", re.IGNORECASE)
#: The time unit of each LAMMPS unit style (and its default timestep), for messages only.
_TIME_UNIT = {"lj": ("τ", 0.005), "metal": ("ps", 0.001), "real": ("fs", 1.0), "si": ("s", 1e-8),
              "cgs": ("s", 1e-8), "electron": ("fs", 0.001), "micro": ("µs", 2.0), "nano": ("ns", 0.00045)}


class LammpsBlowUp(MDBlowUp, LammpsError):
    """A LAMMPS run blew up: both an :class:`MDBlowUp` (``reason``, ``step``, ``time_ps``; the step is
    the last thermo output before the error, LAMMPS does not report its own) and a
    :class:`LammpsError` (``command``, ``index``, ``log_file``)."""

    def __init__(self, message: str, *, reason: str | None = None, step: int | None = None,
                 time_ps: float | None = None, command: str | None = None, index: int | None = None,
                 log_file: Path | None = None) -> None:
        MDBlowUp.__init__(self, message, reason=reason, step=step, time_ps=time_ps)
        self.command, self.index, self.log_file = command, index, log_file


def _blow_up(exc: LammpsError, cmds: list[str], units: str) -> LammpsBlowUp:
    """``exc`` (a LAMMPS error that is a blow-up) with the step and time it happened at."""
    text = str(exc)
    reason = BLOW_UP_ERRORS.search(text).group(0)  # type: ignore[union-attr]
    line = next((ln for ln in text.splitlines() if reason in ln), reason)
    reason = line.split("ERROR:", 1)[-1].strip().split(" (src/")[0]
    step = getattr(exc, "step", None)  # a future LammpsError may carry the failing step
    where, last = "at", {}
    if step is None and exc.log_file is not None:
        blocks = [b for b in read_thermo(exc.log_file) if len(b.get("Step", ()))]
        last = {k: float(v[-1]) for k, v in blocks[-1].items()} if blocks else {}
        step, where = (int(last["Step"]), "after") if last else (0, "at or after")
    unit, dt = _TIME_UNIT.get(units, ("time units", float("nan")))
    approx = ran = False
    for c in cmds if exc.index is None else cmds[:exc.index + 1]:
        tok = c.split()
        if tok[0] in ("run", "minimize"):
            ran = True
        elif tok[0] == "timestep" and len(tok) > 1:
            approx |= ran  # steps before it ran with another timestep
            try:
                dt = float(tok[1])
            except ValueError:  # a variable: the time is not known here
                dt = float("nan")
    t = last.get("Time", step * dt) if where == "after" else step * dt
    approx &= "Time" not in last
    what = (f"{reason} {where} step {step} (t {'≈' if approx else '='} {t:.4g} {unit}"
            + ("; the last thermo output before the error" if where == "after" else "") + ")")
    return LammpsBlowUp(f"LAMMPS blew up: {what}. {text}", reason=reason, step=step,
                        time_ps=t if units == "metal" else None, command=exc.command, index=exc.index,
                        log_file=exc.log_file)


@dataclass
class LammpsRun:
    """What :func:`run_lammps` captured. Units are those of the input's ``units`` style.

    ``thermo`` holds one dict per ``run``/``minimize`` (column name → array over the printed steps);
    ``thermo_all`` concatenates the runs that share the first run's columns. ``tables`` and ``dumps``
    are keyed by the caller's names; ``final`` holds thermo keywords evaluated after the last command.
    """

    workdir: Path
    log_file: Path
    units: str
    natoms: int
    thermo: list[dict[str, np.ndarray]] = field(default_factory=list)
    tables: dict[str, LammpsTable] = field(default_factory=dict)
    dumps: dict[str, Dump] = field(default_factory=dict)
    final: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def thermo_all(self) -> dict[str, np.ndarray]:
        """All thermo blocks with the same columns as the first, concatenated."""
        if not self.thermo:
            return {}
        keys = list(self.thermo[0])
        blocks = [b for b in self.thermo if list(b) == keys]
        return {k: np.concatenate([b[k] for b in blocks]) for k in keys}


def run_lammps(commands: str | Iterable[str], workdir: str | os.PathLike, *, units: str,
               log_file: str = "log.lammps", tables: Mapping[str, str] | None = None,
               dumps: Mapping[str, str] | None = None, final_thermo: Sequence[str] = (),
               plugins: bool = False, cmdargs: Sequence[str] = ()) -> LammpsRun:
    """Run LAMMPS ``commands`` in ``workdir`` and return the captured output as numpy arrays.

    Parameters
    ----------
    commands:
        The input: one string (as in an input file) or a list of commands. It must not contain a
        ``units`` command other than ``units``; the runner issues ``units <units>`` first.
    workdir:
        Directory the run happens in (created if needed); relative file names resolve there.
    units:
        The LAMMPS unit style (``lj``, ``metal``, ``real``, ...). Every number returned is in it.
    log_file:
        Log file name (relative to ``workdir``). It holds the echoed input, thermo output and errors.
    tables:
        ``name → file`` written by ``fix ave/time``, ``fix ave/chunk`` or ``fix print``, read with
        :func:`~deepearth.lammps.output.read_lammps_table` after the run.
    dumps:
        ``name → file`` of text ``dump custom`` output (gzip allowed), read with
        :func:`~deepearth.lammps.dump.read_dump`.
    final_thermo:
        Thermo keywords (``vol``, ``press``, ``temp``, ``c_ID[2]``...) evaluated after the last command.
    plugins:
        Load the ``lammps.plugins`` entry points (DeePMD-kit's ``pair_style deepmd``; imports
        TensorFlow). Decided at the first import of ``lammps`` in the process.
    cmdargs:
        Extra LAMMPS command-line arguments (e.g. ``["-sf", "omp"]``).

    Returns
    -------
    LammpsRun with the thermo blocks of every run, the tables, dumps, final values, atom count
    and the wall time in seconds.

    Raises
    ------
    LammpsBlowUp
        When the dynamics blow up (:data:`BLOW_UP_ERRORS`: lost atoms, non-numeric pressure...): an
        ``MDBlowUp`` and a ``LammpsError``, its message starts with what, the step and the time.
    deepearth.lammps.errors.LammpsError
        When a command fails: the message names the command, its index and the log file, and
        ends with the last lines of the log.
    """
    cmds = split_commands(commands)
    for c in cmds:
        if c.split()[0] == "units" and c.split()[1:2] != [units]:
            raise ValueError(f"run_lammps: the input sets '{c}' but units={units!r} was given")
    cmds = [f"units {units}", *(c for c in cmds if c.split()[0] != "units")]
    try:
        run = run_in_process(cmds, workdir, log_file=log_file, cmdargs=cmdargs, plugins=plugins,
                             final_thermo=final_thermo)
    except LammpsError as exc:
        if BLOW_UP_ERRORS.search(str(exc)):
            raise _blow_up(exc, cmds, units) from None
        raise
    wd = run.workdir
    return LammpsRun(workdir=wd, log_file=run.log_file, units=units, natoms=run.natoms,
                     thermo=read_thermo(run.log_file),
                     tables={k: read_lammps_table(wd / v) for k, v in (tables or {}).items()},
                     dumps={k: read_dump(wd / v) for k, v in (dumps or {}).items()}, final=run.final,
                     wall_s=run.wall_s)


def ave_time_fix(fix_id: str, values: Sequence[str], file: str, every: int = 1) -> str:
    """A ``fix ave/time`` command that writes ``values`` (``c_ID``, ``c_ID[i]``, ``v_name``) every
    ``every`` steps, unaveraged, to ``file`` — per-step global computes at no cost in Python.

    Example: ``ave_time_fix("p", [f"c_thermo_press[{i}]" for i in range(1, 7)], "press.dat")`` records
    the pressure tensor (pxx pyy pzz pxy pxz pyz, pressure units) every step. Read the file back with
    :func:`~deepearth.lammps.output.read_lammps_table` (or pass it in ``tables=``). Values are written
    with 10 significant digits (LAMMPS' default ``%g`` keeps 6).
    """
    words = [lammps_word(w, "fix ave/time value", allow_spaces=False) for w in (fix_id, *values)]
    return (f"fix {words[0]} all ave/time {every} 1 {every} {' '.join(words[1:])} "
            f"file {lammps_word(file, 'fix ave/time file')} format ' %.10g'")
