"""Integration of the BMO model (eqs. 14–16, vectorised RK4) and its outputs: :func:`evolve_bmo`, the
Monte-Carlo lifetime spread (:func:`dynamo_lifetime_uncertainty`) and the paper's four standard cases
with its lifetimes (:func:`standard_cases`, :data:`PAPER_DYNAMO_LIFETIME_GYR`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from types import SimpleNamespace

import numpy as np

from deepearth.files import json_ready
from deepearth.geophysics import magma_ocean
from deepearth.geophysics.bmo_evolution.parameters import PARAMETER_UNITS, BMOParameters
from deepearth.geophysics.bmo_evolution.physics import (buoyancy_flux, liquidus_K, liquidus_slope_K,
                                                        magnetic_reynolds, partition_coefficient, velocity_cia,
                                                        velocity_mlt)
from deepearth.units import GYR_S


def _as_arrays(values: list[dict]) -> SimpleNamespace:
    """Parameter sets → namespace of SI arrays, shape (n,)."""
    a = {k: np.array([v[k] for v in values], dtype=float) for k in PARAMETER_UNITS}
    ns = SimpleNamespace(**a)
    ns.rc = a["core_radius_km"] * 1e3
    ns.D0 = a["initial_thickness_km"] * 1e3
    ns.dmin = a["min_thickness_km"] * 1e3
    ns.delta = a["delta_tbl_km"] * 1e3
    ns.gamma = a["adiabat_K_per_km"] * 1e-3
    ns.t_now = a["present_age_Gyr"] * GYR_S
    # present-day heat production per kg of BSE-like melt, and decay constants (1/s)
    ns.h_now = [a["U_ppb"] * 1e-9 * a["h_U238_W_per_kg_U"], a["U_ppb"] * 1e-9 * a["h_U235_W_per_kg_U"],
                a["Th_ppb"] * 1e-9 * a["h_Th232_W_per_kg_Th"], a["K_ppm"] * 1e-6 * a["h_K40_W_per_kg_K"]]
    ns.lam = [np.log(2.0) / (a[k] * GYR_S) for k in ("half_life_U238_Gyr", "half_life_U235_Gyr",
                                                      "half_life_Th232_Gyr", "half_life_K40_Gyr")]
    return ns


def _heat_terms(t, R, X, p, fe_enrichment: bool) -> dict:
    """Every term of eqs. 14–16 at time t (s) for states R (m), X; arrays broadcast with p's."""
    X = np.clip(X, 0.0, 1.0)
    thick = np.maximum(R - p.rc, 0.0)
    alive = thick > 0.0
    vol = np.maximum(R**3 - p.rc**3, 1e-300)
    M_B = (4.0 / 3.0) * np.pi * p.rho_bmo_kg_m3 * np.where(alive, vol, 0.0)
    T = liquidus_K(X, p.T_MgSiO3_K, p.T_FeSiO3_K, p.K_D)
    area = 4.0 * np.pi * R**2
    Q = area * p.k_mantle_W_m_K * (T - p.T_mantle_K) / p.delta
    decay = sum(h * np.exp(lam * (p.t_now - t)) for h, lam in zip(p.h_now, p.lam))
    H = p.radiogenic_enrichment * M_B * decay
    if fe_enrichment:
        dXdR = np.where(alive, 3.0 * R**2 * (partition_coefficient(X, p.K_D) - 1.0) * X / vol, 0.0)
    else:
        dXdR = np.zeros_like(R * X)
    dTdX = liquidus_slope_K(X, p.T_MgSiO3_K, p.T_FeSiO3_K, p.K_D)
    heat_capacity = M_B * p.cp_bmo_J_kg_K + p.M_core_kg * p.cp_core_J_kg_K  # J/K
    latent_per_m = area * p.rho_bmo_kg_m3 * T * p.dS_fusion_J_kg_K           # J/m of front motion
    # Q − H = −[C dT_L/dX dX/dR + 4πR²ρTΔS] dR/dt   (eq. 14 with eqs. 15–16 substituted)
    dRdt = np.where(alive, -(Q - H) / (heat_capacity * dTdX * dXdR + latent_per_m), 0.0)
    dXdt = dXdR * dRdt
    dTdt = dTdX * dXdt
    return {"T": T, "Q": Q, "H": H, "dRdt": dRdt, "dXdt": dXdt, "M_B": M_B, "thick": thick,
            "Q_bmo": -M_B * p.cp_bmo_J_kg_K * dTdt, "Q_core": -p.M_core_kg * p.cp_core_J_kg_K * dTdt,
            "Q_latent": -latent_per_m * dRdt}


