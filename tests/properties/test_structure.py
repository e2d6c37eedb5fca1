"""g(r), coordination numbers and Steinhardt q_l (deepearth.properties.structure, through freud).

Held against: analytic q_l of perfect lattices (fcc q6 = 0.57452, q4 = 0.19094; bcc with its 14
first- and second-shell neighbours q6 = 0.51069; Steinhardt, Nelson & Ronchetti 1983; Lechner &
Dellago 2008, Table I), an ideal gas (g = 1), fcc/rock-salt coordination (12; Mg–O 6), the numpy
g(r) of deepearth.structures.liquid on the same frames, and q_l / q̄_l computed here from scipy's
spherical harmonics on the same (triclinic, rattled) frames.
"""

import numpy as np
import pytest
from ase.build import bulk
from scipy.special import sph_harm_y

from deepearth.properties.structure import first_shell, radial_distribution_function, steinhardt
from deepearth.structures.liquid import radial_distribution


def _qlm(vectors: np.ndarray, l: int) -> np.ndarray:
    """q_lm(i) = (1/N_b) Σ_j Y_lm(r̂_ij), m = -l..l (Steinhardt et al. 1983, eq. 1)."""
    r = np.linalg.norm(vectors, axis=1)
    theta = np.arccos(np.clip(vectors[:, 2] / r, -1, 1))
    phi = np.arctan2(vectors[:, 1], vectors[:, 0])
    return np.array([sph_harm_y(l, m, theta, phi).mean() for m in range(-l, l + 1)])


