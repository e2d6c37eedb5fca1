"""Solid/liquid classification, solid fraction vs time and the T_m bracket (deepearth.properties.melting).

Independent numbers: the equal-error threshold of two Gaussians (the midpoint, misclassified
Φ(−d/2σ)), the statistical inefficiency of an AR(1) series ((1 + φ)/(1 − φ)), frames whose solid part
is known by construction (an fcc slab that grows into a random gas at a set speed), and brackets
whose answer is known (midpoint, width/√12, committee std, size difference).
"""

import numpy as np
import pytest
from ase.build import bulk
from scipy.stats import norm

from deepearth.properties.melting import (equal_error_threshold, fraction_series, melting_bracket, otsu_threshold,
                                          solid_fraction_series, statistical_inefficiency)


def test_equal_error_threshold_of_two_gaussians():
    rng = np.random.default_rng(0)
    solid, liquid = rng.normal(0.45, 0.05, 20000), rng.normal(0.25, 0.05, 20000)
    t, miss = equal_error_threshold(solid, liquid)
    assert t == pytest.approx(0.35, abs=0.003)
    assert miss == pytest.approx(norm.cdf(-0.1 / 0.05), abs=0.003)  # 2.3 %
    assert otsu_threshold(np.r_[solid, liquid]) == pytest.approx(0.35, abs=0.01)


def test_statistical_inefficiency_of_an_ar1_series():
    rng = np.random.default_rng(1)
    phi, n = 0.8, 20000
    x = np.zeros(n)
    for k in range(1, n):
        x[k] = phi * x[k - 1] + rng.normal()
    assert statistical_inefficiency(x) == pytest.approx((1 + phi) / (1 - phi), rel=0.15)
    assert statistical_inefficiency(rng.normal(size=n)) == pytest.approx(1.0, abs=0.1)


def _growing_slab(n_frames: int = 10, speed: float = 1.0, seed: int = 0):
    """fcc Cu (4×4×12 cells, z = 43 Å): atoms below z_i(t) = 14 + speed·t Å on their sites (rattled 0.1 Å),
    the rest scattered at random above z_i (a gas); t = 0..n_frames-1 ps. Returns frames, cell, truth."""
    rng = np.random.default_rng(seed)
    crystal = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((4, 4, 12))
    cell = crystal.cell.array
    L = cell[2, 2]
    frames, truth = [], []
    for k in range(n_frames):
        zi = 14.0 + speed * k
        pos = crystal.positions + rng.normal(0, 0.1, crystal.positions.shape)
        gas = pos[:, 2] >= zi
        pos[gas] = rng.uniform((0, 0, zi + 1.0), (cell[0, 0], cell[1, 1], L - 1.0), (gas.sum(), 3))
        frames.append(pos)
        truth.append(1 - gas.mean())
    return np.array(frames), cell, np.array(truth), crystal


def test_solid_fraction_follows_a_slab_that_grows():
    frames, cell, truth, crystal = _growing_slab(speed=1.5)
    labels = crystal.positions[:, 2] < 14.0
    s = solid_fraction_series(frames, cell, 1000.0, dt_ps=1.0, labels=labels, r_max=3.1)
    # the atoms at the interface and gas atoms that land near the lattice blur it by a few per cent
    assert np.abs(np.array(s.solid_fraction) - truth).max() < 0.04
    assert s.misclassified_fraction < 0.02
    assert s.verdict == "crystallises" and s.final_state == "two-phase" and "grows" in s.direction
    # one interface moves at 1.5 Å/ps: the mean over the cell's two interfaces is 0.75 Å/ps
    assert s.interface_velocity_A_per_ps == pytest.approx(0.75, rel=0.15)
    # without labels (Otsu on the first frame) the same classification
    s2 = solid_fraction_series(frames, cell, 1000.0, dt_ps=1.0, r_max=3.1)
    assert np.abs(np.array(s2.solid_fraction) - truth).max() < 0.05
    assert s.to_dict()["verdict"] == "crystallises"


def _series(T, f0, f1, n=20, noise=0.01, seed=0, n_atoms=1000, member="", replica=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) * 0.5
    f = np.clip(np.linspace(f0, f1, n) + rng.normal(0, noise, n), 0, 1)
    return fraction_series(T, t, f, n_atoms, axis_length_A=80.0, member=member, replica=replica, P_GPa=0.0)


def _scan(temps, tm, n_atoms=1000, member="", seed=0):
    """Runs that crystallise below tm and melt above it."""
    return [_series(T, 0.5, 0.8 if T < tm else 0.2, n_atoms=n_atoms, member=member, seed=seed + k)
            for k, T in enumerate(temps)]


def test_bracket_midpoint_and_width():
    res = melting_bracket(_scan([1200, 1300, 1400, 1500], 1350))
    assert res.bracketed and res.consistent
    assert (res.T_crystallises_K, res.T_melts_K, res.T_m_K) == (1300, 1400, 1350)
    assert res.T_m_stderr_K == pytest.approx(100 / np.sqrt(12))
    assert res.error_budget["committee_K"] is None and "one model only" in res.error_budget["committee_note"]
    assert res.error_budget["size_K"] is None
    assert "1350 ± 29 K" in res.message