def _rk4(p, fe_enrichment: bool, dt_s: float, n_steps: int):
    """Classical RK4 for (R, X); returns t (s), R, X histories (n_steps+1, n) and the frozen mask."""
    n = p.rc.size
    R = np.empty((n_steps + 1, n))
    X = np.empty((n_steps + 1, n))
    R[0], X[0] = p.rc + p.D0, p.X0
    frozen = np.zeros((n_steps + 1, n), dtype=bool)

    def f(t, r, x):
        h = _heat_terms(t, r, x, p, fe_enrichment)
        return h["dRdt"], h["dXdt"]

    for i in range(n_steps):
        t, r, x = i * dt_s, R[i], X[i]
        k1r, k1x = f(t, r, x)
        k2r, k2x = f(t + dt_s / 2, r + dt_s / 2 * k1r, x + dt_s / 2 * k1x)
        k3r, k3x = f(t + dt_s / 2, r + dt_s / 2 * k2r, x + dt_s / 2 * k2x)
        k4r, k4x = f(t + dt_s, r + dt_s * k3r, x + dt_s * k3x)
        r_new = r + dt_s / 6.0 * (k1r + 2 * k2r + 2 * k3r + k4r)
        x_new = np.clip(x + dt_s / 6.0 * (k1x + 2 * k2x + 2 * k3x + k4x), 0.0, 1.0)
        done = frozen[i] | (r_new - p.rc < p.dmin)
        frozen[i + 1] = done
        R[i + 1] = np.where(done, p.rc, r_new)
        X[i + 1] = np.where(frozen[i], x, x_new)
    return np.arange(n_steps + 1) * dt_s, R, X, frozen


def _diagnostics(t, R, X, frozen, p, fe_enrichment: bool, flow: str) -> dict:
    """Heat flows, conductivities, velocity and Rm along the trajectories (arrays (nt, n))."""
    h = _heat_terms(t[:, None], R, X, p, fe_enrichment)
    T, D = h["T"], h["thick"]
    P = np.broadcast_to(p.pressure_GPa, T.shape)
    sigma = magma_ocean.electrical_conductivity(P, T, np.clip(X, 0, 1))                       # eq. 12
    kappa = magma_ocean.total_thermal_conductivity(P, T, np.clip(X, 0, 1), p.kappa_ionic_W_m_K)  # eq. 13 + ionic
    # magma_ocean.conductive_heat_flow_W, vectorised over the radius (it takes a scalar radius)
    Q_cond = 4.0 * np.pi * R**2 * kappa * p.gamma
    F = buoyancy_flux(h["Q"], R, p.rho_bmo_kg_m3, T, p.gamma)
    u = velocity_mlt(F, D, p.c_mlt) if flow == "mlt" else velocity_cia(F, D, p.Omega_rad_s, p.c_cia)
    u = np.where(frozen, 0.0, u)
    Rm = magnetic_reynolds(u, D, sigma)
    return {**h, "sigma": sigma, "kappa": kappa, "Q_cond": Q_cond, "u": u, "Rm": Rm}


def _last_crossing(t_Gyr, y, level):
    """Per column: last time y > level (linear interpolation to the crossing), t_end if still above, 0 if never."""
    above = y > level
    out = np.zeros(y.shape[1])
    for j in range(y.shape[1]):
        idx = np.flatnonzero(above[:, j])
        if idx.size == 0:
            continue
        i = idx[-1]
        if i == len(t_Gyr) - 1:
            out[j] = t_Gyr[-1]
        else:
            y0, y1 = y[i, j], y[i + 1, j]
            out[j] = t_Gyr[i] + (y0 - level) / (y0 - y1) * (t_Gyr[i + 1] - t_Gyr[i])
    return out


def _first_drop(t_Gyr, margin):
    """Per column: first time margin (Q − Q_cond) ≤ 0, interpolated; t_end if never."""
    out = np.full(margin.shape[1], t_Gyr[-1])
    for j in range(margin.shape[1]):
        idx = np.flatnonzero(margin[:, j] <= 0)
        if idx.size == 0:
            continue
        i = idx[0]
        if i == 0:
            out[j] = t_Gyr[0]
        else:
            m0, m1 = margin[i - 1, j], margin[i, j]
            out[j] = t_Gyr[i - 1] + m0 / (m0 - m1) * (t_Gyr[i] - t_Gyr[i - 1])
    return out


