"""Error bars from the scatter the data show: replicas and blocks of time origins (issue 17).

The GLS error bar (:mod:`.msd_gls`) models atoms as independent. In a liquid they are not — atoms
move together in collective (hydrodynamic) modes and with the fluctuating kinetic energy of a
thermostatted box — and on Lennard-Jones argon (ρ* 0.8, T* 1.0, N 256) the GLS bar is 1.4×
(Nosé–Hoover, 0.1 ps) to 3× (a weak global thermostat) smaller than the run-to-run scatter
(benchmarks/RESULTS.md). Two measurements of that scatter need no model of the correlations:

* **replicas** — the spread of the replica values (the pooled GLS weights applied to each
  replica's MSD): ``σ_rep = std/√R``, ``R − 1`` degrees of freedom;
* **time-origin blocks** — the slope is linear in the MSD, and the MSD is a sum over time origins, so
  the slope is a sum of per-origin contributions. Those are cut into ``n_blocks`` contiguous blocks
  per replica (:func:`block_variance`); the block sums, centred on their expectation, are nearly
  independent when a block is much longer than the lags that carry the weight, and their mean square
  estimates the variance of the slope (``R·n_blocks − 1`` degrees of freedom). It sees only the
  correlations shorter than a block, so it reads low when the run is not much longer than the
  slowest fluctuation; replicas see all of them.

:func:`combined_error` puts them together with the GLS bar so that the reported σ is never smaller
than the scatter, and scales the scatter by the Student factor of its degrees of freedom so that
±σ is a 68 % interval (GUM coverage factor; with 3 degrees of freedom ×1.20).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import t as student_t

#: Time-origin blocks per replica for the block estimate of the error.
N_BLOCKS: int = 4
#: One-sided probability of a ±1σ Gaussian interval: Φ(1) = 0.8413.
_PHI_1 = 0.8413447460685429


def student_factor(dof: float) -> float:
    """``t_ν(Φ(1)) ≥ 1``: the factor that turns a standard error estimated with ``dof`` degrees of
    freedom into a ±1σ interval with 68.3 % coverage (1 for infinite dof)."""
    if not np.isfinite(dof) or dof <= 0:
        return 1.0
    return float(student_t.ppf(_PHI_1, dof))


def block_variance(origin_counts: list[np.ndarray], origin_sums: list[np.ndarray], msd: np.ndarray,
                   weights: np.ndarray, n_blocks: int = N_BLOCKS) -> tuple[float, int]:
    """Variance of ``slope = weights @ msd`` from blocks of time origins, and its sample count.

    ``origin_counts``, ``origin_sums``: per replica, the ``(T, L)`` (atom, origin) counts and Σr²
    per time origin at the fit lags (:func:`~.msd_gls.msd_origin_sums`); ``msd`` ``(L,)`` the pooled
    MSD (Σ sums / Σ counts). Per origin t the centred contribution to the slope is
    ``z(t) = Σ_j w_j (s2(t, j) − cnt(t, j)·msd_j) / C_j`` (C_j the total count at lag j), so that
    Σ z = 0 and slope − E[slope] = Σ z. The block sums S_b of z give
    ``Var ≈ n/(n−1) Σ_b S_b²`` over the n = replicas × ``n_blocks`` blocks.
    """
    total = np.sum([c.sum(axis=0) for c in origin_counts], axis=0)
    coef = np.where(total > 0, weights / np.maximum(total, 1), 0.0)
    sums = []
    for cnt, s2 in zip(origin_counts, origin_sums):
        z = (s2 - cnt * msd[None, :]) @ coef
        edges = np.linspace(0, len(z), n_blocks + 1).round().astype(int)
        sums.extend(z[a:b].sum() for a, b in zip(edges[:-1], edges[1:]))
    s = np.asarray(sums)
    n = s.size
    return (float(np.sum(s * s) * n / (n - 1)) if n >= 2 else float("nan")), n


@dataclass
class CombinedError:
    """The reported standard error and where it came from.

    ``source``: ``"gls"`` (the model bar is the largest), ``"replicas"`` or ``"blocks"`` (that
    scatter, × the Student factor of its ``dof``, is larger). ``sigma_replicas``/``sigma_blocks``:
    the raw scatter estimates (None when unavailable); ``dof``: of the source (None for GLS).
    """

    sigma: float
    source: str
    dof: int | None
    sigma_gls: float
    sigma_replicas: float | None
    sigma_blocks: float | None
    n_blocks: int


def combined_error(sigma_gls: float, replica_values: np.ndarray, block_var: float, n_block_samples: int,
                   n_blocks: int) -> CombinedError:
    """σ = max(σ_GLS, t(ν_rep)·σ_rep, t(ν_blk)·σ_blk): never smaller than the scatter of the replicas
    (``replica_values``, ≥ 2) or of the time-origin blocks (``block_var`` from :func:`block_variance`),
    each taken as a 68 % interval for its degrees of freedom (:func:`student_factor`)."""
    cands = [(sigma_gls, "gls", None)]
    sig_rep = sig_blk = None
    r = np.asarray(replica_values, dtype=float)
    if r.size >= 2:
        sig_rep = float(r.std(ddof=1) / np.sqrt(r.size))
        cands.append((student_factor(r.size - 1) * sig_rep, "replicas", r.size - 1))
    if np.isfinite(block_var) and block_var > 0 and n_block_samples >= 2:
        sig_blk = float(np.sqrt(block_var))
        cands.append((student_factor(n_block_samples - 1) * sig_blk, "blocks", n_block_samples - 1))
    sigma, source, dof = max(cands, key=lambda c: c[0])
    return CombinedError(float(sigma), source, dof, float(sigma_gls), sig_rep, sig_blk, int(n_blocks))


__all__ = ["N_BLOCKS", "CombinedError", "block_variance", "combined_error", "student_factor"]
