"""Third-order Birch–Murnaghan equation of state and its least-squares fit.

``P(V) = 3K0/2 [x^{-7/3} − x^{-5/3}] {1 + 3/4 (K0' − 4)(x^{-2/3} − 1)}``, x = V/V0, and the energy
``E(V) = E0 + 9 V0 K0/16 {[x^{-2/3} − 1]³ K0' + [x^{-2/3} − 1]² [6 − 4 x^{-2/3}]}``
(Birch 1947). Volumes in Å³ (per cell or per atom, as given), pressures and moduli in GPa, energies
in eV.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import brentq, curve_fit

from deepearth.properties.checks import require_at_least, require_finite, require_varies
from deepearth.units import GPA_TO_EV_PER_A3


def bm3_pressure(volume, v0: float, k0: float, k0_prime: float):
    """BM3 pressure (GPa) at ``volume`` (same unit as ``v0``)."""
    x = np.asarray(volume, dtype=float) / v0
    return 1.5 * k0 * (x ** (-7 / 3) - x ** (-5 / 3)) * (1 + 0.75 * (k0_prime - 4) * (x ** (-2 / 3) - 1))


def bm3_energy(volume, e0: float, v0: float, k0: float, k0_prime: float):
    """BM3 energy (eV) at ``volume`` (Å³) for ``k0`` in GPa; consistent with ``P = −dE/dV``."""
    eta = (np.asarray(volume, dtype=float) / v0) ** (-2 / 3) - 1
    return e0 + 9 * v0 * k0 * GPA_TO_EV_PER_A3 / 16 * (eta**3 * k0_prime + eta**2 * (6 - 4 * (eta + 1)))


@dataclass
class BirchMurnaghan3:
    """A fitted BM3 EOS with standard errors (from the least-squares covariance)."""

    V0_A3: float
    K0_GPa: float
    K0_prime: float
    V0_stderr_A3: float = float("nan")
    K0_stderr_GPa: float = float("nan")
    K0_prime_stderr: float = float("nan")
    n_points: int = 0
    method: str = "least-squares fit of P(V)"

    def pressure(self, volume):
        """Pressure (GPa) at ``volume`` (Å³)."""
        return bm3_pressure(volume, self.V0_A3, self.K0_GPa, self.K0_prime)

    def volume(self, pressure_GPa: float) -> float:
        """Volume (Å³) at which the EOS gives ``pressure_GPa`` (solved on 0.2 V0 … 1.5 V0)."""
        f = lambda v: float(self.pressure(v)) - pressure_GPa  # noqa: E731
        lo, hi = 0.2 * self.V0_A3, 1.5 * self.V0_A3
        if f(lo) * f(hi) > 0:
            raise ValueError(f"pressure {pressure_GPa} GPa is outside the EOS range")
        return float(brentq(f, lo, hi))

    def to_dict(self) -> dict:
        return asdict(self)


def fit_birch_murnaghan3(volumes_A3, pressures_GPa, guess: tuple[float, float, float] | None = None
                         ) -> BirchMurnaghan3:
    """Least-squares BM3 fit to (V, P) points; needs at least four points at distinct volumes.

    NaN/inf, non-positive volumes, fewer than four distinct volumes, equal pressures or an undefined
    parameter covariance raise one ``ValueError``.

    ``guess`` is (V0, K0, K0'); by default V0 = 1.3 × the largest volume, K0 = 200 GPa, K0' = 4.
    """
    v = np.atleast_1d(require_finite("BM3 fit: volumes_A3", volumes_A3))
    p = np.atleast_1d(require_finite("BM3 fit: pressures_GPa", pressures_GPa))
    if v.ndim != 1 or v.size != p.size:
        raise ValueError(f"BM3 fit needs matching 1-D (V, P) arrays, got {v.size} volumes, {p.size} pressures")
    why = "3 parameters (V0, K0, K0') and one spare point for their errors"
    require_at_least("BM3 fit", v.size, 4, "(V, P) points", why)
    if np.any(v <= 0):
        i = int(np.flatnonzero(v <= 0)[0])
        raise ValueError(f"BM3 fit: volumes must be > 0 Å³; volumes_A3[{i}] = {v[i]}")
    require_at_least("BM3 fit", np.unique(v).size, 4, "distinct volumes", why)
    require_varies("BM3 fit: pressures_GPa", p, ["the pressure"], hint="no compression curve to fit")
    p0 = guess or (1.3 * v.max(), 200.0, 4.0)
    try:
        params, cov = curve_fit(bm3_pressure, v, p, p0=p0, bounds=([0.5 * v.min(), 1.0, 1.0],
                                                                     [5.0 * v.max(), 5000.0, 12.0]))
    except RuntimeError as exc:
        raise ValueError(f"BM3 fit did not converge: {exc}") from None
    if not (np.all(np.isfinite(params)) and np.all(np.isfinite(cov)) and np.all(np.diag(cov) >= 0)):
        raise ValueError(f"BM3 fit: the {v.size} points do not determine V0, K0 and K0' (parameter covariance "
                         "undefined); spread the volumes over a wider pressure range")
    err = np.sqrt(np.diag(cov))
    return BirchMurnaghan3(*map(float, params), *map(float, err), n_points=int(v.size))
