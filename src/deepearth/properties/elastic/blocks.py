"""The mean of a correlated time series with its block-averaging standard error.

The series is cut into ``n_blocks`` contiguous blocks; the error of the mean is the scatter of the
block means, ``s / sqrt(n_blocks)`` (Flyvbjerg & Petersen 1989, J. Chem. Phys. 91, 461; Allen &
Tildesley 2017, *Computer Simulation of Liquids*, §8.4). It is honest when a block is longer than the
correlation time; :func:`block_average` also returns the Flyvbjerg–Petersen curve (the error at
block lengths 1, 2, 4, … samples) so that a caller can see whether it has reached its plateau.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from deepearth.properties.checks import require_at_least, require_finite

__all__ = ["BlockAverage", "block_average"]

#: Fewest blocks (the scatter of fewer means is no error bar) and samples per block.
MIN_BLOCKS = 4
MIN_PER_BLOCK = 2


@dataclass
class BlockAverage:
    """Mean and block standard error of each column of a series (units of the input)."""

    mean: list[float]
    stderr: list[float]
    n_samples: int
    n_blocks: int
    block_length: int
    method: str = "block average (Flyvbjerg & Petersen 1989): stderr = std(block means, ddof=1)/sqrt(n_blocks)"
    blocking_curve: list[list[float]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def block_average(series, n_blocks: int = 8, name: str = "series") -> BlockAverage:
    """Mean and standard error of each column of ``series`` (``(n,)`` or ``(n, m)``, samples along axis 0)
    from ``n_blocks`` contiguous blocks (trailing samples that do not fill a block are dropped).

    ``ValueError`` (one line) for NaN/inf or too few samples for ``n_blocks`` blocks of at least
    :data:`MIN_PER_BLOCK` samples (at least :data:`MIN_BLOCKS` blocks). ``blocking_curve``: per
    doubling of the block length (1, 2, 4 … samples while ≥ 4 blocks remain), the standard error of
    each column computed with blocks of that length.
    """
    x = require_finite(name, series, ("sample", "column"))
    x = x[:, None] if x.ndim == 1 else x
    if x.ndim != 2:
        raise ValueError(f"{name}: shape {x.shape}; a series is (samples,) or (samples, columns)")
    if int(n_blocks) < MIN_BLOCKS:
        raise ValueError(f"n_blocks: {n_blocks}; at least {MIN_BLOCKS} blocks are needed for an error bar")
    n = x.shape[0]
    require_at_least(name, n, MIN_PER_BLOCK * int(n_blocks), "samples",
                     f"{n_blocks} blocks of ≥ {MIN_PER_BLOCK} samples for a block-average error bar; run longer "
                     "or sample more often")
    length = n // int(n_blocks)
    means = x[: length * n_blocks].reshape(int(n_blocks), length, -1).mean(axis=1)
    stderr = means.std(axis=0, ddof=1) / np.sqrt(n_blocks)
    curve = []
    size = 1
    while n // size >= MIN_BLOCKS:
        m = n // size
        bm = x[: m * size].reshape(m, size, -1).mean(axis=1)
        curve.append([float(size), *(bm.std(axis=0, ddof=1) / np.sqrt(m)).tolist()])
        size *= 2
    return BlockAverage(mean=x[: length * n_blocks].mean(axis=0).tolist(), stderr=stderr.tolist(), n_samples=n,
                        n_blocks=int(n_blocks), block_length=length, blocking_curve=curve)
