"""Physics tests of the MSD/diffusion estimators (GLS and OLS) against analytic cases."""

import functools

import numpy as np
import pytest

from deepearth.properties.diffusion import (caging_time_from_msd, caging_time_from_vacf, diffusion_coefficient,
                                            diffusive_window, gls_line, msd_covariance, msd_per_atom,
                                            yeh_hummer_correction)
from deepearth.properties.diffusion.scatter import student_factor
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


def test_msd_covariance_matches_monte_carlo_for_a_random_walk():
    """The analytic overlapping-origin covariance (GLS's Σ) against the sample covariance of many walks."""
    T, n, D, dt = 60, 4, 0.3, 0.02
    lags = np.array([1, 3, 10, 25])
    rng = np.random.default_rng(7)
    walks = rng.normal(0, np.sqrt(2 * D * dt), (1500, T, n, 3)).cumsum(axis=1)
    y = np.array([[((w[a:] - w[:-a]) ** 2).sum(axis=2).mean() for a in lags] for w in walks])
    model = msd_covariance(lags, T, 6 * D * dt * np.arange(2 * T + 1.0), n, ndim=3)
    sample = np.cov(y.T)
    assert np.allclose(np.diag(sample) / np.diag(model), 1.0, atol=0.12)
    assert sample[0, 3] / model[0, 3] == pytest.approx(1.0, abs=0.2)
    assert sample[1, 2] / model[1, 2] == pytest.approx(1.0, abs=0.15)
    # and the covariance is far from diagonal: neighbouring lags are strongly correlated
    assert model[2, 3] / np.sqrt(model[2, 2] * model[3, 3]) > 0.6


def test_gls_line_is_exact_on_a_line_and_matches_ols_for_white_noise():
    t = np.linspace(1, 10, 12)
    beta, pcov, _ = gls_line(t, 3.0 * t + 2.0, np.eye(12))
    assert beta == pytest.approx([3.0, 2.0])
    assert pcov[0, 0] == pytest.approx(1 / np.sum((t - t.mean()) ** 2))  # OLS variance for unit noise


def test_random_walk_D_recovered_within_error():
    D = 0.3  # Å²/ps = 3e-9 m²/s
    reps = []
    for seed in range(4):
        pos, cell = random_walk(D, 64, 400, 0.02, seed=seed)
        reps.append(make_traj(pos % 20.0, cell, 0.02))
    expected = D * A2_PER_PS_TO_M2_PER_S
    for method in ("gls", "ols"):
        res = diffusion_coefficient(reps, species="Ar", min_fit_start_ps=0.0, remove_com_drift=False, method=method)
        assert res.diffusive and res.estimator == method
        assert res.D_stderr_m2_per_s > 0
        assert abs(res.D_m2_per_s - expected) < 3 * res.D_stderr_m2_per_s
        assert abs(res.D_m2_per_s - expected) / expected < 0.1


def test_single_replica_ols_uses_per_atom_error_and_gls_its_covariance():
    pos, cell = random_walk(0.3, 64, 400, 0.02, seed=9)
    ols = diffusion_coefficient([make_traj(pos, cell, 0.02)], species="Ar", method="ols")
    assert "per-atom" in ols.method and ols.stderr_source == "per-atom"
    assert abs(ols.D_m2_per_s - 0.3e-8) < 4 * ols.D_stderr_m2_per_s
    gls = diffusion_coefficient([make_traj(pos, cell, 0.02)], species="Ar")
    assert gls.estimator == "gls" and gls.stderr_source in ("gls", "blocks") and gls.D_stderr_replicas_m2_per_s is None
    assert gls.D_stderr_m2_per_s >= gls.D_stderr_gls_m2_per_s
    assert gls.n_replicas == 1 and gls.n_atoms == 64 and gls.n_fit_lags > 10
    assert abs(gls.D_m2_per_s - 0.3e-8) < 3 * gls.D_stderr_m2_per_s


@functools.cache
def _short_walk_ensemble():
    """GLS and OLS on 200 seeded short single-replica walks (T = 120 frames, 32 atoms)."""
    D, dt = 0.3, 0.02
    out = {"gls": [], "ols": [], "gls_model": []}
    for seed in range(200):
        pos = np.random.default_rng(1000 + seed).normal(0, np.sqrt(2 * D * dt), (120, 32, 3)).cumsum(axis=0)
        for method in ("gls", "ols"):
            r = diffusion_coefficient(pos, dt_ps=dt, min_fit_start_ps=0.0, remove_com_drift=False, method=method)
            out[method].append((r.value / A2_PER_PS_TO_M2_PER_S, r.stderr / A2_PER_PS_TO_M2_PER_S))
            if method == "gls":
                out["gls_model"].append(r.D_stderr_gls_m2_per_s / A2_PER_PS_TO_M2_PER_S)
    return D, {k: np.array(v) for k, v in out.items()}


