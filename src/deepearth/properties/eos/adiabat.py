"""The Grüneisen parameter's volume dependence and an adiabat through a P–V–T grid.

* γ(V) = γ0 (V/V_ref)^q, fitted to the grid's γ values (from :mod:`.thermal`) as a weighted straight
  line in (ln V, ln γ) (the usual q-model, e.g. Jackson & Rigden 1996, PEPI 96, 85); the covariance
  from the γ errors, scaled by χ²_red when that exceeds 1 (the power law is a model too).
* The adiabat integrates ``(∂T/∂V)_S = −γ T/V`` (i.e. (∂ ln T/∂ ln V)_S = −γ; Anderson 1995,
  *Equations of State of Solids*, ch. 1; equivalent to dT/dP|_S = γT/K_S), exactly for the q-model:
  ``T(V) = T_s exp[(γ(V_s) − γ(V))/q]`` (``T_s (V/V_s)^{−γ0}`` as q → 0). The pressure along it is
  P(V, T(V)) from the isotherms' fits, interpolated in T by the Lagrange polynomial through the three
  (or two) isotherms nearest T. σ_T propagates the (γ0, q) covariance only (not the isotherms' P errors).

Only numpy and scipy are needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import brentq

if TYPE_CHECKING:  # isotherms import the fit; the adiabat only calls their methods
    from deepearth.properties.eos.isotherms import Isotherm

__all__ = ["Adiabat", "GrueneisenFit", "adiabat", "fit_grueneisen", "pressure_at"]


@dataclass
class GrueneisenFit:
    """γ(V) = γ0 (V/V_ref)^q with standard errors and the (γ0, q) covariance; V_ref in Å³."""

    gamma0: float
    q: float
    gamma0_stderr: float
    q_stderr: float
    covariance: list[list[float]]
    V_ref_A3: float
    chi2_red: float | None
    method: str

    def gamma(self, volume_A3, gamma0: float | None = None, q: float | None = None):
        """γ at ``volume_A3`` (Å³)."""
        g0 = self.gamma0 if gamma0 is None else gamma0
        qq = self.q if q is None else q
        return g0 * (np.asarray(volume_A3, float) / self.V_ref_A3) ** qq


def fit_grueneisen(volumes_A3, gamma, gamma_stderr) -> GrueneisenFit | None:
    """Weighted fit of ln γ = ln γ0 + q ln(V/V_ref) (V_ref = the largest volume); ``None`` when a γ is not
    positive or its error not finite and > 0 (no power law to fit)."""
    v, g, e = (np.asarray(a, float) for a in (volumes_A3, gamma, gamma_stderr))
    if v.size < 2 or np.any(g <= 0) or not np.all(np.isfinite(e) & (e > 0)):
        return None
    vref = float(v.max())
    X = np.column_stack([np.ones_like(v), np.log(v / vref)])
    w = (g / e) ** 2  # 1/σ²(ln γ)
    A = X.T @ (X * w[:, None])
    coef = np.linalg.solve(A, X.T @ (w * np.log(g)))
    cov = np.linalg.inv(A)
    dof = v.size - 2
    chi2_red = None
    if dof > 0:
        r = np.log(g) - X @ coef
        chi2_red = float(r @ (w * r)) / dof
        if chi2_red > 1:
            cov = cov * chi2_red
    g0 = float(np.exp(coef[0]))
    jac = np.diag([g0, 1.0])  # (ln γ0, q) -> (γ0, q)
    cov = jac @ cov @ jac
    return GrueneisenFit(g0, float(coef[1]), float(np.sqrt(cov[0, 0])), float(np.sqrt(cov[1, 1])), cov.tolist(), vref,
                         chi2_red, "gamma = gamma0 (V/V_ref)^q, weighted line in (ln V, ln gamma) (Jackson & Rigden "
                         "1996); covariance scaled by chi2_red when > 1")


def pressure_at(isotherms: "list[Isotherm]", volume_A3: float, T_K: float) -> float:
    """P (GPa) at (V, T): the isotherms' P(V) interpolated in T through the 3 (or 2) nearest isotherms."""
    temps = np.array([iso.T_K for iso in isotherms])
    nearest = np.sort(np.argsort(np.abs(temps - T_K))[:min(3, temps.size)])
    p = np.array([float(isotherms[i].eos.pressure(volume_A3)) for i in nearest])
    t = temps[nearest]
    weights = [np.prod([(T_K - t[m]) / (t[j] - t[m]) for m in range(t.size) if m != j]) for j in range(t.size)]
    return float(np.dot(weights, p))


