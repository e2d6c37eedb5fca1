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

ASE's ``lammps-dump-text`` reader drops the image flags, hence the small parser here
(:func:`read_lammps_dump`).
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_AXES = {"x": 0, "y": 1, "z": 2}
_LAMMPS_FORMATS = {"lammps-dump-text", "lammps-dump", "lammpsdump", "lammps"}
_LAMMPS_SUFFIXES = {".lammpstrj", ".dump", ".lammpsdump"}


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


def _open_text(path: Path):
    return gzip.open(path, "rt") if path.suffix == ".gz" else open(path)


def _is_lammps_dump(path: Path, format: str | None) -> bool:
    if format is not None:
        return format.lower() in _LAMMPS_FORMATS
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    if suffixes and suffixes[-1] in _LAMMPS_SUFFIXES:
        return True
    try:
        with _open_text(path) as fh:
            return fh.readline(200).strip().startswith("ITEM: TIMESTEP")
    except (OSError, UnicodeDecodeError, EOFError):
        return False


def _lammps_cell(bounds: np.ndarray, triclinic: bool) -> tuple[np.ndarray, np.ndarray]:
    """Cell vectors (rows) and origin from a LAMMPS ``BOX BOUNDS`` block (Å)."""
    if triclinic:
        (xlob, xhib, xy), (ylob, yhib, xz), (zlo, zhi, yz) = bounds
        xlo = xlob - min(0.0, xy, xz, xy + xz)
        xhi = xhib - max(0.0, xy, xz, xy + xz)
        ylo = ylob - min(0.0, yz)
        yhi = yhib - max(0.0, yz)
    else:
        (xlo, xhi), (ylo, yhi), (zlo, zhi) = bounds[:, :2]
        xy = xz = yz = 0.0
    cell = np.array([[xhi - xlo, 0.0, 0.0], [xy, yhi - ylo, 0.0], [xz, yz, zhi - zlo]])
    return cell, np.array([xlo, ylo, zlo])


