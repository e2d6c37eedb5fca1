"""Two Arrhenius branches either side of a break (W paper Fig. 2a) and the simulated break test."""

import json

import numpy as np
import pytest

from deepearth.properties.arrhenius import PiecewiseArrheniusResult, arrhenius_fit

R = 8.314462618  # J/mol/K


def D_two_regimes(T, T_break=3000.0, dH_low=322.0, dH_high=218.0, D_break=1e-12):
    """Continuous two-regime Arrhenius law (the W paper's ΔH at 25 GPa), kinked at T_break."""
    T = np.asarray(T, dtype=float)
    dH = np.where(T <= T_break, dH_low, dH_high)
    return D_break * np.exp(-dH * 1e3 / R * (1 / T - 1 / T_break))


# --- two regimes (W paper Fig. 2a) -----------------------------------------------------------------

def test_auto_break_finds_the_kink_and_prefers_two_branches():
    T = np.arange(2000.0, 4001.0, 150.0)  # 3000 K lies between 2900 and 3050
    # 2 % noise: the point 50 K past the kink is off the other branch by 0.07 in ln D, so the interval is resolved
    intervals = []
    for seed in range(10):
        D = D_two_regimes(T) * np.exp(np.random.default_rng(seed).normal(0, 0.02, T.size))
        res = arrhenius_fit(T, D, 0.02 * D, break_T_K="auto")
        assert res.preferred == "two_branch" and res.break_p_value < 0.01
        intervals.append(res.break_interval_K)
    assert sum(iv == (2900.0, 3050.0) for iv in intervals) >= 9, intervals
    D = D_two_regimes(T) * np.exp(np.random.default_rng(0).normal(0, 0.02, T.size))
    res = arrhenius_fit(T, D, 0.02 * D, break_T_K="auto")
    assert isinstance(res, PiecewiseArrheniusResult)
    assert res.break_interval_K == (2900.0, 3050.0) and res.break_T_K == pytest.approx(2975.0)
    low, high = res.branches
    assert abs(low.value - 322.0) < 3 * low.stderr and abs(high.value - 218.0) < 3 * high.stderr
    assert res.aic_two < res.aic_one
    # each temperature is predicted by the branch whose range applies
    assert res.predict(2500.0).D_m2_per_s == pytest.approx(low.predict(2500.0).D_m2_per_s, rel=1e-12)
    assert res.predict(3900.0).D_m2_per_s == pytest.approx(high.predict(3900.0).D_m2_per_s, rel=1e-12)
    both = res.predict([2500.0, 3900.0], n_samples=2000, seed=3)
    assert both.samples_m2_per_s.shape == (2000, 2)
    json.dumps(res.to_dict(), allow_nan=False)


def test_single_regime_prefers_one_branch_and_false_breaks_are_rare():
    T = np.arange(2000.0, 4001.0, 150.0)
    truth = 1e-6 * np.exp(-300e3 / (R * T))  # one regime, ΔH = 300 kJ/mol
    res = arrhenius_fit(T, truth * np.exp(np.random.default_rng(1).normal(0, 0.1, T.size)),
                        0.1 * truth, break_T_K="auto")
    assert res.preferred == "one_branch" and res.break_p_value > 0.05
    assert res.predict(3000.0).D_m2_per_s == pytest.approx(res.single.predict(3000.0).D_m2_per_s, rel=1e-12)
    # the break search is accounted for: false two-branch calls stay near alpha (a nominal test gives ~20 %)
    n_rep = 150
    false = sum(arrhenius_fit(T, D, 0.1 * D, break_T_K="auto", scale_covariance="never").two_branch_preferred
                for D in (truth * np.exp(np.random.default_rng(1000 + i).normal(0, 0.1, T.size))
                          for i in range(n_rep)))
    assert false / n_rep < 0.05 + 0.045


def test_fixed_break_fits_the_two_sides_independently():
    T = np.linspace(2000, 3500, 7)  # the W paper's 25 GPa grid: 2000, 2250, ..., 3500 K
    D = D_two_regimes(T, T_break=2750.0)
    res = arrhenius_fit(T, D, 0.1 * D, break_T_K=2750.0)
    assert res.break_mode == "fixed" and [b.n_points for b in res.branches] == [4, 3]  # T <= break goes low
    assert res.branches[0].value == pytest.approx(322.0, rel=1e-9)
    assert res.branches[1].value == pytest.approx(218.0, rel=1e-9)
    assert res.value == pytest.approx([322.0, 218.0], rel=1e-9) and res.unit == "kJ/mol"
    low_alone = arrhenius_fit(T[:4], D[:4], 0.1 * D[:4])
    assert np.allclose(res.branches[0].covariance, low_alone.covariance, rtol=1e-9)


@pytest.mark.parametrize("args, kwargs, message", [
    (([2000.0, 2500.0, 3000.0, 3500.0], [1e-13, 1e-12, 1e-11, 3e-11]), {"break_T_K": 2200.0},
     "leaves 1 point"),
    (([2000.0, 2500.0, 3000.0], [1e-13, 1e-12, 1e-11]), {"break_T_K": "auto"}, "at least 4 points"),
    (([2000.0, 2500.0, 3000.0], [1e-13, 1e-12, 1e-11]), {"break_T_K": "yes"}, "'auto'"),
])
def test_bad_break_is_one_clear_error(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        arrhenius_fit(*args, **kwargs)
