"""Elastic constants at 0 K: static stress–strain finite differences with relaxed internal coordinates.

The cell is first relaxed to the target pressure (ASE's ``FrechetCellFilter`` with ``scalar_pressure``,
all six cell degrees of freedom), then each Voigt strain ``±δ e_J`` is applied
(:func:`~deepearth.properties.elastic.strained_cell`), the atoms are relaxed at fixed cell (the
internal-strain, "relaxed-ion" constants; Nielsen & Martin 1985 for stress, Wu, Vanderbilt & Hamann
2005 for relaxed-ion tensors) and the stress is read: ``C_IJ = [σ_I(+δ) − σ_I(−δ)]/2δ`` in ASE's sign
(positive in tension) — at pressure the stress–strain coefficients of Wallace (1972), as the MD path
(:mod:`deepearth.pipeline.elastic_md`) measures them. The errors are the fit residuals (the curvature
of σ(e); :func:`~deepearth.properties.elastic.stiffness_from_stress_strain`).

A workflow (it runs a calculator), so it lives in the pipeline, not in ``properties/``.
"""

from __future__ import annotations

import logging

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator

from deepearth.properties.elastic import ElasticResult, from_stress_strain, strain_set, strained_cell
from deepearth.units import AMU_PER_A3_TO_G_PER_CM3, EV_PER_A3_TO_GPA, GPA_TO_EV_PER_A3

__all__ = ["density_kg_m3", "relax_cell", "static_elastic_constants"]

log = logging.getLogger(__name__)


def density_kg_m3(atoms: Atoms) -> float:
    """Mass density of ``atoms`` (kg/m³) from ASE's atomic masses and the cell volume."""
    return float(atoms.get_masses().sum()) / atoms.get_volume() * AMU_PER_A3_TO_G_PER_CM3 * 1e3


def _optimise(obj, fmax: float, max_steps: int, what: str) -> None:
    from ase.optimize import BFGS

    opt = BFGS(obj, logfile=None)
    if not opt.run(fmax=fmax, steps=max_steps):
        raise ValueError(f"{what}: not converged to fmax {fmax:g} eV/Å in {max_steps} BFGS steps")


def relax_cell(atoms: Atoms, calculator: Calculator, pressure_GPa: float = 0.0, fmax_eV_A: float = 1e-4,
               max_steps: int = 1000) -> Atoms:
    """A copy of ``atoms`` relaxed (positions and all six cell degrees of freedom) at ``pressure_GPa``
    with BFGS on ASE's ``FrechetCellFilter`` (``fmax`` on forces and on stress × volume, eV/Å)."""
    from ase.filters import FrechetCellFilter

    a = atoms.copy()
    a.calc = calculator
    _optimise(FrechetCellFilter(a, scalar_pressure=float(pressure_GPa) * GPA_TO_EV_PER_A3), fmax_eV_A, max_steps,
              f"relax_cell at {pressure_GPa:g} GPa")
    return a


def static_elastic_constants(atoms: Atoms, calculator: Calculator, pressure_GPa: float = 0.0, strain: float = 0.005,
                             symmetry: str | None = None, relax: bool = True, relax_positions: bool = True,
                             fmax_eV_A: float = 1e-4, max_steps: int = 1000) -> ElasticResult:
    """The 0 K (static) stiffness of ``atoms`` with ``calculator`` at ``pressure_GPa`` (GPa), from ``±strain``
    along the six Voigt directions (module docstring: method and references).

    ``relax``: relax the cell to ``pressure_GPa`` first (else ``atoms`` is the reference as given);
    ``relax_positions``: relax internal coordinates in each strained cell (relaxed-ion constants);
    ``symmetry``: a crystal system (standard orientation) checked, or fitted with only its constants.
    Returns an :class:`~deepearth.properties.elastic.ElasticResult` (``thermodynamic="static"``).
    """
    ref = relax_cell(atoms, calculator, pressure_GPa, fmax_eV_A, max_steps) if relax else atoms.copy()
    ref.calc = calculator
    strains = strain_set(strain)
    stresses = []
    for e in strains:
        b = ref.copy()
        b.set_cell(strained_cell(ref.cell.array, e), scale_atoms=True)
        b.calc = calculator
        if relax_positions and len(b) > 1:
            _optimise(b, fmax_eV_A, max_steps, f"positions at strain {np.round(e, 6).tolist()}")
        stresses.append(b.get_stress(voigt=True) * EV_PER_A3_TO_GPA)
    log.debug("static elastic constants: %d strained cells at %g GPa", len(strains), pressure_GPa)
    n = len(ref)
    p_ref = -float(np.mean(ref.get_stress(voigt=True)[:3])) * EV_PER_A3_TO_GPA  # the unstrained reference's
    return from_stress_strain(strains, np.array(stresses), density_kg_m3(ref), symmetry=symmetry,
                              cell_A=ref.cell.array, temperature_K=0.0, pressure_GPa=p_ref,
                              method=f"static stress-strain at 0 K, {n} atoms, ±{strain:g} strains, "
                                     f"{'relaxed' if relax_positions else 'clamped'}-ion", thermodynamic="static")
