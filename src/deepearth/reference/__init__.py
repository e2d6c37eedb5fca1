"""Reference labellers: energies, forces and stresses from any ASE calculator, with provenance."""

from deepearth.reference.labeller import Label, Labeller, CalculatorLabeller
from deepearth.reference.xtb import xtb_labeller

__all__ = ["Label", "Labeller", "CalculatorLabeller", "xtb_labeller"]
