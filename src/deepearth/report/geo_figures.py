"""Figures of the geophysical models, in the style of Fig. 3 of Peng et al. (2025).

They draw the curves they are given (:func:`deepearth.geophysics.w_isotopes.oib_curves`,
:func:`~deepearth.geophysics.w_isotopes.diffusion_length_curves`); they run no model.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from deepearth.report.figures import save_figure  # noqa: E402

#: μ182W: the deviation of ¹⁸²W/¹⁸⁴W from the terrestrial standard in parts per million.
MU_LABEL = "μ¹⁸²W of OIB (ppm deviation of ¹⁸²W/¹⁸⁴W from the standard)"


def oib_vs_pgz_height(curves: dict, out: Path) -> Path:
    """μ182W of OIBs vs PGZ height for each effective diffusivity (Peng et al. 2025, Fig. 3b), from
    ``w_isotopes.oib_curves``."""
    h = np.asarray(curves["pgz_height_km"], dtype=float)
    fig, ax = plt.subplots(figsize=(6, 4))
    for d, mu in zip(curves["D_eff_m2_per_s"], curves["oib_mu182w"]):
        ax.plot(h, mu, label=f"D_eff = {d:.2g} m²/s")
    ax.axvline(5.0, color="k", ls=":", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("PGZ height (km)")
    ax.set_ylabel(MU_LABEL)
    ax.legend(fontsize=8)
    return save_figure(fig, out)


def distance_vs_grain_size(curves: dict, out: Path) -> Path:
    """Effective diffusion distance sqrt(D_eff t) vs grain size (Peng et al. 2025, Fig. 3a), from
    ``w_isotopes.diffusion_length_curves``."""
    d = np.asarray(curves["grain_size_m"], dtype=float)
    fig, ax = plt.subplots(figsize=(6, 4))
    for dgb, L in zip(curves["D_gb_m2_per_s"], curves["diffusion_length_m"]):
        ax.loglog(d * 1e3, L, label=f"D_GB = {dgb:.2g} m²/s")
    ax.set_xlabel("grain size (mm)")
    ax.set_ylabel("diffusion distance (m)")
    ax.legend(fontsize=8)
    return save_figure(fig, out)


def oib_band_vs_pgz_height(band: dict, out: Path, extrapolated: bool, title: str = "") -> Path:
    """μ182W of OIBs vs PGZ height (Peng et al. 2025, Fig. 3b) from one run's grain-boundary law: the
    median and the 95 % band of the model's Monte Carlo (``band``: :func:`deepearth.report.data.w_isotopes_band`,
    curves at the 2.5/50/97.5 % D_eff), and the recorded heights with their 95 % ranges."""
    h = np.asarray(band["pgz_height_km"], dtype=float)
    lo_d, med_d, hi_d = band["D_eff_m2_per_s"]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ax.fill_between(h, band["lower"], band["upper"], color="C0", alpha=0.2, lw=0,
                    label=f"95 % band (D_eff {lo_d:.2g} to {hi_d:.2g} m²/s)")
    ax.plot(h, band["median"], "C0-", lw=1.3, label=f"median (D_eff = {med_d:.2g} m²/s)")
    pts = band["points"]
    x = np.array([p["pgz_height_km"] for p in pts], dtype=float)
    y = np.array([p["median"] for p in pts], dtype=float)
    err = np.array([[p["median"] - p["lower"] for p in pts], [p["upper"] - p["median"] for p in pts]])
    ax.errorbar(x, y, yerr=np.abs(err), fmt="o", ms=4, color="k", capsize=3,
                label="recorded heights (median, 95 % range)")
    ax.set_xscale("log")
    ax.set_xlabel("PGZ height (km)")
    ax.set_ylabel(MU_LABEL, fontsize=8)
    ax.set_title((title + "\n" if title else "") + ("EXTRAPOLATED: CMB (T, P) outside the fit's data" if extrapolated
                                                    else "CMB (T, P) within the fit's data"), fontsize=8)
    ax.legend(fontsize=7)
    return save_figure(fig, out)
