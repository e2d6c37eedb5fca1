"""Trajectory input for estimators: any file ASE reads, plus LAMMPS dumps read here, unwrapped.

Works on output from any code (extxyz, ASE .traj, VASP XDATCAR, LAMMPS text dumps): an estimator
never needs the MD or ML stack.

Unwrapping, in order of preference:

1. unwrapped coordinates written by the code (LAMMPS ``xu yu zu`` / ``xsu ysu zsu``; deepearth's
   own extxyz frames) are used as they are;
2. wrapped coordinates with LAMMPS image flags ``ix iy iz``: exact, ``r = r_wrapped + n·H`` with the
   frame's own cell ``H`` (so it holds under NPT and for any displacement between saved frames);
3. otherwise minimum-image unwrapping (:func:`unwrap_positions`), correct as long as no atom moves
   more than half a box length between saved frames;
4. frames without a cell (plain xyz of a cluster) are not periodic: positions are used as they are.

Unreadable or inconsistent files (truncated, corrupt, atoms changing between frames, NaN
coordinates) raise one ``ValueError`` naming the file, the frame or line and the problem
(:mod:`.trajectory_checks`).

ASE's ``lammps-dump-text`` reader drops the image flags, hence :func:`read_lammps_dump` (through
:mod:`.lammps_dump` and the one LAMMPS dump reader, :func:`deepearth.lammps.dump.read_dump`).
Turning estimator input (trajectories or position arrays) into checked replicas and atom
selections is :mod:`deepearth.properties.diffusion.inputs`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepearth.properties.lammps_dump import check_input, is_lammps_dump, read_lammps_data
from deepearth.properties.trajectory_checks import check_frames, unreadable_message

#: Cartesian axis letters and their indices.
_AXES = {"x": 0, "y": 1, "z": 2}


@dataclass
class Trajectory:
    """Unwrapped Cartesian positions ``(T, N, 3)`` in Å, cells ``(T, 3, 3)`` Å (rows are the cell
    vectors), frame spacing ``dt_ps`` in ps.

    ``times_ps`` (optional, ``(T,)`` ps) is the time axis the frames carried, when they carried one
    (LAMMPS step numbers × timestep, extxyz ``time_ps``); estimators check it is uniform and agrees
    with ``dt_ps``.
    """

    positions_A: np.ndarray
    cells_A: np.ndarray
    symbols: list[str]
    masses_amu: np.ndarray
    dt_ps: float
    source: str = ""
    times_ps: np.ndarray | None = None

    @property
    def n_frames(self) -> int:
        """Number of frames T."""
        return self.positions_A.shape[0]

    @property
    def n_atoms(self) -> int:
        """Number of atoms N."""
        return self.positions_A.shape[1]

    def select(self, species: str) -> np.ndarray:
        """Indices of the atoms of one species (chemical symbol, or LAMMPS type as a string)."""
        idx = np.flatnonzero(np.array(self.symbols) == species)
        if idx.size == 0:
            raise ValueError(f"{self.source or 'trajectory'}: no atoms of species {species!r} "
                             f"(present: {sorted(set(self.symbols))})")
        return idx


@dataclass(frozen=True)
class Region:
    """A periodic slab: the atoms whose coordinate along ``axis`` lies within ``width_A/2`` of
    ``centre_A`` (Å), e.g. a grain boundary ≈ 1 nm wide (``δ`` of Peng et al. 2025, eq. 5).

    The coordinate along ``axis`` is the distance from the cell face spanned by the two other cell
    vectors, measured along its normal (for an orthogonal box simply x, y or z), taken modulo the
    cell height along that normal in each frame — so wrapped and unwrapped positions give the same
    membership, and the slab follows a box that changes shape (NPT).

    ``planes`` > 1 repeats the slab every 1/planes of the cell height (a periodic bicrystal's two
    boundaries, half a cell apart); ``outside`` selects the complement: atoms farther than
    ``width_A/2`` from every slab centre (the grain interiors).
    """

    axis: str
    centre_A: float
    width_A: float
    planes: int = 1
    outside: bool = False

    def __post_init__(self) -> None:
        if self.axis not in _AXES:
            raise ValueError(f"Region: axis must be 'x', 'y' or 'z', got {self.axis!r}")
        if not self.width_A > 0:
            raise ValueError(f"Region: width_A must be > 0 Å, got {self.width_A}")
        if int(self.planes) != self.planes or self.planes < 1:
            raise ValueError(f"Region: planes must be a positive integer, got {self.planes}")

    def contains(self, positions_A: np.ndarray, cells_A: np.ndarray) -> np.ndarray:
        """Boolean membership ``(T, N)`` of positions ``(T, N, 3)`` Å in cells ``(T, 3, 3)`` Å."""
        positions_A = np.asarray(positions_A, dtype=float)
        cells = np.broadcast_to(np.asarray(cells_A, dtype=float), (positions_A.shape[0], 3, 3))
        k = _AXES[self.axis]
        vol = np.abs(np.linalg.det(cells))
        if not np.all(vol > 1e-9):
            raise ValueError("Region: selection by region needs the simulation cell in every frame "
                             "(a trajectory without cell, e.g. built from a bare position array, has none)")
        inv = np.linalg.inv(cells)  # frac = r @ inv
        frac = np.einsum("tni,ti->tn", positions_A, inv[:, :, k])
        i, j = [m for m in range(3) if m != k]
        height = vol / np.linalg.norm(np.cross(cells[:, i], cells[:, j]), axis=1)  # (T,)
        h = height[:, None] / self.planes  # the slabs' period
        d = (frac * height[:, None] - self.centre_A) % h  # distance past the nearest centre below, in [0, h)
        d = np.minimum(d, h - d)
        inside = d <= 0.5 * self.width_A
        return ~inside if self.outside else inside

    def describe(self) -> str:
        """One phrase for labels: ``z-slab 19.6±5 Å`` (``×2``, ``outside`` as they apply)."""
        text = f"{self.axis}-slab {self.centre_A:g}±{self.width_A / 2:g} Å" + (f" ×{self.planes}" if self.planes > 1 else "")
        return f"outside the {text}" if self.outside else text

    def to_dict(self) -> dict:
        """JSON-friendly description."""
        return {"axis": self.axis, "centre_A": float(self.centre_A), "width_A": float(self.width_A),
                "planes": int(self.planes), "outside": bool(self.outside)}


def unwrap_positions(positions: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Continuous paths from (possibly wrapped) positions (Å): each frame-to-frame step is taken as
    the minimum-image displacement in fractional coordinates of the earlier frame's cell.

    Correct as long as no atom moves more than half a box length between saved frames; prefer
    unwrapped coordinates or image flags (see :func:`read_lammps_dump`) when the code writes them.
    """
    positions = np.asarray(positions, dtype=float)
    cells = np.broadcast_to(np.asarray(cells, dtype=float), (positions.shape[0], 3, 3))
    volumes = np.abs(np.linalg.det(cells))
    if not np.all(volumes > 1e-9):
        k = int(np.flatnonzero(~(volumes > 1e-9))[0])
        raise ValueError(f"unwrap_positions: the cell of frame {k} has volume {volumes[k]:g} Å³; minimum-image "
                         "unwrapping needs a periodic cell in every frame")
    out = np.empty_like(positions)
    out[0] = positions[0]
    for t in range(1, len(positions)):
        inv = np.linalg.inv(cells[t - 1])
        dfrac = (positions[t] - positions[t - 1]) @ inv
        dfrac -= np.round(dfrac)
        out[t] = out[t - 1] + dfrac @ cells[t - 1]
    return out


