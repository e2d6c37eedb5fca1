"""Labeller: xTB agrees with finite differences; failures are recorded, never fatal."""

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes

from deepearth.reference.batch import LabelRequest, label_requests
from deepearth.reference.labeller import CalculatorLabeller
from deepearth.reference.xtb import xtb_labeller
from deepearth.store import LabelStore


class Flaky(Calculator):
    """Fails (like an unconverged SCF) on configurations whose first x coordinate is negative."""

    implemented_properties = ["energy", "forces", "stress"]

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        if self.atoms.positions[0, 0] < 0:
            raise RuntimeError("SCF not converged in 250 iterations")
        nan = self.atoms.positions[0, 0] > 100
        self.results = {"energy": float("nan") if nan else 1.0, "forces": np.zeros((len(self.atoms), 3)),
                        "stress": np.zeros(6)}


def test_failures_are_recorded_and_skipped(tmp_path):
    lab = CalculatorLabeller(Flaky, "flaky", {"method": "test"})
    atoms = bulk("MgO", "rocksalt", a=4.0, cubic=True)
    bad, nan = atoms.copy(), atoms.copy()
    bad.positions[0, 0] = -0.1
    nan.positions[0, 0] = 101
    store = LabelStore(tmp_path / "db.db")
    reqs = [LabelRequest(f"c{i}", a, 0) for i, a in enumerate([atoms, bad, nan])]
    counts = label_requests(lab, reqs, store, lambda cid: "train")
    assert counts == {"ok": 1, "failed": 2, "skipped": 0}
    errors = sorted(r.error for r in store.rows(ok=False))
    assert errors == ["RuntimeError: SCF not converged in 250 iterations", "non-finite energy, forces or stress"]
    # a second pass (a resumed run) recomputes nothing
    assert label_requests(lab, reqs, store, lambda cid: "train")["skipped"] == 3


@pytest.mark.slow
def test_xtb_forces_and_stress_match_finite_differences():
    atoms = bulk("MgO", "rocksalt", a=4.0, cubic=True)  # 8 atoms is enough for a derivative check
    atoms.rattle(0.05, seed=2)
    labeller = xtb_labeller("GFN1-xTB", 2000.0)
    label = labeller.label(atoms)
    assert label.ok and label.provenance["T_el_K"] == 2000.0
    h = 1e-3

    def energy(a):
        return labeller.label(a).energy_eV

    a_p, a_m = atoms.copy(), atoms.copy()
    a_p.positions[3, 1] += h
    a_m.positions[3, 1] -= h
    fd_force = -(energy(a_p) - energy(a_m)) / (2 * h)
    assert fd_force == pytest.approx(label.forces_eV_per_A[3, 1], abs=2e-3)
    # stress_xx = (1/V) dE/dε_xx
    eps = 1e-4
    a_p, a_m = atoms.copy(), atoms.copy()
    a_p.set_cell(atoms.cell.array @ np.diag([1 + eps, 1, 1]), scale_atoms=True)
    a_m.set_cell(atoms.cell.array @ np.diag([1 - eps, 1, 1]), scale_atoms=True)
    fd_stress = (energy(a_p) - energy(a_m)) / (2 * eps) / atoms.get_volume()
    assert fd_stress == pytest.approx(label.stress_eV_per_A3[0], abs=2e-4)


def test_a_label_keeps_the_configuration_it_was_computed_on():
    """An MD loop labels a frame and moves the same Atoms on: the label must not move with it (the
    forces would then belong to other positions)."""
    from ase.build import bulk
    from ase.calculators.emt import EMT

    from deepearth.reference.labeller import CalculatorLabeller

    atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
    atoms.rattle(0.05, seed=1)
    before = atoms.get_positions().copy()
    lab = CalculatorLabeller(EMT, "emt", {"method": "EMT"}).label(atoms)
    atoms.positions += 0.3
    assert np.allclose(lab.atoms.get_positions(), before) and lab.atoms is not atoms
    again = CalculatorLabeller(EMT, "emt", {"method": "EMT"}).label(lab.atoms)
    assert np.allclose(again.forces_eV_per_A, lab.forces_eV_per_A)
