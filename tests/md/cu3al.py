"""A Cu3Al test system for the LAMMPS engine tests (the POD committee fixture is in conftest.py)."""

from ase.build import bulk

TYPE_MAP = ["Al", "Cu"]


def cu3al_cell(a0: float = 3.61, rep=(2, 2, 2)):
    """An fcc Cu cell (lattice constant ``a0`` Å) with every fourth atom Al, repeated ``rep``."""
    a = bulk("Cu", "fcc", a=a0, cubic=True).repeat(rep)
    symbols = a.get_chemical_symbols()
    for j in range(0, len(a), 4):
        symbols[j] = "Al"
    a.set_chemical_symbols(symbols)
    return a
