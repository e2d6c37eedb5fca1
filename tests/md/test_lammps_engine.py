"""The LAMMPS engine behind the Engine protocol: the same dynamics as the ASE engine (NVE step by
step), NVE energy conservation, NVT temperature, NPT pressure, barostat along one axis, unwrapped
positions, restarts that continue the same trajectory, the in-engine POD committee, blow-ups."""

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.md.velocitydistribution import thermalize_momenta

from deepearth.md.engine import ASEEngine, MDBlowUp, MDGuard, MDSettings
from deepearth.md.engines import AutoEngine, make_engine
from deepearth.lammps.errors import LammpsError
from deepearth.lammps.pair import LammpsPair
from deepearth.md.lammps_engine import LammpsEngine, restart_step
from deepearth.potentials.committee import Committee
from deepearth.potentials.pod import PODCalculator, PODPotential
from deepearth.units import stress_to_pressure_gpa

from cu3al import TYPE_MAP, assert_same_replica, cu3al_cell as _cell, kill_replica_during_nvt


@pytest.fixture(scope="module")
def committee(pod_committee):
    return pod_committee


def _record(every):
    rows = []

    def obs(atoms, step):
        rows.append(dict(step=step, pos=atoms.positions.copy(), etot=atoms.get_potential_energy() + atoms.get_kinetic_energy(),
                         T=atoms.get_temperature(), V=atoms.get_volume(), cell=atoms.cell.array.copy(),
                         P=stress_to_pressure_gpa(atoms.get_stress(include_ideal_gas=True))))
    return rows, (obs, every)


def test_nve_follows_the_ase_engine_step_by_step(committee):
    runs = {}
    for engine in (LammpsEngine(), ASEEngine()):
        rows, obs = _record(25)
        engine.run(_cell(), PODCalculator(committee[0]), MDSettings("nve", 600.0, 200, 2.0, seed=5, observers=[obs]))
        runs[engine.name] = rows
    assert [r["step"] for r in runs["lammps"]] == list(range(0, 201, 25))
    for a, b in zip(runs["lammps"], runs["ase"]):
        assert np.abs(a["pos"] - b["pos"]).max() < 1e-6
        assert a["etot"] == pytest.approx(b["etot"], abs=1e-6)


def test_nve_conserves_energy_and_positions_stay_unwrapped(committee):
    rows, obs = _record(50)
    atoms = _cell()
    LammpsEngine().run(atoms, PODCalculator(committee[0]), MDSettings("nve", 3000.0, 2000, 1.0, seed=1, observers=[obs]))
    etot = np.array([r["etot"] for r in rows])
    assert np.ptp(etot) / len(atoms) < 2e-4  # eV/atom over 2 ps at ≈1500 K
    steps = np.array([r["pos"] for r in rows])
    assert np.abs(np.diff(steps, axis=0)).max() < 1.5  # no jumps by a cell length between frames (Å)