def read_lammps_dump(path: str | Path, dt_ps: float | None = None, timestep_ps: float | None = None,
                     stride: int = 1, type_to_symbol: Mapping[int, str] | None = None) -> Trajectory:
    """Read a LAMMPS text dump (``dump custom``/``atom``, optionally gzipped; orthogonal or triclinic)
    into an unwrapped :class:`Trajectory` (see the module docstring for the unwrapping rules).

    Time: ``dt_ps`` (time between stored frames before striding, ps) or ``timestep_ps`` (MD
    timestep, ps; the dumped step numbers give the time axis). ``type_to_symbol`` maps LAMMPS
    types to symbols. Details and errors: :func:`deepearth.properties.lammps_dump.read_lammps_data`.
    """
    d = read_lammps_data(path, dt_ps=dt_ps, timestep_ps=timestep_ps, stride=stride, type_to_symbol=type_to_symbol)
    positions = d.positions_A if d.unwrapped else unwrap_positions(d.positions_A, d.cells_A)
    return Trajectory(positions, d.cells_A, d.symbols, d.masses_amu, d.dt_ps, source=d.source, times_ps=d.times_ps)


def read_trajectory(path: str | Path, dt_ps: float | None = None, stride: int = 1,
                    format: str | None = None, timestep_ps: float | None = None,
                    type_to_symbol: Mapping[int, str] | None = None) -> Trajectory:
    """Read a trajectory (extxyz, .traj, VASP XDATCAR, LAMMPS text dump, anything ASE reads) and
    unwrap it (see the module docstring for the unwrapping rules).

    ``dt_ps`` is the time between stored frames (ps) *before* striding; when omitted it is taken
    from the frames' ``info['time_ps']`` (written by deepearth's engines) or, for LAMMPS dumps, from
    the dumped step numbers × ``timestep_ps`` (ps). ``stride`` keeps every n-th frame. ``format``
    is ASE's format name, needed when the suffix does not tell it (e.g. ``vasp-xdatcar`` for
    ``XDATCAR.gz``); LAMMPS text dumps (``lammps-dump-text``, or a ``.lammpstrj``/``.dump`` file,
    or any file starting ``ITEM: TIMESTEP``) go to :func:`read_lammps_dump`, which keeps the image
    flags ASE drops; ``type_to_symbol`` maps their atom types to chemical symbols.
    """
    path, stride = check_input(path, stride)
    if is_lammps_dump(path, format):
        return read_lammps_dump(path, dt_ps=dt_ps, timestep_ps=timestep_ps, stride=stride,
                                type_to_symbol=type_to_symbol)
    from ase.io import read

    try:
        frames = read(str(path), index=f"::{int(stride)}", format=format)
    except Exception as exc:  # ASE raises many kinds: say in one line what is wrong with the file
        raise ValueError(unreadable_message(path, format, exc)) from None
    frames = frames if isinstance(frames, list) else [frames]
    if len(frames) < 2:
        raise ValueError(f"{path}: need at least two frames, found {len(frames)}")
    periodic = check_frames(path, frames, stride)
    symbols = frames[0].get_chemical_symbols()
    times = [f.info.get("time_ps") for f in frames]
    times = None if any(t is None for t in times) else np.array(times, dtype=float)
    if times is not None:
        steps = np.diff(times)
        if np.any(steps <= 0):
            raise ValueError(f"{path}: frame times ('time_ps') are not increasing")
        if not np.allclose(steps, steps[0], rtol=1e-6):
            raise ValueError(f"{path}: frames are not evenly spaced in time")
    if dt_ps is None:
        if times is None:
            raise ValueError(f"{path}: frames carry no 'time_ps'; pass dt_ps (time between frames, ps)")
        dt_ps = float(times[1] - times[0])
    else:
        if not dt_ps > 0:
            raise ValueError(f"{path}: dt_ps must be > 0, got {dt_ps}")
        dt_ps = float(dt_ps) * stride
    positions = np.array([f.get_positions() for f in frames])
    cells = np.array([f.cell.array for f in frames])
    if periodic:
        positions = unwrap_positions(positions, cells)
    return Trajectory(positions, cells, symbols, frames[0].get_masses(), float(dt_ps), source=str(path), times_ps=times)
