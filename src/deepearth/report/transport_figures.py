"""Figures of transport estimates: MSD with its fit window; Green–Kubo spectrum and running integral;
Arrhenius fits. They draw the results they are given and run no estimator or fit."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from deepearth.report.figures import save_figure  # noqa: E402
from deepearth.report.fmt import REGION_WORDS, diffusion_text, diffusion_upper_bound, law_text  # noqa: E402
from deepearth.units import A2_PER_PS_TO_M2_PER_S  # noqa: E402


def draw_msd(ax, result: dict, color=None, prefix: str = "", shade: bool = True) -> None:
    """One diffusion result on ``ax``: its MSD, the fit window shaded (unless ``shade`` is False: the
    caller shades a window several results share), and the fitted line labelled with D ± its error,
    or with the upper bound when the MSD has no diffusive regime (never a D)."""
    lag, msd = np.asarray(result["lag_ps"]), np.asarray(result["msd_A2"])
    lo, hi = result["fit_window_ps"]
    line, = ax.plot(lag, msd, color=color, label=f"{prefix}MSD {result['species']}")
    c = line.get_color()
    if shade:
        ax.axvspan(lo, hi, color=c, alpha=0.12, lw=0,
                   label=f"{prefix}{result['species']} fit window {lo:.3g}–{hi:.3g} ps")
    w = (lag >= lo) & (lag <= hi)
    d = result["D_m2_per_s"] / A2_PER_PS_TO_M2_PER_S  # Å²/ps
    intercept = float(np.mean(msd[w] - 6 * d * lag[w])) if w.any() else 0.0
    fit = "fit on the plateau: " if result.get("diffusive", True) is False else "fit: "
    ax.plot(lag, intercept + 6 * d * lag, "--", color=c, lw=1,
            label=f"{prefix}{result['species']} {fit}{diffusion_text(result)}")


def msd_figure(result: dict, out: Path) -> Path:
    """MSD vs lag (linear axes) with the fit window and the fitted line."""
    fig, ax = plt.subplots(figsize=(6, 4))
    draw_msd(ax, result)
    ax.set_xlabel("lag time (ps)")
    ax.set_ylabel("MSD (Å²)")
    ax.legend(fontsize=7)
    return save_figure(fig, out)


def green_kubo_figure(result: dict, out: Path) -> Path:
    """Left: sample PSD and its cepstral smoothing below f*; right: direct running GK integral with
    the cepstral estimate ± 1σ (both in the coefficient's units; the PSD is scaled so that its
    ω = 0 value is the coefficient)."""
    c = result["curves"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    f = np.asarray(c["freq_THz"])
    a1.semilogy(f, c["psd"], lw=0.5, alpha=0.6, label="sample PSD (resampled)")
    a1.semilogy(f, c["psd_filtered"], lw=1.5, label=f"cepstral, P* = {result['cutoff_K'] + 1}")
    a1.set_xlabel("frequency (THz)")
    a1.set_ylabel(f"PSD × prefactor ({result['unit']})")
    a1.legend(fontsize=7)
    lag = np.asarray(c["lag_ps"])
    a2.plot(lag, c["running_integral"], lw=0.8, label="running integral (direct GK)")
    v, e = result["value"], result["stderr"]
    a2.axhline(v, color="k", lw=1, label=f"cepstral {v:.4g} ± {e:.2g} {result['unit']}")
    a2.axhspan(v - e, v + e, color="k", alpha=0.15)
    a2.set_xlabel("integration time (ps)")
    a2.set_ylabel(f"{result['quantity'].replace('_', ' ')} ({result['unit']})")
    a2.legend(fontsize=7)
    return save_figure(fig, out)


def arrhenius_figure(data: dict, out: Path) -> Path:
    """ln D vs 10⁴/T: the data with 1σ bars, the fitted relation and its 1σ parameter band.

    ``data["curve"]`` is the fit's prediction over a temperature grid (an
    :class:`~deepearth.properties.arrhenius.ArrheniusPrediction`, computed by the caller)."""
    T = np.asarray(data["T_K"])
    D = np.asarray(data["D_m2_per_s"])
    err = data["D_stderr_m2_per_s"]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.errorbar(1e4 / T, D, yerr=err, fmt="o", ms=4, label="simulations")
    pred = data["curve"]
    grid = np.asarray(pred.T_K)
    ax.plot(1e4 / grid, pred.D_m2_per_s, "k-", lw=1, label=f"fit: {data.get('label', '')}")
    ax.fill_between(1e4 / grid, pred.D_lo_m2_per_s, pred.D_hi_m2_per_s, color="k", alpha=0.15, label="1σ band")
    ax.set_yscale("log")
    ax.set_xlabel("10⁴ / T (1/K)")
    ax.set_ylabel("D (m²/s)")
    ax.legend(fontsize=7)
    return save_figure(fig, out)


def arrhenius_regions_figure(group: dict, out: Path) -> Path:
    """D vs 10⁴/T (log D) of one system and species, one colour per region: the simulations with 1σ
    bars, results without a diffusive regime as their 2σ upper bounds (not fitted), and each region's
    recorded law with its 1σ parameter band (at each pressure of an eq. 4 law; a region without a law:
    its simulations only).

    ``group``: :func:`deepearth.report.data.arrhenius_groups` entry (regions, each with ``points``:
    diffusion rows, ``curves``: the law evaluated over its temperatures, ``law``: the record)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for k, reg in enumerate(group["regions"]):
        c = f"C{k % 10}"
        name = REGION_WORDS.get(reg["region"], reg["region"]) + ("" if reg["law"] else " (no law fitted)")
        fitted = [r for r in reg["points"] if r.get("diffusive", True) is not False]
        bounds = [r for r in reg["points"] if r.get("diffusive", True) is False and diffusion_upper_bound(r)]
        if fitted:
            ax.errorbar([1e4 / r["T_K"] for r in fitted], [r["D_m2_per_s"] for r in fitted],
                        yerr=[r.get("D_stderr_m2_per_s") or 0.0 for r in fitted], fmt="o", ms=4, color=c, capsize=2,
                        label=f"{name}: simulations (± 1σ)")
        if bounds:
            ax.plot([1e4 / r["T_K"] for r in bounds], [diffusion_upper_bound(r) for r in bounds], "v", mfc="none",
                    color=c, label=f"{name}: not diffusive, 2σ upper bound (not fitted)")
        many = len(reg["curves"]) > 1
        for j, cur in enumerate(reg["curves"]):
            x = 1e4 / np.asarray(cur["T_K"])
            at = f" at {cur['P_GPa']:g} GPa" if many and cur.get("P_GPa") is not None else ""
            ls = ("-", "--", ":", "-.")[j % 4]
            ax.plot(x, cur["D_m2_per_s"], ls, color=c, lw=1.2, label=f"{name} law{at}: {law_text(reg['law'])}")
            ax.fill_between(x, cur["D_lo_m2_per_s"], cur["D_hi_m2_per_s"], color=c, alpha=0.15, lw=0,
                            label=f"{name} law{at}: 1σ band")
    ax.set_yscale("log")
    ax.set_xlabel("10⁴ / T (1/K)")
    ax.set_ylabel("D (m²/s)")
    ax.set_title(f"{group['system'] + ': ' if group.get('system') else ''}{group['species']}", fontsize=9)
    ax.legend(fontsize=6)
    return save_figure(fig, out)
