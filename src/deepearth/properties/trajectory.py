"""Trajectory input for estimators: any file ASE reads, plus LAMMPS dumps read here, unwrapped.

Works on output from any code (extxyz, ASE .traj, VASP XDATCAR, LAMMPS text dumps): an estimator
never needs the MD or ML stack.

Unwrapping, in order of preference:

1. unwrapped coordinates written by the code (LAMMPS ``xu yu zu`` / ``xsu ysu zsu``; deepearth's
   own extxyz frames) are used as they are;
2. wrapped coordinates with LAMMPS image flags ``ix iy iz``: exact, ``r = r_wrapped + n·H`` with the
   frame's own cell ``H`` (so it holds under NPT and for any displacement between saved frames);
3. otherwise minimum-image unwrapping (:func:`unwrap_positions`), correct as long as no atom moves
   more than half a box length between saved frames.

ASE's ``lammps-dump-text`` reader drops the image flags, hence the small parser in
:mod:`.lammps_dump` (:func:`read_lammps_dump`, re-exported here). The private helpers at the end
turn estimator input (trajectories or position arrays) into checked replicas and atom selections.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepearth.properties.lammps_dump import _checked_input, _is_lammps_dump, read_lammps_dump

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
    ``centre_A`` (Å), e.g. a grain boundary ≈ 1 nm wide (SCIENCE.md §3, ``δ``).

    The coordinate along ``axis`` is the distance from the cell face spanned by the two other cell
    vectors, measured along its normal (for an orthogonal box simply x, y or z), taken modulo the
    cell height along that normal in each frame — so wrapped and unwrapped positions give the same
    membership, and the slab follows a box that changes shape (NPT).
    """

    axis: str
    centre_A: float
    width_A: float

    def __post_init__(self) -> None:
        if self.axis not in _AXES:
            raise ValueError(f"Region: axis must be 'x', 'y' or 'z', got {self.axis!r}")
        if not self.width_A > 0:
            raise ValueError(f"Region: width_A must be > 0 Å, got {self.width_A}")

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
        h = height[:, None]
        d = (frac * h - self.centre_A) % h  # distance past the centre, in [0, h)
        d = np.minimum(d, h - d)
        return d <= 0.5 * self.width_A

    def to_dict(self) -> dict:
        """JSON-friendly description."""
        return {"axis": self.axis, "centre_A": float(self.centre_A), "width_A": float(self.width_A)}


def unwrap_positions(positions: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Continuous paths from (possibly wrapped) positions (Å): each frame-to-frame step is taken as
    the minimum-image displacement in fractional coordinates of the earlier frame's cell.

    Correct as long as no atom moves more than half a box length between saved frames; prefer
    unwrapped coordinates or image flags (see :func:`read_lammps_dump`) when the code writes them.
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
    path, stride = _checked_input(path, stride)
    if _is_lammps_dump(path, format):
        return read_lammps_dump(path, dt_ps=dt_ps, timestep_ps=timestep_ps, stride=stride,
                                type_to_symbol=type_to_symbol)
    from ase.io import read

    try:
        frames = read(str(path), index=f"::{int(stride)}", format=format)
    except Exception as exc:
        raise ValueError(f"{path}: cannot read trajectory: {exc}") from None
    if len(frames) < 2:
        raise ValueError(f"{path}: need at least two frames, found {len(frames)}")
    symbols = frames[0].get_chemical_symbols()
    if any(f.get_chemical_symbols() != symbols for f in frames):
        raise ValueError(f"{path}: the atoms change between frames")
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
    return Trajectory(unwrap_positions(positions, cells), cells, symbols, frames[0].get_masses(),
                      float(dt_ps), source=str(path), times_ps=times)


# --------------------------------------------------------------------------------------------
# Estimator input: replicas, time-axis checks, atom selection
# --------------------------------------------------------------------------------------------

def _as_replicas(data, dt_ps: float | None, times_ps=None) -> list[Trajectory]:
    """Trajectory | [Trajectory] | positions (T, N, 3) | [positions] → a list of Trajectory."""
    items = data if isinstance(data, (list, tuple)) else [data]
    out = []
    for item in items:
        if isinstance(item, Trajectory):
            out.append(item)
            continue
        pos = np.asarray(item, dtype=float)
        if pos.ndim != 3 or pos.shape[2] != 3:
            raise ValueError(f"diffusion_coefficient: positions must have shape (n_frames, n_atoms, 3), got {pos.shape}")
        if times_ps is not None and dt_ps is None:
            t = np.asarray(times_ps, dtype=float)
            dt_ps = float(t[1] - t[0]) if t.size > 1 else None
        if dt_ps is None or not dt_ps > 0:
            raise ValueError("diffusion_coefficient: dt_ps (time between frames, ps) is required with position arrays")
        n = pos.shape[1]
        out.append(Trajectory(pos, np.zeros((len(pos), 3, 3)), ["X"] * n, np.ones(n), float(dt_ps), "array",
                              times_ps=None if times_ps is None else np.asarray(times_ps, dtype=float)))
    return out


def _check_time_axis(r: Trajectory, min_frames: int) -> None:
    """Check frame count (≥ ``min_frames``), ``dt_ps`` > 0 and a uniform time axis agreeing with it."""
    name = r.source or "trajectory"
    if r.n_frames < min_frames:
        raise ValueError(f"{name}: {r.n_frames} frames; an MSD analysis needs at least {min_frames}")
    if not (np.isfinite(r.dt_ps) and r.dt_ps > 0):
        raise ValueError(f"{name}: frame spacing dt_ps must be > 0, got {r.dt_ps}")
    if r.times_ps is None:
        return
    t = np.asarray(r.times_ps, dtype=float)
    if t.shape != (r.n_frames,):
        raise ValueError(f"{name}: times_ps has {t.size} entries for {r.n_frames} frames")
    steps = np.diff(t)
    if np.any(steps <= 0):
        i = int(np.flatnonzero(steps <= 0)[0])
        raise ValueError(f"{name}: time axis is not increasing (frame {i}: {t[i]} ps, frame {i + 1}: {t[i + 1]} ps)")
    if not np.allclose(steps, steps.mean(), rtol=1e-4, atol=0):
        raise ValueError(f"{name}: time axis is not evenly spaced (spacings {steps.min():g}..{steps.max():g} ps); "
                         "MSD lags need uniformly spaced frames")
    if not np.isclose(steps.mean(), r.dt_ps, rtol=1e-4, atol=0):
        raise ValueError(f"{name}: the frame times are {steps.mean():g} ps apart but dt_ps = {r.dt_ps} ps")


def _selection(r: Trajectory, species: str | None, atoms: Sequence[int] | None) -> np.ndarray:
    """Indices of the atoms of ``species`` (all if None) intersected with ``atoms`` (negative allowed)."""
    idx = np.arange(r.n_atoms)
    if species is not None:
        idx = r.select(species)
    if atoms is not None:
        want = np.asarray(atoms, dtype=int).ravel()
        if want.size == 0:
            raise ValueError(f"{r.source or 'trajectory'}: empty atom index list")
        if want.min() < -r.n_atoms or want.max() >= r.n_atoms:
            raise ValueError(f"{r.source or 'trajectory'}: atom indices out of range 0..{r.n_atoms - 1}")
        want = np.unique(want % r.n_atoms)
        idx = np.intersect1d(idx, want)
        if idx.size == 0:
            raise ValueError(f"{r.source or 'trajectory'}: no selected atoms left "
                             f"(species {species!r} ∩ the given indices is empty)")
    return idx
