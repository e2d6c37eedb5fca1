"""Classical potentials for the melting validation (deepearth.potentials.classical): the ASE
calculator and its LAMMPS pair style give the same energy, forces and stress on the same cell."""

import numpy as np
import pytest
from ase.build import bulk
from datafiles import data_path

from deepearth.md.engine import MDSettings
from deepearth.md.lammps_engine import LammpsEngine
from deepearth.potentials.classical import ARGON, eam_alloy, lennard_jones


def _lammps_single_point(atoms, calc):
    a = atoms.copy()
    LammpsEngine().run(a, calc, MDSettings("nve", 1.0, 0, init_velocities=False))
    return a.get_potential_energy(), a.get_forces(), a.get_stress()


@pytest.mark.parametrize("make, atoms", [
    (lambda: eam_alloy(data_path("melting", "Cu_mishin1.eam.alloy"), ["Cu"]),
     bulk("Cu", "fcc", a=3.7, cubic=True).repeat(3)),
    (lambda: lennard_jones(ARGON, rc_sigma=2.5), bulk("Ar", "fcc", a=5.4, cubic=True).repeat(3)),
])
def test_ase_and_lammps_agree(make, atoms):
    atoms.rattle(0.1, seed=1)
    calc = make()
    e, f, s = _lammps_single_point(atoms, calc)
    ref = atoms.copy()
    ref.calc = make()
    assert e == pytest.approx(ref.get_potential_energy(), rel=1e-6, abs=1e-6)
    assert np.abs(f - ref.get_forces()).max() < 1e-4 * max(1.0, np.abs(f).max())
    assert np.abs(s - ref.get_stress()).max() < 1e-6


def test_mishin_cu_cohesive_energy_and_argon_units():
    cu = bulk("Cu", "fcc", a=3.615, cubic=True)
    cu.calc = eam_alloy(data_path("melting", "Cu_mishin1.eam.alloy"), ["Cu"])
    assert cu.get_potential_energy() / len(cu) == pytest.approx(-3.54, abs=0.005)  # Mishin et al. 2001: 3.54 eV
    assert ARGON.temperature_K(0.694) == pytest.approx(83.14, abs=0.01)
    assert ARGON.pressure_GPa(1.0) == pytest.approx(0.04190, rel=1e-3)  # ε/σ³ of argon ≈ 41.9 MPa
    with pytest.raises(ValueError, match="no such EAM file"):
        eam_alloy("missing.eam.alloy", ["Cu"])
