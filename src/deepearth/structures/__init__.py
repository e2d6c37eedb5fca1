"""Structures of the deep Earth: cited minerals, supercells, point defects with formal charges, CSL grain
boundaries, liquids by melt–quench, solid–liquid coexistence cells, and a run's system and initial data."""

from deepearth.structures.build import build_supercell, initial_configurations, volume_at_pressure
from deepearth.structures.coexistence import coexistence_cell
from deepearth.structures.defects import add_impurity, add_vacancies, formal_charge, formal_charges, substitute
from deepearth.structures.grain_boundary import grain_boundary
from deepearth.structures.liquid import check_liquid, melt_quench
from deepearth.structures.minerals import mineral
from deepearth.structures.supercells import scale_to_pressure, supercell

__all__ = ["build_supercell", "initial_configurations", "volume_at_pressure",
           "add_impurity", "add_vacancies", "formal_charge", "formal_charges", "substitute", "grain_boundary",
           "mineral", "supercell", "scale_to_pressure",
           "melt_quench", "check_liquid", "coexistence_cell"]
