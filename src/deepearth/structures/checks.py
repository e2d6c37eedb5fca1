"""Checks at the door: a structure file read with a one-line error, a structure that is physically
possible, and the largest MD timestep the lightest element of a structure allows.

Rules, and why (each bound refuses mistakes — a unit, a digit, a truncated file — not unusual science):

- **atoms and cell**: at least one atom, a 3-D cell (volume > 10⁻⁶ Å³: a periodic simulation needs
  lattice vectors; an ``.xyz`` without ``Lattice=`` has none), finite positions.
- **density** 0.5–30 g/cm³: the densest element at ambient conditions (Os) is 22.6 g/cm³ and iron at
  the centre of the Earth ≈ 13 g/cm³; below 0.5 g/cm³ a solid or melt is a cell with vacuum, a
  lattice constant in bohr read as Å, or a gas. A lattice constant off by a factor 2 fails here.
- **closest pair** ≥ 0.5 Å (periodic images included): the shortest bond in nature (H₂) is 0.74 Å;
  closer atoms make a reference calculation diverge or hang.
- **timestep** ≤ :func:`max_timestep_fs`: velocity Verlet is unstable for ω·dt ≥ 2 and conserves the
  energy well for ω·dt ≤ 0.5 (≈ 12.6 steps per period). The fastest vibration an atom of mass m takes
  part in is bounded by a stiffest bond of k = 50 eV/Å² (the O–H stretch: 3 700 cm⁻¹ at μ = 0.95 u,
  48 eV/Å²), ω = √(k/m). Hence dt_max = 0.5 √(m/k) = 0.72 fs × √(m/u): H 0.72 fs, C 2.5 fs,
  O 2.9 fs, Mg 3.5 fs, Si 3.8 fs, Fe 5.4 fs. It is a ceiling, not a recommendation: hydrous melts
  are usually run at 0.5 fs, oxides at 1 fs; molecular triple bonds (CO, N₂) are stiffer still.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable

import numpy as np
from ase import Atoms
from ase.data import atomic_masses, atomic_numbers

from deepearth.units import AMU_PER_A3_TO_G_PER_CM3, FS_TO_ASE_TIME

#: Density range of a structure, g/cm³.
MIN_DENSITY_G_CM3, MAX_DENSITY_G_CM3 = 0.5, 30.0
#: Closest distance two atoms (or an atom and its image) may have, Å.
MIN_PAIR_DISTANCE_A = 0.5
#: Force constant of the stiffest bond the timestep rule allows for, eV/Å² (O–H stretch: 48).
STIFFEST_BOND_EV_PER_A2 = 50.0
#: Largest ω·dt of the timestep rule (velocity Verlet is unstable at 2).
MAX_OMEGA_DT = 0.5


class InputError(ValueError):
    """A value of an input that cannot be used: ``key`` is its dotted recipe key (or argument name),
    ``reason`` one line; ``str()`` is ``"key: reason"``."""

    def __init__(self, key: str, reason: str):
        super().__init__(f"{key}: {reason}")
        self.key, self.reason = key, reason


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_reason(exc: BaseException) -> str:
    """A one-line, never empty, description of why a reader raised ``exc``."""
    name, text = type(exc).__name__, _one_line(str(exc))
    if not text or text in ("None", "''"):
        return (f"the file ends early or is not in the format its name says (the reader raised {name} "
                "without a message)")
    return f"{text} ({name})"


def structure_problem(atoms: Atoms) -> str | None:
    """What makes ``atoms`` impossible as a periodic simulation cell (rules in the module docstring),
    or ``None``. Periodic images are counted in all three directions whatever ``atoms.pbc`` says."""
    if len(atoms) == 0:
        return "no atoms"
    cell = np.asarray(atoms.cell.array, dtype=float)
    if not np.isfinite(cell).all() or not np.isfinite(atoms.positions).all():
        return "non-finite cell or positions"
    volume = abs(float(np.linalg.det(cell)))
    if atoms.cell.rank < 3 or volume <= 1e-6:
        return ("no 3-D periodic cell (lattice vectors are needed: POSCAR, CIF, or extxyz with Lattice=...; "
                "a plain .xyz has none)")
    density = float(atoms.get_masses().sum()) / volume * AMU_PER_A3_TO_G_PER_CM3
    if not MIN_DENSITY_G_CM3 <= density <= MAX_DENSITY_G_CM3:
        return (f"density {density:.3g} g/cm³ is outside {MIN_DENSITY_G_CM3:g}–{MAX_DENSITY_G_CM3:g} g/cm³ "
                "(a wrong lattice constant or unit, or vacuum in the cell?)")
    from ase.neighborlist import neighbor_list

    periodic = Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=cell, pbc=True)
    i, j, d = neighbor_list("ijd", periodic, MIN_PAIR_DISTANCE_A)
    if len(d):
        k = int(np.argmin(d))
        s = atoms.get_chemical_symbols()
        which = f"atom {i[k]} ({s[i[k]]}) and its periodic image" if i[k] == j[k] else \
            f"atoms {i[k]} ({s[i[k]]}) and {j[k]} ({s[j[k]]})"
        return f"{which} are {d[k]:.3g} Å apart, closer than {MIN_PAIR_DISTANCE_A:g} Å"
    return None


def check_structure(atoms: Atoms, source: str) -> None:
    """A ``ValueError`` ``"{source}: {problem}"`` when :func:`structure_problem` finds one; ``source``
    names where the structure came from (a file, a recipe key)."""
    problem = structure_problem(atoms)
    if problem:
        raise ValueError(f"{source}: {problem}")


def read_structure(path: str | Path) -> Atoms:
    """The structure in ``path`` (any format ``ase.io.read`` knows; the last frame of a trajectory),
    checked by :func:`check_structure`. Every failure — missing, empty, truncated or garbage file, no
    atoms, no cell — is one ``ValueError`` naming the file: ``"{path}: cannot read as a structure:
    {reason}"`` or ``"{path}: {problem}"``."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such structure file")
    from ase.io import read

    try:
        atoms = read(path)
    except Exception as exc:  # ASE's readers raise anything: StopIteration, AssertionError, IndexError...
        raise ValueError(f"{path}: cannot read as a structure: {read_reason(exc)}") from None
    if not isinstance(atoms, Atoms):
        raise ValueError(f"{path}: cannot read as a structure: the reader gave {type(atoms).__name__}, not atoms")
    check_structure(atoms, str(path))
    return atoms