def test_committee_and_size_enter_the_budget():
    series = (_scan([1200, 1300, 1400, 1500], 1350, member="m0") + _scan([1200, 1300, 1400, 1500], 1450, member="m1")
              + _scan([1200, 1300, 1400, 1500], 1250, n_atoms=500, member="m0"))
    res = melting_bracket(series)
    assert res.T_m_K == pytest.approx(1400)  # the largest cell, mean over the two members
    b = res.error_budget
    assert b["committee_K"] == pytest.approx(np.std([1350, 1450], ddof=1))
    assert b["size_K"] == pytest.approx(150)  # 1400 (1000 atoms, both members) vs 1250 (500 atoms)
    assert res.T_m_stderr_K == pytest.approx(np.sqrt((100 / np.sqrt(12)) ** 2 + b["committee_K"] ** 2 + 150**2))


def test_replicas_are_combined():
    # at 1400 K two replicas melt, by 0.3 and 0.25: together they melt, the error from their scatter
    series = _scan([1300, 1400], 1350) + [_series(1400, 0.5, 0.25, seed=9, replica=1)]
    v = [d for d in melting_bracket(series).verdicts if d["T_K"] == 1400][0]
    assert v["n_replicas"] == 2 and v["verdict"] == "melts" and v["replica_verdicts"] == ["melts", "melts"]
    assert v["change_stderr"] >= 0.02 / np.sqrt(2)  # ≈ the two changes' std / √2
    # both crystallise, one fully (+0.5), one barely (+0.08): their scatter is large, the direction agreed
    series = _scan([1300, 1400], 1350) + [_series(1300, 0.5, 0.58, noise=0.005, seed=4, replica=1)]
    v = [d for d in melting_bracket(series).verdicts if d["T_K"] == 1300][0]
    assert v["replica_verdicts"] == ["crystallises", "crystallises"] and v["verdict"] == "crystallises"
    assert abs(v["change"]) < 2 * v["change_stderr"]  # the mean test alone would have said "coexists"
    # one melts, one does not move: their scatter (0.15) hides the mean change (−0.15): no verdict
    series = _scan([1300, 1400], 1350) + [_series(1400, 0.5, 0.5, seed=9, replica=1)]
    res = melting_bracket(series)
    v = [d for d in res.verdicts if d["T_K"] == 1400][0]
    assert v["verdict"] == "coexists" and sorted(v["replica_verdicts"]) == ["coexists", "melts"]
    assert not res.bracketed
    assert "no run melted (crystallised at 1300 K, no motion resolved at 1400 K): T_m is above 1300 K; try T = 1500 K" \
        in res.message


def test_every_run_melts_or_freezes_says_so_and_suggests_the_next_T():
    melted = [_series(T, 0.5, 0.0, seed=k) for k, T in enumerate([1300, 1400, 1500])]
    res = melting_bracket(melted)
    assert not res.bracketed and res.T_m_K is None and res.suggested_T_K == 1200
    assert "every run melted completely" in res.message and "try T = 1200 K" in res.message
    assert "\n" not in res.message
    frozen = [_series(T, 0.5, 1.0, seed=k) for k, T in enumerate([900, 1000])]
    res = melting_bracket(frozen)
    assert "every run froze completely" in res.message and "try T = 1100 K" in res.message
    still = [_series(T, 0.5, 0.5, seed=k) for k, T in enumerate([900, 1000])]
    assert "no run moved its interfaces" in melting_bracket(still).message


def test_a_run_that_melts_within_the_first_block_is_measured_from_the_first_frame():
    rng = np.random.default_rng(2)
    t = np.arange(40) * 0.5
    f = np.clip(np.r_[0.5, 0.25, 0.08, np.zeros(37)] + np.abs(rng.normal(0, 0.01, 40)), 0, 1)
    s = fraction_series(1400.0, t, f, 500, axis_length_A=80.0)
    assert s.verdict == "melts" and s.final_state == "liquid" and s.verdict_basis.startswith("first frame")
    assert s.f_start == pytest.approx(f[0]) and s.change == pytest.approx(np.mean(f[32:]) - f[0])


def test_too_few_frames_for_an_error_bar_is_one_line():
    with pytest.raises(ValueError, match="too few frames for an error bar at 1300 K: 6 frames, at least 10"):
        fraction_series(1300, np.arange(6.0), np.full(6, 0.5), 100, axis_length_A=50.0)
    frames, cell, _, _ = _growing_slab(n_frames=5)
    with pytest.raises(ValueError, match="too few frames for an error bar"):
        solid_fraction_series(frames, cell, 1000.0, dt_ps=1.0)


def test_noise_alone_is_no_verdict():
    s = _series(1300, 0.5, 0.5, noise=0.02, n=40, seed=3)
    assert s.verdict == "coexists" and abs(s.change) < 2.5 * s.change_stderr + 0.02
