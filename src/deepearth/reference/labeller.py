"""The ``Labeller`` protocol and its one generic backend: any ASE calculator.

A label is the reference energy (eV), forces (eV/Å) and stress (eV/Å³, ASE sign: positive =
tensile) of one configuration, with the provenance needed to never mix settings unknowingly
(Wan & Li 2026, §2.1). A failed calculation (SCF not converged, NaN, an exception in the
calculator) is returned as a failed :class:`Label`, never raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator


@dataclass
class Label:
    """The outcome of labelling one configuration."""

    atoms: Atoms
    ok: bool
    energy_eV: float | None = None
    forces_eV_per_A: np.ndarray | None = None
    stress_eV_per_A3: np.ndarray | None = None  # Voigt order xx yy zz yz xz xy, ASE sign
    error: str = ""
    provenance: dict = field(default_factory=dict)


class Labeller(Protocol):
    """Anything that turns a configuration into a :class:`Label`."""

    name: str
    provenance: dict

    def label(self, atoms: Atoms) -> Label: ...


class CalculatorLabeller:
    """Label with any ASE calculator made fresh by ``factory`` for each configuration.

    ``provenance`` (method, electronic temperature in K, code settings...) is copied into every
    label. A fresh calculator per configuration keeps labels independent of call order (no SCF
    restart from the previous frame), so a resumed run reproduces the same labels.

    ``force_consistent=True`` labels the energy the forces and stress are derivatives of, ASE's
    ``get_potential_energy(force_consistent=True)`` (the ``free_energy`` result: with a finite
    electronic temperature, the Mermin free energy E − T_el·S); the default takes the calculator's
    plain ``energy`` (which some codes extrapolate to zero smearing).
    """

    def __init__(self, factory: Callable[[], Calculator], name: str, provenance: dict,
                 force_consistent: bool = False):
        self.factory = factory
        self.name = name
        self.provenance = dict(provenance, labeller=name)
        self.force_consistent = bool(force_consistent)

    def label(self, atoms: Atoms) -> Label:
        """Energy (eV), forces (eV/Å) and stress (eV/Å³) of ``atoms``; the label keeps its own copy of
        the configuration (a caller that moves ``atoms`` on, as an MD loop does, does not move the label)."""
        atoms = atoms.copy()
        work = atoms.copy()
        work.calc = self.factory()
        try:
            energy = float(work.get_potential_energy(force_consistent=True) if self.force_consistent
                           else work.get_potential_energy())
            forces = np.array(work.get_forces(), dtype=float)
            stress = np.array(work.get_stress(voigt=True), dtype=float)
        except Exception as exc:  # any calculator failure is recorded, never fatal
            return Label(atoms=atoms, ok=False, error=f"{type(exc).__name__}: {exc}".strip()[:500],
                         provenance=self.provenance)
        if not (np.isfinite(energy) and np.all(np.isfinite(forces)) and np.all(np.isfinite(stress))):
            return Label(atoms=atoms, ok=False, error="non-finite energy, forces or stress",
                         provenance=self.provenance)
        return Label(atoms=atoms, ok=True, energy_eV=energy, forces_eV_per_A=forces,
                     stress_eV_per_A3=stress, provenance=self.provenance)
