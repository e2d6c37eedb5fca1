"""The isothermal equations of state: third-order Birch–Murnaghan and Vinet, P(V), E(V) and K(V).

Units: volumes in Å³ (per cell, per atom or per formula unit, as given), pressures and moduli in GPa,
energies in eV (``K0 · V0`` is converted with :data:`deepearth.units.GPA_TO_EV_PER_A3`).

* BM3 (Birch 1947; Poirier 2000, *Introduction to the Physics of the Earth's Interior*, eqs. 4.46–4.48),
  x = V/V0, Eulerian strain f = (x^{-2/3} − 1)/2:
  ``P = 3K0 f (1+2f)^{5/2} [1 + 3/2 (K0' − 4) f]``,
  ``E = E0 + 9 V0 K0/16 {[x^{-2/3} − 1]³ K0' + [x^{-2/3} − 1]² [6 − 4 x^{-2/3}]}``,
  ``K = −V dP/dV = K0 (1+2f)^{5/2} [1 + (3K0' − 5) f + 27/2 (K0' − 4) f²]``.
* Vinet (Vinet, Ferrante, Rose & Smith 1987, JGR 92, 9319), y = (V/V0)^{1/3}, η = 3/2 (K0' − 1):
  ``P = 3K0 (1 − y)/y² exp[η(1 − y)]``,
  ``E = E0 + 9 K0 V0/η² {1 + [η(1 − y) − 1] exp[η(1 − y)]}``,
  ``K = K0/y² [2 − y + η y (1 − y)] exp[η(1 − y)]``.

Each form satisfies ``P = −dE/dV`` and ``K = −V dP/dV`` (checked by the tests). :data:`FORMS` maps
the names ``"bm3"`` and ``"vinet"`` to an :class:`EOSForm` with the three functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from deepearth.units import GPA_TO_EV_PER_A3

__all__ = ["EOSForm", "FORMS", "bm3_bulk_modulus", "bm3_energy", "bm3_pressure", "vinet_bulk_modulus",
           "vinet_energy", "vinet_pressure"]


def bm3_pressure(volume, v0: float, k0: float, k0_prime: float):
    """BM3 pressure (GPa) at ``volume`` (same unit as ``v0``) for ``k0`` in GPa (Birch 1947)."""
    x = np.asarray(volume, dtype=float) / v0
    return 1.5 * k0 * (x ** (-7 / 3) - x ** (-5 / 3)) * (1 + 0.75 * (k0_prime - 4) * (x ** (-2 / 3) - 1))


def bm3_energy(volume, e0: float, v0: float, k0: float, k0_prime: float):
    """BM3 energy (eV) at ``volume`` (Å³) for ``k0`` in GPa and ``e0`` in eV; ``P = −dE/dV`` (Birch 1947)."""
    eta = (np.asarray(volume, dtype=float) / v0) ** (-2 / 3) - 1
    return e0 + 9 * v0 * k0 * GPA_TO_EV_PER_A3 / 16 * (eta**3 * k0_prime + eta**2 * (6 - 4 * (eta + 1)))


def bm3_bulk_modulus(volume, v0: float, k0: float, k0_prime: float):
    """BM3 isothermal bulk modulus ``K = −V dP/dV`` (GPa) at ``volume`` (Poirier 2000, eq. 4.48)."""
    f = 0.5 * ((np.asarray(volume, dtype=float) / v0) ** (-2 / 3) - 1)
    return k0 * (1 + 2 * f) ** 2.5 * (1 + (3 * k0_prime - 5) * f + 13.5 * (k0_prime - 4) * f**2)


def vinet_pressure(volume, v0: float, k0: float, k0_prime: float):
    """Vinet pressure (GPa) at ``volume`` (same unit as ``v0``) for ``k0`` in GPa (Vinet et al. 1987, eq. 4)."""
    y = (np.asarray(volume, dtype=float) / v0) ** (1 / 3)
    eta = 1.5 * (k0_prime - 1)
    return 3 * k0 * (1 - y) / y**2 * np.exp(eta * (1 - y))


def vinet_energy(volume, e0: float, v0: float, k0: float, k0_prime: float):
    """Vinet energy (eV) at ``volume`` (Å³) for ``k0`` in GPa and ``e0`` in eV; ``P = −dE/dV``
    (Vinet et al. 1987, the integral of eq. 4). ``K0' = 1`` (η = 0) is its limit ``E0 + 9/2 K0 V0 (1−y)²``."""
    y = (np.asarray(volume, dtype=float) / v0) ** (1 / 3)
    eta = 1.5 * (k0_prime - 1)
    scale = 9 * k0 * v0 * GPA_TO_EV_PER_A3
    if abs(eta) < 1e-8:
        return e0 + 0.5 * scale * (1 - y) ** 2
    u = eta * (1 - y)
    return e0 + scale / eta**2 * (1 + (u - 1) * np.exp(u))


def vinet_bulk_modulus(volume, v0: float, k0: float, k0_prime: float):
    """Vinet isothermal bulk modulus ``K = −V dP/dV`` (GPa) at ``volume`` (from Vinet et al. 1987, eq. 4)."""
    y = (np.asarray(volume, dtype=float) / v0) ** (1 / 3)
    eta = 1.5 * (k0_prime - 1)
    return k0 / y**2 * (2 - y + eta * y * (1 - y)) * np.exp(eta * (1 - y))


@dataclass(frozen=True)
class EOSForm:
    """One isothermal EOS: ``pressure(V, V0, K0, K0')`` (GPa), ``energy(V, E0, V0, K0, K0')`` (eV) and
    ``bulk_modulus(V, V0, K0, K0')`` (GPa), with the reference that defines it."""

    name: str
    pressure: Callable
    energy: Callable
    bulk_modulus: Callable
    reference: str


#: The forms :func:`deepearth.properties.eos.fit` knows, by name.
FORMS: dict[str, EOSForm] = {
    "bm3": EOSForm("bm3", bm3_pressure, bm3_energy, bm3_bulk_modulus,
                   "third-order Birch-Murnaghan (Birch 1947, Phys. Rev. 71, 809)"),
    "vinet": EOSForm("vinet", vinet_pressure, vinet_energy, vinet_bulk_modulus,
                     "Vinet (Vinet, Ferrante, Rose & Smith 1987, J. Geophys. Res. 92, 9319)"),
}