def _reference_q(atoms, r_max: float, l: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Per-atom q_l and Lechner–Dellago q̄_l computed independently (ASE neighbour list, scipy Y_lm)."""
    from ase.neighborlist import neighbor_list

    i, j, d = neighbor_list("ijD", atoms, r_max)
    n = len(atoms)
    qlm = np.array([_qlm(d[i == k], l) for k in range(n)])
    norm = np.sqrt(4 * np.pi / (2 * l + 1))
    q = norm * np.linalg.norm(qlm, axis=1)
    qbar_lm = np.array([(qlm[k] + qlm[j[i == k]].sum(axis=0)) / (1 + (i == k).sum()) for k in range(n)])
    return q, norm * np.linalg.norm(qbar_lm, axis=1)


@pytest.mark.parametrize("lattice, a, l, r_max, expected", [
    ("fcc", 3.6, 6, 3.0, 0.57452), ("fcc", 3.6, 4, 3.0, 0.19094), ("bcc", 2.87, 6, 3.2, 0.51069)])
def test_perfect_lattices_give_the_analytic_q(lattice, a, l, r_max, expected):
    atoms = bulk("Fe", lattice, a=a, cubic=True).repeat(4)
    for average in (False, True):  # every atom alike: the average changes nothing
        res = steinhardt(atoms.positions, atoms.cell.array, l=l, average=average, r_max=r_max)
        assert np.allclose(res.values, expected, atol=2e-5)
    if lattice == "fcc":  # the default neighbours (the first minimum of g(r)) find the same shell
        assert np.allclose(steinhardt(atoms.positions, atoms.cell.array, l=l).values, expected, atol=2e-5)


def test_q_on_triclinic_rattled_frames_matches_an_independent_calculation():
    """A primitive (triclinic) fcc cell, rotated and rattled: freud through our box rotation gives the
    q6 and q̄6 computed here from scipy's Y_lm to float32 precision, atom by atom."""
    atoms = bulk("Cu", "fcc", a=3.6).repeat((5, 5, 5))
    atoms.rotate(37, (1, 2, 3), rotate_cell=True)
    atoms.rattle(0.15, seed=4)
    q_ref, qbar_ref = _reference_q(atoms, 3.05)
    q = steinhardt(atoms.positions, atoms.cell.array, r_max=3.05).values[0]
    qbar = steinhardt(atoms.positions, atoms.cell.array, r_max=3.05, average=True).values[0]
    assert np.abs(q - q_ref).max() < 1e-4 and np.abs(qbar - qbar_ref).max() < 1e-4
    assert q.std() > 0.02  # the rattle spread the values: a real per-atom comparison


def test_ideal_gas_g_is_one_with_honest_error_bars():
    """Uniform random points: total and partial g(r) = 1 within their block error bars (χ²/dof ≈ 1)."""
    rng = np.random.default_rng(2)
    n, L, frames = 400, 16.0, 12
    pos = rng.uniform(0, L, (frames, n, 3))
    symbols = ["Mg"] * 150 + ["O"] * 250
    for pair in (None, ("Mg", "O"), ("O", "O")):
        res = radial_distribution_function(pos, np.eye(3) * L, symbols, pair=pair, dr=0.2)
        g, err, r = np.array(res.g), np.array(res.g_stderr), np.array(res.r_A)
        keep = r > 2.0
        assert abs(g[keep].mean() - 1) < 0.01
        chi2 = np.mean(((g[keep] - 1) / err[keep]) ** 2)
        assert 0.5 < chi2 < 1.6, (pair, chi2)
        assert res.first_minimum_A is None or res.coordination is not None


def test_rdf_matches_the_numpy_rdf_of_liquid_py_on_the_same_frames():
    crystal = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(4)  # 256 atoms, 14.44 Å
    rng = np.random.default_rng(3)
    frames = crystal.positions[None] + rng.normal(0, 0.3, (4, len(crystal), 3))
    r_ref, g_ref = radial_distribution(frames, crystal.cell.array, r_max=7.0, dr=0.05)
    res = radial_distribution_function(frames, crystal.cell.array, r_max=7.0, dr=0.05)
    assert np.allclose(res.r_A, r_ref)
    # freud works in float32: a few pairs on bin edges may swap bins
    assert np.abs(np.array(res.g) - g_ref).max() < 0.03
    assert np.sum(np.array(res.g) * r_ref**2) == pytest.approx(np.sum(g_ref * r_ref**2), rel=1e-4)


def test_coordination_numbers_of_fcc_and_rock_salt():
    rng = np.random.default_rng(5)
    cu = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(4)
    frames = cu.positions[None] + rng.normal(0, 0.1, (3, len(cu), 3))
    res = radial_distribution_function(frames, cu.cell.array)
    assert res.coordination == pytest.approx(12.0, abs=0.05)
    assert 2.4 < res.first_peak_A < 2.7 and 2.8 < res.first_minimum_A < 3.4
    mgo = bulk("MgO", "rocksalt", a=4.2, cubic=True).repeat(3)
    frames = mgo.positions[None] + rng.normal(0, 0.1, (3, len(mgo), 3))
    sym = mgo.get_chemical_symbols()
    assert radial_distribution_function(frames, mgo.cell.array, sym, ("Mg", "O")).coordination == \
        pytest.approx(6.0, abs=0.05)
    assert radial_distribution_function(frames, mgo.cell.array, sym, ("O", "Mg")).coordination == \
        pytest.approx(6.0, abs=0.05)
    assert radial_distribution_function(frames, mgo.cell.array, sym, ("O", "O")).coordination == \
        pytest.approx(12.0, abs=0.05)


def test_first_shell_finds_peak_and_minimum():
    r = np.linspace(0, 6, 601)
    g = 1 + 1.5 * np.exp(-((r - 2.5) / 0.2) ** 2) - 0.6 * np.exp(-((r - 3.3) / 0.3) ** 2)
    g[r < 2.0] = 0
    peak, minimum = first_shell(r, g)
    assert peak == pytest.approx(2.5, abs=0.02) and minimum == pytest.approx(3.3, abs=0.1)


@pytest.mark.parametrize("kwargs, message", [
    (dict(r_max=9.0), "half the narrowest cell width"),
    (dict(pair=("Mg", "Fe")), "no atoms of species 'Fe'"),
    (dict(dr=0.0), "dr must be a finite number > 0"),
])
def test_bad_rdf_input_is_one_line(kwargs, message):
    mgo = bulk("MgO", "rocksalt", a=4.2, cubic=True).repeat(4)
    with pytest.raises(ValueError, match=message) as err:
        radial_distribution_function(mgo.positions, mgo.cell.array, mgo.get_chemical_symbols(), **kwargs)
    assert "\n" not in str(err.value)


def test_nan_positions_and_missing_cell_are_named():
    pos = np.zeros((2, 4, 3))
    pos[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match="frame 1, atom 2, x"):
        steinhardt(pos, np.eye(3) * 5)
    with pytest.raises(ValueError, match="the cell is needed"):
        radial_distribution_function(np.zeros((4, 3)))
