"""Model deviation, trust classification and diverse selection."""

import numpy as np
import pytest

from deepearth.explore.deviation import classify, fractions, model_deviation
from deepearth.explore.select import farthest_point_sampling


def test_model_deviation_matches_definition():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(4, 10, 3))
    dev = model_deviation(f, np.array([1.0, 2.0, 3.0, 4.0]), f0=1.0)
    sigma = np.sqrt(np.mean(np.sum((f - f.mean(0)) ** 2, axis=2), axis=0))
    assert dev.max_force_std == pytest.approx(sigma.max())
    assert dev.max_relative_force_std == pytest.approx(np.max(sigma / (np.linalg.norm(f.mean(0), axis=1) + 1)))
    assert dev.energy_std_per_atom == pytest.approx(np.std([1, 2, 3, 4]) / 10)


def test_identical_members_have_zero_deviation():
    f = np.repeat(np.random.default_rng(1).normal(size=(1, 5, 3)), 4, axis=0)
    assert model_deviation(f).max_force_std == 0.0


def test_relative_form_tolerates_large_forces():
    """Same 5 % disagreement: absolute deviation grows with the force, the relative one does not."""
    base = np.ones((1, 3, 3))
    noise = np.array([1.05, 0.95, 1.05, 0.95])[:, None, None]
    small, large = model_deviation(base * noise), model_deviation(20 * base * noise)
    assert large.max_force_std == pytest.approx(20 * small.max_force_std)
    assert large.max_relative_force_std < 2 * small.max_relative_force_std  # vs 20x for the absolute form


def test_classify_window_and_fractions():
    assert [classify(x, 0.1, 0.4) for x in (0.05, 0.1, 0.3, 0.4, 0.41, float("nan"))] == [
        "accurate", "candidate", "candidate", "candidate", "failed", "failed"]
    assert fractions(["accurate", "accurate", "failed", "candidate"]) == {
        "accurate": 0.5, "candidate": 0.25, "failed": 0.25}


def test_farthest_point_sampling_covers_clusters():
    rng = np.random.default_rng(2)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]])
    x = np.concatenate([c + rng.normal(scale=0.1, size=(50, 2)) for c in centres])
    picked = farthest_point_sampling(x, 4, first=0)
    assert sorted({i // 50 for i in picked}) == [0, 1, 2, 3]  # one from each cluster
    assert len(set(farthest_point_sampling(np.zeros((5, 2)), 3))) == 3  # no repeats among duplicates
    assert farthest_point_sampling(x, 500) == list(range(200))
