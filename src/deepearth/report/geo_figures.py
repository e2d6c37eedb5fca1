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
    ax.set_ylabel("μ¹⁸²W of OIB")
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