def _steps(dt_Myr: float, t_end_Gyr: float) -> tuple[float, int]:
    if not (dt_Myr > 0 and math.isfinite(dt_Myr)):
        raise ValueError(f"dt_Myr must be positive, got {dt_Myr}")
    if not (t_end_Gyr > 0 and math.isfinite(t_end_Gyr)):
        raise ValueError(f"t_end_Gyr must be positive, got {t_end_Gyr}")
    n = max(1, int(round(t_end_Gyr * 1e3 / dt_Myr)))
    return t_end_Gyr * GYR_S / n, n


def _check_flow(flow: str) -> None:
    if flow not in ("mlt", "cia"):
        raise ValueError(f"flow must be 'mlt' (eq. 17) or 'cia' (eq. 18), got {flow!r}")


# ------------------------------------------------------------------------------------------- API --

@dataclass
class BMOEvolution:
    """Result of :func:`evolve_bmo`: time series (after the BMO has frozen, if it does, the series stop).

    Heat flows in TW: ``Q_total_TW`` (eq. 14 left side) = ``Q_bmo_cooling_TW + Q_core_cooling_TW +
    Q_radiogenic_TW + Q_latent_TW`` (right side); ``Q_cond_TW`` is the heat conducted down the adiabat.
    ``dynamo_lifetime_Gyr``: last time Rm > Rm_crit (interpolated; = t_end if still above).
    ``convective_until_Gyr``: first time Q_total ≤ Q_cond (= t_end if the BMO convects throughout,
    see ``convects_throughout``). ``frozen_at_Gyr``: time the BMO fully crystallised, or None.
    """

    time_Gyr: np.ndarray
    T_K: np.ndarray
    thickness_km: np.ndarray
    X_Fe: np.ndarray
    Q_total_TW: np.ndarray
    Q_cond_TW: np.ndarray
    Q_bmo_cooling_TW: np.ndarray
    Q_core_cooling_TW: np.ndarray
    Q_radiogenic_TW: np.ndarray
    Q_latent_TW: np.ndarray
    u_m_s: np.ndarray
    sigma_S_m: np.ndarray
    kappa_W_m_K: np.ndarray
    Rm: np.ndarray
    dynamo_lifetime_Gyr: float
    convective_until_Gyr: float
    convects_throughout: bool
    frozen_at_Gyr: float | None
    fe_enrichment: bool
    flow: str
    dt_Myr: float
    params: BMOParameters

    def to_dict(self) -> dict:
        """JSON-ready dict (arrays → lists, NaN → None, parameters with units and sources)."""
        return json_ready({f.name: self.params.to_dict() if f.name == "params" else getattr(self, f.name)
                           for f in fields(self)})


def evolve_bmo(params: BMOParameters | None = None, *, fe_enrichment: bool = True, flow: str = "mlt",
               dt_Myr: float = 1.0, t_end_Gyr: float = 4.5) -> BMOEvolution:
    """Integrate eqs. 14–16 with RK4 from t = 0 (4.5 Ga) to ``t_end_Gyr`` and evaluate eqs. 17–18 and Rm.

    ``fe_enrichment=False`` holds X at X0 (then T_L, σ are constant and only latent and radiogenic heat
    are released). ``flow``: ``"mlt"`` (eq. 17) or ``"cia"`` (eq. 18). ``dt_Myr``: RK4 step (Myr).
    """
    _check_flow(flow)
    params = BMOParameters.from_toml() if params is None else params
    dt_s, n_steps = _steps(dt_Myr, t_end_Gyr)
    p = _as_arrays([params.values()])
    t, R, X, frozen = _rk4(p, fe_enrichment, dt_s, n_steps)
    d = _diagnostics(t, R, X, frozen, p, fe_enrichment, flow)
    t_Gyr = t / GYR_S
    frozen_idx = np.flatnonzero(frozen[:, 0])
    stop = frozen_idx[0] + 1 if frozen_idx.size else len(t)
    frozen_at = float(t_Gyr[frozen_idx[0]]) if frozen_idx.size else None
    life = float(_last_crossing(t_Gyr, d["Rm"], params.Rm_crit)[0])
    margin = (d["Q"] - d["Q_cond"])[:stop]
    conv = float(_first_drop(t_Gyr[:stop], margin)[0])
    throughout = bool(np.all(margin > 0)) and frozen_at is None

    def col(a, scale=1.0):
        return np.asarray(a)[:stop, 0] * scale

    return BMOEvolution(
        time_Gyr=t_Gyr[:stop], T_K=col(d["T"]), thickness_km=col(d["thick"], 1e-3), X_Fe=col(np.clip(X, 0, 1)),
        Q_total_TW=col(d["Q"], 1e-12), Q_cond_TW=col(d["Q_cond"], 1e-12), Q_bmo_cooling_TW=col(d["Q_bmo"], 1e-12),
        Q_core_cooling_TW=col(d["Q_core"], 1e-12), Q_radiogenic_TW=col(d["H"], 1e-12),
        Q_latent_TW=col(d["Q_latent"], 1e-12), u_m_s=col(d["u"]), sigma_S_m=col(d["sigma"]),
        kappa_W_m_K=col(d["kappa"]), Rm=col(d["Rm"]), dynamo_lifetime_Gyr=life, convective_until_Gyr=conv,
        convects_throughout=throughout, frozen_at_Gyr=frozen_at, fe_enrichment=fe_enrichment, flow=flow,
        dt_Myr=t_end_Gyr * 1e3 / n_steps, params=params)


