"""The MD engines by name, as recipes spell them (``exploration.engine``, ``production.engine``).

``auto`` (the default) runs a potential that has a LAMMPS pair style in the LAMMPS engine and any
other ASE calculator in the ASE engine.
"""

from __future__ import annotations

from typing import Callable

from ase import Atoms
from ase.calculators.calculator import Calculator

from deepearth.lammps.pair import has_pair_style
from deepearth.md.engine import ASEEngine, Engine, MDSettings
from deepearth.md.lammps_engine import LammpsEngine

__all__ = ["ENGINES", "AutoEngine", "engine_name", "make_engine"]


class AutoEngine:
    """The default: the LAMMPS engine for a potential with a LAMMPS pair style (POD, DeePMD), the ASE
    engine for any other ASE calculator (EMT, xTB, a universal potential, a T_el-aware DeePMD model)."""

    name = "auto"

    def __init__(self, ranks: int = 1) -> None:
        self._ase = ASEEngine()
        self._lammps = None
        self.ranks = ranks

    def choose(self, calculator: Calculator) -> Engine:
        """The engine that runs ``calculator``."""
        if has_pair_style(calculator):
            if self._lammps is None:
                self._lammps = LammpsEngine(ranks=self.ranks)
            return self._lammps
        return self._ase

    def run(self, atoms: Atoms, calculator: Calculator, settings: MDSettings) -> Atoms:
        return self.choose(calculator).run(atoms, calculator, settings)


#: Engines by name, as recipes spell them (``exploration.engine``, ``production.engine``).
ENGINES: dict[str, Callable[[], Engine]] = {"auto": AutoEngine, "ase": ASEEngine, "lammps": LammpsEngine}


def engine_name(name: str) -> str:
    """``name`` if it is a registered engine, else ``ValueError`` naming the known ones."""
    if name not in ENGINES:
        raise ValueError(f"unknown MD engine {name!r} (one of {', '.join(ENGINES)})")
    return name


def make_engine(name: str, ranks: int = 1) -> Engine:
    """An :class:`Engine` by name; ``ranks``: MPI ranks of the LAMMPS engine (``auto``, ``lammps``)."""
    name = engine_name(name)
    return ASEEngine() if name == "ase" else ENGINES[name](ranks=ranks)
