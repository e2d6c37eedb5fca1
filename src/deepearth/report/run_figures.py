"""Figures of a run's exploration and results: model deviation per grid point, the P–T coverage map,
MSD per state point (the ``analyze diffusion`` drawing), Arrhenius fits with their bands.

They draw what :mod:`deepearth.report.data` gathered from the run's records; they compute nothing
but unit changes. Every figure passes :func:`deepearth.report.figure_checks.figure_problems`.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from deepearth.report import data as d  # noqa: E402
from deepearth.report.figure_checks import mark_unitless  # noqa: E402
from deepearth.report.figures import panel_grid, save_figure  # noqa: E402
from deepearth.report.fmt import region_name, species_name  # noqa: E402
from deepearth.report.transport_figures import arrhenius_figure, arrhenius_regions_figure, draw_msd  # noqa: E402

#: At most this many panels (iterations, state points) in one figure: the latest ones.
MAX_PANELS = 6


def deviation_axis_label(criterion: str) -> str:
    if criterion == "absolute":
        return "model deviation max_i σ_F,i, calibrated (eV/Å)"
    return "relative model deviation max_i σ_F,i/(|F_i| + f0), calibrated (dimensionless)"


def deviation_histograms(deviations: dict[int, list[tuple[float, float, list[float]]]], out: Path,
                         trust: tuple[float, float], criterion: str) -> Path | None:
    """The classified model deviation of the explored frames, one panel per iteration (the latest
    :data:`MAX_PANELS`), one histogram per grid point, with the trust levels (values and units); log
    bins from trust_lo/100 (or the smallest value), smaller values counted in the first bin."""
    its = [it for it in sorted(deviations) if any(v for _, _, v in deviations[it])][-MAX_PANELS:]
    if not its:
        return None
    unit = " eV/Å" if criterion == "absolute" else " (dimensionless)"
    allv = np.concatenate([np.asarray(v, dtype=float) for it in its for _, _, v in deviations[it] if v])
    positive = allv[allv > 0]
    lo = max(positive.min() if len(positive) else trust[0], trust[0] / 100.0)
    edges = np.geomspace(lo, 1.2 * max(allv.max(), trust[1]), 41)  # log bins: the levels sit decades apart
    fig, axes = panel_grid(len(its), 3, (4.6, 3.6))
    for ax, it in zip(axes, its):
        n = 0
        for k, (P, T, vals) in enumerate(sorted(deviations[it])):
            if vals:
                ax.hist(np.clip(vals, edges[0], edges[-1]), bins=edges, histtype="step", color=f"C{k % 10}",
                        label=f"{P:g} GPa, {T:g} K")
                n += len(vals)
        for t, name, ls in ((trust[0], "trust_lo", "--"), (trust[1], "trust_hi", ":")):
            ax.axvline(t, color="k", ls=ls, lw=1, label=f"{name} = {t:g}{unit}")
        ax.set_xscale("log")
        ax.set_title(f"iteration {it}: {n} frames", fontsize=9)
        ax.set_xlabel(deviation_axis_label(criterion), fontsize=8)
        ax.set_ylabel("frames per bin (count)")
        ax.legend(fontsize=6, title="grid point (target P, T)", title_fontsize=6)
    return save_figure(fig, out)


def _static_strip(ax, labels: list[dict], key: str, kinds: list[str]) -> None:
    """Labels made without MD on a strip of their own: one row per kind (with its count), at their own
    ``key``."""
    names = []
    for y, kind in enumerate(kinds):
        xs = [lab[key] for lab in labels if lab["kind"] == kind and lab["ok"] and lab[key] is not None]
        ax.plot(xs, np.full(len(xs), y), "|", ms=12, mew=1.5, color="0.3" if y else "tab:brown", label="_nolegend_")
        names.append(f"{kind.split(' (')[0]}: {len(xs)}")
    ax.set_yticks(range(len(kinds)), names, fontsize=7)
    ax.set_ylim(-0.7, len(kinds) - 0.3)
    mark_unitless(ax, "y")


def coverage_map(cov: dict, out: Path, title: str = "") -> Path | None:
    """Left: the P–T plane with the exploration grid (target P, T), the mean P and T of each
    exploration where recorded, and the labelled MD frames at their own static virial pressure and the
    temperature of the MD they came from (numbers at the grid points: frames chosen there for
    labelling). Right: volume per atom against T, the mean volume of each exploration and of the
    labels. Below each: the labels made without MD (reference EOS scan, strained seeds) on a strip of
    their own: they have no temperature, and are not put at 0 K. ``title``: over the figure (a
    campaign system's name)."""
    labels, explored = cov["labels"], cov["explored"]
    if not (cov["grid"] or labels):
        return None
    static = [k for k in (d.EOS, d.SEED, d.LIQUID_SEED) if any(lab["kind"] == k for lab in labels)]
    fig, axes = plt.subplots(2 if static else 1, 2, figsize=(12, 6.2 if static else 4.6), squeeze=False,
                             sharex="col", gridspec_kw={"height_ratios": [3.2, 1] if static else [1]})
    apt, avt = axes[0]
    its = sorted({e["iteration"] for e in explored} | {lab["iteration"] for lab in labels if lab["kind"] == d.MD})
    color = {it: f"C{k % 10}" for k, it in enumerate(its)}
    if cov["grid"]:
        gp, gt = np.array(cov["grid"]).T
        apt.plot(gp, gt, "s", ms=13, mfc="none", mec="k", mew=1.2, label="exploration grid point (target P, T)")
    n_chosen: dict[tuple, int] = {}
    for c in cov["chosen"]:
        n_chosen[(c["P_GPa"], c["T_K"])] = n_chosen.get((c["P_GPa"], c["T_K"]), 0) + 1
    for (P, T), n in n_chosen.items():
        apt.annotate(f"{n} chosen", (P, T), xytext=(12, -10), textcoords="offset points", fontsize=7)
    for it in its:
        ex = [e for e in explored if e["iteration"] == it]
        mean = [e for e in ex if e["mean_P_GPa"] is not None and e["mean_T_K"] is not None]
        if mean:
            apt.plot([e["mean_P_GPa"] for e in mean], [e["mean_T_K"] for e in mean], "D", ms=5, mfc="none",
                     color=color[it], label=f"mean P, T of exploration, iteration {it}")
        vol = [e for e in ex if e["volume_A3_per_atom"] is not None]
        if vol:
            avt.plot([e["volume_A3_per_atom"] for e in vol], [e["T_K"] for e in vol], "D", ms=6, mfc="none",
                     color=color[it], label=f"mean volume of exploration, iteration {it}")
        md = [lab for lab in labels if lab["kind"] == d.MD and lab["iteration"] == it and lab["origin_T_K"] is not None]
        ok = [lab for lab in md if lab["ok"] and lab["P_static_GPa"] is not None]
        if ok:
            what = f"labelled frames from exploration {it - 1}" if it > 0 else "labelled MD frames, iteration 0"
            apt.plot([lab["P_static_GPa"] for lab in ok], [lab["origin_T_K"] for lab in ok], "o", ms=4,
                     color=color[it], label=what)
            avt.plot([lab["volume_A3_per_atom"] for lab in ok], [lab["origin_T_K"] for lab in ok], "o", ms=4,
                     color=color[it], label=what)
    failed = [lab for lab in labels if lab["kind"] == d.MD and not lab["ok"] and lab["origin_T_K"] is not None]
    if failed:
        apt.plot([lab["origin_P_GPa"] for lab in failed], [lab["origin_T_K"] for lab in failed], "x", color="tab:red",
                 ms=6, label="failed labels (at the target P)")
    imported = [lab for lab in labels if lab["kind"] == d.IMPORTED and lab["ok"] and lab["P_static_GPa"] is not None
                and lab["origin_T_K"] is not None]
    if imported:
        apt.plot([lab["P_static_GPa"] for lab in imported], [lab["origin_T_K"] for lab in imported], "^", ms=4,
                 color="0.4", label="imported frames")
    if not any(lab["kind"] in (d.MD, d.IMPORTED) for lab in labels):
        apt.text(0.5, 0.5, "no MD frame labelled: every label was made\nwithout MD (strip below)", ha="center",
                 va="center", transform=apt.transAxes, fontsize=9, color="0.35")
    for ax in (apt, avt):
        ax.set_ylabel("temperature (K): grid target / MD of origin")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[1]:
            ax.legend(fontsize=6)
    p_label = "pressure (GPa): grid target; labels at their own static virial pressure (no kinetic part)"
    v_label = "volume per atom (Å³/atom)"
    apt.set_title("where the exploration ran and which frames were labelled", fontsize=9)
    avt.set_title("volumes the exploration reached vs the labels' volumes", fontsize=9)
    if static:
        _static_strip(axes[1][0], labels, "P_static_GPa", static)
        _static_strip(axes[1][1], labels, "volume_A3_per_atom", static)
        axes[1][0].set_xlabel(p_label, fontsize=8)
        axes[1][1].set_xlabel(v_label)
    else:
        apt.set_xlabel(p_label, fontsize=8)
        avt.set_xlabel(v_label)
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, out)


