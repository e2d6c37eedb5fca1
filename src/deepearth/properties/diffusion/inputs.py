"""Estimator input for the diffusion estimator: replicas, time-axis checks, atom selection.

:func:`as_replicas` turns what :func:`~deepearth.properties.diffusion.diffusion_coefficient` accepts
(a :class:`~deepearth.properties.trajectory.Trajectory`, a list of them, unwrapped positions
``(n_frames, n_atoms, 3)`` in Å or a list of such arrays) into a list of trajectories;
:func:`check_time_axis` checks frame count, spacing (ps) and a uniform time axis;
:func:`check_positions` refuses NaN/inf positions (naming the frame and atom);
:func:`select_atoms` intersects a species with atom indices; :func:`as_velocities` checks optional
velocities against the replicas and :func:`vacf` averages their autocorrelation over atoms (for the
caging time of the fit window). Shared checks: :mod:`deepearth.properties.checks`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from deepearth.properties.checks import (first_line, require_at_least, require_finite, require_positive,
                                        require_same_count)
from deepearth.properties.trajectory import Trajectory


def as_replicas(data, dt_ps: float | None, times_ps=None) -> list[Trajectory]:
    """Trajectory | [Trajectory] | positions (T, N, 3) | [positions] → a list of Trajectory."""
    items = data if isinstance(data, (list, tuple)) else [data]
    out = []
    for item in items:
        if isinstance(item, Trajectory):
            out.append(item)
            continue
        try:
            pos = np.asarray(item, dtype=float)
        except (TypeError, ValueError) as exc:  # ragged: the atom count changes between frames?
            try:
                counts = [len(f) for f in item]
            except TypeError:
                counts = []
            require_same_count("diffusion_coefficient: positions", counts)
            raise ValueError(f"diffusion_coefficient: positions are not an (n_frames, n_atoms, 3) array of numbers "
                             f"({first_line(exc)})") from None
        if pos.ndim != 3 or pos.shape[2] != 3:
            raise ValueError(f"diffusion_coefficient: positions must have shape (n_frames, n_atoms, 3), got {pos.shape}")
        if times_ps is not None and dt_ps is None:
            t = np.asarray(times_ps, dtype=float)
            dt_ps = float(t[1] - t[0]) if t.size > 1 else None
        if dt_ps is None:
            raise ValueError("diffusion_coefficient: dt_ps (time between frames, ps) is required with position arrays")
        require_positive("diffusion_coefficient: dt_ps (time between frames)", dt_ps, "ps")
        n = pos.shape[1]
        out.append(Trajectory(pos, np.zeros((len(pos), 3, 3)), ["X"] * n, np.ones(n), float(dt_ps), "array",
                              times_ps=None if times_ps is None else np.asarray(times_ps, dtype=float)))
    return out


def check_time_axis(r: Trajectory, min_frames: int) -> None:
    """Check frame count (≥ ``min_frames``), ``dt_ps`` > 0 and a uniform time axis agreeing with it."""
    name = r.source or "trajectory"
    require_at_least(name, r.n_frames, min_frames, "frames",
                     "an MSD is fitted over lags up to half the run, on at least 3 lags past the start")
    if not (np.isfinite(r.dt_ps) and r.dt_ps > 0):
        raise ValueError(f"{name}: frame spacing dt_ps must be > 0, got {r.dt_ps}")
    if r.times_ps is None:
        return
    t = np.asarray(r.times_ps, dtype=float)
    if t.shape != (r.n_frames,):
        raise ValueError(f"{name}: times_ps has {t.size} entries for {r.n_frames} frames")
    steps = np.diff(t)
    if np.any(steps <= 0):
        i = int(np.flatnonzero(steps <= 0)[0])
        raise ValueError(f"{name}: time axis is not increasing (frame {i}: {t[i]} ps, frame {i + 1}: {t[i + 1]} ps)")
    if not np.allclose(steps, steps.mean(), rtol=1e-4, atol=0):
        raise ValueError(f"{name}: time axis is not evenly spaced (spacings {steps.min():g}..{steps.max():g} ps); "
                         "MSD lags need uniformly spaced frames")
    if not np.isclose(steps.mean(), r.dt_ps, rtol=1e-4, atol=0):
        raise ValueError(f"{name}: the frame times are {steps.mean():g} ps apart but dt_ps = {r.dt_ps} ps")


def check_positions(r: Trajectory, cells: bool = False) -> None:
    """Refuse NaN/inf positions (and cells, with ``cells``) naming the first bad frame and atom."""
    name = r.source or "trajectory"
    require_finite(f"{name}: positions", r.positions_A, ("frame", "atom"), "xyz")
    if r.n_atoms == 0:
        raise ValueError(f"{name}: no atoms")
    if cells:
        require_finite(f"{name}: cells", r.cells_A, ("frame",))


def select_atoms(r: Trajectory, species: str | None, atoms: Sequence[int] | None) -> np.ndarray:
    """Indices of the atoms of ``species`` (all if None) intersected with ``atoms`` (negative allowed)."""
    idx = np.arange(r.n_atoms)
    if species is not None:
        idx = r.select(species)
    if atoms is not None:
        want = np.asarray(atoms, dtype=int).ravel()
        if want.size == 0:
            raise ValueError(f"{r.source or 'trajectory'}: empty atom index list")
        if want.min() < -r.n_atoms or want.max() >= r.n_atoms:
            raise ValueError(f"{r.source or 'trajectory'}: atom indices out of range 0..{r.n_atoms - 1}")
        want = np.unique(want % r.n_atoms)
        idx = np.intersect1d(idx, want)
        if idx.size == 0:
            raise ValueError(f"{r.source or 'trajectory'}: no selected atoms left "
                             f"(species {species!r} ∩ the given indices is empty)")
    return idx


def as_velocities(velocities, replicas: list[Trajectory]) -> list[np.ndarray] | None:
    """Velocities ``(T, N, 3)`` Å/ps per replica (one array for one replica, or a list), checked
    finite and of the replicas' shapes; None stays None."""
    if velocities is None:
        return None
    items = velocities if isinstance(velocities, (list, tuple)) else [velocities]
    if len(items) != len(replicas):
        raise ValueError(f"diffusion_coefficient: {len(items)} velocity arrays for {len(replicas)} replicas")
    out = []
    for v, r in zip(items, replicas):
        name = r.source or "trajectory"
        v = require_finite(f"{name}: velocities", np.asarray(v, dtype=float), ("frame", "atom"), "xyz")
        if v.shape != r.positions_A.shape:
            raise ValueError(f"{name}: velocities have shape {v.shape}, positions "
                             f"{r.positions_A.shape}; pass one velocity per atom and frame (Å/ps)")
        out.append(v)
    return out


def vacf(velocities: list[np.ndarray], n_lags: int) -> np.ndarray:
    """Velocity autocorrelation ⟨v(t)·v(0)⟩ (Å²/ps²) at lags 0..n_lags-1, averaged over time
    origins, atoms and replicas (FFT, zero-padded)."""
    total = np.zeros(n_lags)
    count = 0
    for v in velocities:
        T = v.shape[0]
        x = v.reshape(T, -1)
        f = np.fft.rfft(x, n=2 * T, axis=0)
        c = np.fft.irfft((f * f.conj()).real.sum(axis=1), n=2 * T)[:n_lags]
        total += c / (T - np.arange(n_lags))
        count += v.shape[1]
    return total / count


__all__ = ["as_replicas", "as_velocities", "check_positions", "check_time_axis", "select_atoms", "vacf"]
