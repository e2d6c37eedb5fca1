"""P–V–T from a grid of MD state points: thermal pressure, thermal expansion, Grüneisen parameter and
K_T with propagated errors (:func:`pvt_analysis`), and an adiabat (:mod:`.adiabat`).

Input: per state point the averages ⟨V⟩ (Å³), T (K), ⟨P⟩ (GPa) and optionally ⟨E⟩ (eV, total
internal energy: potential + kinetic) with their standard errors (block averages of an NVT or NPT
grid; same cell for every point). Points are grouped into isotherms by T (:mod:`.isotherms`), and each
isotherm gets its own EOS fit P(V) and energy curve E(V). From those, with ``σ`` the 1σ standard
errors propagated to first order and isotherms treated as independent:

* **K_T(P, T)** = K(V(P)) of the isotherm's fit (Birch 1947 / Vinet et al. 1987), σ through its
  covariance, the volume V(P) included;
* **thermal pressure** ``P_th(V, T) = P(V, T) − P(V, T_ref)`` (Anderson 1995, *Equations of State of
  Solids for Geophysics and Ceramic Science*, ch. 5), σ² = σ²(P_T) + σ²(P_ref);
* **thermal expansion** ``α = (1/V)(∂V/∂T)_P`` at each isotherm's T: the derivative of the
  Lagrange polynomial through V(P) of that isotherm and its two neighbours in T (one-sided at the
  ends; a straight line with two isotherms), σ from the volumes' errors;
* **Grüneisen parameter** ``γ = V (∂P/∂E)_V`` (the Mie–Grüneisen definition, Anderson 1995 eq. 5.4):
  the slope of P against E across the isotherms at fixed V (weighted straight line, effective
  variance σ_P² + slope² σ_E², Orear 1982), σ from that fit; needs energies. The P and E of one
  isotherm come from two fits to the same points; their correlation is neglected.

Only numpy and scipy are needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from deepearth.files import json_ready
from deepearth.properties.checks import require_at_least, require_finite
from deepearth.properties.eos.adiabat import Adiabat, GrueneisenFit, adiabat, fit_grueneisen
from deepearth.properties.eos.isotherms import Isotherm, fit_isotherm, group_temperatures
from deepearth.units import GPA_TO_EV_PER_A3

__all__ = ["ThermalEOSResult", "derivative_weights", "pvt_analysis"]


def derivative_weights(x: np.ndarray, at: float) -> np.ndarray:
    """Weights ``c`` with ``dy/dx(at) ≈ Σ c_j y(x_j)``: the derivative of the Lagrange polynomial
    through the points ``x`` (2 or 3 of them)."""
    x = np.asarray(x, float)
    c = np.zeros(x.size)
    for j in range(x.size):
        others = [m for m in range(x.size) if m != j]
        denom = np.prod([x[j] - x[m] for m in others])
        c[j] = sum(np.prod([at - x[m] for m in others if m != k]) for k in others) / denom
    return c


def _neighbours(i: int, n: int) -> list[int]:
    if n == 2:
        return [0, 1]
    lo = min(max(i - 1, 0), n - 3)
    return [lo, lo + 1, lo + 2]


@dataclass
class ThermalEOSResult:
    """P–V–T quantities of a grid. Arrays are ``[isotherm][point]``; units: K, GPa, Å³, 1/K, eV.

    ``isotherms``: the per-isotherm EOS fits (``EOSFit.to_dict()``); ``pressures_GPa``: where V, α and
    K_T are given; ``volumes_A3``: where P_th and γ are given; ``grueneisen``/``adiabat`` need energies
    (``None`` without). ``method`` lists the formulas and references (module docstring).
    """

    T_K: list[float]
    T_ref_K: float
    form: str
    isotherms: list[dict]
    pressures_GPa: list[float]
    volume_A3: list[list[float]]
    volume_stderr_A3: list[list[float]]
    K_T_GPa: list[list[float]]
    K_T_stderr_GPa: list[list[float]]
    alpha_per_K: list[list[float]]
    alpha_stderr_per_K: list[list[float]]
    volumes_A3: list[float]
    thermal_pressure_GPa: list[list[float]]
    thermal_pressure_stderr_GPa: list[list[float]]
    gamma: list[float] | None
    gamma_stderr: list[float] | None
    grueneisen: GrueneisenFit | None
    adiabat: Adiabat | None
    method: str
    units: dict = field(default_factory=lambda: {"T": "K", "P": "GPa", "V": "A^3", "alpha": "1/K", "K_T": "GPa",
                                                  "gamma": "1", "E": "eV"})

    def to_dict(self) -> dict:
        """JSON-safe dict of every field."""
        return json_ready(self)


def _optional(name: str, values, n: int):
    if values is None:
        return None
    a = np.atleast_1d(require_finite(f"P-V-T analysis: {name}", values))
    if a.shape != (n,):
        raise ValueError(f"P-V-T analysis: {name} has {a.size} values for {n} state points; give one per point")
    if not np.any(a > 0):
        return None  # no errors given (all zero)
    if np.any(a <= 0):
        i = int(np.flatnonzero(a <= 0)[0])
        raise ValueError(f"P-V-T analysis: {name}[{i}] = {a[i]:g}; give every point an error > 0, or none")
    return a


def _overlap(ranges: list[tuple[float, float]], what: str, n: int) -> np.ndarray:
    lo, hi = max(r[0] for r in ranges), min(r[1] for r in ranges)
    if not lo < hi:
        raise ValueError(f"P-V-T analysis: the isotherms' {what} ranges do not overlap ({lo:.4g} > {hi:.4g}); "
                         f"give at_{what}s explicitly or add points")
    return np.linspace(lo, hi, n)


def _grueneisen(isos: list[Isotherm], volumes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """γ = V (∂P/∂E)_V and its σ at each volume, from the isotherms' P(V) and E(V)."""
    gam, err = np.empty(volumes.size), np.empty(volumes.size)
    for k, vol in enumerate(volumes):
        p, sp = np.array([iso.eos.pressure(vol, stderr=True) for iso in isos], float).T
        e, se = np.array([iso.energy.energy(vol) for iso in isos], float).T
        slope = 0.0
        for _ in range(3):  # effective variance: the slope enters the weights (Orear 1982)
            var = sp**2 + slope**2 * se**2
            w = 1 / np.where(var > 0, var, np.min(var[var > 0]) if np.any(var > 0) else 1.0)
            X = np.column_stack([np.ones_like(e), e - np.average(e, weights=w)])
            A = X.T @ (X * w[:, None])
            coef = np.linalg.solve(A, X.T @ (w * p))
            slope = coef[1]
        var_slope = np.linalg.inv(A)[1, 1]
        if not np.any(sp > 0):  # exact P: the scatter about the line is the only error measure
            dof = len(isos) - 2
            r = p - X @ coef
            var_slope = var_slope * (float(r @ (w * r)) / dof if dof > 0 else np.nan)
        gam[k] = vol * slope * GPA_TO_EV_PER_A3
        err[k] = vol * np.sqrt(var_slope) * GPA_TO_EV_PER_A3
    return gam, err