def msd_points(results: list[dict]) -> dict[tuple, list[dict]]:
    """The diffusion results with MSD curves by panel: (system, P GPa, T K) → rows, each row's
    ``species`` the element with its region (``Cu (gb)``) for the legend."""
    points: dict[tuple, list[dict]] = {}
    for r in results:
        if r.get("lag_ps") and r.get("msd_A2"):
            region = region_name(r)
            name = species_name(r) + ("" if region == "all" else f" ({region})")
            points.setdefault((r.get("system", ""), r.get("P_GPa"), r.get("T_K")), []).append({**r, "species": name})
    return points


def msd_panels(results: list[dict], out: Path) -> Path | None:
    """MSD per species (and region), one panel per (system,) state point (the latest :data:`MAX_PANELS`
    of :func:`msd_points`), each with its fit window and fitted line as ``deepearth analyze diffusion``
    draws them (D ± error, or the upper bound of a result without a diffusive regime)."""
    points = msd_points(results)
    if not points:
        return None
    keys = list(points)[-MAX_PANELS:]
    fig, axes = panel_grid(len(keys), 2, (6.4, 4.2))
    for ax, key in zip(axes, keys):
        windows = {tuple(r["fit_window_ps"]) for r in points[key]}
        shared = len(windows) == 1
        if shared:  # one window for every species: shaded once
            lo, hi = windows.pop()
            ax.axvspan(lo, hi, color="0.5", alpha=0.15, lw=0, label=f"fit window {lo:.3g}–{hi:.3g} ps")
        for k, r in enumerate(points[key]):
            draw_msd(ax, r, color=f"C{k % 10}", shade=not shared)
        system, P, T = key
        n = points[key][0].get("n_replicas")
        ax.set_title(f"{system + ': ' if system else ''}{'?' if P is None else f'{P:g}'} GPa, "
                     f"{'?' if T is None else f'{T:g}'} K"
                     + (f", {n} replicas (mean MSD)" if n else ""), fontsize=9)
        ax.set_xlabel("lag time (ps)")
        ax.set_ylabel("MSD (Å²)")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=6)
    return save_figure(fig, out)


