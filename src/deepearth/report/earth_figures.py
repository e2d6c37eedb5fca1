"""Figures of Earth conditions: PREM and geotherms against depth, and deviations from PREM (conditions of Wan & Li 2026, Fig. 1).

They draw the profiles and deviations they are given (:mod:`deepearth.geophysics.earth`); they run no model."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from deepearth.geophysics import earth  # noqa: E402
from deepearth.report.figures import save_figure  # noqa: E402

_BOUNDARIES = (("660", earth.TRANSITION_ZONE_BASE_DEPTH_KM), ("CMB", earth.CMB_DEPTH_KM),
               ("ICB", earth.ICB_DEPTH_KM))


def _mark_boundaries(ax, label: bool = False) -> None:
    for name, z in _BOUNDARIES:
        ax.axhline(z, color="0.5", ls=":", lw=0.8)
        if label:
            ax.annotate(name, (1.0, z), xycoords=("axes fraction", "data"), xytext=(-3, -3),
                        textcoords="offset points", ha="right", va="top", fontsize=7, color="0.3")


def prem_figure(prem: earth.EarthProfile, geotherm_profiles: Sequence[earth.EarthProfile], out: Path,
                mark_conditions: bool = True) -> Path:
    """Four panels against depth (km, down): PREM pressure (GPa), density (kg/m³), V_P and V_S (km/s)
    from ``prem`` (e.g. ``earth.prem_profile(geotherm=None)``), and the temperature (K) of each profile of
    ``geotherm_profiles`` (e.g. :func:`deepearth.geophysics.earth.geotherm_profiles`; NaN where a geotherm
    does not reach). The 660 (PREM's 670-km discontinuity), CMB and ICB are dotted; with
    ``mark_conditions`` the (P, T) points of Wan & Li (2026, Fig. 1) are drawn on the P and T panels at the PREM depths
    of those boundaries."""
    prof = prem
    fig, axes = plt.subplots(1, 4, figsize=(11, 5), sharey=True)
    axes[0].plot(prof.P_GPa, prof.depth_km, color="k")
    axes[0].set_xlabel("pressure (GPa)")
    axes[1].plot(prof.rho_kg_m3, prof.depth_km, color="C3")
    axes[1].set_xlabel("density (kg/m³)")
    axes[2].plot(prof.vp_km_s, prof.depth_km, color="C0", label="V_P")
    axes[2].plot(prof.vs_km_s, prof.depth_km, color="C2", label="V_S")
    axes[2].set_xlabel("velocity (km/s)")
    axes[2].legend(fontsize=8, loc="lower left")
    for i, p in enumerate(geotherm_profiles):
        axes[3].plot(p.T_K, p.depth_km, color=f"C{i}", label=p.geotherm)
    axes[3].set_xlabel("temperature (K)")
    axes[3].legend(fontsize=7, loc="lower left")
    if mark_conditions:
        for name, (p_ref, t_ref, _) in earth.SCIENCE_MD_CONDITIONS.items():
            z = earth.CONDITION_DEPTH_KM[name]
            axes[0].plot(p_ref, z, "o", mfc="none", color="C1", ms=5)
            if t_ref is not None:
                axes[3].plot(t_ref, z, "o", mfc="none", color="k", ms=5)
    for k, ax in enumerate(axes):
        _mark_boundaries(ax, label=(k == 0))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("depth (km)")
    axes[0].set_ylim(earth.EARTH_RADIUS_KM, 0.0)
    fig.suptitle("PREM (Dziewonski & Anderson 1981) and geotherms", fontsize=9)
    return save_figure(fig, out)


def deviation_figure(deviations: Sequence[earth.PremDeviation], out: Path, labels: Sequence[str] | None = None
                     ) -> Path:
    """dlnV_P, dlnV_S and dlnρ (%) with 1σ error bars against the PREM depth of each point's pressure
    (results of :func:`deepearth.geophysics.earth.prem_deviation`); missing values are skipped."""
    if not deviations:
        raise ValueError("deviation_figure needs at least one PremDeviation")
    if labels is not None and len(labels) != len(deviations):
        raise ValueError(f"{len(labels)} labels for {len(deviations)} deviations")
    z = np.array([d.depth_km for d in deviations])
    fig, ax = plt.subplots(figsize=(5, 5))
    for (attr, err, name, c, dx) in (("dlnVp_pct", "dlnVp_err_pct", "dlnV_P", "C0", -8.0),
                                     ("dlnVs_pct", "dlnVs_err_pct", "dlnV_S", "C2", 0.0),
                                     ("dlnrho_pct", "dlnrho_err_pct", "dlnρ", "C3", 8.0)):
        x = np.array([getattr(d, attr) for d in deviations])
        e = np.array([getattr(d, err) for d in deviations])
        ok = np.isfinite(x)
        if np.any(ok):
            ax.errorbar(x[ok], z[ok] + dx, xerr=np.where(np.isfinite(e[ok]), e[ok], 0.0), fmt="o", ms=4,
                        color=c, capsize=2, label=name)
    if labels is not None:
        for d, lab in zip(deviations, labels):
            ax.annotate(lab, (0.02, d.depth_km), xycoords=("axes fraction", "data"), fontsize=7, va="center")
    ax.axvline(0.0, color="k", lw=0.8)
    _mark_boundaries(ax, label=True)
    ax.set_ylim(earth.EARTH_RADIUS_KM, 0.0)
    ax.set_xlabel("deviation from PREM (%)")
    ax.set_ylabel("PREM depth of the pressure (km)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, out)
