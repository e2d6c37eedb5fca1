"""Pick a diverse subset of candidate frames for labelling (farthest-point sampling)."""

from __future__ import annotations

import numpy as np


def farthest_point_sampling(features: np.ndarray, k: int, first: int = 0) -> list[int]:
    """Indices of ``k`` rows of ``features`` chosen greedily to maximise the minimum distance.

    Features are standardised per column first (so no descriptor component dominates by scale).
    Starts from row ``first`` (the pipeline passes the candidate with the largest deviation).
    Deterministic; returns all rows when ``k >= len(features)``.
    """
    x = np.asarray(features, dtype=float)
    n = len(x)
    if n == 0 or k <= 0:
        return []
    if k >= n:
        return list(range(n))
    scale = x.std(axis=0)
    x = (x - x.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    chosen = [int(first)]
    dist = np.linalg.norm(x - x[first], axis=1)
    dist[first] = -np.inf
    while len(chosen) < k:
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, np.linalg.norm(x - x[nxt], axis=1))
        dist[chosen] = -np.inf  # never pick a row twice, even among exact duplicates
    return chosen
