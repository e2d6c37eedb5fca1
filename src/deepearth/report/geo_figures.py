"""Figures of the geophysical models, in the style of the W paper's Fig. 3."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from deepearth.geophysics import w_isotopes  # noqa: E402
from deepearth.report.figures import save_figure  # noqa: E402


def oib_vs_pgz_height(D_eff_m2_s: list[float], out: Path, heights_km=None, time_s=w_isotopes.EARTH_AGE_S,
                      pgz_fraction: float = 1 / 9) -> Path:
    """μ182W of OIBs vs PGZ height for each effective diffusivity (W paper Fig. 3b)."""
    h = np.geomspace(0.5, 100, 200) if heights_km is None else np.asarray(heights_km, dtype=float)
    fig, ax = plt.subplots(figsize=(6, 4))
    for d in D_eff_m2_s:
        ax.plot(h, w_isotopes.oib_mu182w(d, h * 1e3, time_s, pgz_fraction=pgz_fraction),
                label=f"D_eff = {d:.2g} m²/s")
    ax.axvline(5.0, color="k", ls=":", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("PGZ height (km)")
    ax.set_ylabel("μ¹⁸²W of OIB")
    ax.legend(fontsize=8)
    return save_figure(fig, out)


def distance_vs_grain_size(D_lattice_m2_s: float, D_gb_m2_s: list[float], out: Path,
                           gb_width_m: float = 1e-9, time_s=w_isotopes.EARTH_AGE_S) -> Path:
    """Effective diffusion distance sqrt(D_eff t) vs grain size (W paper Fig. 3a)."""
    d = np.geomspace(1e-5, 1e-1, 200)  # m
    fig, ax = plt.subplots(figsize=(6, 4))
    for dgb in D_gb_m2_s:
        L = w_isotopes.diffusion_length_m(w_isotopes.effective_diffusivity(D_lattice_m2_s, dgb, d, gb_width_m), time_s)
        ax.loglog(d * 1e3, L, label=f"D_GB = {dgb:.2g} m²/s")
    ax.set_xlabel("grain size (mm)")
    ax.set_ylabel("diffusion distance (m)")
    ax.legend(fontsize=8)
    return save_figure(fig, out)
