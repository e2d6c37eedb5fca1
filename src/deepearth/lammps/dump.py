"""The one reader of LAMMPS text dumps (``dump custom``/``atom``; orthogonal or triclinic; gzipped or not).

A dump is read whole into a :class:`Dump`: every column as numbers ``(frames, atoms, columns)``
(text columns such as ``element`` apart), atoms sorted by ``id`` in every frame, and each frame's
box as a :class:`~deepearth.lammps.cell.LammpsBox`. :meth:`Dump.positions` gives Cartesian
positions, unwrapped wherever the dump allows it:

1. unwrapped columns ``xu yu zu`` (or scaled ``xsu ysu zsu``) are used as they are;
2. wrapped ``x y z`` (or ``xs ys zs``) with image flags ``ix iy iz`` are unwrapped exactly with each
   frame's box, ``r_u = r + ix·A + iy·B + iz·C`` (LAMMPS: ``xu = x + ix·lx + iy·xy + iz·xz``,
   ``yu = y + iy·ly + iz·yz``, ``zu = z + iz·lz``);
3. wrapped coordinates alone are returned wrapped (:attr:`Dump.unwrapped` is then false; minimum-image
   unwrapping is the caller's choice).

Units are those of the input (Å in ``units metal``); positions are in LAMMPS's frame (the box's
lower-triangular cell; :func:`~deepearth.lammps.cell.lammps_to_ase` rotates them elsewhere).
Malformed files raise ``ValueError`` naming the file and the line. Format:
https://docs.lammps.org/dump.html.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deepearth.lammps.cell import LammpsBox

__all__ = ["COORDINATE_COLUMNS", "Dump", "is_dump_file", "open_text", "read_dump"]

#: Coordinate column sets in order of preference: unwrapped, scaled unwrapped, wrapped, scaled wrapped.
COORDINATE_COLUMNS: tuple[tuple[str, str, str], ...] = (("xu", "yu", "zu"), ("xsu", "ysu", "zsu"),
                                                        ("x", "y", "z"), ("xs", "ys", "zs"))
#: Columns that may hold text (``element``; ``type`` with type labels); all others must be numbers.
TEXT_COLUMNS = frozenset({"element", "type"})


def open_text(path: str | os.PathLike):
    """``path`` opened for reading text; gzip files (by their magic number) are decompressed."""
    path = Path(path)
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt") if gz else open(path)


def is_dump_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` (gzipped or not) starts like a LAMMPS text dump (``ITEM: TIMESTEP``)."""
    try:
        with open_text(path) as fh:
            return fh.readline(200).strip().startswith("ITEM: TIMESTEP")
    except (OSError, UnicodeDecodeError, EOFError):
        return False


