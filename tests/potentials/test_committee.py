"""Committee calibration: the factor that scales a committee's force spread to its true error."""

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator

from deepearth.explore.deviation import model_deviation
from deepearth.potentials.committee import CommitteePrediction, committee_calibration


class SyntheticCommittee:
    """Members = reference + a shared error (the model error the spread misses) + member noise."""

    def __init__(self, bias_std: float, member_std: float, n_members: int = 8, seed: int = 0):
        self.bias_std, self.member_std, self.m = bias_std, member_std, n_members
        self.rng = np.random.default_rng(seed)

    def predict(self, atoms):
        ref = atoms.get_forces()
        bias = self.rng.normal(0, self.bias_std, ref.shape)
        noise = self.rng.normal(0, self.member_std, (self.m, *ref.shape))
        noise -= noise.mean(axis=0)  # the committee mean carries only the shared error
        forces = ref + bias + noise
        return CommitteePrediction(np.zeros(self.m), forces, np.zeros((self.m, 3, 3)))


def labelled_frames(n: int):
    frames = []
    for k in range(n):
        atoms = bulk("MgO", "rocksalt", a=4.0, cubic=True).repeat(2)
        atoms.calc = SinglePointCalculator(atoms, energy=0.0,
                                           forces=np.random.default_rng(k).normal(0, 2.0, (len(atoms), 3)))
        frames.append(atoms)
    return frames


def test_factor_is_error_over_spread():
    """Shared error 0.3 eV/Å per component, member spread 0.1 (population std over 8 members after
    centring: sqrt(7/8)·0.1): s → 0.3 / (0.1·sqrt(7/8)) ≈ 3.21."""
    cal = committee_calibration(SyntheticCommittee(0.3, 0.1), labelled_frames(20))
    assert cal.factor == pytest.approx(0.3 / (0.1 * np.sqrt(7 / 8)), rel=0.03)
    assert cal.n_frames == 20 and cal.n_atoms == 20 * 64
    assert cal.rmse_force_eV_per_A == pytest.approx(0.3 * np.sqrt(3), rel=0.02)  # |vector| over 3 components


def test_calibrated_spread_matches_the_error_and_scale_reaches_model_deviation():
    frames = labelled_frames(10)
    com = SyntheticCommittee(0.2, 0.2, seed=1)
    cal = committee_calibration(com, frames)
    assert cal.factor == pytest.approx(1 / np.sqrt(7 / 8), rel=0.05)  # spread ≈ error: s ≈ 1
    pred = com.predict(frames[0])
    raw = model_deviation(pred.forces_eV_per_A, pred.energies_eV)
    scaled = model_deviation(pred.forces_eV_per_A, pred.energies_eV, scale=2.5)
    assert scaled.max_force_std == pytest.approx(2.5 * raw.max_force_std)
    assert scaled.max_relative_force_std == pytest.approx(2.5 * raw.max_relative_force_std)


def test_nothing_to_calibrate_on_is_an_error():
    with pytest.raises(ValueError, match="no labelled frames"):
        committee_calibration(SyntheticCommittee(0.1, 0.1), [])
    with pytest.raises(ValueError, match="zero everywhere"):
        committee_calibration(SyntheticCommittee(0.1, 0.0), labelled_frames(2))
