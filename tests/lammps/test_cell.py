"""ASE cells ↔ LAMMPS restricted triclinic boxes: exact round trips on random cells, and LAMMPS's
own forces and stress on a rotated, tilted cell rotated back onto ASE's Lennard-Jones calculator."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

from deepearth.lammps import LammpsBox, ase_to_lammps, create_lammps, lammps_to_ase, voigt_to_tensor
from deepearth.lammps.cell import tensor_to_voigt


def random_rotation(rng) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.diag(r))


def random_cells(n: int, seed: int = 0):
    """Triclinic cells of any orientation: a random skewed cell, randomly rotated; every third one
    left-handed."""
    rng = np.random.default_rng(seed)
    for k in range(n):
        cell = np.diag(rng.uniform(4.0, 12.0, 3)) + rng.uniform(-3.0, 3.0, (3, 3))
        cell = cell @ random_rotation(rng)
        if k % 3 == 2:
            cell = cell[[1, 0, 2]]  # swapping two vectors flips the handedness
        yield cell


@pytest.mark.parametrize("cell", list(random_cells(12)), ids=[f"cell{k}" for k in range(12)])
def test_round_trip_positions_velocities_forces_stress(cell):
    rng = np.random.default_rng(1)
    pos = rng.uniform(-1.0, 2.0, (20, 3)) @ cell  # some outside the cell
    vel, forces = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))
    s = rng.normal(size=(3, 3))
    stress = s + s.T
    origin = rng.normal(size=3)
    lmp = ase_to_lammps(cell, pos, vel, forces, stress=stress, virial=tensor_to_voigt(-stress * 7.0),
                        origin=origin)
    # LAMMPS's restricted triclinic form: lower-triangular, positive diagonal, the same lengths and angles
    lc = lmp.box.cell
    assert np.all(np.triu(lc, 1) == 0.0) and np.all(np.diag(lc) > 0)
    np.testing.assert_allclose(lc @ lc.T, cell @ cell.T, atol=1e-10)
    np.testing.assert_allclose(lmp.rotation @ lmp.rotation.T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(lmp.box.origin, origin, atol=0)
    # invariants: distances, v·f, tr(σ) and the work f·σ·v are the same in both frames
    np.testing.assert_allclose(np.linalg.norm(lmp.positions[1:] - lmp.positions[0], axis=1),
                               np.linalg.norm(pos[1:] - pos[0], axis=1), atol=1e-10)
    np.testing.assert_allclose(np.einsum("ij,ij->i", lmp.velocities, lmp.forces), np.einsum("ij,ij->i", vel, forces),
                               atol=1e-10)
    np.testing.assert_allclose(np.einsum("ni,ij,nj->n", lmp.forces, lmp.stress, lmp.velocities),
                               np.einsum("ni,ij,nj->n", forces, stress, vel), atol=1e-10)
    back = lammps_to_ase(lmp.box, lmp.rotation, positions=lmp.positions, velocities=lmp.velocities,
                         forces=lmp.forces, stress=lmp.stress, virial=tensor_to_voigt(lmp.virial, "lammps"))
    np.testing.assert_allclose(back.cell, cell, atol=1e-10)
    np.testing.assert_allclose(back.positions, pos, atol=1e-10)
    np.testing.assert_allclose(back.velocities, vel, atol=1e-10)
    np.testing.assert_allclose(back.forces, forces, atol=1e-10)
    np.testing.assert_allclose(back.stress, stress, atol=1e-10)
    np.testing.assert_allclose(back.virial, -7.0 * stress, atol=1e-10)


def test_wrap_puts_positions_in_the_box_and_lower_triangular_cells_map_exactly():
    cell = np.array([[6.0, 0.0, 0.0], [1.5, 5.0, 0.0], [-1.0, 2.0, 7.0]])
    pos = np.array([[-0.5, 0.2, 0.3], [13.0, 11.0, -6.9], [0.0, 0.0, 0.0]])
    frame = ase_to_lammps(cell, pos, wrap=True, origin=(1.0, 2.0, 3.0))
    assert np.array_equal(frame.rotation, np.eye(3)) and np.array_equal(frame.box.cell, cell)
    frac = np.linalg.solve(cell.T, (frame.positions - frame.box.origin).T).T
    assert np.all(frac >= 0.0) and np.all(frac < 1.0)
    d = np.linalg.solve(cell.T, (frame.positions - frame.box.origin - pos).T).T  # whole lattice vectors
    np.testing.assert_allclose(d, np.round(d), atol=1e-12)
    assert frame.box.region_command("b").startswith("region b prism 1 7 2 7 3 10 1.5 -1 2 units box")
    assert LammpsBox.from_cell(np.diag([2.0, 3.0, 4.0])).region_command() == "region box block 0 2 0 3 0 4 units box"
    with pytest.raises(ValueError, match="singular"):
        ase_to_lammps(np.array([[1.0, 0, 0], [2.0, 0, 0], [0, 0, 1.0]]))


def test_voigt_orders():
    t = np.array([[1.0, 6.0, 5.0], [6.0, 2.0, 4.0], [5.0, 4.0, 3.0]])
    assert tensor_to_voigt(t).tolist() == [1, 2, 3, 4, 5, 6]  # ASE: xx yy zz yz xz xy
    assert tensor_to_voigt(t, "lammps").tolist() == [1, 2, 3, 6, 5, 4]  # LAMMPS: xx yy zz xy xz yz
    np.testing.assert_array_equal(voigt_to_tensor([1, 2, 3, 6, 5, 4], "lammps"), t)


def lammps_lj(atoms, eps: float, sigma: float, rc: float):
    """(energy eV, forces eV/Å, ASE stress eV/Å³) of ``atoms`` from LAMMPS lj/cut (shifted), through
    the conversion both ways."""
    frame = ase_to_lammps(atoms.cell.array, atoms.positions, wrap=True)
    lmp = create_lammps()
    try:
        lmp.commands_list(["units metal", "atom_style atomic", "atom_modify map array", "boundary p p p",
                           frame.box.region_command(), "create_box 1 box", "mass 1 39.95"])
        n = len(atoms)
        lmp.create_atoms(n, list(range(1, n + 1)), [1] * n, frame.positions.ravel().tolist())
        lmp.commands_list([f"pair_style lj/cut {rc}", f"pair_coeff 1 1 {eps} {sigma}", "pair_modify shift yes",
                           "compute pv all pressure NULL virial", "thermo_style custom step pe c_pv[1]",
                           "run 0 post no"])
        box = LammpsBox.from_instance(lmp)
        np.testing.assert_allclose(box.cell, frame.box.cell, atol=1e-12)  # LAMMPS made the box we asked for
        ids = np.asarray(lmp.numpy.extract_atom("id"))[:n]
        f = np.array(lmp.numpy.extract_atom("f")[:n])[np.argsort(ids)]
        p = np.array(lmp.numpy.extract_compute("pv", 0, 1)[:6])
        virial = voigt_to_tensor(p, "lammps") * box.volume / lmp.extract_global("nktv2p")
        energy = float(lmp.get_thermo("pe"))
    finally:
        lmp.close()
    back = lammps_to_ase(frame.box, frame.rotation, forces=f, virial=virial)
    return energy, back.forces, -back.virial / atoms.get_volume()


def test_lammps_forces_and_stress_rotated_back_match_ase():
    from ase.build import bulk
    from ase.calculators.lj import LennardJones

    rng = np.random.default_rng(3)
    atoms = bulk("Ar", "fcc", a=5.26).repeat((3, 3, 3))  # primitive fcc cell: triclinic, not lower-triangular
    atoms.set_cell(atoms.cell.array @ random_rotation(rng) @ (np.eye(3) + 0.04 * rng.normal(size=(3, 3))),
                   scale_atoms=True)
    atoms.rattle(0.2, seed=4)
    eps, sigma, rc = 0.0104, 3.4, 7.0
    assert not np.allclose(np.triu(atoms.cell.array, 1), 0)
    atoms.calc = LennardJones(epsilon=eps, sigma=sigma, rc=rc, smooth=False)
    e, f, s = lammps_lj(atoms, eps, sigma, rc)
    assert e == pytest.approx(atoms.get_potential_energy(), abs=1e-9)
    np.testing.assert_allclose(f, atoms.get_forces(), atol=1e-9)
    np.testing.assert_allclose(s, atoms.get_stress(voigt=False), atol=1e-10)
