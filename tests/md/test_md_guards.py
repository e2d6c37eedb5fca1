"""The ASE engine's guard (MDGuard): every way MD can go wrong stops the run with an MDBlowUp that
names what, which atoms, the step and the time; the observers have seen every frame before it."""

import pickle

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones

from deepearth.md.engine import ASEEngine, MDBlowUp, MDGuard, MDSettings, close_contact

pytestmark = pytest.mark.reliability("fault")


class NaNAfter(EMT):
    """EMT whose ``prop`` (energy, forces or stress) is NaN from the ``n``-th calculation on, when computed."""

    def __init__(self, n: int, prop: str):
        super().__init__()
        self.n, self.prop, self.calls = n, prop, 0

    def calculate(self, atoms=None, properties=("energy",), system_changes=()):
        super().calculate(atoms, properties, system_changes)
        self.calls += 1
        if self.calls >= self.n and self.prop in self.results:  # NaN in what was asked for
            shape = {"energy": (), "forces": (len(self.atoms), 3), "stress": (6,)}[self.prop]
            self.results[self.prop] = np.full(shape, np.nan) if shape else np.nan


def copper(n=2):
    return bulk("Cu", "fcc", a=3.61, cubic=True).repeat((n, n, n))


def run(atoms, calc, *args, **kw):
    """Run with an every-step observer; returns the steps it saw (also on a blow-up, as exc.seen)."""
    seen = []
    kw.setdefault("seed", 1)
    try:
        ASEEngine().run(atoms, calc, MDSettings(*args, observers=[(lambda a, s: seen.append(s), 1)], **kw))
    except MDBlowUp as exc:
        exc.seen = seen
        raise
    return seen


def test_overlapping_atoms_stop_at_step_zero_naming_the_pair():
    atoms = copper()
    atoms.positions[5] = atoms.positions[2] + [0.4, 0.3, 0.0]
    with pytest.raises(MDBlowUp) as info:
        run(atoms, EMT(), "nvt", 300.0, 20)
    msg = str(info.value)
    assert "close contact: Cu 2 and Cu 5 at 0.50 Å" in msg and msg.endswith("at step 0 (0 ps)")
    assert info.value.step == 0 and info.value.time_ps == 0.0 and info.value.seen == []
    assert "covalent radii 1.32 Å" in msg  # 0.5 × (1.32 + 1.32)


def test_huge_timestep_drives_a_pair_together():
    """Two argon atoms at 0.3 Å/fs head-on, 5 fs steps: they jump through the LJ wall at step 2."""
    atoms = Atoms("Ar2", positions=[[7, 10, 10], [13, 10, 10]], cell=[20, 20, 20], pbc=True)
    atoms.set_velocities([[3.0, 0, 0], [-3.0, 0, 0]])  # Å per ASE time unit
    guard = MDGuard(max_temperature_factor=np.inf, contact_interval=1)  # the contact check alone
    with pytest.raises(MDBlowUp, match=r"close contact: Ar 0 and Ar 1 at 0\.\d\d Å .* at step 2 \(0\.01 ps\)") as info:
        run(atoms, LennardJones(sigma=3.405, epsilon=0.0103, rc=8.0), "nve", 300.0, 50, 5.0,
            init_velocities=False, guard=guard)
    assert info.value.seen == [0, 1]


def test_huge_timestep_lj_crystal_blows_up_with_step_and_time():
    atoms = bulk("Ar", "fcc", a=5.26, cubic=True).repeat((2, 2, 2))
    with pytest.raises(MDBlowUp, match=r"at step \d+ \([\d.]+ ps\)") as info:
        run(atoms, LennardJones(sigma=3.405, epsilon=0.0103, rc=8.0, smooth=True), "nve", 300.0, 200, 100.0)
    exc = info.value
    assert exc.step > 0 and exc.time_ps == pytest.approx(exc.step * 0.1)
    assert info.value.seen == list(range(exc.step))


@pytest.mark.parametrize("ensemble", ["nve", "nvt", "npt"])
@pytest.mark.parametrize("prop", ["forces", "energy"])
def test_nan_forces_or_energy_stop_the_run(ensemble, prop):
    with pytest.raises(MDBlowUp, match=rf"non-finite {prop}") as info:
        run(copper(), NaNAfter(6, prop), ensemble, 300.0, 50, 1.0)
    exc = info.value
    assert 0 < exc.step < 10 and exc.seen == list(range(exc.step))  # every frame before, none after
    assert f"at step {exc.step} (" in str(exc)
    if prop == "forces":
        assert "on 32 atom(s) (first: Cu 0)" in str(exc)


