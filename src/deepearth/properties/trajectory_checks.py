"""Checks of trajectory files for the estimators: one line naming the file and what is wrong.

* :func:`unreadable_message` — why ASE could not read a file: for extxyz/xyz the layout is scanned
  (``truncated at line N``, a count line that is not a number, an atom line with missing or
  non-numeric columns), for ASE ``.traj`` the first frame that cannot be read; other formats get
  the first line of ASE's own error. Called only after a read failed, so good files cost nothing.
* :func:`check_frames` — frames ASE did read: the same atoms in every frame (``frame 12 has 63
  atoms, frame 0 has 64``), finite positions and cells, a cell in every frame or in none.

Frame numbers are those of the file (before striding).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deepearth.lammps.dump import open_text
from deepearth.properties.checks import first_line, require_same_count, where

__all__ = ["check_frames", "unreadable_message"]

_XYZ_FORMATS = {"xyz", "extxyz"}
_TRAJ_FORMATS = {"traj"}


def _kind(path: Path, format: str | None) -> str | None:
    """'xyz', 'traj' or None (another format) from ``format`` or the suffix (``.gz`` ignored)."""
    if format is not None:
        f = format.lower()
        return "xyz" if f in _XYZ_FORMATS else "traj" if f in _TRAJ_FORMATS else None
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    last = suffixes[-1] if suffixes else ""
    return "xyz" if last in (".xyz", ".extxyz") else "traj" if last == ".traj" else None


def unreadable_message(path: str | Path, format: str | None, exc: BaseException) -> str:
    """One line saying why ``path`` could not be read (``exc`` is the reader's exception)."""
    path = Path(path)
    kind = _kind(path, format)
    found = None
    try:
        if kind == "xyz":
            found = diagnose_xyz(path)
        elif kind == "traj":
            found = diagnose_traj(path)
    except Exception:  # the diagnosis is best effort; ASE's message below still names the problem
        found = None
    if found:
        return f"{path}: {found}"
    return f"{path}: cannot read trajectory ({type(exc).__name__}: {first_line(exc)})"


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def diagnose_xyz(path: Path) -> str | None:
    """What is wrong with the layout of an (ext)xyz file — per frame a count line, a comment line and
    that many atom lines whose columns match the frame's first atom line — or None if nothing is."""
    with open_text(path) as fh:
        lines = fh.read().splitlines()
    i, frame = 0, 0
    while i < len(lines):
        if not lines[i].strip():
            if not any(s.strip() for s in lines[i:]):
                break  # trailing blank lines
            return f"line {i + 1}: blank line where the atom count of frame {frame} was expected"
        tokens = lines[i].split()
        if len(tokens) != 1 or not tokens[0].isdigit():
            return f"line {i + 1}: expected the atom count of frame {frame}, found {lines[i].strip()[:60]!r}"
        n = int(tokens[0])
        end = i + 2 + n
        if end > len(lines):
            have = max(0, len(lines) - (i + 2))
            return (f"truncated at line {len(lines)}: frame {frame} (from line {i + 1}) declares {n} atoms, "
                    f"the file ends after {have}")
        ref = None
        for j, k in enumerate(range(i + 2, end)):
            row = lines[k].split()
            if ref is None:
                ref = [_is_number(t) for t in row]
            if len(row) != len(ref):
                return (f"line {k + 1} (frame {frame}, atom {j}): {len(row)} columns where the frame's atom lines "
                        f"have {len(ref)} (does frame {frame} hold fewer atoms than its count line, {n}, says?)")
            for c, (t, numeric) in enumerate(zip(row, ref)):
                if numeric and not _is_number(t):
                    return f"line {k + 1} (frame {frame}, atom {j}): column {c + 1} is {t!r}, not a number"
        i, frame = end, frame + 1
    if frame == 0:
        return "no frames (empty file)"
    return None


def diagnose_traj(path: Path) -> str | None:
    """The first frame of an ASE ``.traj`` file that cannot be read (truncated or corrupt), or None."""
    from ase.io.trajectory import Trajectory

    size = path.stat().st_size
    try:
        traj = Trajectory(str(path))
    except Exception as exc:
        return f"not a readable ASE .traj file, truncated or corrupt ({size} bytes; {first_line(exc)})"
    with traj:
        n = len(traj)
        for i in range(n):
            try:
                traj[i]
            except Exception as exc:
                return (f"frame {i} of {n} cannot be read: the .traj file is truncated or corrupt ({size} bytes; "
                        f"{first_line(exc)})")
    return None


def check_frames(path: str | Path, frames: list, stride: int = 1) -> bool:
    """Check frames read by ASE (every ``stride``-th of the file); whether they carry a periodic cell.

    The same atoms (count and species, in order) in every frame, finite positions and cells, and a
    cell (non-zero volume) in every frame or in none. One ValueError naming the file and frame.
    """
    labels = [k * stride for k in range(len(frames))]
    require_same_count(str(path), [len(f) for f in frames], labels=labels)
    symbols = frames[0].get_chemical_symbols()
    for k, f in enumerate(frames):
        s = f.get_chemical_symbols()
        if s != symbols:
            j = next(a for a, (x, y) in enumerate(zip(s, symbols)) if x != y)
            raise ValueError(f"{path}: frame {labels[k]}, atom {j} is {s[j]} but {symbols[j]} in frame 0; "
                             "every frame must hold the same atoms in the same order")
        pos = f.get_positions()
        if not np.all(np.isfinite(pos)):
            idx = np.argwhere(~np.isfinite(pos))[0]
            raise ValueError(f"{path}: position {pos[tuple(idx)]} (not finite) at "
                             f"{where((labels[k], *idx), ('frame', 'atom'), 'xyz')}")
        if not np.all(np.isfinite(f.cell.array)):
            raise ValueError(f"{path}: frame {labels[k]} has a non-finite cell {f.cell.array.tolist()}")
    has_cell = [abs(f.cell.volume) > 1e-9 for f in frames]
    if any(has_cell) and not all(has_cell):
        k = has_cell.index(not has_cell[0])
        state = "has no cell" if has_cell[0] else "has a cell"
        raise ValueError(f"{path}: frame {labels[k]} {state} but frame 0 {'does' if has_cell[0] else 'does not'}; "
                         "every frame needs the periodic cell for unwrapping, or none does")
    return bool(has_cell[0])
