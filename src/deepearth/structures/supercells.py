"""Supercells of a cell, and a cell scaled to the volume an equation of state gives at a pressure.

``supercell`` repeats a cell along its own axes (diagonal repeats n1 × n2 × n3 only, so every
supercell keeps the symmetry and the orientation of the cell):

- ``n_atoms=N``: at least N atoms, as close to cubic as possible. Among the repeats with at least N
  and at most 2N atoms (or, when one cell already has more than 2N, the fewest cells reaching N),
  the one with the smallest anisotropy (largest / smallest perpendicular width of the supercell) is
  chosen; ties go to fewer atoms, then to the repeat that is largest along the first axes. The
  factor 2 bounds the search: a slightly less cubic cell is preferred to one with more than twice
  the atoms asked for (e.g. 100 atoms of periclase: 3 × 3 × 2, 144 atoms, not 3 × 3 × 3, 216).
- ``min_length_A=L``: the smallest repeat with every perpendicular width (the distance between
  opposite faces, the quantity the minimum-image convention and a cutoff see) at least L.

``scale_to_pressure`` scales a cell isotropically to the volume at which an EOS gives a pressure.
Convention: the EOS's ``volume(P)`` is the volume of a cell of ``eos_n_atoms`` atoms; the target
volume per atom is ``eos.volume(P) / eos_n_atoms`` and the cell is scaled to that volume per atom
times ``len(atoms)``. ``eos_n_atoms`` defaults to ``len(atoms)`` — the EOS was fitted on this very
cell; for an EOS per formula unit pass the atoms of one formula unit (2 for MgO), for one per atom
pass 1. A :class:`deepearth.properties.eos.BirchMurnaghan3` fitted on a 64-atom cell needs
``eos_n_atoms=64`` when applied to any other cell.
"""

from __future__ import annotations

import itertools
import math
from numbers import Integral, Real

import numpy as np
from ase import Atoms

_MAX_REPEAT = 100  # per axis; far beyond any supercell an atomistic code will run


def _check_cell(atoms: Atoms) -> np.ndarray:
    if not isinstance(atoms, Atoms):
        raise TypeError(f"atoms: expected ase.Atoms, got {type(atoms).__name__}")
    if len(atoms) == 0:
        raise ValueError("atoms: the cell has no atoms")
    cell = atoms.cell.array
    volume = abs(float(np.linalg.det(cell)))
    if not np.isfinite(volume) or volume <= 1e-9:
        raise ValueError("atoms: the cell has no volume (set a 3-D periodic cell)")
    return cell


def perpendicular_widths(cell) -> np.ndarray:
    """Distances (Å) between opposite faces of ``cell`` (3 × 3, rows the cell vectors):
    V / |a_j × a_k| for each axis i."""
    cell = np.asarray(cell, dtype=float)
    volume = abs(float(np.linalg.det(cell)))
    return np.array([volume / np.linalg.norm(np.cross(cell[(i + 1) % 3], cell[(i + 2) % 3]))
                     for i in range(3)])


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name}: must be positive, got {value}")
    return int(value)


