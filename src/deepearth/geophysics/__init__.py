"""Geophysical models fed by property results (never by the MD/ML layers)."""

from deepearth.geophysics import bmo_evolution, earth, magma_ocean, spin, w_isotopes

__all__ = ["bmo_evolution", "earth", "magma_ocean", "spin", "w_isotopes"]
