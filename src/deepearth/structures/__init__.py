"""Structures: minerals, supercells and the initial configurations of a run."""

from deepearth.structures.build import build_supercell, initial_configurations, volume_at_pressure

__all__ = ["build_supercell", "initial_configurations", "volume_at_pressure"]