@dataclass
class Adiabat:
    """T along an isentrope from (``start_P_GPa``, ``start_T_K``): per point P (GPa), V (Å³), T ± σ_T (K)."""

    start_P_GPa: float
    start_T_K: float
    pressures_GPa: list[float]
    volumes_A3: list[float]
    T_K: list[float]
    T_stderr_K: list[float]
    method: str


def _temperature(v, v_s: float, T_s: float, g: GrueneisenFit, gamma0: float, q: float):
    """T(V) on the adiabat through (V_s, T_s) for γ = γ0 (V/V_ref)^q (exact integral; q → 0 limit)."""
    a, b = np.log(v_s / g.V_ref_A3), np.log(np.asarray(v, float) / g.V_ref_A3)
    if abs(q) < 1e-9:
        return T_s * np.exp(gamma0 * (a - b))
    return T_s * np.exp(gamma0 * (np.expm1(q * a) - np.expm1(q * b)) / q)


def adiabat(isotherms: "list[Isotherm]", grueneisen: GrueneisenFit | None, start: tuple[float, float],
            P_max_GPa: float, n_points: int = 8) -> Adiabat | None:
    """The adiabat from ``start`` = (P GPa, T K) up to ``P_max_GPa`` (module docstring); ``None``
    without a Grüneisen fit or when P(V, T(V)) cannot be solved in the isotherms' volume range."""
    if grueneisen is None:
        return None
    P_s, T_s = (float(x) for x in start)
    g = grueneisen
    vmax = max(iso.eos.V0 for iso in isotherms) * 1.5
    vmin = min(min(iso.eos.volumes_A3) for iso in isotherms) * 0.9  # no farther than the data: T(V) grows fast
    try:
        v_s = brentq(lambda v: pressure_at(isotherms, v, T_s) - P_s, vmin, vmax)
        pressures = np.linspace(P_s, P_max_GPa, n_points)
        vols = np.array([brentq(lambda v: pressure_at(isotherms, v, float(_temperature(v, v_s, T_s, g, g.gamma0, g.q)))
                                - p, vmin, v_s * 1.0000001 + 1e-12) for p in pressures])
    except ValueError:
        return None
    temps = _temperature(vols, v_s, T_s, g, g.gamma0, g.q)
    cov = np.asarray(g.covariance, float)
    theta = np.array([g.gamma0, g.q])
    grad = []
    for i in range(2):
        h = 1e-6 * max(abs(theta[i]), 1e-3)
        up, dn = theta.copy(), theta.copy()
        up[i] += h
        dn[i] -= h
        grad.append((_temperature(vols, v_s, T_s, g, *up) - _temperature(vols, v_s, T_s, g, *dn)) / (2 * h))
    G = np.stack(grad, axis=-1)
    t_err = np.sqrt(np.maximum(np.einsum("ni,ij,nj->n", G, cov, G), 0.0))
    t_hi = max(iso.T_K for iso in isotherms)
    beyond = f"; above {t_hi:.0f} K (the hottest isotherm) P(V, T) is extrapolated" if temps.max() > t_hi else ""
    return Adiabat(P_s, T_s, pressures.tolist(), vols.tolist(), temps.tolist(), t_err.tolist(),
                   "(dT/dV)_S = -gamma T/V integrated exactly for gamma = gamma0 (V/V_ref)^q (Anderson 1995); "
                   "P(V, T) from the isotherm fits interpolated in T; sigma_T from the (gamma0, q) covariance only"
                   + beyond)
