"""Elastic tensors in Voigt notation: conversion, input checks and the crystal systems' forms.

Voigt notation (Nye 1985, *Physical Properties of Crystals*, ch. VIII): the index pairs
xx, yy, zz, yz, xz, xy are 1…6 (0…5 here); stresses ``σ_I = σ_ij``; strains ``e_I`` are the
engineering strains ``e_1..3 = ε_xx, ε_yy, ε_zz`` and ``e_4..6 = 2ε_yz, 2ε_xz, 2ε_xy``, so that
``σ_I = C_IJ e_J`` with ``C_IJ = C_ijkl`` (no factors of 2 in the stiffness).

The crystal systems (:data:`SYSTEMS`) are written in their standard orientation (IEEE 176 / Nye):
the crystal axes along x, y, z (hexagonal and trigonal: c along z, a along x; monoclinic: the
2-fold axis along y, the common mineralogical setting). A tensor computed on a cell in another
orientation must be rotated first. Each system is a list of its independent constants, each with
the Voigt entries it fills (and a factor): a symmetric ``C = Σ_k p_k M_k``.
"""

from __future__ import annotations

import numpy as np

from deepearth.properties.checks import require_finite

__all__ = ["SYSTEMS", "VOIGT_PAIRS", "as_voigt", "basis", "from_independent", "full_to_voigt", "independent_names",
           "label", "voigt_to_full"]

#: Tensor index pairs of the Voigt indices 0..5 (xx, yy, zz, yz, xz, xy).
VOIGT_PAIRS: tuple[tuple[int, int], ...] = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))
_VOIGT = {(0, 0): 0, (1, 1): 1, (2, 2): 2, (1, 2): 3, (2, 1): 3, (0, 2): 4, (2, 0): 4, (0, 1): 5, (1, 0): 5}


def label(i: int, j: int) -> str:
    """``"C12"`` for the 0-based Voigt entry (0, 1)."""
    return f"C{i + 1}{j + 1}"


def _entries(*items) -> list[tuple[int, int, float]]:
    """``("11", "22", ("66", 0.5))`` → 0-based (i, j, factor) triples."""
    out = []
    for it in items:
        name, factor = (it, 1.0) if isinstance(it, str) else it
        out.append((int(name[0]) - 1, int(name[1]) - 1, float(factor)))
    return out


_ORTHO = {"C" + n: _entries(n) for n in ("11", "22", "33", "12", "13", "23", "44", "55", "66")}

#: Independent constants of each crystal system (standard orientation) and the Voigt entries each
#: fills: ``{system: {"C11": [(i, j, factor), ...], ...}}`` (upper triangle, 0-based).
SYSTEMS: dict[str, dict[str, list[tuple[int, int, float]]]] = {
    "isotropic": {"C11": _entries("11", "22", "33", ("44", 0.5), ("55", 0.5), ("66", 0.5)),
                  "C12": _entries("12", "13", "23", ("44", -0.5), ("55", -0.5), ("66", -0.5))},
    "cubic": {"C11": _entries("11", "22", "33"), "C12": _entries("12", "13", "23"),
              "C44": _entries("44", "55", "66")},
    "hexagonal": {"C11": _entries("11", "22", ("66", 0.5)), "C12": _entries("12", ("66", -0.5)),
                  "C13": _entries("13", "23"), "C33": _entries("33"), "C44": _entries("44", "55")},
    "trigonal": {"C11": _entries("11", "22", ("66", 0.5)), "C12": _entries("12", ("66", -0.5)),
                 "C13": _entries("13", "23"), "C14": _entries("14", ("24", -1.0), "56"),
                 "C33": _entries("33"), "C44": _entries("44", "55")},
    "tetragonal": {"C11": _entries("11", "22"), "C12": _entries("12"), "C13": _entries("13", "23"),
                   "C33": _entries("33"), "C44": _entries("44", "55"), "C66": _entries("66")},
    "orthorhombic": dict(_ORTHO),
    "monoclinic": {**_ORTHO, **{"C" + n: _entries(n) for n in ("15", "25", "35", "46")}},
    "triclinic": {label(i, j): [(i, j, 1.0)] for i in range(6) for j in range(i, 6)},
}


