"""Column time series from text tables: LAMMPS ``fix ave/time`` / ``thermo`` output, sportran-style
tables, or any whitespace table with a header naming the columns.

The header is the last line before the numbers that does not parse as numbers (a leading ``#`` is
stripped, so ``# TimeStep c_flux[1] ...`` from ``fix ave/time`` works). Columns are chosen by name
or by 0-based index.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _is_numeric(tokens: list[str]) -> bool:
    try:
        [float(t) for t in tokens]
    except ValueError:
        return False
    return bool(tokens)


def read_table(path: str | Path) -> tuple[list[str], np.ndarray]:
    """Column names (``col0, col1 ...`` when there is no header) and the ``(n, m)`` data of a table."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: table file not found")
    header: list[str] = []
    rows: list[list[float]] = []
    with open(path) as fh:
        for lineno, line in enumerate(fh, 1):
            tokens = line.split()
            if not tokens:
                continue
            if _is_numeric(tokens):
                if rows and len(tokens) != len(rows[0]):
                    raise ValueError(f"{path}:{lineno}: {len(tokens)} columns where earlier rows have {len(rows[0])}")
                rows.append([float(t) for t in tokens])
            elif rows:
                raise ValueError(f"{path}:{lineno}: non-numeric line after the data started: {line.strip()[:60]!r}")
            else:
                header = line.lstrip("#").split()
    if not rows:
        raise ValueError(f"{path}: no numeric rows found")
    data = np.array(rows)
    if len(header) != data.shape[1]:
        header = [f"col{i}" for i in range(data.shape[1])]
    return header, data


def select_columns(path: str | Path, columns: list[str]) -> np.ndarray:
    """``(n, len(columns))`` array of the named (or 0-based index) columns of a table file; a NaN/inf
    value (e.g. ``nan`` printed by a run that blew up) is refused naming the file, line and column."""
    path = Path(path)
    names, data = read_table(path)
    idx = []
    for c in columns:
        if c in names:
            idx.append(names.index(c))
        elif c.isdigit() and int(c) < data.shape[1]:
            idx.append(int(c))
        else:
            raise ValueError(f"{path}: no column {c!r} (columns: {', '.join(names)})")
    out = data[:, idx]
    bad = np.argwhere(~np.isfinite(out))
    if bad.size:
        row, col = (int(v) for v in bad[0])
        raise ValueError(f"{path}:{_line_of_row(path, row)}: column {columns[col]!r} is {out[row, col]} "
                         f"({int((~np.isfinite(out)).sum())} non-finite values in the selected columns)")
    return out


def _line_of_row(path: Path, row: int) -> int:
    """Line number (1-based) of the ``row``-th numeric row of the table file."""
    k = -1
    with open(path) as fh:
        for lineno, line in enumerate(fh, 1):
            tokens = line.split()
            if tokens and _is_numeric(tokens):
                k += 1
                if k == row:
                    return lineno
    return 0
