"""Geophysical models fed by property results (never by the MD/ML layers)."""

from deepearth.geophysics import earth, magma_ocean, spin, w_isotopes

__all__ = ["earth", "magma_ocean", "spin", "w_isotopes"]