def independent_names(system: str) -> list[str]:
    """The independent constants of ``system`` (``"cubic"`` → C11, C12, C44)."""
    return list(_system(system))


def _system(system: str) -> dict[str, list[tuple[int, int, float]]]:
    if system not in SYSTEMS:
        raise ValueError(f"symmetry: unknown crystal system {system!r} (one of {', '.join(SYSTEMS)}; "
                         "'triclinic' assumes nothing)")
    return SYSTEMS[system]


def basis(system: str) -> np.ndarray:
    """``(k, 6, 6)`` symmetric basis matrices ``M_k`` of ``system``: ``C = Σ_k p_k M_k``."""
    consts = _system(system)
    out = np.zeros((len(consts), 6, 6))
    for k, entries in enumerate(consts.values()):
        for i, j, f in entries:
            out[k, i, j] = f
            out[k, j, i] = f
    return out


def from_independent(system: str, values) -> np.ndarray:
    """The 6×6 Voigt matrix of ``system`` from its independent constants (in :func:`independent_names` order)."""
    p = np.asarray(values, dtype=float)
    m = basis(system)
    if p.shape != (len(m),):
        raise ValueError(f"values: {system} needs {len(m)} constants ({', '.join(independent_names(system))}), "
                         f"got shape {p.shape}")
    return np.einsum("k,kij->ij", p, m)


def voigt_to_full(c_voigt) -> np.ndarray:
    """The 3×3×3×3 tensor ``C_ijkl`` of a 6×6 Voigt stiffness (no factors: ``C_ijkl = C_IJ``)."""
    c = np.asarray(c_voigt, dtype=float)
    full = np.empty((3, 3, 3, 3))
    for i in range(3):
        for j in range(3):
            for k in range(3):
                for m in range(3):
                    full[i, j, k, m] = c[_VOIGT[i, j], _VOIGT[k, m]]
    return full


def full_to_voigt(c_full, name: str = "C") -> np.ndarray:
    """The 6×6 Voigt matrix of a 3×3×3×3 stiffness; ``ValueError`` if it lacks the minor symmetries
    ``C_ijkl = C_jikl = C_ijlk`` (to 1e-8 of its largest entry)."""
    c = np.asarray(c_full, dtype=float)
    scale = max(float(np.max(np.abs(c))), 1e-300)
    for axes, what in (((1, 0, 2, 3), "C_ijkl = C_jikl"), ((0, 1, 3, 2), "C_ijkl = C_ijlk")):
        dev = np.max(np.abs(c - c.transpose(axes)))
        if dev > 1e-8 * scale:
            raise ValueError(f"{name}: the 3×3×3×3 tensor breaks the minor symmetry {what} (by {dev:.3g}); "
                             "not a stiffness tensor")
    out = np.empty((6, 6))
    for a, (i, j) in enumerate(VOIGT_PAIRS):
        for b, (k, m) in enumerate(VOIGT_PAIRS):
            out[a, b] = c[i, j, k, m]
    return out


def as_voigt(c, name: str = "C_voigt_GPa") -> np.ndarray:
    """A finite 6×6 Voigt matrix from a 6×6 array or a 3×3×3×3 tensor; one ``ValueError`` line otherwise."""
    try:
        arr = np.asarray(c, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: not an array of numbers") from None
    if arr.shape == (3, 3, 3, 3):
        arr = full_to_voigt(require_finite(name, arr, ("i", "j", "k", "l")), name)
    elif arr.shape != (6, 6):
        raise ValueError(f"{name}: shape {arr.shape}; a stiffness is a 6×6 Voigt matrix or a 3×3×3×3 tensor")
    cells = [label(i, j) for i in range(6) for j in range(6)]
    bad = ~np.isfinite(arr)
    if bad.any():
        k = int(np.flatnonzero(bad.ravel())[0])
        raise ValueError(f"{name}: {arr.ravel()[k]} at {cells[k]} ({int(bad.sum())} non-finite entries in all)")
    return arr
