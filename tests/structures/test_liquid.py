"""Liquids by melt–quench and solid–liquid coexistence cells (deepearth.structures.liquid, .coexistence).

ASE's EMT copper is the cheap calculator. Measured here (108–128 atoms, 2 fs, 0 GPa): EMT Cu melts
between 1200 K (a 1400 K-melted half recrystallises completely within 2 ps) and 1400 K (both
interfaces survive 2 ps); its lattice constant at 1400 K, 0 GPa is ≈ 3.73 Å (NPT). A 1800 K liquid
has D ≈ 9e-9 m²/s (MSD slope ≈ 5 Å²/ps) and a second g(r) peak of ≈ 1.25.
"""

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from deepearth.md.engine import ASEEngine, MDSettings
from deepearth.structures.coexistence import coexistence_cell, lattice_match_order, reference_bonds
from deepearth.structures.liquid import (assess_liquid, check_liquid, mean_squared_displacement, melt_quench,
                                         radial_distribution)

DT = 2.0  # fs


@pytest.fixture(scope="module")
def cu_liquid():
    crystal = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(3)  # 108 atoms
    return melt_quench(crystal, EMT(), T_melt_K=3000.0, T_K=1800.0, P_GPa=0.0, melt_steps=200,
                       quench_steps=200, quench_stages=2, equilibrate_steps=150, check_steps=400,
                       timestep_fs=DT, sample_every=5, seed=1)


def test_melt_quench_gives_a_diffusive_liquid_without_crystal_peaks(cu_liquid):
    c = cu_liquid.info["liquid_check"]
    assert c["diffusive"] and not c["crystalline_peaks"] and c["is_liquid"] and not c["failed"]
    # EMT Cu at 1800 K: D = slope/6 of order 1e-8 m²/s (liquid metals near melting: 2–10e-9 m²/s)
    assert 1.0 < c["msd_slope_A2_per_ps"] < 20.0
    assert c["msd_growth_over_r1_sq"] > 0.15 and c["msd_exponent"] > 0.7
    assert 2.3 < c["first_shell_A"] < 2.7
    assert c["rdf_max_g_after_first_shell"] < 1.5
    assert abs(c["T_mean_K"] - 1800) < 250
    # 108 atoms over 0.15–0.8 ps: the pressure fluctuates by ±2 GPa frame to frame
    assert abs(c["P_mean_GPa"]) < 2.5 and abs(c["P_npt_mean_GPa"]) < 2.5
    # liquid Cu is less dense than the 0 K crystal (11.76 Å³/atom): 12.5–16 Å³/atom
    assert 12.5 < c["volume_A3"] / len(cu_liquid) < 16.0
    assert c["volume_A3"] == pytest.approx(cu_liquid.get_volume())
    assert cu_liquid.info["melt_quench"]["T_melt_K"] == 3000.0