def test_nan_stress_in_npt_stops_the_run_at_its_step():
    with pytest.raises(MDBlowUp, match=r"non-finite stress \(\[nan") as info:
        run(copper(), NaNAfter(6, "stress"), "npt", 300.0, 50, 1.0, pressure_GPa=1.0)
    assert 0 < info.value.step < 10 and info.value.seen == list(range(info.value.step))


def test_lost_atoms_and_runaway_temperature():
    atoms = copper()
    atoms.positions[3] = np.nan
    with pytest.raises(MDBlowUp, match=r"lost atoms: non-finite positions of 1 atom\(s\) \(first: Cu 3\).* at step 0 \(0 ps\)"):
        run(atoms, EMT(), "nve", 300.0, 5)
    hot = copper()
    hot.set_velocities(np.full((32, 3), 1.0))  # 1 Å per ASE time unit: ≈ 3e4 K
    with pytest.raises(MDBlowUp, match=r"temperature \d+ K > 1500 K \(target 300 K\) at step 0 \(0 ps\)"):
        run(hot, EMT(), "nve", 300.0, 5, init_velocities=False)


def test_contact_rule_options_and_pickling():
    atoms = copper()
    assert close_contact(atoms) is None  # nearest neighbours 2.55 Å vs 1.32 Å
    i, j, d, limit = close_contact(atoms, min_distance_A=3.0)
    assert d == pytest.approx(3.61 / 2**0.5) and limit == 3.0
    assert close_contact(atoms, factor=0.0) is None
    # a periodic image counts
    dimer = Atoms("O2", positions=[[0.1, 0, 0], [9.6, 0, 0]], cell=[10, 10, 10], pbc=True)
    assert close_contact(dimer)[:2] == (0, 1) and close_contact(dimer)[2] == pytest.approx(0.5)
    exc = pickle.loads(pickle.dumps(MDBlowUp("x at step 3 (0.003 ps)", reason="x", step=3, time_ps=0.003)))
    assert (str(exc), exc.reason, exc.step, exc.time_ps) == ("x at step 3 (0.003 ps)", "x", 3, 0.003)


def test_a_healthy_run_passes_the_guard():
    assert run(copper(), EMT(), "npt", 600.0, 30, 2.0, pressure_GPa=5.0)[-1] == 30


# ------------------------------------------------------------------ the training envelope (issue 17)

def _envelope_of_a_300K_run():
    from deepearth.potentials.envelope import TrainingEnvelope

    frames = []
    atoms = copper()
    ASEEngine().run(atoms, EMT(), MDSettings("nvt", 300.0, 60, timestep_fs=2.0, seed=3,
                                             observers=[(lambda a, s: frames.append(a.copy()), 5)]))
    return TrainingEnvelope.from_frames(frames)


def test_md_outside_the_training_envelope_stops_naming_the_pair_step_and_time():
    from deepearth.potentials.envelope import TrainingEnvelope

    envelope = _envelope_of_a_300K_run()
    closest = envelope.min_pair_distance_A["Cu-Cu"]
    assert 2.0 < closest < 2.55
    guard = MDGuard(envelope=envelope, envelope_tolerance=0.0, contact_interval=5)
    run(copper(), EMT(), "nvt", 300.0, 30, timestep_fs=2.0, guard=MDGuard(envelope=envelope))  # inside: runs
    with pytest.raises(MDBlowUp) as info:
        run(copper(), EMT(), "nvt", 6000.0, 400, timestep_fs=2.0, guard=guard)
    exc = info.value
    assert exc.reason.startswith("left the training envelope: Cu-Cu pair at ")
    assert f"closest in training {closest:.2f} Å" in exc.reason
    assert exc.step > 0 and exc.step % 5 == 0 and str(exc).endswith(f"at step {exc.step} ({exc.time_ps:.4g} ps)")
    assert exc.seen == list(range(exc.step))  # the observers never saw the frame outside
    # a fake envelope the crystal is already outside: stops at step 0, elements and density named too
    fake = TrainingEnvelope({"Cu-Cu": 2.9}, (10.0, 11.0), None, None, ["Al", "Cu"], 1)
    with pytest.raises(MDBlowUp, match=r"left the training envelope: Cu-Cu pair at 2.55 Å, closest in training "
                                       r"2.90 Å; density 8.\d\d g/cm³, training 10.00–11.00 g/cm³ at step 0 \(0 ps\)"):
        run(copper(), EMT(), "nve", 300.0, 10, guard=MDGuard(envelope=fake))
    pickle.loads(pickle.dumps(MDGuard(envelope=fake)))
