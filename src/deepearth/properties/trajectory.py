"""Trajectory input for estimators: any file ASE reads, unwrapped across periodic boundaries.

Works on output from any code (extxyz, ASE .traj, VASP XDATCAR, LAMMPS dumps through ASE): an
estimator never needs the MD or ML stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Trajectory:
    """Unwrapped Cartesian positions ``(T, N, 3)`` in Å, cells ``(T, 3, 3)`` Å, frame spacing in ps."""

    positions_A: np.ndarray
    cells_A: np.ndarray
    symbols: list[str]
    masses_amu: np.ndarray
    dt_ps: float
    source: str = ""

    @property
    def n_frames(self) -> int:
        return self.positions_A.shape[0]

    def select(self, species: str) -> np.ndarray:
        """Indices of atoms of one species."""
        idx = np.flatnonzero(np.array(self.symbols) == species)
        if idx.size == 0:
            raise ValueError(f"{self.source or 'trajectory'}: no atoms of species {species!r} "
                             f"(present: {sorted(set(self.symbols))})")
        return idx


def unwrap_positions(positions: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Continuous paths from (possibly wrapped) positions: each frame-to-frame step is taken as the
    minimum-image displacement in fractional coordinates of the earlier frame's cell.

    Correct as long as no atom moves more than half a box length between saved frames.
    """
    positions = np.asarray(positions, dtype=float)
    cells = np.broadcast_to(np.asarray(cells, dtype=float), (positions.shape[0], 3, 3))
    out = np.empty_like(positions)
    out[0] = positions[0]
    for t in range(1, len(positions)):
        inv = np.linalg.inv(cells[t - 1])
        dfrac = (positions[t] - positions[t - 1]) @ inv
        dfrac -= np.round(dfrac)
        out[t] = out[t - 1] + dfrac @ cells[t - 1]
    return out


def read_trajectory(path: str | Path, dt_ps: float | None = None, stride: int = 1,
                    format: str | None = None) -> Trajectory:
    """Read a trajectory ASE understands (extxyz, .traj, VASP XDATCAR, LAMMPS dump...) and unwrap it.

    ``dt_ps`` is the time between stored frames (ps) *before* striding; when omitted it is taken
    from the frames' ``info['time_ps']`` (written by deepearth's engines). ``stride`` keeps every
    n-th frame. ``format`` is ASE's format name, needed when the suffix does not tell it
    (e.g. ``vasp-xdatcar`` for ``XDATCAR.gz``).
    """
    from ase.io import read

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: trajectory file not found")
    try:
        frames = read(str(path), index=f"::{int(stride)}", format=format)
    except Exception as exc:
        raise ValueError(f"{path}: cannot read trajectory: {exc}") from None
    if len(frames) < 2:
        raise ValueError(f"{path}: need at least two frames, found {len(frames)}")
    symbols = frames[0].get_chemical_symbols()
    if any(f.get_chemical_symbols() != symbols for f in frames):
        raise ValueError(f"{path}: the atoms change between frames")
    if dt_ps is None:
        times = [f.info.get("time_ps") for f in frames]
        if any(t is None for t in times):
            raise ValueError(f"{path}: frames carry no 'time_ps'; pass dt_ps (time between frames, ps)")
        steps = np.diff(times)
        if not np.allclose(steps, steps[0], rtol=1e-6):
            raise ValueError(f"{path}: frames are not evenly spaced in time")
        dt_ps = float(steps[0])
    else:
        dt_ps = float(dt_ps) * stride
    positions = np.array([f.get_positions() for f in frames])
    cells = np.array([f.cell.array for f in frames])
    return Trajectory(unwrap_positions(positions, cells), cells, symbols, frames[0].get_masses(),
                      float(dt_ps), source=str(path))
