"""Structures of the deep Earth: cited minerals, supercells, point defects with formal charges, CSL grain
boundaries, liquids by melt–quench, solid–liquid coexistence cells, a run's system and initial data, and
the checks at the door (structure files, physically possible cells, the timestep the lightest element allows)."""

from deepearth.structures.build import build_supercell, initial_configurations, volume_at_pressure
from deepearth.structures.checks import (InputError, check_structure, check_timestep, max_timestep_fs,
                                         read_structure)
from deepearth.structures.coexistence import coexistence_cell
from deepearth.structures.defects import add_impurity, add_vacancies, formal_charge, formal_charges, substitute
from deepearth.structures.grain_boundary import grain_boundary
from deepearth.structures.liquid import check_liquid, melt_quench
from deepearth.structures.minerals import mineral
from deepearth.structures.supercells import scale_to_pressure, supercell

__all__ = ["build_supercell", "initial_configurations", "volume_at_pressure",
           "add_impurity", "add_vacancies", "formal_charge", "formal_charges", "substitute", "grain_boundary",
           "mineral", "supercell", "scale_to_pressure",
           "melt_quench", "check_liquid", "coexistence_cell",
           "InputError", "check_structure", "check_timestep", "max_timestep_fs", "read_structure"]