@dataclass
class LifetimeUncertainty:
    """Dynamo lifetime (Gyr) with its Monte-Carlo spread: median and 16–84 % interval.

    ``n_at_end``: samples still above Rm_crit at t_end (their lifetime is a lower bound, t_end).
    ``method`` states how the spread was obtained — uncertainty is a feature of the result.
    """

    median_Gyr: float
    p16_Gyr: float
    p84_Gyr: float
    nominal_Gyr: float
    n_samples: int
    n_at_end: int
    seed: int
    fe_enrichment: bool
    flow: str
    sampled: list[str]
    method: str
    lifetimes_Gyr: list[float]

    def to_dict(self) -> dict:
        return json_ready(self)


def dynamo_lifetime_uncertainty(params: BMOParameters | None = None, n_samples: int = 200, seed: int = 0, *,
                                fe_enrichment: bool = True, flow: str = "mlt", dt_Myr: float = 2.0,
                                t_end_Gyr: float = 4.5) -> LifetimeUncertainty:
    """Monte Carlo over the TOML ranges: every parameter with a ``range`` is drawn independently and
    uniformly within it, all samples are integrated together (vectorised RK4) and the lifetime
    (last time Rm > Rm_crit) is summarised by its median and 16th/84th percentiles.
    """
    _check_flow(flow)
    if n_samples < 2:
        raise ValueError(f"n_samples must be at least 2, got {n_samples}")
    params = BMOParameters.from_toml() if params is None else params
    rng = np.random.default_rng(seed)
    base = params.values()
    names = sorted(params.ranges)
    draws = {k: rng.uniform(*params.ranges[k], size=n_samples) for k in names}
    sets = [{**base, **{k: float(draws[k][i]) for k in names}} for i in range(n_samples)]
    dt_s, n_steps = _steps(dt_Myr, t_end_Gyr)
    p = _as_arrays(sets)
    t, R, X, frozen = _rk4(p, fe_enrichment, dt_s, n_steps)
    d = _diagnostics(t, R, X, frozen, p, fe_enrichment, flow)
    t_Gyr = t / GYR_S
    life = _last_crossing(t_Gyr, d["Rm"], base["Rm_crit"])
    nominal = evolve_bmo(params, fe_enrichment=fe_enrichment, flow=flow, dt_Myr=dt_Myr,
                         t_end_Gyr=t_end_Gyr).dynamo_lifetime_Gyr
    p16, med, p84 = np.percentile(life, [16, 50, 84])
    method = (f"Monte Carlo: {n_samples} parameter sets (seed {seed}), each of the {len(names)} parameters "
              f"with a TOML range drawn independently and uniformly within it; RK4 with dt = {dt_Myr} Myr; "
              f"lifetime = last time Rm > {base['Rm_crit']:g}; median and 16-84 % percentiles. Uncertainty "
              "is a feature: the reconstructed parameter table is uncertain, and so is the lifetime.")
    return LifetimeUncertainty(float(med), float(p16), float(p84), float(nominal), n_samples,
                               int(np.sum(life >= t_end_Gyr)), seed, fe_enrichment, flow, names, method,
                               [float(x) for x in life])


# ------------------------------------------------------------------------------- the paper's cases --

