"""LAMMPS text dumps (``dump custom``/``atom``, optionally gzipped) read into an unwrapped
:class:`~deepearth.properties.trajectory.Trajectory`, keeping the image flags ASE's
``lammps-dump-text`` reader drops.

Unwrapping: unwrapped columns (``xu yu zu`` / ``xsu ysu zsu``) are used as they are; wrapped ones
with image flags ``ix iy iz`` are unwrapped exactly with each frame's cell; wrapped ones alone by
minimum image (:func:`~deepearth.properties.trajectory.unwrap_positions`). Positions in Å, time in ps.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from deepearth.properties.trajectory import Trajectory

_LAMMPS_FORMATS = {"lammps-dump-text", "lammps-dump", "lammpsdump", "lammps"}
_LAMMPS_SUFFIXES = {".lammpstrj", ".dump", ".lammpsdump"}


def _checked_input(path: str | Path, stride: int) -> tuple[Path, int]:
    """``(Path, stride)`` after checking that the trajectory file exists and ``stride >= 1``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: trajectory file not found")
    if int(stride) < 1:
        raise ValueError(f"{path}: stride must be >= 1, got {stride}")
    return path, int(stride)


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
    from deepearth.properties.trajectory import Trajectory, unwrap_positions  # lazily: that module imports this one

    path, stride = _checked_input(path, stride)
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
