"""Cells between ASE (any cell) and LAMMPS's restricted triclinic box, with vectors and tensors.

Convention (https://docs.lammps.org/Howto_triclinic.html): a LAMMPS box has edge vectors
``A = (lx, 0, 0)``, ``B = (xy, ly, 0)``, ``C = (xz, yz, lz)`` with ``lx, ly, lz > 0`` and the origin
``(xlo, ylo, zlo)``; ``xhi = xlo + lx`` etc. As rows, that is a lower-triangular cell. An ASE cell
(rows ``a, b, c``, origin 0) of any orientation maps onto it by an orthogonal matrix ``R``::

    cell @ R = lammps_cell                 (rows; R from a QR decomposition, diagonal made positive)
    v_lammps = v_ase @ R + origin          positions (Å)
    v_lammps = v_ase @ R                   velocities, forces (any units: unchanged)
    T_lammps = R.T @ T_ase @ R             rank-2 tensors: stress, virial, pressure (units and sign unchanged)

and back with ``R.T``. ``R`` is a proper rotation for right-handed cells; a left-handed cell
(``det < 0``) gets a reflection in it (LAMMPS boxes are right-handed) — still orthogonal, the same
formulas hold. A cell that is already lower-triangular with a positive diagonal maps with
``R = 1`` exactly. Tilt factors are not reduced (LAMMPS 2025 accepts any tilt; it warns when one
exceeds half a box length, which slows its neighbour lists).

Signs and units are not converted here: ASE's stress (eV/Å³, positive = tensile) and LAMMPS's
pressure tensor (pressure units, positive = compressed) differ in sign and unit; the virial
``W = −stress·V`` (eV) is the same quantity in both. ``units.py`` holds the conversions; LAMMPS's
own pressure factor is ``lmp.extract_global("nktv2p")`` (bar·Å³/eV in ``units metal``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["AseFrame", "LammpsBox", "LammpsFrame", "ase_to_lammps", "lammps_to_ase", "tensor_to_voigt",
           "voigt_to_tensor"]

#: Index pairs of the 6-component forms: ASE Voigt (xx yy zz yz xz xy) and LAMMPS (xx yy zz xy xz yz).
VOIGT_ORDER: dict[str, tuple[tuple[int, int], ...]] = {
    "ase": ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)),
    "lammps": ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)),
}


def voigt_to_tensor(values: Any, order: str = "ase") -> np.ndarray:
    """Symmetric ``(..., 3, 3)`` tensors from 6-component forms in ``order`` (``"ase"``: xx yy zz yz
    xz xy; ``"lammps"``: xx yy zz xy xz yz, as ``compute pressure`` and ``dump`` write them).
    ``(..., 3, 3)`` input is returned as an array unchanged."""
    v = np.asarray(values, dtype=float)
    if v.shape[-2:] == (3, 3):
        return v
    if v.shape[-1:] != (6,):
        raise ValueError(f"a tensor must be (..., 3, 3) or (..., 6), got shape {v.shape}")
    out = np.empty(v.shape[:-1] + (3, 3))
    for k, (i, j) in enumerate(VOIGT_ORDER[order]):
        out[..., i, j] = out[..., j, i] = v[..., k]
    return out


def tensor_to_voigt(tensor: Any, order: str = "ase") -> np.ndarray:
    """6-component forms ``(..., 6)`` of ``(..., 3, 3)`` tensors in ``order`` (see :func:`voigt_to_tensor`)."""
    t = np.asarray(tensor, dtype=float)
    return np.stack([t[..., i, j] for i, j in VOIGT_ORDER[order]], axis=-1)


@dataclass(frozen=True)
class LammpsBox:
    """A LAMMPS restricted triclinic (or orthogonal) box; lengths in the input's distance unit (Å
    in ``units metal``). ``xlo ... zhi`` bound the box itself, not the bounding box of a tilted one."""

    xlo: float
    xhi: float
    ylo: float
    yhi: float
    zlo: float
    zhi: float
    xy: float = 0.0
    xz: float = 0.0
    yz: float = 0.0

    @classmethod
    def from_cell(cls, cell: Any, origin: Any = (0.0, 0.0, 0.0)) -> LammpsBox:
        """The box of a lower-triangular ``cell`` (rows A, B, C; positive diagonal) at ``origin``.
        Other cells go through :func:`ase_to_lammps`."""
        c = np.asarray(cell, dtype=float).reshape(3, 3)
        if np.any(np.triu(c, 1) != 0.0) or np.any(np.diag(c) <= 0.0):
            raise ValueError(f"LammpsBox.from_cell: not a lower-triangular cell with a positive diagonal: "
                             f"{c.tolist()} (use ase_to_lammps for a general cell)")
        o = np.asarray(origin, dtype=float).reshape(3)
        return cls(float(o[0]), float(o[0] + c[0, 0]), float(o[1]), float(o[1] + c[1, 1]),
                   float(o[2]), float(o[2] + c[2, 2]), float(c[1, 0]), float(c[2, 0]), float(c[2, 1]))

    @classmethod
    def from_bounds(cls, bounds: Any) -> LammpsBox:
        """The box from a dump's ``ITEM: BOX BOUNDS`` block: ``(3, 2)`` lo/hi rows for an orthogonal
        box, ``(3, 3)`` rows ``xlo_bound xhi_bound xy``, ``ylo_bound yhi_bound xz``, ``zlo zhi yz``
        for a triclinic one (the bounding box; https://docs.lammps.org/dump.html)."""
        b = np.asarray(bounds, dtype=float)
        if b.shape == (3, 2):
            return cls(*map(float, b.ravel()))
        if b.shape != (3, 3):
            raise ValueError(f"BOX BOUNDS must be 3 rows of 2 or 3 numbers, got shape {b.shape}")
        (xlob, xhib, xy), (ylob, yhib, xz), (zlo, zhi, yz) = b
        return cls(float(xlob - min(0.0, xy, xz, xy + xz)), float(xhib - max(0.0, xy, xz, xy + xz)),
                   float(ylob - min(0.0, yz)), float(yhib - max(0.0, yz)), float(zlo), float(zhi),
                   float(xy), float(xz), float(yz))

    @classmethod
    def from_instance(cls, lmp: Any) -> LammpsBox:
        """The current box of a running ``lammps.lammps`` instance (``extract_box``)."""
        lo, hi, xy, yz, xz, _periodic, _changed = lmp.extract_box()
        return cls(lo[0], hi[0], lo[1], hi[1], lo[2], hi[2], xy, xz, yz)

    @property
    def origin(self) -> np.ndarray:
        """``(xlo, ylo, zlo)``."""
        return np.array([self.xlo, self.ylo, self.zlo])

    @property
    def lengths(self) -> np.ndarray:
        """``(lx, ly, lz)``."""
        return np.array([self.xhi - self.xlo, self.yhi - self.ylo, self.zhi - self.zlo])

    @property
    def cell(self) -> np.ndarray:
        """Lower-triangular ``(3, 3)`` cell, rows A, B, C."""
        lx, ly, lz = self.lengths
        return np.array([[lx, 0.0, 0.0], [self.xy, ly, 0.0], [self.xz, self.yz, lz]])

    @property
    def volume(self) -> float:
        """``lx·ly·lz``."""
        return float(np.prod(self.lengths))

    @property
    def triclinic(self) -> bool:
        """Whether any tilt factor is non-zero."""
        return bool(self.xy or self.xz or self.yz)

    def region_command(self, region_id: str = "box") -> str:
        """``region <id> block|prism ... units box`` for ``create_box`` (17 significant digits)."""
        f = [f"{v:.17g}" for v in (self.xlo, self.xhi, self.ylo, self.yhi, self.zlo, self.zhi)]
        if not self.triclinic:
            return f"region {region_id} block {' '.join(f)} units box"
        tilts = " ".join(f"{v:.17g}" for v in (self.xy, self.xz, self.yz))
        return f"region {region_id} prism {' '.join(f)} {tilts} units box"


@dataclass(frozen=True)
class LammpsFrame:
    """What :func:`ase_to_lammps` returns: the box, the rotation ``R`` (``v_lammps = v_ase @ R``) and
    the given quantities in LAMMPS's frame (``None`` where not given); units unchanged."""

    box: LammpsBox
    rotation: np.ndarray
    positions: np.ndarray | None = None
    velocities: np.ndarray | None = None
    forces: np.ndarray | None = None
    stress: np.ndarray | None = None
    virial: np.ndarray | None = None


@dataclass(frozen=True)
class AseFrame:
    """What :func:`lammps_to_ase` returns: the ASE cell (rows) and the given quantities rotated back
    (positions relative to the box origin; tensors ``(..., 3, 3)``); units unchanged."""

    cell: np.ndarray
    positions: np.ndarray | None = None
    velocities: np.ndarray | None = None
    forces: np.ndarray | None = None
    stress: np.ndarray | None = None
    virial: np.ndarray | None = None


def lammps_rotation(cell: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(lammps_cell, R)`` for an ASE ``cell`` (rows): ``cell @ R = lammps_cell``, ``R`` orthogonal,
    ``lammps_cell`` lower-triangular with a positive diagonal."""
    c = np.asarray(cell, dtype=float).reshape(3, 3)
    if abs(np.linalg.det(c)) < 1e-12 * max(np.abs(c).max(), 1e-300) ** 3:
        raise ValueError(f"ase_to_lammps: the cell {c.tolist()} is singular (LAMMPS needs a 3-D periodic box)")
    if np.all(np.triu(c, 1) == 0.0) and np.all(np.diag(c) > 0.0):
        return c.copy(), np.eye(3)
    q, u = np.linalg.qr(c.T)  # c.T = q u  ->  c @ q = u.T (lower triangular)
    d = np.where(np.diag(u) < 0.0, -1.0, 1.0)
    rot = q * d  # flip columns so that the diagonal is positive
    return np.tril(u.T * d), rot


def ase_to_lammps(cell: Any, positions: Any = None, velocities: Any = None, forces: Any = None,
                  stress: Any = None, virial: Any = None, *, origin: Any = (0.0, 0.0, 0.0),
                  wrap: bool = False) -> LammpsFrame:
    """An ASE cell (any orientation and handedness) and per-atom vectors / tensors in LAMMPS's frame.

    Parameters
    ----------
    cell:
        ``(3, 3)`` rows a, b, c (Å) or an ``ase.cell.Cell``.
    positions:
        ``(..., N, 3)`` Cartesian positions (Å), mapped to ``positions @ R + origin``; with ``wrap``
        first wrapped into the cell (fractional coordinates in [0, 1)).
    velocities, forces:
        ``(..., N, 3)`` in any units, rotated (``v @ R``).
    stress, virial:
        ``(..., 3, 3)`` or ASE Voigt ``(..., 6)`` tensors in any units, rotated (``R.T @ T @ R``) and
        returned ``(..., 3, 3)``; sign and units unchanged.
    origin:
        ``(xlo, ylo, zlo)`` of the box (Å).

    Returns
    -------
    LammpsFrame with the box, ``R`` and the rotated quantities.
    """
    lcell, rot = lammps_rotation(cell)
    o = np.asarray(origin, dtype=float).reshape(3)
    box = LammpsBox.from_cell(lcell, o)
    x = None
    if positions is not None:
        p = np.asarray(positions, dtype=float)
        if wrap:
            frac = p @ np.linalg.inv(np.asarray(cell, dtype=float).reshape(3, 3))
            frac -= np.floor(frac)
            frac[frac >= 1.0] = 0.0
            x = frac @ lcell + o
        else:
            x = p @ rot + o
    return LammpsFrame(box, rot, x, _vectors(velocities, rot), _vectors(forces, rot),
                       _tensors(stress, rot.T, "ase"), _tensors(virial, rot.T, "ase"))


def lammps_to_ase(box: LammpsBox, rotation: Any = None, *, positions: Any = None, velocities: Any = None,
                  forces: Any = None, stress: Any = None, virial: Any = None) -> AseFrame:
    """A LAMMPS box and quantities in its frame back in ASE's frame (the inverse of :func:`ase_to_lammps`).

    Parameters
    ----------
    box:
        The LAMMPS box.
    rotation:
        ``R`` of :func:`ase_to_lammps`; ``None`` (identity) keeps LAMMPS's orientation, the ASE cell
        is then the lower-triangular ``box.cell``.
    positions:
        ``(..., N, 3)`` LAMMPS positions (Å); returned relative to the box origin, ``(x − origin) @ R.T``.
    velocities, forces:
        ``(..., N, 3)`` in any units, rotated back (``v @ R.T``).
    stress, virial:
        ``(..., 3, 3)`` or LAMMPS-ordered ``(..., 6)`` (xx yy zz xy xz yz) tensors in any units,
        rotated back (``R @ T @ R.T``) and returned ``(..., 3, 3)``; sign and units unchanged.
    """
    rot = np.eye(3) if rotation is None else np.asarray(rotation, dtype=float).reshape(3, 3)
    back = rot.T
    x = None if positions is None else (np.asarray(positions, dtype=float) - box.origin) @ back
    return AseFrame(box.cell @ back, x, _vectors(velocities, back), _vectors(forces, back),
                    _tensors(stress, rot, "lammps"), _tensors(virial, rot, "lammps"))


def _vectors(v: Any, rot: np.ndarray) -> np.ndarray | None:
    return None if v is None else np.asarray(v, dtype=float) @ rot


def _tensors(t: Any, left: np.ndarray, order: str) -> np.ndarray | None:
    """``left @ T @ left.T`` for ``(..., 3, 3)`` or 6-component ``T`` in ``order``."""
    return None if t is None else left @ voigt_to_tensor(t, order) @ left.T
