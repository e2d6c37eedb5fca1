"""Reference labellers: energies, forces and stresses from any ASE calculator, with provenance."""

from deepearth.reference.labeller import Label, Labeller, CalculatorLabeller
from deepearth.reference.xtb import xtb_labeller
from deepearth.reference.batch import LabelRequest, label_requests
from deepearth.reference.io import read_frames

__all__ = ["Label", "Labeller", "CalculatorLabeller", "xtb_labeller", "LabelRequest", "label_requests",
           "read_frames"]