@dataclass
class Dump:
    """A LAMMPS text dump: ``data`` is ``(n_frames, n_atoms, n_columns)`` (float; NaN in text
    columns, whose strings are in ``text``), rows sorted by atom id when there is an ``id`` column;
    ``steps`` the dumped time steps; ``boxes`` each frame's box. Units are the input's."""

    path: Path
    columns: list[str]
    steps: np.ndarray
    boxes: list[LammpsBox]
    data: np.ndarray
    text: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.data.shape[0])

    @property
    def n_atoms(self) -> int:
        """Number of atoms (the same in every frame)."""
        return int(self.data.shape[1])

    @property
    def cells(self) -> np.ndarray:
        """``(n_frames, 3, 3)`` lower-triangular cells (rows A, B, C)."""
        return np.array([b.cell for b in self.boxes]).reshape(-1, 3, 3)

    @property
    def origins(self) -> np.ndarray:
        """``(n_frames, 3)`` box origins ``(xlo, ylo, zlo)``."""
        return np.array([b.origin for b in self.boxes]).reshape(-1, 3)

    @property
    def box(self) -> np.ndarray:
        """``(n_frames, 3, 2)``: ``(lo, hi)`` of x, y, z of each frame's box (not its bounding box)."""
        return np.array([[[b.xlo, b.xhi], [b.ylo, b.yhi], [b.zlo, b.zhi]] for b in self.boxes]).reshape(-1, 3, 2)

    def __getitem__(self, name: str) -> np.ndarray:
        """One column, ``(n_frames, n_atoms)``: floats, or strings for a text column."""
        if name in self.text:
            return self.text[name]
        if name not in self.columns:
            raise KeyError(f"{self.path}: no column {name!r}; columns are {self.columns}")
        return self.data[..., self.columns.index(name)]

    @property
    def coordinates(self) -> tuple[str, str, str] | None:
        """The coordinate columns :meth:`positions` uses (see the module docstring), or ``None``."""
        for names in COORDINATE_COLUMNS:
            if all(n in self.columns for n in names):
                return names
        return None

    @property
    def has_images(self) -> bool:
        """Whether the dump has image flags ``ix iy iz``."""
        return all(c in self.columns for c in ("ix", "iy", "iz"))

    @property
    def unwrapped(self) -> bool:
        """Whether :meth:`positions` are unwrapped (unwrapped columns, or wrapped ones with image flags)."""
        names = self.coordinates
        return names is not None and (names[0].endswith("u") or self.has_images)

    def positions(self) -> np.ndarray:
        """``(n_frames, n_atoms, 3)`` Cartesian positions in LAMMPS's frame (input distance unit),
        unwrapped where the columns allow it (see :attr:`unwrapped`)."""
        names = self.coordinates
        if names is None:
            raise ValueError(f"{self.path}: no coordinate columns (need xu yu zu, xsu ysu zsu, x y z or xs ys zs; "
                             f"found {' '.join(self.columns)})")
        r = np.stack([self[n] for n in names], axis=-1)
        cells = self.cells
        if names[0].startswith("xs"):  # scaled: r = s·H + origin
            r = np.einsum("tnk,tkj->tnj", r, cells) + self.origins[:, None, :]
        if not names[0].endswith("u") and self.has_images:
            images = np.stack([self[n] for n in ("ix", "iy", "iz")], axis=-1)
            r = r + np.einsum("tnk,tkj->tnj", images, cells)
        return r