def max_timestep_fs(symbols: Iterable[str]) -> tuple[float, str]:
    """The largest MD timestep (fs) the lightest of ``symbols`` allows, and that element:
    dt_max = ``MAX_OMEGA_DT`` · √(m / ``STIFFEST_BOND_EV_PER_A2``) (module docstring)."""
    elements = set(symbols)
    if not elements:
        raise ValueError("no elements: the timestep limit needs the structure's atoms")
    unknown = sorted(e for e in elements if e not in atomic_numbers)
    if unknown:
        raise ValueError(f"unknown element(s) {', '.join(unknown)}")
    lightest = min(elements, key=lambda e: atomic_masses[atomic_numbers[e]])
    mass = float(atomic_masses[atomic_numbers[lightest]])
    # √(u / (eV/Å²)) is the ASE time unit
    return MAX_OMEGA_DT * math.sqrt(mass / STIFFEST_BOND_EV_PER_A2) / FS_TO_ASE_TIME, lightest


def check_timestep(timestep_fs: float, symbols: Iterable[str], key: str) -> None:
    """An :class:`InputError` naming ``key`` unless 0 < ``timestep_fs`` ≤ :func:`max_timestep_fs` of
    ``symbols`` (the elements that move)."""
    dt = float(timestep_fs)
    if not math.isfinite(dt) or dt <= 0:
        raise InputError(key, f"the timestep must be a positive finite number of fs, got {timestep_fs!r}")
    limit, element = max_timestep_fs(symbols)
    if dt > limit:
        mass = float(atomic_masses[atomic_numbers[element]])
        raise InputError(key, f"{dt:g} fs is above the {limit:.2f} fs that the lightest element, {element} "
                              f"({mass:.3g} u), allows (ω·dt ≤ {MAX_OMEGA_DT:g} for a bond of "
                              f"{STIFFEST_BOND_EV_PER_A2:g} eV/Å²; see deepearth.structures.checks)")