def test_nvt_temperature_and_npt_pressure(committee):
    calc = PODCalculator(committee[0])
    rows, obs = _record(10)
    atoms = _cell(rep=(3, 3, 3))  # 108 atoms
    LammpsEngine().run(atoms, calc, MDSettings("nvt", 800.0, 3000, 2.0, seed=2, observers=[obs]))
    t = np.array([r["T"] for r in rows[50:]])
    n = len(atoms)
    # the thermostat holds 3N − 3 degrees of freedom at T; ASE's T counts 3N
    assert t.mean() == pytest.approx(800.0 * (3 * n - 3) / (3 * n), rel=0.05)
    assert t.std() == pytest.approx(800.0 * np.sqrt(2 / (3 * n)), rel=0.35)  # canonical fluctuation
    rows, obs = _record(10)
    LammpsEngine().run(atoms, calc, MDSettings("npt", 800.0, 3000, 2.0, pressure_GPa=5.0, seed=3,
                                                init_velocities=False, observers=[obs]))
    p = np.array([r["P"] for r in rows[100:]])
    blocks = p[: len(p) // 5 * 5].reshape(5, -1).mean(axis=1)
    assert p.mean() == pytest.approx(5.0, abs=max(0.5, 3 * blocks.std(ddof=1) / np.sqrt(5)))


def test_barostat_along_one_axis_moves_only_that_axis(committee):
    rows, obs = _record(50)
    atoms = _cell()
    LammpsEngine().run(atoms, PODCalculator(committee[0]),
                       MDSettings("npt", 500.0, 400, 2.0, pressure_GPa=10.0, barostat="z", pdamp_fs=200.0,
                                  seed=4, observers=[obs]))
    cells = np.array([r["cell"] for r in rows])
    assert np.allclose(cells[:, 0], cells[0, 0]) and np.allclose(cells[:, 1], cells[0, 1])
    assert np.ptp(cells[:, 2, 2]) > 1e-3
    with pytest.raises(ValueError, match="isotropic barostat only"):
        ASEEngine().run(_cell(), PODCalculator(committee[0]), MDSettings("npt", 500.0, 10, barostat="z"))


def test_restart_continues_the_same_trajectory(committee, tmp_path):
    calc = PODCalculator(committee[0])
    whole, obs = _record(20)
    LammpsEngine().run(_cell(), calc, MDSettings("nvt", 900.0, 200, 2.0, seed=6, observers=[obs]))
    restart = tmp_path / "replica.restart"
    first, obs = _record(20)
    settings = dict(restart_file=str(restart), restart_interval=100)
    LammpsEngine().run(_cell(), calc, MDSettings("nvt", 900.0, 100, 2.0, seed=6, observers=[obs], **settings))
    assert restart_step(restart) == 100
    second, obs = _record(20)  # "killed" after step 100: the same command, now 200 steps
    LammpsEngine().run(_cell(), calc, MDSettings("nvt", 900.0, 200, 2.0, seed=6, observers=[obs], **settings))
    assert [r["step"] for r in second] == [120, 140, 160, 180, 200]  # nothing redone
    for a, b in zip(first + second, whole):
        assert a["step"] == b["step"]
        assert np.abs(a["pos"] - b["pos"]).max() < 1e-6


def test_committee_forces_inside_the_engine_match_the_members(committee):
    seen = []

    def obs(atoms, step):
        seen.append((atoms.copy(), atoms.calc.results["committee_forces"].copy(),
                     atoms.calc.results["committee_energies"].copy()))

    atoms = _cell()
    atoms.rotate(20, "z", rotate_cell=True)  # a general cell: forces must rotate back
    LammpsEngine().run(atoms, PODCalculator(committee[0]),
                       MDSettings("nvt", 1500.0, 60, 2.0, seed=7, observers=[(obs, 30)], committee=[str(m) for m in committee]))
    reference = Committee(committee, PODPotential())
    for frame, forces, energies in seen:
        pred = reference.predict(frame)
        assert np.abs(forces - pred.forces_eV_per_A).max() < 1e-8
        assert np.abs(energies - pred.energies_eV).max() < 1e-8
    assert np.abs(seen[-1][1][0] - seen[-1][1][1]).max() > 1e-4  # the members do differ


def test_blow_ups_and_wrong_calculators_are_one_clear_error(committee):
    atoms = _cell()
    atoms.positions[1] = atoms.positions[0] + [0.3, 0, 0]
    with pytest.raises(MDBlowUp, match="close contact: .* at step 0"):
        LammpsEngine().run(atoms, PODCalculator(committee[0]), MDSettings("nve", 300.0, 20))
    with pytest.raises(ValueError, match="needs a potential with a LAMMPS pair style"):
        LammpsEngine().run(_cell(), EMT(), MDSettings("nve", 300.0, 20))
    auto = make_engine("auto")
    assert isinstance(auto, AutoEngine)
    assert auto.choose(EMT()).name == "ase" and auto.choose(PODCalculator(committee[0])).name == "lammps"
    hot = _cell()
    thermalize_momenta(hot, temperature_K=20000.0, rng=np.random.default_rng(0))
    with pytest.raises(MDBlowUp, match=r"temperature \d+ K > 1500 K \(target 300 K\) at step 0"):
        LammpsEngine().run(hot, PODCalculator(committee[0]),
                           MDSettings("nve", 300.0, 50, 2.0, init_velocities=False, guard=MDGuard(contact_factor=0)))


def test_a_pair_style_the_build_lacks_is_one_clear_error(committee):
    class PaceCalculator(PODCalculator):
        def lammps_pair(self):
            return LammpsPair(["pair_style pace", "pair_coeff * * model.yace Al Cu"], TYPE_MAP, model="model.yace")

    with pytest.raises(LammpsError, match=r"LAMMPS refused 'pair_style pace' for model.yace: .*no such pair style"):
        LammpsEngine().run(_cell(), PaceCalculator(committee[0]), MDSettings("nve", 300.0, 20))


@pytest.mark.reliability("fault")
def test_a_killed_production_replica_resumes_from_its_restart(committee, tmp_path):
    """kill -9 in the NVT phase; the same call continues from the last restart and ends with the
    samples and frames of a replica that was never killed."""
    from deepearth.md.production import ReplicaTask, run_replica
    from deepearth.recipe import ProductionSpec

    spec = ProductionSpec(points=[{"P_GPa": 2.0, "T_K": 900.0}], equilibration_steps=200, steps=3000,
                          timestep_fs=2.0, sample_interval=20, restart_interval=200, replicas=1)

    def task(folder):
        return ReplicaTask(str(tmp_path / folder), str(committee[0]), _cell(), 2.0, 900.0, spec, LammpsEngine(), seed=11)

    whole = run_replica(task("whole"))
    stopped_at, _ = kill_replica_during_nvt(task("killed"), 1000)
    assert_same_replica(run_replica(task("killed")), whole, 3000 // 20 + 1)
    assert 1000 <= stopped_at < 3000


def test_heat_flux_inside_the_engine_is_md_heat_flux_of_the_same_frame():
    """J·V from LAMMPS' compute heat/flux (centroid virials) on a Lennard-Jones argon liquid equals
    deepearth.md.heat_flux on the same frame with ASE's LennardJones per-atom energies and stresses."""
    from ase.calculators.lj import LennardJones

    from deepearth.md.heat_flux import heat_flux

    sigma, eps, rc = 3.405, 0.0104, 8.5

    class ArgonLJ(LennardJones):
        def lammps_pair(self):
            return LammpsPair([f"pair_style lj/cut {rc}", f"pair_coeff 1 1 {eps} {sigma}", "pair_modify shift yes"],
                              ["Ar"], model="argon LJ")

    atoms = bulk("Ar", "fcc", a=5.8, cubic=True).repeat(3)  # 108 atoms, expanded: a liquid at 150 K
    atoms.rattle(0.2, seed=2)
    frames = []
    LammpsEngine().run(atoms, ArgonLJ(sigma=sigma, epsilon=eps, rc=rc, smooth=False),
                       MDSettings("nvt", 150.0, 100, 5.0, seed=1, heat_flux=True,
                                  observers=[(lambda a, s: frames.append((a.copy(), a.calc.results["heat_flux"])), 50)]))
    assert len(frames) == 3
    for frame, j_lammps in frames[1:]:
        frame.calc = LennardJones(sigma=sigma, epsilon=eps, rc=rc, smooth=False)
        j_ref = heat_flux(frame)
        assert np.linalg.norm(j_ref) > 1.0  # eV·Å/ps: a real flux, not zeros
        assert np.linalg.norm(j_lammps - j_ref) < 1e-6 * np.linalg.norm(j_ref)
