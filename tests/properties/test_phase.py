"""Phase identity (deepearth.properties.phase) and solid/liquid partitioning (.partitioning).

Phase: synthetic rock-salt trajectories whose answer is known by construction — both sublattices
vibrating on their sites (crystal), Mg random-walking with D = 5e-9 m²/s through a vibrating O
sublattice (superionic), both random-walking from random positions (liquid).
Partitioning: labels drawn with a known D (binomial solute counts; the 1σ jackknife bar must cover
the truth in about 68 % of draws), and frames whose solid slab and gas hold known solute fractions.
"""

import numpy as np
import pytest
from ase.build import bulk

from deepearth.properties.partitioning import partition_coefficient, partitioning
from deepearth.properties.phase import identify_phase
from deepearth.properties.trajectory import Trajectory

DT = 0.05  # ps between frames
D_WALK = 0.5  # Å²/ps = 5e-9 m²/s


def _trajectory(mobile: set[str], n_frames: int = 80, seed: int = 0) -> Trajectory:
    rng = np.random.default_rng(seed)
    mgo = bulk("MgO", "rocksalt", a=4.2, cubic=True).repeat(3)  # 216 atoms, 12.6 Å
    sym = np.array(mgo.get_chemical_symbols())
    L = mgo.cell[0, 0]
    pos = np.repeat(mgo.positions[None], n_frames, axis=0) + rng.normal(0, 0.1, (n_frames, len(mgo), 3))
    for sp in mobile:
        m = sym == sp
        start = rng.uniform(0, L, (m.sum(), 3))
        steps = rng.normal(0, np.sqrt(2 * D_WALK * DT), (n_frames, m.sum(), 3))
        steps[0] = 0
        pos[:, m] = start + np.cumsum(steps, axis=0)
    return Trajectory(pos, np.repeat(mgo.cell.array[None], n_frames, axis=0), list(sym), mgo.get_masses(), DT,
                      source=f"synthetic, mobile {sorted(mobile)}")


@pytest.mark.parametrize("mobile, phase", [(set(), "crystal"), ({"Mg"}, "superionic"), ({"Mg", "O"}, "liquid")])
def test_phase_from_diffusion_and_sublattice_order(mobile, phase):
    res = identify_phase(_trajectory(mobile))
    assert res.phase == phase, res.evidence
    for s in res.species:
        assert s.mobile == (s.species in mobile)
        assert s.ordered == (s.species not in mobile)
        if s.mobile:  # the estimator recovers the walk's D
            assert s.D_m2_per_s == pytest.approx(5e-9, rel=0.2)
        else:
            assert s.q6_mean > 0.4
    if phase == "superionic":
        assert "Mg diffuses through the crystalline O sublattice" in res.evidence[-1]
    assert res.to_dict()["phase"] == phase


def _labels(p: float, n_frames: int, rng) -> tuple[np.ndarray, list[str]]:
    """500 cations (480 Mg + 20 Fe) and 500 O; half the Mg and O solid; each frame every Fe is solid with
    probability p. Expected c_solid = 20p/(240 + 20p), c_liquid = 20(1−p)/(240 + 20(1−p))."""
    sym = ["Mg"] * 480 + ["Fe"] * 20 + ["O"] * 500
    solid = np.zeros((n_frames, 1000), bool)
    solid[:, :240] = True
    solid[:, 500:750] = True
    solid[:, 480:500] = rng.random((n_frames, 20)) < p
    return solid, sym


def test_partition_coefficient_recovers_d_with_honest_errors():
    rng = np.random.default_rng(7)
    p = 0.2
    truth = (20 * p / (240 + 20 * p)) / (20 * (1 - p) / (240 + 20 * (1 - p)))  # 0.262
    hits, ds = 0, []
    for _ in range(300):
        solid, sym = _labels(p, 60, rng)
        res = partition_coefficient(solid, sym, "Fe", n_blocks=10)
        ds.append(res.D)
        hits += abs(res.D - truth) < res.D_stderr
    assert np.mean(ds) == pytest.approx(truth, rel=0.03)
    # 1σ coverage: 68 % for a known σ, 66 % for one estimated from 10 blocks (Student t, 9 dof)
    assert 0.56 < hits / 300 < 0.76
    assert res.basis == ["Fe", "Mg"] and "Fe/(Fe + Mg)" in res.concentration


def test_partitioning_on_frames_with_a_known_composition():
    """A fixed fcc slab (z < 21 Å) with every 10th atom Fe, and a gas above it with every 4th atom Fe,
    re-drawn each frame: D = 0.1 / 0.25 = 0.4 up to the atoms at the interface."""
    rng = np.random.default_rng(3)
    crystal = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((4, 4, 12))
    cell = crystal.cell.array
    gas = crystal.positions[:, 2] >= 21.0
    sym = np.array(["Cu"] * len(crystal))
    sym[np.flatnonzero(~gas)[::10]] = "Fe"
    sym[np.flatnonzero(gas)[::4]] = "Fe"
    frames = []
    for _ in range(10):
        pos = crystal.positions + rng.normal(0, 0.1, crystal.positions.shape)
        pos[gas] = rng.uniform((0, 0, 22.0), (cell[0, 0], cell[1, 1], cell[2, 2] - 1.0), (gas.sum(), 3))
        frames.append(pos)
    res = partitioning(np.array(frames), cell, list(sym), solute="Fe", labels=~gas, r_max=3.1)
    assert res.c_solid == pytest.approx(0.1, abs=0.01) and res.c_liquid == pytest.approx(0.25, abs=0.02)
    assert res.D == pytest.approx(0.4, abs=0.05)
    assert "equal-error point" in res.classification


def test_partitioning_bad_input_is_one_line():
    rng = np.random.default_rng(0)
    solid, sym = _labels(0.2, 20, rng)
    with pytest.raises(ValueError, match="solute 'W': no such atoms"):
        partition_coefficient(solid, sym, "W")
    all_solid = solid.copy()
    all_solid[:, 480:500] = True
    with pytest.raises(ValueError, match="no Fe atom is liquid in any frame"):
        partition_coefficient(all_solid, sym, "Fe")
    with pytest.raises(ValueError, match="too few frames for an error bar"):
        partition_coefficient(solid[:3], sym, "Fe", n_blocks=5)