def test_gls_one_sigma_coverage_on_200_short_walks():
    D, res = _short_walk_ensemble()
    est, err = res["gls"].T
    gls_err = res["gls_model"]
    assert 0.58 <= np.mean(np.abs(est - D) <= gls_err) <= 0.78  # the GLS model bar: 68 % ± 10 %
    # the reported bar is never below the block scatter (× its Student factor): for independent
    # walkers, where the model holds, that makes it somewhat conservative
    assert 0.62 <= np.mean(np.abs(est - D) <= err) <= 0.88
    assert np.all(err >= gls_err)
    assert abs(est.mean() / D - 1) < 0.02  # no bias beyond 2 %


def test_gls_is_more_efficient_than_ols():
    """Same walks: GLS's actual scatter and its reported stderr are both well below OLS's."""
    D, res = _short_walk_ensemble()
    assert res["gls"][:, 0].std() < 0.6 * res["ols"][:, 0].std()
    assert np.median(res["gls"][:, 1]) < 0.6 * np.median(res["ols"][:, 1])
    # and each stderr describes its own scatter (within 20 %)
    for m in ("gls", "ols"):
        assert np.median(res[m][:, 1]) / res[m][:, 0].std() == pytest.approx(1.0, abs=0.2)


def test_replicas_pool_and_report_all_errors():
    reps = [random_walk(0.3, 24, 150, 0.02, seed=s)[0] for s in range(10, 20)]
    res = diffusion_coefficient(reps, dt_ps=0.02, min_fit_start_ps=0.0, remove_com_drift=False)
    assert res.n_replicas == 10 and res.n_atoms == 240 and res.n_blocks == 4
    assert len(res.D_replicas_m2_per_s) == 10
    assert res.D_m2_per_s == pytest.approx(np.mean(res.D_replicas_m2_per_s), rel=1e-9)  # equal sizes: pooled = mean
    assert abs(res.D_m2_per_s - 0.3e-8) < 3 * res.D_stderr_m2_per_s
    # the reported bar is the largest of the GLS bar and the two scatters (× Student factors)
    cands = {"gls": res.D_stderr_gls_m2_per_s, "replicas": student_factor(9) * res.D_stderr_replicas_m2_per_s,
             "blocks": student_factor(39) * res.D_stderr_blocks_m2_per_s}
    assert res.stderr_source == max(cands, key=cands.get)
    assert res.D_stderr_m2_per_s == pytest.approx(max(cands.values()), rel=1e-12)
    assert res.stderr_dof == {"gls": None, "replicas": 9, "blocks": 39}[res.stderr_source]
    # independent walkers: the three estimate the same thing — the GLS one from the covariance model,
    # the others from the scatter of 10 replicas / 40 blocks (over 40 seeds the rms ratios are 1.03
    # and 0.97; std/σ of 10 replicas lies in [0.5, 1.7] with ≈ 99 % probability, 1.56 for this seed)
    assert 0.5 < res.D_stderr_replicas_m2_per_s / res.D_stderr_gls_m2_per_s < 1.7
    assert 0.6 < res.D_stderr_blocks_m2_per_s / res.D_stderr_gls_m2_per_s < 1.4
    d = res.to_dict()
    assert {"estimator", "stderr_source", "D_stderr_replicas_m2_per_s", "n_atoms", "fit_window_ps", "window_rule",
            "caging_time_ps", "D_stderr_gls_m2_per_s", "D_stderr_blocks_m2_per_s", "stderr_dof"} <= d.keys()


