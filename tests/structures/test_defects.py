"""Point defects on MgO rock salt 4×4×4 (512 atoms) with a fake grain-boundary slab."""

from collections import Counter

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.constraints import FixAtoms

from deepearth.structures import add_impurity, add_vacancies, formal_charge, substitute
from deepearth.structures.defects import formal_charges, region_mask

A = 4.212
NN = A / 2  # Mg–O nearest-neighbour distance
MG_MG = A / np.sqrt(2)


@pytest.fixture
def mgo() -> Atoms:
    atoms = bulk("MgO", "rocksalt", a=A, cubic=True).repeat(4)
    L = atoms.cell[2, 2]
    dz = atoms.positions[:, 2] - L / 2
    atoms.arrays["region"] = (np.abs(dz) < 5.0).astype(int)  # fake GB slab: 1, grain interior: 0
    atoms.arrays["gb_distance_A"] = np.abs(dz)
    atoms.set_tags(np.arange(len(atoms)))  # tags = input index: maps survivors back to the input
    return atoms


def mic_distances(atoms: Atoms, i: int, js) -> np.ndarray:
    """Minimum-image distances from atom i to atoms js, by hand (orthorhombic cell)."""
    L = np.diag(atoms.cell.array)
    d = atoms.positions[np.asarray(js)] - atoms.positions[i]
    d -= L * np.round(d / L)
    return np.linalg.norm(d, axis=1)


def check_nearest_available(atoms: Atoms, out: Atoms, element: str, host_removed: str, per_site: int):
    """Replay the compensation: each impurity's removed atoms are the nearest not yet removed, not impurities."""
    info = out.info["charge_balance"]
    sites = {g[0] for g in info["groups"]}
    symbols = np.array(atoms.get_chemical_symbols())
    available = set(np.flatnonzero(symbols == host_removed).tolist()) - sites
    for site, *removed in info["groups"]:
        assert len(removed) == per_site
        assert not set(removed) & sites, "an impurity was removed"
        assert set(removed) <= available, "removed an atom that was not available"
        pool = sorted(available)
        d_pool = np.sort(mic_distances(atoms, site, pool))
        d_removed = np.sort(mic_distances(atoms, site, removed))
        np.testing.assert_allclose(d_removed, d_pool[:per_site], atol=1e-6)
        available -= set(removed)


def test_formal_charges_defaults_and_overrides(mgo):
    assert formal_charge(mgo) == 0.0
    q = formal_charges(mgo)
    assert set(q[mgo.symbols == "Mg"]) == {2.0} and set(q[mgo.symbols == "O"]) == {-2.0}
    assert formal_charge(mgo, charges={"Mg": 1.0}) == pytest.approx(256 * (1 - 2))
    iron = bulk("Fe", "bcc", a=2.87, cubic=True).repeat(3)  # no anion former: metallic, all 0
    assert formal_charge(iron) == 0.0
    assert formal_charge(iron, charges={"Fe": 1}) == len(iron)
    mgo.arrays["formal_charge"] = np.full(len(mgo), 0.5)  # the per-atom array wins
    assert formal_charge(mgo, charges={"Mg": 7}) == pytest.approx(0.5 * len(mgo))


def test_w6_in_gb_neutral_counts_and_nearest(mgo):
    out = add_impurity(mgo, "W", valence=6, host="Mg", n=20, region="gb", seed=0)
    counts = Counter(out.get_chemical_symbols())
    assert counts == {"W": 20, "Mg": 256 - 20 - 40, "O": 256}
    assert formal_charge(out) == 0.0
    assert out.arrays["formal_charge"][out.symbols == "W"].tolist() == [6.0] * 20
    info = out.info["charge_balance"]
    assert info["removed"] == {"Mg": 40} and info["added"] == {"W": 20} and info["replaced"] == {"Mg": 20}
    assert info["before"] == 0.0 and info["after"] == 0.0
    # every impurity inside the region, in the output and on the input's sites
    assert np.all(out.arrays["region"][out.symbols == "W"] == 1)
    assert np.all(mgo.arrays["region"][info["site_indices"]] == 1)
    check_nearest_available(mgo, out, "W", "Mg", per_site=2)
    assert mgo.arrays["region"] is not out.arrays["region"]
    assert len(mgo) == 512  # input untouched


