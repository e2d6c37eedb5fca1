"""Held-out errors of a model against reference labels (SCIENCE.md §1 step 3)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ase import Atoms

from deepearth.units import EV_PER_A3_TO_GPA


@dataclass
class ValidationErrors:
    """RMSE of energy (meV/atom), force components (eV/Å) and stress components (GPa) on ``n_frames``,
    with the parity data (reference vs model) for plots."""

    n_frames: int
    rmse_energy_meV_per_atom: float
    rmse_force_eV_per_A: float
    rmse_stress_GPa: float
    parity: dict = field(default_factory=dict, repr=False)

    def summary(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "parity"}


def validation_errors(evaluator, frames: list[Atoms]) -> ValidationErrors:
    """Compare ``evaluator`` (a backend's ``ForceEvaluator``) with the labels attached to ``frames``.

    Energies are compared per atom; stress = −virial/V in GPa (sign irrelevant for the RMSE but kept
    in the ASE convention for parity plots).
    """
    if not frames:
        nan = float("nan")
        return ValidationErrors(0, nan, nan, nan, {})
    e_ref, e_mod, f_ref, f_mod, s_ref, s_mod = [], [], [], [], [], []
    for atoms in frames:
        e, f, v = evaluator.evaluate(atoms.get_positions(), atoms.cell.array, atoms.get_chemical_symbols())
        n, vol = len(atoms), atoms.get_volume()
        e_ref.append(atoms.get_potential_energy() / n)
        e_mod.append(e / n)
        f_ref.append(atoms.get_forces().ravel())
        f_mod.append(f.ravel())
        s_ref.append(atoms.get_stress(voigt=False).ravel() * EV_PER_A3_TO_GPA)
        s_mod.append(-v.ravel() / vol * EV_PER_A3_TO_GPA)
    e_ref, e_mod = np.array(e_ref), np.array(e_mod)
    f_ref, f_mod = np.concatenate(f_ref), np.concatenate(f_mod)
    s_ref, s_mod = np.concatenate(s_ref), np.concatenate(s_mod)

    def rmse(a, b):
        return float(np.sqrt(np.mean((a - b) ** 2)))

    parity = {"energy_eV_per_atom": (e_ref.tolist(), e_mod.tolist()), "force_eV_per_A": (f_ref.tolist(), f_mod.tolist()),
              "stress_GPa": (s_ref.tolist(), s_mod.tolist())}
    return ValidationErrors(len(frames), 1000 * rmse(e_ref, e_mod), rmse(f_ref, f_mod), rmse(s_ref, s_mod), parity)