def _collective_walks(seed, n_rep=1, n_atoms=16, n_frames=200, D_self=0.2, D_common=0.1, dt=0.02):
    """Walkers that share a common random walk (collective motion): x_i = w_i + c. The MSD is
    6(D_self + D_common)t, but the common part is one walk, not n_atoms independent ones."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_rep):
        own = rng.normal(0, np.sqrt(2 * D_self * dt), (n_frames, n_atoms, 3)).cumsum(axis=0)
        common = rng.normal(0, np.sqrt(2 * D_common * dt), (n_frames, 1, 3)).cumsum(axis=0)
        out.append(own + common)
    return out


@pytest.mark.parametrize("n_rep, D_self, D_common", [(1, 0.2, 0.1), (4, 0.1, 0.2)])
def test_correlated_atoms_error_bar_covers_the_scatter(n_rep, D_self, D_common):
    """Atoms that move together break the GLS model (independent atoms): its bar is too small; the
    reported one (GLS floored by replica and time-block scatter) covers the truth ≈ 68 % of the time."""
    D, dt = D_self + D_common, 0.02
    est, err, gls = [], [], []
    for seed in range(120):
        r = diffusion_coefficient(_collective_walks(500 + seed, n_rep, D_self=D_self, D_common=D_common), dt_ps=dt,
                                  min_fit_start_ps=0.0, remove_com_drift=False)
        est.append(r.value / A2_PER_PS_TO_M2_PER_S)
        err.append(r.stderr / A2_PER_PS_TO_M2_PER_S)
        gls.append(r.D_stderr_gls_m2_per_s / A2_PER_PS_TO_M2_PER_S)
    est, err, gls = map(np.array, (est, err, gls))
    assert np.mean(np.abs(est - D) <= gls) < 0.5  # the model bar alone: far too small
    assert 0.58 <= np.mean(np.abs(est - D) <= err) <= 0.80
    assert abs(est.mean() / D - 1) < 0.05


def test_caged_oscillator_is_not_diffusive_and_D_near_zero():
    """Atoms vibrating about lattice sites (a crystal): MSD plateaus, D ≈ 0."""
    rng = np.random.default_rng(3)
    n_t, n = 600, 32
    t = np.arange(n_t)[:, None, None] * 0.005
    omega = rng.uniform(40, 80, size=(1, n, 3))
    phase = rng.uniform(0, 2 * np.pi, size=(1, n, 3))
    sites = rng.uniform(0, 10, size=(1, n, 3))
    pos = sites + 0.1 * np.sin(omega * t + phase)
    reps = [make_traj(pos + rng.normal(0, 0.01, (n_t, n, 3)), np.eye(3) * 10, 0.005) for k in range(2)]
    for method in ("gls", "ols"):
        res = diffusion_coefficient(reps, species="Ar", method=method)
        assert not res.diffusive
        assert abs(res.D_m2_per_s) < 1e-11  # vs ~1e-9 m²/s for a liquid


def test_window_skips_ballistic_start():
    lag = np.linspace(0, 20, 2001)
    msd = 6 * 0.1 * lag + 2.0 * (1 - np.exp(-lag / 0.5))  # slow caging rise, then linear (D = 0.1)
    i0, i1, diffusive = diffusive_window(lag, msd, min_start_ps=0.1)
    transient = 4.0 * np.exp(-lag[i0] / 0.5)  # excess of dMSD/dt over 6D where the window starts
    assert diffusive and i1 == 1000
    # the local exponent γ − 1 = d ln D(t)/d ln t is within 0.03 at the start: D(t0) within 0.6 %
    assert lag[i0] > 3.0 and transient <= 0.01 * 0.6
    assert np.polyfit(lag[i0:i1], msd[i0:i1], 1)[0] / 6 == pytest.approx(0.1, rel=0.005)
    # fitting from the start instead would be biased high by the caging transient
    assert np.polyfit(lag[10:i1], msd[10:i1], 1)[0] / 6 > 0.105
    # the same curve cut at 10 ps: the linear regime is seen over less than a factor 2 in time
    assert not diffusive_window(lag[:1001], msd[:1001], min_start_ps=0.1)[2]


def test_window_start_is_not_pushed_late_by_long_lag_noise():
    lag = np.arange(400) * 0.01
    msd = 6 * 0.1 * lag
    msd[150:160] += 0.05  # a late noise excursion (well inside the window)
    i0, i1, diffusive = diffusive_window(lag, msd, min_start_ps=0.0)
    assert diffusive and i0 <= 3 and i1 == 200


def test_window_starts_after_the_caging_dip_of_the_vacf():
    """A liquid's running D(t) overshoots (VACF > 0), then falls (the negative dip) to its plateau:
    the window starts after the VACF minimum, once D(t) has settled, and the fit is unbiased; a
    start at the overshoot (where the old detector started) reads D high."""
    dt = 0.01
    t = np.arange(4001) * dt
    c = np.exp(-t / 0.15) * np.cos(6.0 * t)  # VACF (one component), minimum at ≈ 0.38 ps
    running = np.concatenate([[0], np.cumsum((c[1:] + c[:-1]) / 2) * dt])  # D(t) per component
    msd = 6 * np.concatenate([[0], np.cumsum((running[1:] + running[:-1]) / 2) * dt])
    D = running[-1]
    t_c = caging_time_from_vacf(t, c)
    assert 0.35 < t_c < 0.45 and c[int(round(t_c / dt))] == pytest.approx(c[:200].min())
    assert 0 < caging_time_from_msd(t, msd) < 1.0
    i0, i1, diffusive = diffusive_window(t, msd, min_start_ps=0.01, caging_time_ps=t_c)
    assert diffusive and t[i0] > t_c
    assert abs(running[i0] / D - 1) < 0.01
    assert np.polyfit(t[i0:i1], msd[i0:i1], 1)[0] / 6 == pytest.approx(D, rel=0.005)
    peak = int(np.argmax(running))  # D(t) peaks at the first zero of the VACF
    assert running[peak] / D > 1.1


def test_exponential_vacf_caging_time_is_where_it_has_decayed():
    t = np.arange(500) * 0.01
    assert caging_time_from_vacf(t, np.exp(-t / 0.1)) == pytest.approx(0.1 * np.log(20), abs=0.011)


def test_velocities_set_the_caging_time_and_window_by_hand():
    pos, _ = random_walk(0.3, 16, 300, 0.02, seed=21)
    vel = np.gradient(pos, 0.02, axis=0)
    res = diffusion_coefficient(pos, dt_ps=0.02, velocities=vel, remove_com_drift=False)
    assert res.caging_time_ps is not None and "VACF" in res.window_rule and res.diffusive
    hand = diffusion_coefficient(pos, dt_ps=0.02, fit_window_ps=(1.0, 2.0), remove_com_drift=False)
    assert hand.fit_window_ps == pytest.approx((1.0, 2.0)) and "by hand" in hand.window_rule
    with pytest.raises(ValueError, match="velocities have shape"):
        diffusion_coefficient(pos, dt_ps=0.02, velocities=vel[:, :8])
    with pytest.raises(ValueError, match="fit_window_ps"):
        diffusion_coefficient(pos, dt_ps=0.02, fit_window_ps=(1.0, 1.01))


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


def test_index_selection_and_dimensions():
    rng = np.random.default_rng(5)
    fast = rng.normal(0, np.sqrt(2 * 1.0 * 0.02), (300, 32, 3)).cumsum(axis=0)
    slow = rng.normal(0, np.sqrt(2 * 0.1 * 0.02), (300, 32, 3)).cumsum(axis=0)
    pos = np.concatenate([fast, slow], axis=1)
    kw = dict(dt_ps=0.02, min_fit_start_ps=0.0, remove_com_drift=False)
    r_fast = diffusion_coefficient(pos, atoms=range(32), **kw)
    r_slow = diffusion_coefficient(pos, atoms=np.arange(32, 64), **kw)
    assert r_fast.n_atoms == 32 and r_fast.value == pytest.approx(1e-8, rel=0.1)
    assert r_slow.value == pytest.approx(1e-9, rel=0.1)
    r_xy = diffusion_coefficient(pos, atoms=range(32), dimensions="xy", **kw)
    assert r_xy.dimensions == "xy" and r_xy.value == pytest.approx(1e-8, rel=0.1)


@pytest.mark.parametrize("bad, match", [
    (dict(n_frames=8), "at least 10"),
    (dict(times=[0, 1, 2, 3, 5, 4, 6, 7, 8, 9, 10, 11]), "not increasing"),
    (dict(times=[0, 1, 2, 3, 4, 5, 6.5, 7, 8, 9, 10, 11]), "not evenly spaced"),
    (dict(method="wls"), "method must be"),
    (dict(dimensions="xxz"), "dimensions"),
    (dict(atoms=[0, 99]), "out of range"),
])
def test_bad_input_is_a_clear_error(bad, match):
    n_frames = bad.get("n_frames", 12)
    pos = np.random.default_rng(0).normal(size=(n_frames, 4, 3)).cumsum(axis=0)
    kw = {k: v for k, v in bad.items() if k in ("method", "dimensions", "atoms")}
    if "times" in bad:
        kw["times_ps"] = np.array(bad["times"], dtype=float) * 0.1
    else:
        kw["dt_ps"] = 0.1
    with pytest.raises(ValueError, match=match):
        diffusion_coefficient(pos, **kw)


def test_yeh_hummer_against_hand_computation():
    # ξ k_B T / (6 π η L) with ξ = 2.837297, T = 300 K, η = 1.0e-3 Pa s, L = 30 Å:
    # 2.837297 * 1.380649e-23 * 300 / (6 * 3.14159265 * 1.0e-3 * 30e-10) = 2.07818e-10 m²/s
    d_inf, err = yeh_hummer_correction(2.0e-9, 1.0e-3, 30.0, 300.0, D_stderr_m2_per_s=1.0e-10,
                                       viscosity_stderr_Pa_s=1.0e-4)
    assert d_inf == pytest.approx(2.0e-9 + 2.07818e-10, rel=1e-5)
    assert err == pytest.approx(np.hypot(1.0e-10, 2.07818e-11), rel=1e-4)  # σ_η/η = 10 % of the correction
    assert yeh_hummer_correction(2.0e-9, 1.0e-3, 60.0, 300.0)[0] == pytest.approx(2.0e-9 + 2.07818e-10 / 2, rel=1e-5)
    assert yeh_hummer_correction(2.0e-9, 1.0e-3, 30.0, 300.0, xi=0.0) == (2.0e-9, 0.0)
    with pytest.raises(ValueError, match="viscosity"):
        yeh_hummer_correction(2.0e-9, 0.0, 30.0, 300.0)
