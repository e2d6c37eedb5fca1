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
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deepearth.lammps.dump import Dump, read_dump
from deepearth.lammps.output import LammpsTable, read_lammps_table, read_thermo
from deepearth.lammps.run import run_in_process, split_commands

__all__ = ["LammpsRun", "ave_time_fix", "run_lammps"]


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
    deepearth.lammps.errors.LammpsError
        When a command fails: the message names the command, its index and the log file, and
        ends with the last lines of the log.
    """
    cmds = split_commands(commands)
    for c in cmds:
        if c.split()[0] == "units" and c.split()[1:2] != [units]:
            raise ValueError(f"run_lammps: the input sets '{c}' but units={units!r} was given")
    cmds = [f"units {units}", *(c for c in cmds if c.split()[0] != "units")]
    run = run_in_process(cmds, workdir, log_file=log_file, cmdargs=cmdargs, plugins=plugins,
                         final_thermo=final_thermo)
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
    return f"fix {fix_id} all ave/time {every} 1 {every} {' '.join(values)} file {file} format ' %.10g'"
