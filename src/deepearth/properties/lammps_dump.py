"""LAMMPS text dumps for the estimators: what a dump holds (positions, cells, species, time axis),
read with the one dump reader, :func:`deepearth.lammps.dump.read_dump` (orthogonal and triclinic
boxes, gzip, image flags, any columns).

Unwrapping: unwrapped columns (``xu yu zu`` / ``xsu ysu zsu``) are used as they are; wrapped ones
with image flags ``ix iy iz`` are unwrapped exactly with each frame's cell; wrapped ones alone are
returned wrapped with ``unwrapped=False`` (the trajectory layer then unwraps them by minimum image).
Positions in Å, time in ps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepearth.lammps.dump import Dump, is_dump_file, read_dump
from deepearth.properties.checks import where

__all__ = ["LammpsDumpData", "check_input", "is_lammps_dump", "read_lammps_data"]

_LAMMPS_FORMATS = {"lammps-dump-text", "lammps-dump", "lammpsdump", "lammps"}
_LAMMPS_SUFFIXES = {".lammpstrj", ".dump", ".lammpsdump"}


def check_input(path: str | Path, stride: int) -> tuple[Path, int]:
    """``(Path, stride)`` after checking that the trajectory file exists and ``stride >= 1``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: trajectory file not found")
    if int(stride) < 1:
        raise ValueError(f"{path}: stride must be >= 1, got {stride}")
    return path, int(stride)


def is_lammps_dump(path: Path, format: str | None) -> bool:
    """Whether ``path`` is a LAMMPS text dump: by ``format`` (ASE-style name) when given, else by its
    suffix (``.lammpstrj``, ``.dump``, ``.lammpsdump``, optionally ``.gz``) or its first line."""
    if format is not None:
        return format.lower() in _LAMMPS_FORMATS
    suffixes = [s.lower() for s in Path(path).suffixes if s.lower() != ".gz"]
    if suffixes and suffixes[-1] in _LAMMPS_SUFFIXES:
        return True
    return is_dump_file(path)


@dataclass
class LammpsDumpData:
    """A dump as the estimators need it: Cartesian positions ``(T, N, 3)`` Å (unwrapped when
    ``unwrapped``), cells ``(T, 3, 3)`` Å (rows, LAMMPS's lower-triangular frame), symbols, masses
    (amu), frame spacing ``dt_ps`` (ps, after striding), the time axis ``times_ps`` when the step
    numbers gave it, and the file."""

    positions_A: np.ndarray
    unwrapped: bool
    cells_A: np.ndarray
    symbols: list[str]
    masses_amu: np.ndarray
    dt_ps: float
    times_ps: np.ndarray | None
    source: str


def read_lammps_data(path: str | Path, dt_ps: float | None = None, timestep_ps: float | None = None,
                     stride: int = 1, type_to_symbol: Mapping[int, str] | None = None) -> LammpsDumpData:
    """Read a LAMMPS text dump (``dump custom``/``atom``, optionally gzipped) for the estimators.

    Columns: ``id`` (atoms are sorted by it), ``type`` or ``element``, and one set of coordinates
    (see :meth:`deepearth.lammps.dump.Dump.positions`). Orthogonal and triclinic boxes.

    Time: ``dt_ps`` is the time between stored frames (ps) before striding, or ``timestep_ps`` is the
    MD timestep (ps) and the time axis is the dumped step number × ``timestep_ps`` (which must be
    evenly spaced). ``stride`` keeps every n-th frame. ``type_to_symbol`` maps LAMMPS atom types to
    chemical symbols (masses then come from ASE); without it (and without an ``element`` column)
    the symbols are the type numbers as strings (``species="1"``) with unit masses.

    Malformed files raise ``ValueError`` naming the file and line; NaN/inf coordinates or box bounds
    one naming the file, frame (of the file, before striding) and atom.
    """
    path, stride = check_input(path, stride)
    dump = read_dump(path, stride=stride)
    if dump.n_frames < 2:
        raise ValueError(f"{path}: need at least two frames, found {dump.n_frames}")
    positions = dump.positions()
    _check_finite(path, positions, dump.cells, stride)
    symbols = _symbols(dump, type_to_symbol)
    times, dt = _time_axis(path, dump.steps, dt_ps, timestep_ps, stride)
    return LammpsDumpData(positions, dump.unwrapped, dump.cells, symbols, _masses(symbols), dt, times, str(path))