def _positive_length(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise ValueError(f"{name}: expected a positive finite number (Å), got {value!r}")
    if value <= 0:
        raise ValueError(f"{name}: must be positive, got {value}")
    return float(value)


def _repeat_for_count(widths: np.ndarray, n_per_cell: int, n_atoms: int) -> tuple[int, int, int]:
    m_min = max(1, math.ceil(n_atoms / n_per_cell))
    m_max = max(m_min, (2 * n_atoms) // n_per_cell)  # at most twice the atoms asked for
    best_key, best = None, None
    for n1 in range(1, min(m_max, _MAX_REPEAT) + 1):
        for n2 in range(1, min(m_max // n1, _MAX_REPEAT) + 1):
            lo3 = max(1, math.ceil(m_min / (n1 * n2)))
            hi3 = min(m_max // (n1 * n2), _MAX_REPEAT)
            if hi3 < lo3:
                continue
            # max/min width over n3 falls, is flat while n3·w3 lies between the other two widths,
            # then rises: its minimum is at one of these n3 (the smallest of the flat part included)
            w_a, w_b = sorted((n1 * widths[0], n2 * widths[1]))
            candidates = {lo3, hi3}
            for t in (w_a / widths[2], w_b / widths[2]):
                candidates.update((math.floor(t), math.ceil(t)))
            for n3 in candidates:
                if not lo3 <= n3 <= hi3:
                    continue
                w = widths * (n1, n2, n3)
                key = (round(float(w.max() / w.min()), 9), n1 * n2 * n3, -n1, -n2)
                if best_key is None or key < best_key:
                    best_key, best = key, (n1, n2, n3)
    if best is None:
        raise ValueError(f"n_atoms: {n_atoms} atoms need more than {_MAX_REPEAT} repeats per axis")
    return best


def supercell(atoms: Atoms, *, n_atoms: int | None = None, min_length_A: float | None = None) -> Atoms:
    """``atoms`` repeated n1 × n2 × n3 times: to at least ``n_atoms`` atoms, as close to cubic as
    possible, or to every perpendicular width ≥ ``min_length_A`` (Å). Give exactly one of the two.

    Returns a new Atoms; ``info`` is kept, with ``repeat`` = [n1, n2, n3] and ``formula_units``
    multiplied by n1·n2·n3 when present. Rules in the module docstring.
    """
    cell = _check_cell(atoms)
    if (n_atoms is None) == (min_length_A is None):
        raise ValueError("supercell: give exactly one of n_atoms and min_length_A "
                         f"(got n_atoms={n_atoms!r}, min_length_A={min_length_A!r})")
    widths = perpendicular_widths(cell)
    if n_atoms is not None:
        repeat = _repeat_for_count(widths, len(atoms), _positive_int(n_atoms, "n_atoms"))
    else:
        length = _positive_length(min_length_A, "min_length_A")
        repeat = tuple(max(1, math.ceil(length / w - 1e-9)) for w in widths)
        if max(repeat) > _MAX_REPEAT:
            raise ValueError(f"min_length_A: {length} Å needs more than {_MAX_REPEAT} repeats per axis")
    big = atoms.repeat(repeat)
    big.info["repeat"] = [int(n) for n in repeat]
    if "formula_units" in atoms.info:
        big.info["formula_units"] = int(atoms.info["formula_units"]) * int(np.prod(repeat))
    return big


def scale_to_pressure(atoms: Atoms, P_GPa: float, eos, *, eos_n_atoms: int | None = None) -> Atoms:
    """``atoms`` scaled isotropically (fractional coordinates kept) to the volume at which ``eos``
    gives ``P_GPa``.

    ``eos`` is any object with ``volume(P_GPa) -> Å³`` (e.g. BirchMurnaghan3); that volume is for a
    cell of ``eos_n_atoms`` atoms (default ``len(atoms)``: the EOS of this very cell; 2 for an EOS
    per MgO; 1 for one per atom). The result's volume per atom is ``eos.volume(P_GPa) /
    eos_n_atoms``. Returns a new Atoms with ``info["pressure_GPa"]`` = P_GPa and
    ``info["volume_per_atom_A3"]``; ``info["conditions"]`` (those of the cited cell) is left as is.
    """
    cell = _check_cell(atoms)
    if isinstance(P_GPa, bool) or not isinstance(P_GPa, Real) or not math.isfinite(float(P_GPa)):
        raise ValueError(f"P_GPa: expected a finite number, got {P_GPa!r}")
    if not callable(getattr(eos, "volume", None)):
        raise TypeError(f"eos: expected an object with volume(P_GPa) -> Å³, got {type(eos).__name__}")
    n_eos = len(atoms) if eos_n_atoms is None else _positive_int(eos_n_atoms, "eos_n_atoms")
    volume = float(eos.volume(float(P_GPa)))
    if not math.isfinite(volume) or volume <= 0:
        raise ValueError(f"eos.volume({P_GPa}) = {volume!r} Å³: not a positive volume")
    v_atom = volume / n_eos
    current = abs(float(np.linalg.det(cell)))
    scaled = atoms.copy()
    scaled.set_cell(cell * (v_atom * len(atoms) / current) ** (1 / 3), scale_atoms=True)
    scaled.info["pressure_GPa"] = float(P_GPa)
    scaled.info["volume_per_atom_A3"] = v_atom
    return scaled
