"""The fitted isothermal EOS (:class:`EOSFit`): parameters, covariance, fit diagnostics, and the
EOS evaluated with propagated uncertainty.

Uncertainties of derived quantities (P(V), V(P), E(V), K(V)) are first-order (delta-method)
propagation through the full parameter covariance, ``σ² = g C gᵀ`` with ``g`` the gradient in the
free parameters (central differences); V(P) uses the implicit derivative ``∂V/∂θ = −(∂P/∂θ)/(∂P/∂V)``.
They are the uncertainties of the fitted curve, not of a new measurement.

The residual structure test is the Wald–Wolfowitz runs test (Wald & Wolfowitz 1940, Ann. Math.
Stat. 11, 147) on the signs of the residuals ordered by volume, exact for the observed numbers of
positive and negative residuals: a small ``runs_p_value`` (too few sign changes) says the form does
not follow the data (e.g. Vinet data fitted with BM3) even when no point errors are known.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from math import comb

import numpy as np
from scipy.optimize import brentq

from deepearth.files import json_ready
from deepearth.properties.eos.forms import FORMS

__all__ = ["EOSFit", "PARAMETERS", "runs_test_p_value"]

#: Parameter order of :attr:`EOSFit.covariance` (E0 in eV, V0 in Å³, K0 in GPa, K0' unitless).
PARAMETERS: tuple[str, ...] = ("E0", "V0", "K0", "K0_prime")


def runs_test_p_value(residuals: np.ndarray) -> float | None:
    """One-sided exact p-value of the Wald–Wolfowitz runs test: the probability of as few sign runs
    as observed (or fewer) in a random order of the same positive and negative residuals. ``None``
    with fewer than two of either sign (no test possible)."""
    s = np.sign(np.asarray(residuals, float))
    s = s[s != 0]
    n1, n2 = int((s > 0).sum()), int((s < 0).sum())
    if n1 < 2 or n2 < 2:
        return None
    runs = 1 + int(np.sum(s[1:] != s[:-1]))
    total = comb(n1 + n2, n1)
    p = 0
    for r in range(2, runs + 1):
        k = r // 2
        if r % 2 == 0:
            p += 2 * comb(n1 - 1, k - 1) * comb(n2 - 1, k - 1)
        else:
            p += comb(n1 - 1, k) * comb(n2 - 1, k - 1) + comb(n1 - 1, k - 1) * comb(n2 - 1, k)
    return float(p / total)


@dataclass
class EOSFit:
    """An isothermal EOS fitted to (V, P) or (V, E) points, with standard errors and covariance.

    Units: V0 Å³ (per whatever the volumes were given per), K0 GPa, K0' unitless, E0 eV (``None`` for a
    P(V) fit). ``covariance`` is over :data:`PARAMETERS` (rows/columns of fixed parameters and of E0 in a
    P(V) fit are zero). ``residuals`` are data − fit (GPa or eV) in the input order; ``chi2`` is
    Σ(residual/σ)² (σ = 1 GPa or eV when no point errors were given: then ``chi2_red`` is the residual
    variance and the covariance was scaled by it, which ``method`` says). ``runs_p_value``: the
    Wald–Wolfowitz runs test on the residual signs (small: structured residuals, the form misfits).
    """

    form: str
    data: str  # "P(V)" or "E(V)"
    V0: float
    K0: float
    K0_prime: float
    V0_stderr: float
    K0_stderr: float
    K0_prime_stderr: float
    E0: float | None
    E0_stderr: float | None
    covariance: list[list[float]]
    fixed: dict[str, float]
    chi2: float
    chi2_red: float
    dof: int
    n_points: int
    weighted: bool
    rms_residual: float
    runs_p_value: float | None
    volumes_A3: list[float]
    values: list[float]
    values_stderr: list[float] | None
    residuals: list[float]
    method: str
    prior: dict[str, list[float]] = field(default_factory=dict)  # name: [mean, sigma] of a Gaussian prior
    units: dict = field(default_factory=lambda: {"V0": "A^3", "K0": "GPa", "K0_prime": "1", "E0": "eV",
                                                  "residuals": "GPa or eV (data - fit)"})

    # -- drop-in names of the BM3 result (deepearth.properties.eos.BirchMurnaghan3)
    @property
    def V0_A3(self) -> float:
        """V0 (Å³), the name :class:`~deepearth.properties.eos.BirchMurnaghan3` uses."""
        return self.V0

    @property
    def K0_GPa(self) -> float:
        """K0 (GPa), the name :class:`~deepearth.properties.eos.BirchMurnaghan3` uses."""
        return self.K0

    def _theta(self) -> np.ndarray:
        return np.array([self.E0 or 0.0, self.V0, self.K0, self.K0_prime])

    def _propagate(self, fn, x, stderr: bool):
        """``fn(x, θ)`` and, if ``stderr``, its delta-method standard error through the covariance."""
        theta = self._theta()
        value = fn(x, theta)
        if not stderr:
            return value
        cov = np.asarray(self.covariance, float)
        free = np.flatnonzero(np.diag(cov) > 0)
        grads = []
        for i in free:
            h = 1e-6 * max(abs(theta[i]), 1e-3)
            tp, tm = theta.copy(), theta.copy()
            tp[i] += h
            tm[i] -= h
            grads.append((fn(x, tp) - fn(x, tm)) / (2 * h))
        if not grads:
            return value, np.zeros_like(np.asarray(value, float))
        g = np.stack([np.asarray(gi, float) for gi in grads], axis=-1)
        c = cov[np.ix_(free, free)]
        var = np.einsum("...i,ij,...j->...", g, c, g)
        return value, np.sqrt(np.maximum(var, 0.0))

    def pressure(self, volume, stderr: bool = False):
        """P (GPa) at ``volume`` (Å³); with ``stderr`` a tuple (P, σ_P) propagated from the covariance."""
        form = FORMS[self.form]
        return self._propagate(lambda v, t: form.pressure(np.asarray(v, float), t[1], t[2], t[3]), volume, stderr)

    def energy(self, volume, stderr: bool = False):
        """E (eV) at ``volume`` (Å³): E0 + the form's energy (E0 = 0 for a P(V) fit); with ``stderr``
        a tuple (E, σ_E)."""
        form = FORMS[self.form]
        return self._propagate(lambda v, t: form.energy(np.asarray(v, float), t[0], t[1], t[2], t[3]), volume, stderr)

    def bulk_modulus(self, volume, stderr: bool = False):
        """Isothermal bulk modulus K_T = −V dP/dV (GPa) at ``volume`` (Å³); with ``stderr`` (K, σ_K)."""
        form = FORMS[self.form]
        return self._propagate(lambda v, t: form.bulk_modulus(np.asarray(v, float), t[1], t[2], t[3]),
                               volume, stderr)

    def _volumes(self, p: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """V (Å³) with P(V; θ) = p for each element of ``p``: the root nearest V0 on the stable branch
        (scanned from 1.5 V0 down to 0.2 V0 or half the smallest fitted volume, then brentq), so a BM3
        with K0' < 4, whose P(V) turns over under strong compression, still solves."""
        form = FORMS[self.form]
        v0, k0, kp = theta[1], theta[2], theta[3]
        v_lo = min(0.2 * v0, 0.5 * min(self.volumes_A3)) if self.volumes_A3 else 0.2 * v0
        grid = np.geomspace(1.5 * v0, v_lo, 121)
        pg = form.pressure(grid, v0, k0, kp)
        out = np.empty(np.shape(p))
        for idx, pi in np.ndenumerate(np.asarray(p, float)):
            cross = np.flatnonzero((pg[:-1] - pi) * (pg[1:] - pi) <= 0) if np.isfinite(pi) else []
            if not len(cross):
                raise ValueError(f"pressure {pi:g} GPa is outside the {self.form} EOS range "
                                 f"({np.nanmin(pg):.4g} to {np.nanmax(pg):.4g} GPa on V = {v_lo:.4g}-{1.5 * v0:.4g} A^3)")
            k = int(cross[0])
            out[idx] = brentq(lambda v: float(form.pressure(v, v0, k0, kp)) - pi, grid[k + 1], grid[k],
                              xtol=1e-13 * v0)
        return out

    def volume(self, pressure_GPa, stderr: bool = False):
        """Volume (Å³) at which the EOS gives ``pressure_GPa`` (scalar or array; see :meth:`_volumes`);
        with ``stderr`` a tuple (V, σ_V) by the implicit derivative ∂V/∂θ = −(∂P/∂θ)/(∂P/∂V)."""
        p = np.asarray(pressure_GPa, float)
        form = FORMS[self.form]
        out = self._volumes(p, self._theta())
        value = float(out) if p.ndim == 0 else out
        if not stderr:
            return value
        _, dp = self._propagate(lambda v, t: form.pressure(v, t[1], t[2], t[3]), out, True)
        # σ_P at fixed V over |∂P/∂V| = K/V
        dv = dp * out / form.bulk_modulus(out, self.V0, self.K0, self.K0_prime)
        return value, (float(dv) if p.ndim == 0 else dv)

    def bulk_modulus_at_pressure(self, pressure_GPa, stderr: bool = False):
        """K_T (GPa) at ``pressure_GPa``: K(V(P)); with ``stderr`` (K, σ_K), V(P)'s dependence on the
        parameters included."""
        form = FORMS[self.form]

        def fn(p, t):
            return form.bulk_modulus(self._volumes(p, t), t[1], t[2], t[3])

        return self._propagate(fn, np.asarray(pressure_GPa, float), stderr)

    def parameters(self) -> dict[str, tuple[float, float]]:
        """``{"V0": (value, stderr), "K0": ..., "K0_prime": ...}`` (and E0 for an E(V) fit)."""
        out = {"V0": (self.V0, self.V0_stderr), "K0": (self.K0, self.K0_stderr),
               "K0_prime": (self.K0_prime, self.K0_prime_stderr)}
        if self.E0 is not None:
            out["E0"] = (self.E0, self.E0_stderr)
        return out

    def summary(self) -> str:
        """One line: ``V0 = … ± … Å³, K0 = … ± … GPa, K0' = … ± … (bm3, P(V), 12 points, χ²_red …)``."""
        def pm(name, v, e, unit=""):
            fixed = " (fixed)" if name in self.fixed else ""
            return f"{name} = {v:.5g} ± {e:.2g}{unit}{fixed}"

        return (f"{pm('V0', self.V0, self.V0_stderr, ' A^3')}, {pm('K0', self.K0, self.K0_stderr, ' GPa')}, "
                f"{pm('K0_prime', self.K0_prime, self.K0_prime_stderr)} ({self.form}, {self.data}, "
                f"{self.n_points} points, chi2_red {self.chi2_red:.3g})")

    def with_covariance_scaled(self, factor: float, why: str) -> "EOSFit":
        """A copy whose covariance (and standard errors) are multiplied by ``factor`` (e.g. χ²_red, the
        Birge ratio squared), ``why`` appended to ``method``."""
        cov = np.asarray(self.covariance, float) * factor
        err = np.sqrt(np.diag(cov))
        return replace(self, covariance=cov.tolist(), V0_stderr=float(err[1]), K0_stderr=float(err[2]),
                       K0_prime_stderr=float(err[3]), E0_stderr=None if self.E0 is None else float(err[0]),
                       method=f"{self.method}; {why}")

    def to_dict(self) -> dict:
        """JSON-safe dict of every field (NaN → null)."""
        return json_ready(self)