def arrhenius_group_panels(groups: list[dict], out_dir: Path) -> list[tuple[dict, Path]]:
    """One Arrhenius figure per (system, species) of :func:`deepearth.report.data.arrhenius_groups`
    (``arrhenius_<system>_<species>.png``, or ``arrhenius_<species>.png`` for a single system), each
    region a line and band (:func:`~deepearth.report.transport_figures.arrhenius_regions_figure`)."""
    out = []
    for g in groups:
        name = "_".join(x for x in ("arrhenius", g["system"], g["species"]) if x)
        out.append((g, arrhenius_regions_figure(g, out_dir / f"{name}.png")))
    return out


def arrhenius_panels(records: list[dict], out_dir: Path) -> list[Path]:
    """One Arrhenius figure per record of ``results/arrhenius.json``: the simulations with 1σ bars,
    the fit and its 1σ band (the record's ``curve``: T_K, D_m2_per_s, D_lo_m2_per_s, D_hi_m2_per_s)."""
    paths = []
    for rec in records:
        curve = rec.get("curve") or {}
        if not all(curve.get(k) for k in ("T_K", "D_m2_per_s", "D_lo_m2_per_s", "D_hi_m2_per_s")):
            continue
        species = rec.get("species", "all")
        paths.append(arrhenius_figure({**rec, "curve": SimpleNamespace(**curve)}, out_dir / f"arrhenius_{species}.png"))
    return paths
