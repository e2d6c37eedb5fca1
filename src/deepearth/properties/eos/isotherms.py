"""Isotherms of a P–V–T grid: grouping state points by temperature, and per isotherm the EOS fit
P(V) and a smooth E(V), each with its covariance.

* P(V): :func:`deepearth.properties.eos.fit` of the chosen form. When the volumes carry errors
  (an NPT grid: ⟨V⟩ ± σ_V at a set pressure) the pressure errors are replaced by the effective
  variance ``σ_eff² = σ_P² + (K/V · σ_V)²`` (Orear 1982, Am. J. Phys. 50, 912: least squares with
  errors in both variables), K from a first fit. A weighted fit with χ²_red > 1 has its covariance
  scaled by χ²_red (the Birge ratio²: the form misses part of a hot isotherm, e.g. BM3 at 3000 K),
  which its ``method`` says. Vinet usually follows hot isotherms better than BM3.
* E(V): the internal energy along an isotherm is not the form's E(V) (that is the static or free
  energy), so it is fitted as a polynomial in the Eulerian strain f = ((V0/V)^{2/3} − 1)/2 (the
  finite-strain expansion; Poirier 2000 §4.3) of degree min(3, n − 2), weighted by
  ``σ_E² + (dE/dV · σ_V)²`` (Orear 1982), the covariance absolute when errors are given, else scaled
  by the residual variance.

Only numpy is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepearth.properties.eos.fit import fit
from deepearth.properties.eos.result import EOSFit

__all__ = ["EnergyCurve", "Isotherm", "fit_energy_curve", "fit_isotherm", "group_temperatures"]


def group_temperatures(T_K: np.ndarray, rel_tol: float = 0.02) -> np.ndarray:
    """Isotherm label (0, 1, … in increasing T) of each state point: sorted temperatures that differ by
    less than ``rel_tol`` × T (or 1 K) from the previous one share an isotherm (MD means scatter around
    the set temperature)."""
    T = np.asarray(T_K, float)
    order = np.argsort(T)
    labels = np.empty(T.size, int)
    k = 0
    for n, i in enumerate(order):
        if n and T[i] - T[order[n - 1]] > max(1.0, rel_tol * T[i]):
            k += 1
        labels[i] = k
    return labels


@dataclass
class EnergyCurve:
    """E(V) along an isotherm: ``E = Σ c_k f^k``, f = ((V0/V)^{2/3} − 1)/2 (eV, Å³)."""

    V0_A3: float
    coef: np.ndarray
    cov: np.ndarray

    def basis(self, v):
        """The design matrix ``f^k`` (k = 0 … degree) at volumes ``v`` (Å³)."""
        f = 0.5 * ((self.V0_A3 / np.asarray(v, float)) ** (2 / 3) - 1)
        return np.stack([f**k for k in range(self.coef.size)], axis=-1)

    def energy(self, volume_A3):
        """(E, σ_E) in eV at ``volume_A3`` (first-order propagation of the coefficient covariance)."""
        X = self.basis(volume_A3)
        return X @ self.coef, np.sqrt(np.maximum(np.einsum("...i,ij,...j->...", X, self.cov, X), 0.0))

    def slope(self, volume_A3):
        """dE/dV (eV/Å³) at ``volume_A3``."""
        v = np.asarray(volume_A3, float)
        f = 0.5 * ((self.V0_A3 / v) ** (2 / 3) - 1)
        dfdv = -(self.V0_A3 / v) ** (2 / 3) / (3 * v)
        return sum(k * c * f ** (k - 1) for k, c in enumerate(self.coef) if k) * dfdv


def fit_energy_curve(v, e, sigma_e, sigma_v, V0_A3: float) -> EnergyCurve:
    """Weighted polynomial fit of E(V) in Eulerian strain (module docstring). Without ``sigma_e``: unit
    weights, covariance scaled by the residual variance (``sigma_v`` is then not used)."""
    v, e = np.asarray(v, float), np.asarray(e, float)
    degree = int(min(3, v.size - 2))
    curve = EnergyCurve(V0_A3, np.zeros(degree + 1), np.zeros((degree + 1, degree + 1)))
    passes = 2 if sigma_e is not None and sigma_v is not None else 1
    for _ in range(passes):
        if sigma_e is None:
            w = np.ones(v.size)
        else:
            var = np.asarray(sigma_e, float) ** 2
            if sigma_v is not None:
                var = var + (curve.slope(v) * np.asarray(sigma_v, float)) ** 2
            w = 1 / np.sqrt(var)
        X = curve.basis(v) * w[:, None]
        coef, *_ = np.linalg.lstsq(X, e * w, rcond=None)
        curve = EnergyCurve(V0_A3, coef, np.linalg.pinv(X.T @ X))
    dof = v.size - curve.coef.size
    if sigma_e is None and dof > 0:
        r = e - curve.basis(v) @ curve.coef
        curve.cov = curve.cov * float(r @ r) / dof
    return curve


@dataclass
class Isotherm:
    """One isotherm of the grid: its mean temperature (K), the EOS fit P(V) and the E(V) curve (or None)."""

    T_K: float
    eos: EOSFit
    energy: EnergyCurve | None
    n_points: int


def fit_isotherm(T_K: float, v, p, e, sv, sp, se, form: str, fixed: dict | None = None,
                 prior: dict | None = None) -> Isotherm:
    """The :class:`Isotherm` at ``T_K`` from its points (Å³, GPa, eV; 1σ arrays or ``None``); ``fixed`` and
    ``prior`` go to :func:`~deepearth.properties.eos.fit`."""
    label = f"isotherm {T_K:.0f} K"
    try:
        res = fit(v, p, form=form, pressures_stderr_GPa=sp, fixed=fixed, prior=prior)
        if sv is not None:
            k = res.bulk_modulus(v)
            base = np.zeros(len(v)) if sp is None else np.asarray(sp, float) ** 2
            eff = np.sqrt(base + (k / np.asarray(v, float) * np.asarray(sv, float)) ** 2)
            if np.all(eff > 0):
                res = fit(v, p, form=form, pressures_stderr_GPa=eff, fixed=fixed, prior=prior)
                res.method += "; effective variance sigma_P^2 + (K/V sigma_V)^2 (Orear 1982)"
    except ValueError as exc:
        raise ValueError(f"{label}: {exc}") from None
    if res.weighted and res.chi2_red > 1:
        res = res.with_covariance_scaled(res.chi2_red, f"covariance scaled by chi2_red = {res.chi2_red:.3g} > 1 "
                                                       "(the form or the errors do not fully describe the isotherm)")
    curve = None if e is None else fit_energy_curve(v, e, se, sv, res.V0)
    return Isotherm(float(T_K), res, curve, int(len(v)))