def read_lammps_dump(path: str | Path, dt_ps: float | None = None, timestep_ps: float | None = None,
                     stride: int = 1, type_to_symbol: Mapping[int, str] | None = None) -> Trajectory:
    """Read a LAMMPS text dump (``dump custom``/``atom``, optionally gzipped) into an unwrapped
    :class:`Trajectory`.

    Columns: ``id`` (atoms are sorted by it in each frame), ``type`` or ``element``, and one set of
    coordinates: ``xu yu zu`` / ``xsu ysu zsu`` (unwrapped, used directly); ``x y z`` / ``xs ys zs``
    with ``ix iy iz`` (exact unwrapping, ``r_u = r + ix·a + iy·b + iz·c`` with the frame's cell,
    LAMMPS's convention ``xu = x + ix·lx + iy·xy + iz·xz`` etc.); or ``x y z`` / ``xs ys zs`` alone
    (minimum-image unwrapping, :func:`unwrap_positions`). Orthogonal and triclinic boxes.

    Time: ``dt_ps`` is the time between stored frames (ps) before striding, or ``timestep_ps`` is the
    MD timestep (ps) and the time axis is the dumped step number × ``timestep_ps`` (which must be
    evenly spaced). ``stride`` keeps every n-th frame. ``type_to_symbol`` maps LAMMPS atom types to
    chemical symbols (masses then come from ASE); without it (and without an ``element`` column)
    the symbols are the type numbers as strings (``species="1"``) with unit masses.

    Malformed files raise ``ValueError`` naming the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: trajectory file not found")
    stride = int(stride)
    if stride < 1:
        raise ValueError(f"{path}: stride must be >= 1, got {stride}")
    with _open_text(path) as fh:
        lines = fh.read().splitlines()

    steps, cells, positions, images_all, ids0, types0, elements0 = [], [], [], [], None, None, None
    kind = None
    n_atoms = None
    i, frame = 0, 0
    n_lines = len(lines)

    def expect(idx: int, prefix: str) -> str:
        if idx >= n_lines:
            raise ValueError(f"{path}: line {idx + 1}: file ends where '{prefix}' was expected (truncated dump?)")
        if not lines[idx].startswith(prefix):
            raise ValueError(f"{path}: line {idx + 1}: expected '{prefix}', found {lines[idx][:60]!r}")
        return lines[idx]

    while i < n_lines:
        if not lines[i].strip():
            i += 1
            continue
        start = i
        expect(i, "ITEM: TIMESTEP")
        try:
            step = int(lines[i + 1].split()[0])
        except (IndexError, ValueError):
            raise ValueError(f"{path}: line {i + 2}: expected an integer timestep") from None
        i += 2
        expect(i, "ITEM: NUMBER OF ATOMS")
        try:
            n = int(lines[i + 1].split()[0])
        except (IndexError, ValueError):
            raise ValueError(f"{path}: line {i + 2}: expected an integer number of atoms") from None
        if n_atoms is None:
            n_atoms = n
        elif n != n_atoms:
            raise ValueError(f"{path}: line {i + 2}: the number of atoms changes ({n_atoms} -> {n}); "
                             "diffusion needs a fixed set of atoms")
        i += 2
        header = expect(i, "ITEM: BOX BOUNDS").split()[3:]
        triclinic = "xy" in header
        try:
            bounds = np.array([[float(v) for v in lines[i + 1 + r].split()[:3 if triclinic else 2]]
                               for r in range(3)])
            if bounds.shape != (3, 3 if triclinic else 2):
                raise ValueError
        except (IndexError, ValueError):
            raise ValueError(f"{path}: lines {i + 2}-{i + 4}: malformed BOX BOUNDS") from None
        cell, origin = _lammps_cell(bounds, triclinic)
        i += 4
        cols = expect(i, "ITEM: ATOMS").split()[2:]
        i += 1
        if i + n > n_lines:
            raise ValueError(f"{path}: line {n_lines}: file ends inside the frame starting at line {start + 1} "
                             f"({n_lines - i} of {n} atom lines; truncated dump?)")
        keep = frame % stride == 0
        frame += 1
        if not keep:
            i += n
            continue
        if kind is None:
            col = {c: k for k, c in enumerate(cols)}
            for cand in (("xu", "yu", "zu"), ("xsu", "ysu", "zsu"), ("x", "y", "z"), ("xs", "ys", "zs")):
                if all(c in col for c in cand):
                    kind = cand
                    break
            else:
                raise ValueError(f"{path}: line {i}: no coordinate columns (need xu yu zu, xsu ysu zsu, "
                                 f"x y z or xs ys zs; found {' '.join(cols)})")
            has_images = all(c in col for c in ("ix", "iy", "iz")) and kind[0] in ("x", "xs")
            header_cols = cols
        elif cols != header_cols:
            raise ValueError(f"{path}: line {i}: the ATOMS columns change between frames")
        block = lines[i:i + n]
        try:
            data = np.array([row.split() for row in block], dtype=object)
            if data.ndim != 2 or data.shape[1] != len(cols):
                raise ValueError
        except ValueError:
            for r, row in enumerate(block):
                if len(row.split()) != len(cols):
                    raise ValueError(f"{path}: line {i + r + 1}: expected {len(cols)} columns "
                                     f"({' '.join(cols)}), found {len(row.split())}") from None
            raise
        try:
            xyz = data[:, [col[c] for c in kind]].astype(float)
            ids = data[:, col["id"]].astype(int) if "id" in col else np.arange(1, n + 1)
            img = data[:, [col["ix"], col["iy"], col["iz"]]].astype(int) if has_images else None
            types = data[:, col["type"]].astype(int) if "type" in col else None
        except ValueError as exc:
            for r, row in enumerate(block):
                try:
                    [float(v) for v in row.split()]
                except ValueError:
                    if "element" in col:
                        continue
                    raise ValueError(f"{path}: line {i + r + 1}: non-numeric value ({exc})") from None
            raise ValueError(f"{path}: lines {i + 1}-{i + n}: {exc}") from None
        order = np.argsort(ids, kind="stable")
        if ids0 is None:
            ids0 = ids[order]
            if len(np.unique(ids0)) != n:
                raise ValueError(f"{path}: lines {i + 1}-{i + n}: duplicate atom ids")
            types0 = types[order] if types is not None else None
            elements0 = data[order, col["element"]].astype(str) if "element" in col else None
        elif not np.array_equal(ids[order], ids0):
            raise ValueError(f"{path}: line {i + 1}: the atom ids change between frames")
        xyz = xyz[order]
        if kind[0].startswith("xs"):  # scaled coordinates
            xyz = xyz @ cell + origin
        steps.append(step)
        cells.append(cell)
        positions.append(xyz)
        images_all.append(img[order] if img is not None else None)
        i += n

    if not positions:
        raise ValueError(f"{path}: no frames found in the LAMMPS dump")
    if len(positions) < 2:
        raise ValueError(f"{path}: need at least two frames, found {len(positions)}")
    positions = np.array(positions)
    cells = np.array(cells)
    if kind[0] in ("xu", "xsu"):
        unwrapped = positions
    elif has_images:
        images = np.array(images_all, dtype=float)
        unwrapped = positions + np.einsum("tnk,tkj->tnj", images, cells)
    else:
        unwrapped = unwrap_positions(positions, cells)

    if elements0 is not None:
        symbols = [str(s) for s in elements0]
    elif types0 is not None:
        if type_to_symbol is not None:
            missing = sorted(set(types0.tolist()) - set(int(k) for k in type_to_symbol))
            if missing:
                raise ValueError(f"{path}: type_to_symbol has no symbol for LAMMPS type(s) {missing}")
            mapping = {int(k): str(v) for k, v in type_to_symbol.items()}
            symbols = [mapping[int(t)] for t in types0]
        else:
            symbols = [str(int(t)) for t in types0]
    else:
        symbols = ["X"] * len(ids0)
    masses = _masses(symbols)

    steps = np.array(steps, dtype=float)
    if np.any(np.diff(steps) <= 0):
        bad = int(np.flatnonzero(np.diff(steps) <= 0)[0])
        raise ValueError(f"{path}: timesteps are not increasing (step {int(steps[bad])} then {int(steps[bad + 1])})")
    times = None
    if timestep_ps is not None:
        if not timestep_ps > 0:
            raise ValueError(f"{path}: timestep_ps must be > 0, got {timestep_ps}")
        times = (steps - steps[0]) * float(timestep_ps)
        d = np.diff(steps)
        if not np.all(d == d[0]):
            raise ValueError(f"{path}: frames are not evenly spaced in time (step differences "
                             f"{sorted(set(d.astype(int).tolist()))[:5]})")
        dt = float(d[0]) * float(timestep_ps)
        if dt_ps is not None and not np.isclose(dt, float(dt_ps) * stride, rtol=1e-6):
            raise ValueError(f"{path}: dt_ps={dt_ps} (x stride {stride}) disagrees with the dumped steps x "
                             f"timestep_ps = {dt} ps")
    elif dt_ps is not None:
        if not dt_ps > 0:
            raise ValueError(f"{path}: dt_ps must be > 0, got {dt_ps}")
        dt = float(dt_ps) * stride
    else:
        raise ValueError(f"{path}: pass dt_ps (time between dumped frames, ps) or timestep_ps "
                         "(MD timestep, ps; the dumped step numbers give the time axis)")
    return Trajectory(unwrapped, cells, symbols, masses, dt, source=str(path), times_ps=times)


def _masses(symbols: list[str]) -> np.ndarray:
    """Atomic masses (amu) from symbols; 1.0 for symbols that are not elements (e.g. LAMMPS types)."""
    from ase.data import atomic_masses, atomic_numbers

    return np.array([atomic_masses[atomic_numbers[s]] if s in atomic_numbers else 1.0 for s in symbols])


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
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: trajectory file not found")
    if int(stride) < 1:
        raise ValueError(f"{path}: stride must be >= 1, got {stride}")
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