def test_nearest_available_skips_impurities_and_removed(mgo):
    # W on one Mg and all its 12 nearest Mg: the nearest Mg of each W are W or already removed
    mg = np.flatnonzero(mgo.symbols == "Mg")
    centre = int(mg[len(mg) // 2])
    cluster = mg[mic_distances(mgo, centre, mg) < MG_MG + 0.01]
    assert len(cluster) == 13
    mask = np.zeros(len(mgo), bool)
    mask[cluster] = True
    out = add_impurity(mgo, "W", 6, "Mg", n=13, region=mask, seed=3)
    info = out.info["charge_balance"]
    assert set(info["site_indices"]) <= set(cluster.tolist())
    check_nearest_available(mgo, out, "W", "Mg", per_site=2)
    assert formal_charge(out) == 0.0
    # the central W's first shell is all W: its two Mg come from the second shell (distance a)
    (central,) = [g for g in info["groups"] if g[0] == centre]
    np.testing.assert_allclose(mic_distances(mgo, centre, central[1:]), A)


def test_pt0_removes_nearest_o(mgo):
    out = add_impurity(mgo, "Pt", valence=0, host="Mg", n=4, seed=0)
    assert Counter(out.get_chemical_symbols()) == {"Pt": 4, "Mg": 252, "O": 252}
    assert formal_charge(out) == 0.0
    assert out.info["charge_balance"]["removed"] == {"O": 4}
    check_nearest_available(mgo, out, "Pt", "O", per_site=1)
    for site, o in out.info["charge_balance"]["groups"]:
        assert mic_distances(mgo, site, [o])[0] == pytest.approx(NN)


def test_isovalent_impurity_removes_nothing(mgo):
    out = add_impurity(mgo, "Ca", 2, "Mg", n=5, seed=1)
    assert Counter(out.get_chemical_symbols()) == {"Ca": 5, "Mg": 251, "O": 256}
    assert out.info["charge_balance"]["removed"] == {}


def test_fe_substitution_count_and_region(mgo):
    out = substitute(mgo, "Mg", "Fe", fraction=0.1, seed=0)
    assert Counter(out.get_chemical_symbols()) == {"Fe": 26, "Mg": 230, "O": 256}  # round(25.6) = 26
    assert formal_charge(out) == 0.0 and len(out) == 512
    # halves round up: 0.125 × 4 Mg = 0.5 → 1
    small = bulk("MgO", "rocksalt", a=A, cubic=True)
    assert Counter(substitute(small, "Mg", "Fe", fraction=0.125).get_chemical_symbols())["Fe"] == 1
    assert Counter(substitute(small, "Mg", "Fe", fraction=0.1).get_chemical_symbols())["Fe"] == 0
    gb = substitute(mgo, "Mg", "Fe", fraction=0.5, region="gb", seed=0)
    n_gb = int(np.sum((mgo.symbols == "Mg") & (mgo.arrays["region"] == 1)))
    assert np.all(gb.arrays["region"][gb.symbols == "Fe"] == 1)
    assert np.sum(gb.symbols == "Fe") == n_gb // 2
    grain = substitute(mgo, "Mg", "Fe", fraction=1.0, region="grain")
    assert np.all(grain.arrays["region"][grain.symbols == "Fe"] == 0)
    assert np.all(grain.arrays["region"][grain.symbols == "Mg"] == 1)
    by_code, by_name = substitute(mgo, "Mg", "Fe", 0.2, region=0), substitute(mgo, "Mg", "Fe", 0.2, region="grain")
    assert np.array_equal(by_code.numbers, by_name.numbers)


def test_fe3_carried_through_deletions(mgo):
    out = substitute(mgo, "Mg", "Fe", fraction=0.1, valence=3, seed=2)
    assert formal_charge(out) == 26.0
    assert out.info["charge_balance"]["after"] == 26.0
    out = add_vacancies(out, "Mg", n=13, seed=2)  # 2 Fe³⁺ + V_Mg: neutral
    assert formal_charge(out) == 0.0
    assert set(out.arrays["formal_charge"][out.symbols == "Fe"]) == {3.0}


def test_schottky_pairs(mgo):
    out = add_vacancies(mgo, schottky=("Mg", "O"), n=5, seed=0)
    counts = Counter(out.get_chemical_symbols())
    assert counts == {"Mg": 251, "O": 251}
    assert formal_charge(out) == 0.0
    for mg, o in out.info["charge_balance"]["groups"]:
        assert mgo.symbols[mg] == "Mg" and mgo.symbols[o] == "O"
        assert mic_distances(mgo, mg, [o])[0] == pytest.approx(NN)
    in_gb = add_vacancies(mgo, schottky=("Mg", "O"), n=5, region="gb", seed=0)
    assert all(mgo.arrays["region"][g[0]] == 1 for g in in_gb.info["charge_balance"]["groups"])


def test_schottky_sio2_unit():
    # fluorite-like SiO2 stand-in: every unit is 1 Si + its 2 nearest O
    sio2 = bulk("SiO2", "fluorite", a=4.5, cubic=True).repeat(2)
    out = add_vacancies(sio2, schottky=("Si", "O"), n=3, seed=1)
    assert Counter(out.get_chemical_symbols()) == {"Si": 29, "O": 58}
    assert formal_charge(out) == 0.0
    for si, *os in out.info["charge_balance"]["groups"]:
        assert len(os) == 2
        o_all = np.flatnonzero(sio2.symbols == "O")
        d_nearest = np.sort(mic_distances(sio2, si, o_all))[:2]
        np.testing.assert_allclose(np.sort(mic_distances(sio2, si, os)), d_nearest, atol=1e-6)


def test_plain_vacancies(mgo):
    out = add_vacancies(mgo, "Mg", n=2, seed=0)
    assert Counter(out.get_chemical_symbols()) == {"Mg": 254, "O": 256}
    assert formal_charge(out) == -4.0
    assert out.info["charge_balance"]["removed"] == {"Mg": 2}


def test_arrays_survive_deletions(mgo):
    mgo.arrays["formal_charge"] = formal_charges(mgo)
    out = add_impurity(mgo, "W", 6, "Mg", n=20, region="gb", seed=4)
    kept = out.get_tags()  # input indices of the survivors
    removed = set(out.info["charge_balance"]["removed_indices"])
    assert sorted(set(range(len(mgo))) - set(kept.tolist())) == sorted(removed)
    np.testing.assert_array_equal(out.arrays["region"], mgo.arrays["region"][kept])
    np.testing.assert_array_equal(out.arrays["gb_distance_A"], mgo.arrays["gb_distance_A"][kept])
    np.testing.assert_array_equal(out.positions, mgo.positions[kept])
    q_expected = mgo.arrays["formal_charge"][kept].copy()
    q_expected[out.symbols == "W"] = 6
    np.testing.assert_array_equal(out.arrays["formal_charge"], q_expected)


def test_fixatoms_and_masses_follow(mgo):
    mgo.set_masses(mgo.get_masses())
    mgo.set_constraint(FixAtoms(indices=[0, 1]))
    out = add_impurity(mgo, "W", 6, "Mg", n=3, seed=0)
    assert np.allclose(out.get_masses()[out.symbols == "W"], 183.84)


def test_seeds_reproducible(mgo):
    for build in (lambda s: add_impurity(mgo, "W", 6, "Mg", n=20, region="gb", seed=s),
                  lambda s: substitute(mgo, "Mg", "Fe", fraction=0.1, seed=s),
                  lambda s: add_vacancies(mgo, schottky=("Mg", "O"), n=4, seed=s)):
        a, b, c = build(7), build(7), build(8)
        assert np.array_equal(a.numbers, b.numbers) and np.array_equal(a.positions, b.positions)
        assert a.info["charge_balance"] == b.info["charge_balance"]
        assert a.info["charge_balance"]["groups"] != c.info["charge_balance"]["groups"]


def test_metallic_host():
    iron = bulk("Fe", "bcc", a=2.87, cubic=True).repeat(3)
    out = add_impurity(iron, "Pt", 0, "Fe", n=2, seed=0)
    assert Counter(out.get_chemical_symbols()) == {"Fe": 52, "Pt": 2}
    with pytest.raises(ValueError, match="compensated"):
        add_impurity(iron, "W", 6, "Fe", n=1)


@pytest.mark.parametrize("call, match", [
    (lambda a: substitute(a, "Mg", "Xx", 0.1), "element"),
    (lambda a: substitute(a, "Ca", "Fe", 0.1), "host"),
    (lambda a: substitute(a, "Mg", "Fe", 1.5), "fraction"),
    (lambda a: substitute(a, "Mg", "Fe", -0.1), "fraction"),
    (lambda a: add_impurity(a, "Qq", 6, "Mg", n=1), "element"),
    (lambda a: add_impurity(a, "W", 6, "Ca", n=1), "host"),
    (lambda a: add_impurity(a, "W", 6, "Mg", n=257), r"\bn\b"),
    (lambda a: add_impurity(a, "W", 6, "Mg", n=161, region="gb"), r"\bn\b.*region='gb'"),
    (lambda a: add_impurity(a, "W", 6, "Mg", n=-1), r"\bn\b"),
    (lambda a: add_impurity(a, "Sc", 3, "Mg", n=2), r"valence=3.*host='Mg'"),
    (lambda a: add_impurity(a, "W", 6, "Mg", n=1, region="boundary"), "region"),
    (lambda a: add_impurity(a, "W", 6, "Mg", n=1, region=np.ones(3, bool)), "region"),
    (lambda a: add_vacancies(a, "Mg", n=300), r"\bn\b"),
    (lambda a: add_vacancies(a, "Xx", n=1), "element"),
    (lambda a: add_vacancies(a, n=1), "schottky"),
    (lambda a: add_vacancies(a, "Mg", n=1, schottky=("Mg", "O")), "schottky"),
    (lambda a: add_vacancies(a, schottky=("Mg", "Zz"), n=1), "schottky"),
    (lambda a: add_vacancies(a, schottky=("O", "Mg"), n=1), "schottky"),
    (lambda a: add_vacancies(a, schottky=("Mg", "O"), n=300), r"\bn\b"),
    (lambda a: formal_charge(a, charges={"Mg": "two"}), "charges"),
])
def test_bad_input(mgo, call, match):
    with pytest.raises(ValueError, match=match):
        call(mgo)


def test_region_requested_without_region_array():
    atoms = bulk("MgO", "rocksalt", a=A, cubic=True).repeat(2)
    with pytest.raises(ValueError, match="region='gb'.*no per-atom array 'region'"):
        add_impurity(atoms, "W", 6, "Mg", n=1, region="gb")
    with pytest.raises(ValueError, match="region"):
        substitute(atoms, "Mg", "Fe", 0.1, region=1)
    assert region_mask(atoms, None).all()


def test_unknown_element_charge_in_ionic_cell(mgo):
    with pytest.raises(ValueError, match="valence"):
        substitute(mgo, "Mg", "Pt", 0.1)  # no default for Pt in an oxide
    out = substitute(mgo, "Mg", "Pt", 0.1, valence=2)
    assert formal_charge(out) == 0.0  # carried by the array, though Pt has no default