def test_msd_is_linear_in_time(cu_liquid):
    """Straight-line MSD: the liquid's own trajectory, fitted on two halves of the lag range, gives
    slopes that agree within 30 %."""
    atoms = cu_liquid.copy()
    frames = []
    ASEEngine().run(atoms, EMT(), MDSettings("nvt", 1800.0, 150, timestep_fs=DT, init_velocities=True, seed=3,
                                             observers=[(lambda a, s: frames.append(a.get_positions()), 5)]))
    msd = mean_squared_displacement(np.array(frames))
    t = np.arange(len(msd)) * 5 * DT / 1000
    n = len(msd)
    s1 = np.polyfit(t[n // 3: 2 * n // 3], msd[n // 3: 2 * n // 3], 1)[0]
    s2 = np.polyfit(t[2 * n // 3:], msd[2 * n // 3:], 1)[0]
    assert s1 > 0 and abs(s2 / s1 - 1) < 0.3


def test_the_crystal_fails_the_check():
    crystal = bulk("Cu", "fcc", a=3.65, cubic=True).repeat(3)
    out = check_liquid(crystal, EMT(), 1000.0, 100, timestep_fs=DT, sample_every=5, init_velocities=True,
                       raise_on_failure=False)
    assert not out["diffusive"] and out["crystalline_peaks"] and not out["is_liquid"]
    assert out["rdf_max_g_after_first_shell"] > 1.6 and len(out["failed"]) == 2
    with pytest.raises(RuntimeError, match="not a liquid") as exc:
        check_liquid(crystal, EMT(), 1000.0, 80, timestep_fs=DT, sample_every=5)
    msg = str(exc.value)
    assert "MSD not diffusive" in msg and "crystalline peaks" in msg and "max g" in msg


def test_melt_quench_never_returns_a_crystal_labelled_liquid():
    """Melting below the melting point leaves a crystal: melt_quench raises, says the melt never
    melted, and names the failed criteria."""
    crystal = bulk("Cu", "fcc", a=3.65, cubic=True).repeat(3)
    with pytest.raises(RuntimeError, match="did not give a liquid") as exc:
        melt_quench(crystal, EMT(), T_melt_K=1000.0, T_K=900.0, melt_steps=100, quench_steps=40, quench_stages=1,
                    equilibrate_steps=40, check_steps=80, timestep_fs=DT, sample_every=5)
    assert "may never have melted" in str(exc.value) and "MSD not diffusive" in str(exc.value)


def test_assess_liquid_thresholds_apply():
    """Static fcc frames (no motion): both criteria fail; the RDF has its crystal shells."""
    crystal = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(3)
    rng = np.random.default_rng(0)
    frames = crystal.positions[None] + rng.normal(0, 0.08, (20, len(crystal), 3))
    out = assess_liquid(frames, crystal.cell.array, 0.01)
    assert not out["diffusive"] and out["crystalline_peaks"]
    r, g = radial_distribution(frames, crystal.cell.array)
    assert abs(r[np.argmax(g)] - 3.61 / np.sqrt(2)) < 0.1
    # past half the cell (5.4 Å) through the periodic images: the fcc shells at a√2 and a√(5/2)
    assert r.max() > 7.5 and g[np.abs(r - 3.61 * np.sqrt(2.5)) < 0.1].max() > 2


def test_rdf_ideal_gas_and_partials():
    """Random points give g = 1 to beyond half the cell, totals and partials; rock salt's partials
    peak at a/2 (Mg–O) and a/√2 (O–O)."""
    mgo = bulk("MgO", "rocksalt", a=4.2, cubic=True).repeat(2)
    mg, o = mgo.numbers == 12, mgo.numbers == 8
    rng = np.random.default_rng(1)
    gas = rng.uniform(0, 8.4, (60, len(mgo), 3))
    for pair in (None, (mg, o), (o, o)):
        r, g = radial_distribution(gas, mgo.cell.array, pair=pair)
        assert r.max() > 6.5 and abs(g[r > 1.0].mean() - 1) < 0.02
    r, g = radial_distribution(mgo.positions, mgo.cell.array, pair=(mg, o))
    assert abs(r[np.flatnonzero(g)[0]] - 2.1) < 0.05 and not g[(r > 2.2) & (r < 2.9)].any()
    r, g = radial_distribution(mgo.positions, mgo.cell.array, pair=(o, o))
    assert abs(r[np.flatnonzero(g)[0]] - 4.2 / np.sqrt(2)) < 0.05


def test_coexistence_cell_keeps_two_interfaces():
    unit = bulk("Cu", "fcc", a=3.73, cubic=True).repeat((2, 2, 1))  # EMT Cu at 1400 K, 0 GPa
    cell = coexistence_cell(unit, None, axis=2, calculator=EMT(), T_K=1400.0, P_GPa=0.0, n_layers=6, seed=0,
                            crystal_steps=100, T_melt_K=5000.0, melt_steps=200, cool_steps=100, run_steps=200,
                            timestep_fs=DT)
    co = cell.info["coexistence"]
    assert len(cell) == 96
    assert cell.info["interface_normal"] == [0.0, 0.0, 1.0]
    assert co["n_interfaces"] == 2 and len(cell.info["interface_positions_A"]) == 2
    assert co["solid_fraction_in_solid_half"] > 0.6 and co["solid_fraction_in_liquid_half"] < 0.4
    assert co["liquid_half_melted_fraction"] > 2 / 3
    # the phases as built: the lower half (fractional z < 1/2) is the crystal
    z0 = cell.arrays["phase_initial"]
    assert (z0 == 0).sum() == (z0 == 1).sum() == 48
    # phase arrays consistent: final labels agree with the score and mostly with the built halves
    assert set(np.unique(cell.arrays["phase"])) <= {0, 1}
    assert np.array_equal(cell.arrays["phase"] == 0, cell.arrays["solid_score"] >= 0.5)
    assert np.mean(cell.arrays["phase"] == z0) > 0.75
    # interfaces near where they were built (0 and half the height), within two lattice planes
    h = cell.cell.array[2, 2]
    pos = np.sort(np.array(cell.info["interface_positions_A"]) % h)
    d = [min(abs(p - b), h - abs(p - b)) for p, b in zip(sorted(pos, key=lambda p: min(p, h - p)), (0.0, h / 2))]
    assert max(d) < 2 * 3.73
    assert abs(co["T_mean_K"] - 1400) < 200


def test_coexistence_with_a_given_liquid(cu_liquid):
    unit = bulk("Cu", "fcc", a=3.73, cubic=True).repeat((1, 3, 3))  # cross-section of the 3x3x3 liquid
    with pytest.raises(ValueError, match="liquid"):
        coexistence_cell(unit.repeat((1, 1, 2)), cu_liquid, axis=0, calculator=EMT(), T_K=1400.0)
    cell = coexistence_cell(unit, cu_liquid, axis=0, calculator=EMT(), T_K=1400.0, P_GPa=0.0, n_layers=6,
                            crystal_steps=50, cool_steps=60, run_steps=100, timestep_fs=DT, seed=2)
    co = cell.info["coexistence"]
    assert len(cell) == 108 + len(cu_liquid)
    assert cell.info["interface_normal"] == [1.0, 0.0, 0.0]
    # the liquid kept its density when rescaled to the crystal's cross-section (before the NPT run)
    assert co["n_interfaces"] == 2 and co["liquid_source"] == "given block"
    assert co["solid_fraction_in_solid_half"] > 0.6 and co["solid_fraction_in_liquid_half"] < 0.4


def test_lattice_match_order_separates_crystal_and_liquid(cu_liquid):
    crystal = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(3)
    ref, d_nn = reference_bonds(crystal)
    assert ref.shape == (108, 12, 3) and np.allclose(d_nn, 3.61 / np.sqrt(2))
    assert np.all(lattice_match_order(crystal.positions, crystal.cell.array, ref, d_nn) == 1.0)
    liq = lattice_match_order(cu_liquid.positions, cu_liquid.cell.array, ref, d_nn)
    assert np.mean(liq < 0.5) > 0.95


@pytest.mark.parametrize("kwargs, name", [
    (dict(T_K=-5.0), "T_K"),
    (dict(T_melt_K=0.0), "T_melt_K"),
    (dict(calculator=None), "calculator"),
    (dict(melt_steps=-1), "melt_steps"),
])
def test_melt_quench_bad_input_names_the_argument(kwargs, name):
    args = dict(atoms=bulk("Cu", "fcc", a=3.61, cubic=True), calculator=EMT(), T_melt_K=3000.0, T_K=1800.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        melt_quench(**args)


@pytest.mark.parametrize("kwargs, name", [
    (dict(T_K=-1.0), "T_K"),
    (dict(calculator=None), "calculator"),
    (dict(axis=3), "axis"),
    (dict(axis=-1), "axis"),
    (dict(n_layers=1), "n_layers"),
    (dict(crystal=None), "crystal"),
])
def test_coexistence_bad_input_names_the_argument(kwargs, name):
    args = dict(crystal=bulk("Cu", "fcc", a=3.61, cubic=True), calculator=EMT(), T_K=1400.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        coexistence_cell(**args)


def test_public_names():
    import deepearth.structures as s

    assert s.melt_quench is melt_quench and s.coexistence_cell is coexistence_cell and s.check_liquid is check_liquid


def test_a_shoulder_does_not_end_the_first_shell():
    """A partial g(r) with a shoulder before its main peak (Ca–Si in a CaSiO3 melt): the first minimum
    is the one after the main peak, not the shallow dip of the shoulder."""
    from deepearth.structures.liquid import first_shell

    r = np.linspace(0.0, 8.0, 801)
    g = (1.3 * np.exp(-((r - 3.15) / 0.12) ** 2) + 2.3 * np.exp(-((r - 3.5) / 0.2) ** 2)
         + (1 - np.exp(-((r / 4.2) ** 8))) * (1 + 0.3 * np.exp(-((r - 6.0) / 0.5) ** 2)))
    g[r < 2.6] = 0.0
    peak, minimum = first_shell(r, g)
    assert 3.4 < peak < 3.6 and minimum > 3.8