#: Dragulet & Stixrude's (2025) dynamo lifetimes (Gyr with Rm > 40) by (Fe enrichment, flow), their Results 2.3:
#: 3.3 Gyr with Fe enrichment and 1.4 Gyr without (MLT velocities, eq. 17); CIA velocities (eq. 18)
#: shorten the Fe-enriched lifetime by 1.3 Gyr, i.e. 2.0 Gyr. The paper gives no CIA lifetime without
#: enrichment.
PAPER_DYNAMO_LIFETIME_GYR: dict[tuple[bool, str], float] = {(True, "mlt"): 3.3, (False, "mlt"): 1.4,
                                                             (True, "cia"): 2.0}


def case_label(fe_enrichment: bool, flow: str) -> str:
    """``"Fe enrichment, MLT"`` etc.: how the standard cases are named in results and figures."""
    return f"{'Fe enrichment' if fe_enrichment else 'no enrichment'}, {flow.upper()}"


@dataclass
class StandardCases:
    """The paper's four cases (± Fe enrichment × MLT/CIA) run with one parameter set: ``runs`` by
    :func:`case_label` (MLT with, MLT without, CIA with, CIA without enrichment) and, with Monte Carlo,
    each case's :class:`LifetimeUncertainty`."""

    params: BMOParameters
    dt_Myr: float
    t_end_Gyr: float
    runs: dict[str, BMOEvolution]
    uncertainties: dict[str, LifetimeUncertainty] = field(default_factory=dict)

    model = ("BMO thermal and magnetic evolution (Dragulet & Stixrude 2025, arXiv:2508.00791 eqs. 14-18, RK4; parameters reconstructed "
             "from Labrosse et al. 2007 and Stixrude et al. 2020)")

    def to_dict(self, parameters: str | None = None) -> dict:
        """JSON-ready: model, ``parameters`` (how the parameter file is named; default its origin), step,
        Rm_crit and :meth:`summary`."""
        return {"model": self.model, "parameters": self.params.origin if parameters is None else parameters,
                "dt_Myr": self.dt_Myr, "Rm_crit": self.params.Rm_crit, "cases": self.summary()}

    def summary(self) -> list[dict]:
        """One JSON-ready dict per case: lifetime next to the paper's, convection, freezing, final Rm and
        (with Monte Carlo) the lifetime spread without its samples."""
        rows = []
        for label, res in self.runs.items():
            fe, flow = res.fe_enrichment, res.flow
            row = {"fe_enrichment": fe, "flow": flow, "dynamo_lifetime_Gyr": res.dynamo_lifetime_Gyr,
                   "paper_lifetime_Gyr": PAPER_DYNAMO_LIFETIME_GYR.get((fe, flow)),
                   "convective_until_Gyr": res.convective_until_Gyr, "convects_throughout": res.convects_throughout,
                   "frozen_at_Gyr": res.frozen_at_Gyr, "Rm_at_end": float(res.Rm[-1])}
            if label in self.uncertainties:
                row["lifetime_uncertainty"] = {k: v for k, v in self.uncertainties[label].to_dict().items()
                                               if k != "lifetimes_Gyr"}
            rows.append(row)
        return rows


def standard_cases(params: BMOParameters | None = None, dt_Myr: float = 1.0, t_end_Gyr: float = 4.5,
                   mc_samples: int = 0, seed: int = 0) -> StandardCases:
    """:func:`evolve_bmo` for the four standard cases and, with ``mc_samples``, each case's
    :func:`dynamo_lifetime_uncertainty` (``mc_samples`` parameter sets, ``seed``; its own default step)."""
    params = BMOParameters.from_toml() if params is None else params
    runs, unc = {}, {}
    for flow in ("mlt", "cia"):
        for fe in (True, False):
            label = case_label(fe, flow)
            runs[label] = evolve_bmo(params, fe_enrichment=fe, flow=flow, dt_Myr=dt_Myr, t_end_Gyr=t_end_Gyr)
            if mc_samples:
                unc[label] = dynamo_lifetime_uncertainty(params, mc_samples, seed, fe_enrichment=fe, flow=flow)
    return StandardCases(params, dt_Myr, t_end_Gyr, runs, unc)


__all__ = ["BMOEvolution", "evolve_bmo", "LifetimeUncertainty", "dynamo_lifetime_uncertainty",
           "PAPER_DYNAMO_LIFETIME_GYR", "case_label", "StandardCases", "standard_cases"]
