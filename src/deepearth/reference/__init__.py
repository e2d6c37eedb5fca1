"""Reference labellers: energies, forces and stresses from any ASE calculator, with provenance."""

from deepearth.reference.labeller import Label, Labeller, CalculatorLabeller
from deepearth.reference.xtb import xtb_labeller
from deepearth.reference.gpaw import gpaw_labeller  # GPAW itself is imported only when a labeller is made
from deepearth.reference.universal import universal_labeller  # likewise chgnet / sevenn
from deepearth.reference.batch import LabelRequest, label_requests
from deepearth.reference.io import read_frames

__all__ = ["Label", "Labeller", "CalculatorLabeller", "xtb_labeller", "gpaw_labeller", "universal_labeller",
           "LabelRequest", "label_requests", "read_frames"]