def pvt_analysis(volumes_A3, temperatures_K, pressures_GPa, energies_eV=None, *, volumes_stderr_A3=None,
                 pressures_stderr_GPa=None, energies_stderr_eV=None, form: str = "bm3", T_ref_K: float | None = None,
                 at_pressures_GPa=None, at_volumes_A3=None, adiabat_start: tuple[float, float] | None = None,
                 n_grid: int = 6, fixed: dict | None = None, prior: dict | None = None) -> ThermalEOSResult:
    """Thermal EOS of a (V, T, P[, E]) grid of state-point averages (module docstring for the formulas).

    Units: Å³ (any per-cell, per-atom or per-formula-unit volume, the same for E), K, GPa, eV. Needs at
    least two isotherms of ≥ 4 points each. ``T_ref_K``: the reference isotherm of the thermal pressure
    (default the coldest; the isotherm nearest to it is used). ``at_pressures_GPa`` / ``at_volumes_A3``:
    where to report (default ``n_grid`` points over the range all isotherms share).
    ``adiabat_start``: (P GPa, T K) of the adiabat's foot (default: the lowest shared pressure on the
    hottest isotherm); energies are needed for γ and the adiabat. ``fixed`` / ``prior`` apply to every
    isotherm's fit (:func:`~deepearth.properties.eos.fit`; e.g. a weak prior on K0' for isotherms that
    span too narrow a pressure range to fix it).
    """
    V = np.atleast_1d(require_finite("P-V-T analysis: volumes_A3", volumes_A3))
    n = V.size
    T = _optional("temperatures_K", temperatures_K, n)
    P = np.atleast_1d(require_finite("P-V-T analysis: pressures_GPa", pressures_GPa))
    if T is None or np.any(T <= 0):
        i = int(np.flatnonzero(np.asarray(temperatures_K, float) <= 0)[0])
        raise ValueError(f"P-V-T analysis: temperatures must be > 0 K; temperatures_K[{i}] = {temperatures_K[i]:g}")
    if P.shape != (n,):
        raise ValueError(f"P-V-T analysis: pressures_GPa has {P.size} values for {n} state points")
    E = None if energies_eV is None else np.atleast_1d(require_finite("P-V-T analysis: energies_eV", energies_eV))
    if E is not None and E.shape != (n,):
        raise ValueError(f"P-V-T analysis: energies_eV has {E.size} values for {n} state points")
    sv, sp, se = (_optional(nm, x, n) for nm, x in (("volumes_stderr_A3", volumes_stderr_A3),
                                                     ("pressures_stderr_GPa", pressures_stderr_GPa),
                                                     ("energies_stderr_eV", energies_stderr_eV)))
    labels = group_temperatures(T)
    require_at_least("P-V-T analysis", int(labels.max()) + 1, 2, "isotherms", "thermal quantities are T derivatives")
    isos = []
    for k in range(int(labels.max()) + 1):
        m = labels == k
        pick = (lambda a: None if a is None else a[m])  # noqa: E731
        isos.append(fit_isotherm(float(T[m].mean()), V[m], P[m], pick(E), pick(sv), pick(sp), pick(se), form,
                                 fixed, prior))
    temps = np.array([iso.T_K for iso in isos])
    ref = int(np.argmin(np.abs(temps - (temps.min() if T_ref_K is None else float(T_ref_K)))))
    members = [labels == k for k in range(len(isos))]
    pgrid = (np.atleast_1d(np.asarray(at_pressures_GPa, float)) if at_pressures_GPa is not None else
             _overlap([(P[m].min(), P[m].max()) for m in members], "pressure", n_grid))
    vgrid = (np.atleast_1d(np.asarray(at_volumes_A3, float)) if at_volumes_A3 is not None else
             _overlap([(V[m].min(), V[m].max()) for m in members], "volume", n_grid))
    vol = np.empty((len(isos), pgrid.size))
    vol_e = np.empty_like(vol)
    kt, kt_e = np.empty_like(vol), np.empty_like(vol)
    for i, iso in enumerate(isos):
        vol[i], vol_e[i] = iso.eos.volume(pgrid, stderr=True)
        kt[i], kt_e[i] = iso.eos.bulk_modulus_at_pressure(pgrid, stderr=True)
    alpha, alpha_e = np.empty_like(vol), np.empty_like(vol)
    for i in range(len(isos)):
        nb = _neighbours(i, len(isos))
        c = derivative_weights(temps[nb], temps[i])
        dvdt = c @ vol[nb]
        alpha[i] = dvdt / vol[i]
        # ∂α/∂V_j = c_j/V_i − δ_ij α/V_i
        jac = np.array([c[j] / vol[i] - (alpha[i] / vol[i] if nb[j] == i else 0.0) for j in range(len(nb))])
        alpha_e[i] = np.sqrt(np.sum((jac * vol_e[nb]) ** 2, axis=0))
    pref, pref_e = isos[ref].eos.pressure(vgrid, stderr=True)
    pth, pth_e = np.empty((len(isos), vgrid.size)), np.empty((len(isos), vgrid.size))
    for i, iso in enumerate(isos):
        p_i, e_i = iso.eos.pressure(vgrid, stderr=True)
        pth[i] = p_i - pref
        pth_e[i] = 0.0 if i == ref else np.sqrt(e_i**2 + pref_e**2)
    gam = gam_e = gfit = adb = None
    if E is not None:
        gam, gam_e = _grueneisen(isos, vgrid)
        gfit = fit_grueneisen(vgrid, gam, gam_e)
        start = adiabat_start or (float(pgrid.min()), float(temps.max()))
        adb = adiabat(isos, gfit, start, float(pgrid.max()))
    method = ("isotherm fits: " + isos[0].eos.method.split(";")[0] + "; K_T = -V dP/dV of each isotherm; "
              "P_th(V,T) = P(V,T) - P(V,T_ref) (Anderson 1995 ch. 5); alpha = (1/V)(dV/dT)_P by the derivative "
              "of the Lagrange polynomial through 3 neighbouring isotherms (2: a straight line); gamma = V (dP/dE)_V, "
              "weighted line of P against E across isotherms at fixed V (Anderson 1995 eq. 5.4; effective "
              "variance, Orear 1982); errors: first-order propagation, isotherms independent")
    return ThermalEOSResult(
        T_K=temps.tolist(), T_ref_K=float(temps[ref]), form=form, isotherms=[iso.eos.to_dict() for iso in isos],
        pressures_GPa=pgrid.tolist(), volume_A3=vol.tolist(), volume_stderr_A3=vol_e.tolist(), K_T_GPa=kt.tolist(),
        K_T_stderr_GPa=kt_e.tolist(), alpha_per_K=alpha.tolist(), alpha_stderr_per_K=alpha_e.tolist(),
        volumes_A3=vgrid.tolist(), thermal_pressure_GPa=pth.tolist(), thermal_pressure_stderr_GPa=pth_e.tolist(),
        gamma=None if gam is None else gam.tolist(), gamma_stderr=None if gam_e is None else gam_e.tolist(),
        grueneisen=gfit, adiabat=adb, method=method)
