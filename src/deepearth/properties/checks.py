"""Input and result checks shared by every estimator: bad input is refused with one clear line.

Each check raises ``ValueError`` with a single line that names the input (array, file or parameter),
where it is wrong (the first bad frame, atom, sample or point) and what the method needs — so that
``deepearth analyze`` prints one line and exits non-zero instead of reporting ``nan ± 0``.

* :func:`require_finite` — no NaN/inf in an array (names the first bad index);
* :func:`require_positive` — a finite scalar > 0 (temperature, timestep, volume ...);
* :func:`require_at_least` — enough frames/samples/points for the method, and why;
* :func:`require_same_count` — the atom count does not change between frames;
* :func:`require_varies` — no constant (zero-variance) column in a time series;
* :func:`require_finite_result` — an estimate and its error bar are finite (and the error bar > 0);
* :func:`first_line` — the first line of an exception's message (for wrapping a library's error).

Only numpy is needed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["first_line", "require_at_least", "require_finite", "require_finite_result", "require_positive",
           "require_same_count", "require_varies", "where"]


def where(index: Sequence[int], axes: Sequence[str], components: str | Sequence[str] | None = None) -> str:
    """``"frame 50, atom 3, y"`` for ``index`` (50, 3, 1) with ``axes`` ("frame", "atom") and
    ``components`` "xyz" naming the last axis; axes without a label are ``axis k``."""
    parts = []
    for k, i in enumerate(index):
        if k < len(axes):
            parts.append(f"{axes[k]} {int(i)}")
        elif components is not None and k == len(index) - 1 and int(i) < len(components):
            parts.append(str(components[int(i)]))
        else:
            parts.append(f"axis {k} index {int(i)}")
    return ", ".join(parts)


def require_finite(name: str, values, axes: Sequence[str] = ("index",),
                   components: str | Sequence[str] | None = None) -> np.ndarray:
    """``values`` as a float array; a ValueError naming the first NaN/inf entry (by ``axes`` labels,
    e.g. ``("frame", "atom")``, ``components`` naming the last axis) and how many there are."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: not an array of numbers ({first_line(exc)})") from None
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        n = int(bad.sum())
        what = "NaN" if np.isnan(arr[idx]) else str(arr[idx])
        raise ValueError(f"{name}: {what} at {where(idx, axes, components)} "
                         f"({n} non-finite value{'s' if n > 1 else ''} in all)")
    return arr


def require_positive(name: str, value, unit: str = "") -> float:
    """``value`` as a float; a ValueError unless it is a finite number > 0."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number > 0{' ' + unit if unit else ''}, got {value!r}") from None
    if not (np.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0{' ' + unit if unit else ''}, got {value!r}")
    return v


def require_at_least(name: str, count: int, minimum: int, noun: str, why: str) -> None:
    """A ValueError unless ``count >= minimum``: ``"<name>: 5 frames; at least 10 needed (<why>)"``."""
    if count < minimum:
        raise ValueError(f"{name}: {count} {noun}; at least {minimum} needed ({why})")


def require_same_count(name: str, counts: Sequence[int], noun: str = "atoms", item: str = "frame",
                       labels: Sequence[int] | None = None) -> None:
    """A ValueError at the first ``item`` whose count differs from the first one's:
    ``"<name>: frame 12 has 63 atoms, frame 0 has 64"`` (``labels`` renumber the items)."""
    counts = [int(c) for c in counts]
    labels = list(range(len(counts))) if labels is None else list(labels)
    for k, c in enumerate(counts):
        if c != counts[0]:
            raise ValueError(f"{name}: {item} {labels[k]} has {c} {noun}, {item} {labels[0]} has {counts[0]}; "
                             f"every {item} must hold the same {noun}")


def require_varies(name: str, series: np.ndarray, labels: Sequence[str] | None = None, hint: str = "") -> None:
    """A ValueError if a column of ``series`` ``(n, m)`` (or a 1-D series) is constant — zero variance
    up to rounding (peak-to-peak ≤ 1e-12 × its largest magnitude) — naming the column."""
    x = np.asarray(series, dtype=float)
    x = x[:, None] if x.ndim == 1 else x
    ptp = np.ptp(x, axis=0)
    scale = np.max(np.abs(x), axis=0)
    flat = np.flatnonzero(ptp <= 1e-12 * scale)
    if flat.size:
        k = int(flat[0])
        label = labels[k] if labels is not None and k < len(labels) else f"column {k}"
        raise ValueError(f"{name}: {label} is constant ({x[0, k]:g} in all {x.shape[0]} samples, zero variance)"
                         + (f"; {hint}" if hint else ""))


def require_finite_result(name: str, value: float, stderr: float, positive_stderr: bool = True,
                          why: str = "") -> None:
    """A ValueError unless the estimate and its standard error are finite and the error is > 0
    (``positive_stderr``) or ≥ 0: an estimator never returns ``nan ± 0`` silently."""
    ok_err = np.isfinite(stderr) and (stderr > 0 if positive_stderr else stderr >= 0)
    if not (np.isfinite(value) and ok_err):
        need = "> 0" if positive_stderr else ">= 0"
        raise ValueError(f"{name}: no usable estimate (value {value!r}, standard error {stderr!r}; both must be "
                         f"finite, the error {need})" + (f": {why}" if why else ""))


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
