"""Matplotlib figures of a run: learning curves, parity, model deviation, P–T coverage, MSD."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def save_figure(fig, path: Path) -> Path:
    """Lay out, write (110 dpi) and close a figure; returns the path."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def learning_curves(lcurves: dict[int, Path], out: Path) -> Path | None:
    """Training/validation force RMSE vs step, one DeePMD ``lcurve.out`` per iteration."""
    if not lcurves:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    for iteration, f in sorted(lcurves.items()):
        names = f.read_text().splitlines()[0].lstrip("#").split()
        data = np.atleast_2d(np.loadtxt(f))
        it = f"iter-{iteration:03d}"
        for col, style in (("rmse_f_trn", "-"), ("rmse_f_val", "--")):
            if col in names:  # single-batch values are noisy: show a running mean over 5 reports
                y = np.convolve(data[:, names.index(col)], np.ones(5) / 5, mode="valid")
                ax.semilogy(data[2:2 + len(y), 0], y, style, label=f"{it} {col[7:]}")
    ax.set_xlabel("training step")
    ax.set_ylabel("force RMSE, running mean (eV/Å)")
    ax.legend(fontsize=7)
    return save_figure(fig, out)


def parity(val: dict, out: Path) -> Path | None:
    """Model vs reference on held-out frames (a validation record with ``parity``): energy per atom,
    force components, stress components, coloured by bin (temperature, pressure or composition)
    when the validation was binned."""
    if not val.get("parity"):
        return None
    units = {"energy_eV_per_atom": "E (eV/atom)", "force_eV_per_A": "F (eV/Å)",
             "stress_GPa": "−stress (GPa, compression > 0)"}
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6))
    for ax, (key, label) in zip(axes, units.items()):
        sign = -1.0 if key == "stress_GPa" else 1.0  # stored in the ASE sign (tension > 0)
        ref, mod = (sign * np.asarray(x) for x in val["parity"][key])
        if not len(ref):
            ax.set_axis_off()
            continue
        bins = val["parity"].get("bin", {}).get(key)
        if bins and len(bins) == len(ref):
            bins = np.asarray(bins)
            for lab in sorted(set(bins.tolist())):
                ax.plot(ref[bins == lab], mod[bins == lab], ".", ms=2, label=lab)
            if key == "energy_eV_per_atom":
                ax.legend(fontsize=6, title=val.get("bin_by"), title_fontsize=6, markerscale=3)
        else:
            ax.plot(ref, mod, ".", ms=2)
        lim = [min(ref.min(), mod.min()), max(ref.max(), mod.max())]
        ax.plot(lim, lim, "k-", lw=0.8)
        ax.set_xlabel(f"reference {label}")
        ax.set_ylabel(f"model {label}")
        ax.set_title(f"RMSE {np.sqrt(np.mean((ref - mod) ** 2)):.3g}", fontsize=9)
    return save_figure(fig, out)


def frame_errors(val: dict, out: Path) -> Path | None:
    """Per-frame errors of a validation record (``parity["frames"]``), frames ranked worst first:
    |ΔE|/atom (meV) and the frame's force RMSE (eV/Å), log scale, with the median and 95th percentile;
    frames outside the model's training envelope in red."""
    frames = (val.get("parity") or {}).get("frames")
    if not frames or not frames.get("id"):
        return None
    panels = (("energy_meV_per_atom", "|ΔE| per frame (meV/atom)"),
              ("force_rmse_eV_per_A", "force RMSE per frame (eV/Å)"))
    outside = np.array([bool(v) for v in frames.get("outside_envelope", [])] or [False] * len(frames["id"]))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, (key, label) in zip(axes, panels):
        x = np.asarray(frames[key], dtype=float)
        order = np.argsort(-np.nan_to_num(x, nan=-np.inf), kind="stable")
        rank = np.arange(1, len(x) + 1)
        xs, bad = x[order], outside[order]
        ax.semilogy(rank[~bad], xs[~bad], "o", ms=3, label="inside training envelope")
        if bad.any():
            ax.semilogy(rank[bad], xs[bad], "o", ms=4, color="tab:red", label="outside training envelope")
        finite = x[np.isfinite(x) & (x > 0)]
        if len(finite):
            for q, ls in ((50, "--"), (95, ":")):
                ax.axhline(np.percentile(finite, q), color="k", ls=ls, lw=0.8, label="median" if q == 50 else "p95")
        ax.set_xlabel("frame rank (worst first)")
        ax.set_ylabel(label)
        ax.legend(fontsize=7)
    return save_figure(fig, out)


def deviation_histograms(deviations: dict[int, list[float]], out: Path, trust: tuple[float, float],
                         criterion: str) -> Path | None:
    """Distribution of the model deviation used for classification (values by iteration), one
    histogram per iteration, with the trust levels."""
    if not deviations:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    for it, vals in sorted(deviations.items()):
        if vals:
            ax.hist(vals, bins=40, histtype="step", label=f"iter-{it:03d}")
    for t in trust:
        ax.axvline(t, color="k", ls=":")
    ax.set_xlabel(f"model deviation ({criterion}{', eV/Å' if criterion == 'absolute' else ''})")
    ax.set_ylabel("frames")
    ax.legend(fontsize=7)
    return save_figure(fig, out)


def pt_coverage(pts: dict[int, list[tuple[float, float]]], out: Path) -> Path | None:
    """Labelled configurations in the P–T plane, by iteration: (virial pressure of the label GPa,
    MD temperature it came from K; initial static configurations at T = 0)."""
    if not pts:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    for it, xy in sorted(pts.items()):
        xy = np.array(xy)
        ax.plot(xy[:, 0], xy[:, 1], "o", ms=4, label=f"iteration {it}")
    ax.set_xlabel("pressure of the label (GPa, static virial)")
    ax.set_ylabel("temperature of origin (K)")
    ax.legend(fontsize=7)
    return save_figure(fig, out)


def msd_curves(results: list[dict], out: Path) -> Path | None:
    """Replica-averaged MSD per species with the fit window (diffusion results with their curves)."""
    if not results:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    for r in results:
        lag, msd = np.asarray(r["lag_ps"]), np.asarray(r["msd_A2"])
        line, = ax.plot(lag, msd, label=f"{r['species']} {r['P_GPa']:g} GPa {r['T_K']:g} K")
        w = (lag >= r["fit_window_ps"][0]) & (lag <= r["fit_window_ps"][1])
        ax.plot(lag[w], msd[w], lw=3, alpha=0.4, color=line.get_color())
    ax.set_xlabel("lag time (ps)")
    ax.set_ylabel("MSD (Å²)")
    ax.legend(fontsize=7)
    return save_figure(fig, out)
