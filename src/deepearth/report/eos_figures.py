"""Figures of EOS fits: per isotherm the data (with 1σ bars) and the fitted curve, and under it the
residuals (data − fit) — the panel that shows a wrong form (structured residuals) at a glance; and a
P–V–T summary (α, K_T, thermal pressure, γ). They draw the results they are given (``EOSFit.to_dict()``
/ ``ThermalEOSResult.to_dict()``), evaluating the fitted formula only, and run no fit."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from deepearth.properties.eos.forms import FORMS  # noqa: E402
from deepearth.report.figure_checks import mark_unitless  # noqa: E402
from deepearth.report.figures import save_figure  # noqa: E402
from deepearth.report.fmt import pm  # noqa: E402

__all__ = ["eos_fit_figure", "thermal_figure"]

#: Most isotherm columns in one row of the fit figure.
MAX_COLUMNS = 4


def _curve(fit: dict, v: np.ndarray) -> np.ndarray:
    form = FORMS[fit["form"]]
    if fit["data"] == "E(V)":
        return form.energy(v, fit["E0"], fit["V0"], fit["K0"], fit["K0_prime"])
    return form.pressure(v, fit["V0"], fit["K0"], fit["K0_prime"])


def _draw_fit(ax, res, fit: dict, title: str) -> None:
    v = np.asarray(fit["volumes_A3"], float)
    y = np.asarray(fit["values"], float)
    err = None if fit.get("values_stderr") is None else np.asarray(fit["values_stderr"], float)
    energy = fit["data"] == "E(V)"
    unit = "eV" if energy else "GPa"
    grid = np.linspace(v.min(), v.max(), 200)
    ax.errorbar(v, y, yerr=err, fmt="o", ms=4, capsize=2, color="C0",
                label="data ± 1σ" if err is not None else "data (no point errors)")
    label = (f"{fit['form']}: V0 {pm(fit['V0'], fit['V0_stderr'], '.4g', '.2g', 'Å³')}, "
             f"K0 {pm(fit['K0'], fit['K0_stderr'], '.4g', '.2g', 'GPa')}, "
             f"K0' {pm(fit['K0_prime'], fit['K0_prime_stderr'], '.3g', '.2g')}")
    ax.plot(grid, _curve(fit, grid), "-", color="C1", lw=1.2, label=label)
    ax.set_ylabel(f"{'energy' if energy else 'pressure'} ({unit})")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6)
    r = np.asarray(fit["residuals"], float)
    res.axhline(0.0, color="0.5", lw=0.8)
    res.errorbar(v, r, yerr=err, fmt="o", ms=3, capsize=2, color="C0")
    runs = fit.get("runs_p_value")
    note = f"χ²_red {fit['chi2_red']:.3g}" + ("" if runs is None else f", runs-test p {runs:.2g}")
    res.text(0.02, 0.95, note, transform=res.transAxes, fontsize=7, va="top")
    res.set_xlabel("volume (Å³)")
    res.set_ylabel(f"data − fit ({unit})")


def eos_fit_figure(fits: list[dict], out: Path, titles: list[str] | None = None) -> Path:
    """One column per fit (isotherm): data and fitted curve above, residuals below. ``fits``: dicts of
    :class:`~deepearth.properties.eos.EOSFit` (``to_dict()``); ``titles``: one per fit (e.g. "2000 K")."""
    n = len(fits)
    ncol = min(n, MAX_COLUMNS)
    nrow = (n + ncol - 1) // ncol
    fig = plt.figure(figsize=(4.2 * ncol, 5.0 * nrow))
    grid = fig.add_gridspec(2 * nrow, ncol, height_ratios=[2.2, 1.0] * nrow)
    for k, fit in enumerate(fits):
        row, col = divmod(k, ncol)
        ax = fig.add_subplot(grid[2 * row, col])
        res = fig.add_subplot(grid[2 * row + 1, col], sharex=ax)
        plt.setp(ax.get_xticklabels(), visible=False)
        title = titles[k] if titles else f"{fit['form']} fit of {fit['data']}, {fit['n_points']} points"
        _draw_fit(ax, res, fit, title)
    return save_figure(fig, out)


def thermal_figure(result: dict, out: Path) -> Path:
    """P–V–T summary of a :class:`~deepearth.properties.eos.ThermalEOSResult` dict: α(P) and K_T(P) per
    isotherm, thermal pressure P_th(V) per isotherm, γ(V) with the fitted power law (if energies were
    given); 1σ bars throughout."""
    panels = 4 if result.get("gamma") else 3
    fig, axes = plt.subplots(1, panels, figsize=(4.0 * panels, 3.8))
    P = np.asarray(result["pressures_GPa"])
    V = np.asarray(result["volumes_A3"])
    for i, T in enumerate(result["T_K"]):
        c = f"C{i % 10}"
        axes[0].errorbar(P, 1e5 * np.asarray(result["alpha_per_K"][i]), yerr=1e5 * np.asarray(result["alpha_stderr_per_K"][i]),
                         fmt="o-", ms=3, capsize=2, color=c, label=f"{T:.0f} K")
        axes[1].errorbar(P, result["K_T_GPa"][i], yerr=result["K_T_stderr_GPa"][i], fmt="o-", ms=3, capsize=2,
                         color=c, label=f"{T:.0f} K")
        axes[2].errorbar(V, result["thermal_pressure_GPa"][i], yerr=result["thermal_pressure_stderr_GPa"][i],
                         fmt="o-", ms=3, capsize=2, color=c, label=f"{T:.0f} K")
    axes[0].set_xlabel("pressure (GPa)")
    axes[0].set_ylabel("thermal expansion α (10⁻⁵/K)")
    axes[1].set_xlabel("pressure (GPa)")
    axes[1].set_ylabel("isothermal bulk modulus K_T (GPa)")
    axes[2].set_xlabel("volume (Å³)")
    axes[2].set_ylabel(f"thermal pressure vs {result['T_ref_K']:.0f} K (GPa)")
    if panels == 4:
        ax = axes[3]
        ax.errorbar(V, result["gamma"], yerr=result["gamma_stderr"], fmt="o", ms=4, capsize=2, color="C0",
                    label="γ = V (∂P/∂E)_V ± 1σ")
        g = result.get("grueneisen")
        if g:
            grid = np.linspace(V.min(), V.max(), 100)
            ax.plot(grid, g["gamma0"] * (grid / g["V_ref_A3"]) ** g["q"], "-", color="C1",
                    label=f"γ0 (V/V_ref)^q, q = {pm(g['q'], g['q_stderr'], '.3g', '.2g')}")
        ax.set_xlabel("volume (Å³)")
        ax.set_ylabel("Grüneisen parameter γ")
        mark_unitless(ax, "y")
        ax.legend(fontsize=7)
    for ax in axes[:3]:
        ax.legend(fontsize=7)
    return save_figure(fig, out)
