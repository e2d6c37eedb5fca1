"""Committee forces inside the LAMMPS engine: one descriptor-gradient evaluation for all POD members.

A POD model is linear in its coefficients, ``E = Σ_m c_m D_m`` with global descriptors ``D``
(Nguyen & Rohskopf, J. Comput. Phys. 480, 112030 (2023)); members of a bootstrap committee share the
descriptors (one parameter file) and differ only in ``c``. LAMMPS' ``compute pod/global`` returns
``D`` and its position derivatives as one ``(1 + 3N, M)`` array ``G``; then every member's energy
and forces are ``E_k = G[0]·c_k`` and ``F_k = G[1:]·c_k`` reshaped ``(N, 3)`` (sign and layout
checked against ``pair_style pod``'s own forces in ``tests/md/test_lammps_engine.py``). A member's
short-range ZBL baseline (:mod:`deepearth.potentials.repulsion`; scaled per member) is added from its
numpy evaluation (one neighbour list within ~2 Å per frame, shared by members that differ in their
scales only). Exploration thus costs one MD plus one
``pod/global`` per observed frame, instead of K calculator calls.

Memory: ``G`` holds ``(1 + 3N)·M`` doubles (64 atoms, M = 342: 0.5 MB; 1000 atoms: 8 MB): meant for
the exploration cells, not for production-size systems.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms

from deepearth.lammps.safe import lammps_word

__all__ = ["PODCommitteeForces", "committee_in_engine"]


@dataclass
class PODCommitteeForces:
    """Every member's forces and energy from one ``compute pod/global`` of a running instance."""

    coefficients: np.ndarray  # (K, M)
    repulsions: list  # ZBLRepulsion | None per member
    compute_id: str = "committee_pod"

    def evaluate(self, lmp: Any, order: np.ndarray, atoms: Atoms, rotation: np.ndarray) -> dict[str, np.ndarray]:
        """``committee_forces`` (K, N, 3) eV/Å in ASE's frame and ``committee_energies`` (K,) eV.

        ``order``: the permutation from LAMMPS' local atoms to the caller's order (by id);
        ``rotation``: ``R`` of :func:`~deepearth.lammps.cell.ase_to_lammps` (forces rotate back by ``R.T``).
        """
        n = len(order)
        g = np.asarray(lmp.numpy.extract_compute(self.compute_id, 0, 2), dtype=float)
        if g.shape != (1 + 3 * n, self.coefficients.shape[1]):
            raise RuntimeError(f"compute pod/global returned shape {g.shape}, expected "
                               f"{(1 + 3 * n, self.coefficients.shape[1])}")
        energies = self.coefficients @ g[0]
        forces = (g[1:] @ self.coefficients.T).reshape(n, 3, -1)[order]  # (N, 3, K), LAMMPS frame
        forces = np.einsum("nak,ba->knb", forces, rotation)  # F_ase = F_lammps @ R.T
        shared: dict[tuple, dict] = {}  # unscaled ZBL by radii: bootstrap members differ in their scales only
        for k, rep in enumerate(self.repulsions):
            if rep is None:
                continue
            radii = tuple((key, v[0], v[1]) for key, v in rep.pairs.items())
            if radii not in shared:
                shared[radii] = rep.evaluate_pairs(atoms.positions, atoms.cell.array, atoms.get_chemical_symbols())
            for key, (e, f, _) in shared[radii].items():
                energies[k] += rep.pairs[key][2] * e
                forces[k] += rep.pairs[key][2] * f
        return {"committee_forces": forces, "committee_energies": energies}


def _coefficients(path: Path) -> np.ndarray:
    """The coefficient vector of a POD coefficient file (checked by ``read_model`` before)."""
    lines = Path(path).read_text().split()
    nc, npca, nk = (int(w) for w in lines[1:4])
    if npca or nk:
        raise ValueError(f"{path}: a POD model with environment clusters ({npca}, {nk}) is not linear in one "
                         "coefficient vector; its committee runs outside the engine")
    return np.array([float(w) for w in lines[4:4 + nc]])


def committee_in_engine(models: list[str], pair, lmp: Any) -> PODCommitteeForces:
    """Set up the in-engine committee of ``models`` on the running instance ``lmp``.

    Only POD committees whose members share one parameter file text are supported (what
    ``deepearth train`` writes); anything else raises ``ValueError`` (the caller then evaluates the
    committee with its own calculators).
    """
    from deepearth.potentials.pod_files import read_model

    if len(models) < 2:
        raise ValueError("a committee needs at least two models")
    if not all(str(m).endswith(".pod") for m in models):
        raise ValueError("the in-engine committee needs POD models (model.pod)")
    manifests = [read_model(Path(m)) for m in models]
    params = {Path(m["param"]).read_text() for m in manifests}
    if len(params) != 1 or {tuple(m["type_map"]) for m in manifests} != {tuple(pair.type_map)}:
        raise ValueError("the committee's members differ in their POD parameters or type map")
    coeffs = np.array([_coefficients(Path(m["coeff"])) for m in manifests])
    first = manifests[0]
    words = " ".join([lammps_word(first["param"], "POD parameter file"), lammps_word(first["coeff"], "POD coefficient file"),
                      *pair.type_map])
    forces = PODCommitteeForces(coeffs, [m.get("repulsion") for m in manifests])
    lmp.command(f"compute {forces.compute_id} all pod/global {words}")
    return forces
