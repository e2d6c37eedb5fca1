"""How a potential runs inside LAMMPS: its ``pair_style``/``pair_coeff`` lines and type map.

Calculators that can run inside the LAMMPS engine (``PODCalculator``, DeePMD-kit's calculator as the
DeePMD backend returns it) have a ``lammps_pair()`` method returning a :class:`LammpsPair`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = ["HasPairStyle", "LammpsPair", "has_pair_style"]


@dataclass
class LammpsPair:
    """A potential in LAMMPS: ``pair_style``/``pair_coeff`` lines (every path and name already checked
    with :func:`~deepearth.lammps.safe.lammps_word`), the species in LAMMPS type order, whether the
    ``lammps.plugins`` (DeePMD-kit's ``pair_style deepmd``) must be loaded, and the model file (for
    messages)."""

    commands: list[str]
    type_map: list[str]
    plugins: bool = False
    model: str = ""


@runtime_checkable
class HasPairStyle(Protocol):
    """A calculator that can run inside LAMMPS."""

    def lammps_pair(self) -> LammpsPair: ...


def has_pair_style(calculator: Any) -> bool:
    """Whether ``calculator`` can run inside LAMMPS (it has a ``lammps_pair()`` method)."""
    return callable(getattr(calculator, "lammps_pair", None))
