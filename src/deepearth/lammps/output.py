"""Readers of LAMMPS's text output: the thermo tables of a log file and the files written by
``fix ave/time``, ``fix ave/chunk`` and ``fix print``. Numbers are in the input's units (nothing is
converted here). Dumps are read by :mod:`deepearth.lammps.dump`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["LammpsTable", "read_lammps_table", "read_thermo"]


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
