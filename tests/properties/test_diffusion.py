"""Physics tests of the MSD/diffusion estimator against analytic cases."""

import numpy as np
import pytest

from deepearth.properties.diffusion import diffusion_coefficient, diffusive_window, msd_per_atom
from deepearth.properties.trajectory import Trajectory, unwrap_positions
from deepearth.units import A2_PER_PS_TO_M2_PER_S


def random_walk(D_A2_per_ps, n_atoms, n_frames, dt_ps, seed, box=20.0):
    """Brownian paths with MSD = 6 D t exactly in expectation, wrapped into a cubic box."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, np.sqrt(2 * D_A2_per_ps * dt_ps), size=(n_frames - 1, n_atoms, 3))
    pos = np.concatenate([rng.uniform(0, box, (1, n_atoms, 3)), steps]).cumsum(axis=0)
    return pos, np.eye(3) * box


def make_traj(pos, cell, dt, symbol="Ar"):
    n = pos.shape[1]
    return Trajectory(unwrap_positions(pos, cell), np.broadcast_to(cell, (len(pos), 3, 3)), [symbol] * n,
                      np.full(n, 40.0), dt)


def test_msd_fft_matches_direct_average():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 2, 3)).cumsum(axis=0)
    fft = msd_per_atom(x)
    for lag in (1, 7, 30):
        direct = ((x[lag:] - x[:-lag]) ** 2).sum(axis=2).mean(axis=0)
        assert np.allclose(fft[lag], direct)


def test_unwrap_recovers_continuous_paths():
    pos, cell = random_walk(0.5, 10, 200, 0.01, seed=1, box=8.0)
    wrapped = pos % 8.0
    assert np.allclose(unwrap_positions(wrapped, cell) - unwrap_positions(wrapped, cell)[0], pos - pos[0])


def test_random_walk_D_recovered_within_error():
    D = 0.3  # Å²/ps = 3e-9 m²/s
    reps = []
    for seed in range(4):
        pos, cell = random_walk(D, 64, 400, 0.02, seed=seed)
        reps.append(make_traj(pos % 20.0, cell, 0.02))
    res = diffusion_coefficient(reps, species="Ar", min_fit_start_ps=0.0, remove_com_drift=False)
    expected = D * A2_PER_PS_TO_M2_PER_S
    assert res.diffusive
    assert res.D_stderr_m2_per_s > 0
    assert abs(res.D_m2_per_s - expected) < 3 * res.D_stderr_m2_per_s
    assert abs(res.D_m2_per_s - expected) / expected < 0.1


def test_single_replica_uses_per_atom_error():
    pos, cell = random_walk(0.3, 64, 400, 0.02, seed=9)
    res = diffusion_coefficient([make_traj(pos, cell, 0.02)], species="Ar")
    assert "per-atom" in res.method
    assert abs(res.D_m2_per_s - 0.3e-8) < 4 * res.D_stderr_m2_per_s


def test_caged_oscillator_is_not_diffusive_and_D_near_zero():
    """Atoms vibrating about lattice sites (a crystal): MSD plateaus, D ≈ 0."""
    rng = np.random.default_rng(3)
    n_t, n = 600, 32
    t = np.arange(n_t)[:, None, None] * 0.005
    omega = rng.uniform(40, 80, size=(1, n, 3))
    phase = rng.uniform(0, 2 * np.pi, size=(1, n, 3))
    sites = rng.uniform(0, 10, size=(1, n, 3))
    pos = sites + 0.1 * np.sin(omega * t + phase) + rng.normal(0, 0.01, (n_t, n, 3))
    reps = [make_traj(pos + 0.0 * k, np.eye(3) * 10, 0.005) for k in range(2)]
    res = diffusion_coefficient(reps, species="Ar")
    assert not res.diffusive
    assert abs(res.D_m2_per_s) < 1e-11  # vs ~1e-9 m²/s for a liquid


def test_window_skips_ballistic_start():
    lag = np.linspace(0, 10, 1001)
    msd = 6 * 0.1 * lag + 2.0 * (1 - np.exp(-lag / 0.5))  # slow caging rise, then linear (D = 0.1)
    i0, i1, diffusive = diffusive_window(lag, msd, min_start_ps=0.1, tolerance=0.3)
    transient = 4.0 * np.exp(-lag[i0] / 0.5)  # excess of dMSD/dt over 6D where the window starts
    assert diffusive and i1 == 500
    assert lag[i0] > 1.0 and transient <= 0.3 * 0.6 * 1.05
    assert np.polyfit(lag[i0:i1], msd[i0:i1], 1)[0] / 6 == pytest.approx(0.1, rel=0.05)
    # fitting from the start instead would be biased high by the caging transient
    assert np.polyfit(lag[10:i1], msd[10:i1], 1)[0] / 6 > 0.11


def test_unknown_species_is_a_clear_error():
    pos, cell = random_walk(0.3, 4, 20, 0.02, seed=1)
    with pytest.raises(ValueError, match="no atoms of species 'Fe'"):
        diffusion_coefficient([make_traj(pos, cell, 0.02)], species="Fe")


def test_array_input_and_result_protocol():
    pos, _ = random_walk(0.2, 64, 400, 0.02, seed=11)  # unwrapped Å
    res = diffusion_coefficient([pos, random_walk(0.2, 64, 400, 0.02, seed=12)[0]], dt_ps=0.02, remove_com_drift=False)
    assert res.unit == "m^2/s" and res.value == res.D_m2_per_s and res.stderr == res.D_stderr_m2_per_s
    assert abs(res.value - 0.2e-8) < 4 * res.stderr
    with pytest.raises(ValueError, match="dt_ps"):
        diffusion_coefficient(pos)
    with pytest.raises(ValueError, match="n_frames, n_atoms, 3"):
        diffusion_coefficient(pos[:, :, :2], dt_ps=0.1)
