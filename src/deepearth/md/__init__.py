"""Molecular dynamics: the ``Engine`` protocol, the embedded ASE engine, trajectory I/O."""

from deepearth.md.engine import ASEEngine, Engine, MDBlowUp, MDSettings

__all__ = ["ASEEngine", "Engine", "MDBlowUp", "MDSettings"]