def _check_finite(path: Path, positions: np.ndarray, cells: np.ndarray, stride: int) -> None:
    """One ValueError naming the first frame (numbered as in the file) and atom with a NaN/inf coordinate,
    or the first frame with non-finite box bounds."""
    bad = ~np.isfinite(positions)
    if bad.any():
        t, i, c = (int(v) for v in np.argwhere(bad)[0])
        raise ValueError(f"{path}: coordinate {positions[t, i, c]} (not finite) at "
                         f"{where((t * stride, i, c), ('frame', 'atom'), 'xyz')} (atoms sorted by id)")
    bad_cell = ~np.all(np.isfinite(cells), axis=(1, 2))
    if bad_cell.any():
        raise ValueError(f"{path}: frame {int(np.flatnonzero(bad_cell)[0]) * stride} has non-finite box bounds")


def _symbols(dump: Dump, type_to_symbol: Mapping[int, str] | None) -> list[str]:
    """Chemical symbols from the ``element`` column, or the ``type`` column mapped by ``type_to_symbol``."""
    if "element" in dump.columns:
        return [str(s) for s in dump["element"][0]]
    if "type" not in dump.columns:
        return ["X"] * dump.n_atoms
    types = dump["type"][0]
    if "type" in dump.text:  # type labels
        return [str(t) for t in types]
    types = types.astype(int)
    if type_to_symbol is None:
        return [str(int(t)) for t in types]
    missing = sorted(set(types.tolist()) - {int(k) for k in type_to_symbol})
    if missing:
        raise ValueError(f"{dump.path}: type_to_symbol has no symbol for LAMMPS type(s) {missing}")
    mapping = {int(k): str(v) for k, v in type_to_symbol.items()}
    return [mapping[int(t)] for t in types]


def _time_axis(path: Path, steps: np.ndarray, dt_ps: float | None, timestep_ps: float | None,
               stride: int) -> tuple[np.ndarray | None, float]:
    """``(times_ps or None, dt_ps after striding)`` from the dumped steps and the caller's times."""
    steps = np.asarray(steps, dtype=float)
    if np.any(np.diff(steps) <= 0):
        bad = int(np.flatnonzero(np.diff(steps) <= 0)[0])
        raise ValueError(f"{path}: timesteps are not increasing (step {int(steps[bad])} then {int(steps[bad + 1])})")
    if timestep_ps is not None:
        if not timestep_ps > 0:
            raise ValueError(f"{path}: timestep_ps must be > 0, got {timestep_ps}")
        d = np.diff(steps)
        if not np.all(d == d[0]):
            raise ValueError(f"{path}: frames are not evenly spaced in time (step differences "
                             f"{sorted(set(d.astype(int).tolist()))[:5]})")
        dt = float(d[0]) * float(timestep_ps)
        if dt_ps is not None and not np.isclose(dt, float(dt_ps) * stride, rtol=1e-6):
            raise ValueError(f"{path}: dt_ps={dt_ps} (x stride {stride}) disagrees with the dumped steps x "
                             f"timestep_ps = {dt} ps")
        return (steps - steps[0]) * float(timestep_ps), dt
    if dt_ps is not None:
        if not dt_ps > 0:
            raise ValueError(f"{path}: dt_ps must be > 0, got {dt_ps}")
        return None, float(dt_ps) * stride
    raise ValueError(f"{path}: pass dt_ps (time between dumped frames, ps) or timestep_ps "
                     "(MD timestep, ps; the dumped step numbers give the time axis)")


def _masses(symbols: list[str]) -> np.ndarray:
    """Atomic masses (amu) from symbols; 1.0 for symbols that are not elements (e.g. LAMMPS types)."""
    from ase.data import atomic_masses, atomic_numbers

    return np.array([atomic_masses[atomic_numbers[s]] if s in atomic_numbers else 1.0 for s in symbols])