def read_dump(path: str | os.PathLike, stride: int = 1) -> Dump:
    """Read a LAMMPS text dump (``dump custom``/``atom``, gzipped or not) into a :class:`Dump`.

    Every frame must hold the same atoms (ids) and the same columns; ``stride`` keeps every n-th
    frame (the others are only checked for their structure). Raises ``FileNotFoundError`` for a
    missing file and ``ValueError`` naming the file and line for a malformed or truncated one.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: LAMMPS dump file not found (was it written?)")
    if int(stride) < 1:
        raise ValueError(f"{path}: stride must be >= 1, got {stride}")
    with open_text(path) as fh:
        lines = fh.read().splitlines()
    return _Parser(path, lines, int(stride)).parse()


class _Parser:
    """One pass over the lines of a dump; errors name ``path`` and a 1-based line number."""

    def __init__(self, path: Path, lines: list[str], stride: int) -> None:
        self.path, self.lines, self.stride = path, lines, stride
        self.columns: list[str] | None = None
        self.text_cols: list[int] = []
        self.ids0: np.ndarray | None = None

    def fail(self, line: int, message: str) -> ValueError:
        return ValueError(f"{self.path}: line {line}: {message}")

    def expect(self, i: int, prefix: str) -> str:
        if i >= len(self.lines):
            raise self.fail(i + 1, f"file ends where '{prefix}' was expected (truncated dump?)")
        if not self.lines[i].startswith(prefix):
            raise self.fail(i + 1, f"expected '{prefix}', found {self.lines[i][:60]!r}")
        return self.lines[i]

    def integer(self, i: int, what: str) -> int:
        try:
            return int(self.lines[i].split()[0])
        except (IndexError, ValueError):
            raise self.fail(i + 1, f"expected an integer {what}") from None

    def parse(self) -> Dump:
        lines = self.lines
        steps, boxes, frames, texts = [], [], [], []
        n_atoms = None
        i, frame = 0, 0
        while i < len(lines):
            if not lines[i].strip():
                i += 1
                continue
            start = i
            self.expect(i, "ITEM: TIMESTEP")
            step = self.integer(i + 1, "timestep")
            self.expect(i + 2, "ITEM: NUMBER OF ATOMS")
            n = self.integer(i + 3, "number of atoms")
            if n_atoms is not None and n != n_atoms:
                raise self.fail(i + 4, f"the number of atoms changes ({n_atoms} -> {n}); frames must hold the same atoms")
            n_atoms = n
            box = self.box(i + 4)
            cols = self.expect(i + 8, "ITEM: ATOMS").split()[2:]
            i += 9
            if i + n > len(lines):
                raise self.fail(len(lines), f"file ends inside the frame starting at line {start + 1} "
                                f"({len(lines) - i} of {n} atom lines; truncated dump?)")
            if self.columns is None:
                self.columns = cols
            elif cols != self.columns:
                raise self.fail(i, f"the ATOMS columns change between frames ({' '.join(self.columns)} -> "
                                f"{' '.join(cols)})")
            if frame % self.stride == 0:
                data, text = self.atoms(i, n, first=not frames)
                steps.append(step)
                boxes.append(box)
                frames.append(data)
                texts.append(text)
            frame += 1
            i += n
        if not frames:
            raise ValueError(f"{self.path}: no frames found in the LAMMPS dump")
        cols = self.columns or []
        text = {cols[j]: np.array([t[j] for t in texts]) for j in self.text_cols}
        return Dump(self.path, list(cols), np.array(steps, dtype=np.int64), boxes, np.array(frames), text)

    def box(self, i: int) -> LammpsBox:
        header = self.expect(i, "ITEM: BOX BOUNDS").split()[3:]
        width = 3 if "xy" in header else 2
        try:
            rows = [[float(v) for v in self.lines[i + 1 + r].split()[:width]] for r in range(3)]
            if any(len(row) != width for row in rows):
                raise ValueError
        except (IndexError, ValueError):
            raise self.fail(i + 2, f"malformed BOX BOUNDS (lines {i + 2}-{i + 4})") from None
        return LammpsBox.from_bounds(rows)

    def atoms(self, i: int, n: int, first: bool) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """The ``n`` atom lines from line index ``i``, as floats sorted by id (+ text columns)."""
        cols = self.columns or []
        ncol = len(cols)
        block = self.lines[i:i + n]
        tokens = " ".join(block).split()
        if len(tokens) != n * ncol:
            for r, row in enumerate(block):
                if len(row.split()) != ncol:
                    raise self.fail(i + r + 1, f"expected {ncol} columns ({' '.join(cols)}), found {len(row.split())}")
        if first:
            self.text_cols = self.find_text_columns(i, block)
        text: dict[int, np.ndarray] = {}
        try:
            if not self.text_cols:
                data = np.array(tokens, dtype=float).reshape(n, ncol)
            else:
                strings = np.array(tokens, dtype=str).reshape(n, ncol)
                data = np.full((n, ncol), np.nan)
                for j in range(ncol):
                    if j in self.text_cols:
                        text[j] = strings[:, j]
                    else:
                        data[:, j] = strings[:, j].astype(float)
        except ValueError:
            raise self.non_numeric(i, block) from None
        if "id" in cols:
            ids = data[:, cols.index("id")].astype(np.int64)
            order = np.argsort(ids, kind="stable")
            ids = ids[order]
            if self.ids0 is None:
                if len(np.unique(ids)) != n:
                    raise self.fail(i + 1, f"duplicate atom ids (lines {i + 1}-{i + n})")
                self.ids0 = ids
            elif not np.array_equal(ids, self.ids0):
                raise self.fail(i + 1, "the atom ids change between frames")
            data = data[order]
            text = {j: t[order] for j, t in text.items()}
        return data, text

    def find_text_columns(self, i: int, block: list[str]) -> list[int]:
        """Indices of the text columns (only those named in :data:`TEXT_COLUMNS` may hold text)."""
        cols = self.columns or []
        found = []
        rows = [row.split() for row in block]
        for j, name in enumerate(cols):
            if name not in TEXT_COLUMNS:
                continue
            try:
                [float(r[j]) for r in rows]
            except ValueError:
                found.append(j)
        return found

    def non_numeric(self, i: int, block: list[str]) -> ValueError:
        cols = self.columns or []
        for r, row in enumerate(block):
            for j, tok in enumerate(row.split()):
                if j in self.text_cols:
                    continue
                try:
                    float(tok)
                except ValueError:
                    return self.fail(i + r + 1, f"non-numeric value {tok!r} in column {cols[j]}")
        return self.fail(i + 1, "unreadable atom lines")
