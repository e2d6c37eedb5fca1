"""Shared by the LAMMPS engine tests: a Cu3Al cell and a committee of POD models fitted to its EMT labels."""

import numpy as np
import pytest
from ase.calculators.emt import EMT

from deepearth.potentials.pod import PODPotential
from deepearth.store import write_deepmd_npy

from cu3al import TYPE_MAP, cu3al_cell


@pytest.fixture(scope="session")
def pod_committee(tmp_path_factory):
    """Four bootstrap POD members (2+3-body) fitted to EMT labels of rattled, strained Cu3Al cells."""
    root = tmp_path_factory.mktemp("pod-engine")
    rng = np.random.default_rng(3)
    frames = []
    for i in range(30):
        a = cu3al_cell(3.61 * (0.97 + 0.03 * (i % 3)))
        a.rattle(0.15, rng=rng)
        a.calc = EMT()
        a.get_potential_energy()
        frames.append(a)
    write_deepmd_npy(root / "train", frames, TYPE_MAP)
    backend = PODPotential(TYPE_MAP, rcut_A=4.5, two_body=6, three_body=(4, 3))
    return [backend.train(root / f"member-{k}", [root / "train"], [], seed=k) for k in range(4)]
