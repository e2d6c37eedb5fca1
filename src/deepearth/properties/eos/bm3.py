"""The BM3 result of the reference-EOS stage (:class:`BirchMurnaghan3`) and its fit
(:func:`fit_birch_murnaghan3`), kept for the pipeline; new code calls :func:`deepearth.properties.eos.fit`,
which this wraps.

``P(V) = 3K0/2 [x^{-7/3} − x^{-5/3}] {1 + 3/4 (K0' − 4)(x^{-2/3} − 1)}``, x = V/V0 (Birch 1947).
Volumes in Å³ (per cell or per atom, as given), pressures and moduli in GPa.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from scipy.optimize import brentq

from deepearth.properties.eos.fit import fit
from deepearth.properties.eos.forms import bm3_pressure

__all__ = ["BirchMurnaghan3", "fit_birch_murnaghan3"]


@dataclass
class BirchMurnaghan3:
    """A BM3 EOS (V0 Å³, K0 GPa, K0') with standard errors (from the least-squares covariance)."""

    V0_A3: float
    K0_GPa: float
    K0_prime: float
    V0_stderr_A3: float = float("nan")
    K0_stderr_GPa: float = float("nan")
    K0_prime_stderr: float = float("nan")
    n_points: int = 0
    method: str = "least-squares fit of P(V)"

    def pressure(self, volume):
        """Pressure (GPa) at ``volume`` (Å³) (Birch 1947)."""
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
    """Least-squares BM3 fit to (V, P) points (Å³, GPa); needs at least four distinct volumes.

    :func:`deepearth.properties.eos.fit` with ``form="bm3"`` and unit weights (covariance scaled by
    the residual variance); ``guess`` (V0, K0, K0') is tried besides its robust start. Bad input raises
    one ``ValueError`` line.
    """
    g = None if guess is None else dict(zip(("V0", "K0", "K0_prime"), guess))
    r = fit(volumes_A3, pressures_GPa, form="bm3", guess=g)
    return BirchMurnaghan3(r.V0, r.K0, r.K0_prime, r.V0_stderr, r.K0_stderr, r.K0_prime_stderr,
                           n_points=r.n_points, method=r.method)
