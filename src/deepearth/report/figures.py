"""Matplotlib figures of a run's models: held-out learning curves, DeePMD training curves, parity and
per-frame errors; :func:`save_figure` (used by every figure module) and :func:`capture_figures`.

Every figure passes :func:`deepearth.report.figure_checks.figure_problems`: no offset text, every
axis label with its unit (or marked unitless), every labelled line in a legend. A panel with too few
points to mean something is not drawn; :func:`parity_notes` says so in a sentence instead.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator, ScalarFormatter  # noqa: E402

from deepearth.potentials.validation import bin_order  # noqa: E402
from deepearth.report.figure_checks import mark_unitless  # noqa: E402
from deepearth.report.fmt import bin_text, finite, pm  # noqa: E402

#: Fewest points a parity panel is drawn with (fewer: a sentence instead).
MIN_PARITY_POINTS = 10
#: Fewest frames the ranked per-frame error figure is drawn with.
MIN_RANKED_FRAMES = 3

_CAPTURES: list[list] = []


@contextmanager
def capture_figures():
    """``with capture_figures() as figs:`` collects every Figure :func:`save_figure` writes inside
    the block (drawn, closed, still inspectable: e.g. by :func:`~.figure_checks.assert_figure_ok`)."""
    seen: list = []
    _CAPTURES.append(seen)
    try:
        yield seen
    finally:
        _CAPTURES.remove(seen)


def save_figure(fig, path: Path) -> Path:
    """Lay out, write (110 dpi) and close a figure; returns the path. Offsets are switched off on
    every linear axis (``−7.28522e1`` printed over a label reads as part of it)."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            formatter = axis.get_major_formatter()
            if isinstance(formatter, ScalarFormatter):
                formatter.set_useOffset(False)
    fig.set_label(Path(path).name)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    for seen in _CAPTURES:
        seen.append(fig)
    plt.close(fig)
    return path


# -- learning ----------------------------------------------------------------------------------------
_ERRORS = (("energy", "energy RMSE (meV/atom)"), ("force", "force RMSE (eV/Å)"), ("stress", "stress RMSE (GPa)"))


def panel_grid(n: int, max_columns: int, panel_size_in: tuple[float, float]):
    """A figure of ``n`` panels in rows of at most ``max_columns`` (each ``panel_size_in`` inches wide ×
    high); the unused cells of the last row are hidden. Returns ``(fig, axes)`` with ``axes`` flat, the
    first ``n`` in reading order."""
    ncol = min(n, max_columns)
    nrow = (n + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(panel_size_in[0] * ncol, panel_size_in[1] * nrow), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def heldout_learning_curves(points: list[dict], out: Path) -> Path | None:
    """Held-out RMSE (energy, force, stress) with its 1σ bootstrap bar against the number of training
    labels (top) and the iteration (bottom), one point per iteration. ``points``: dicts with
    ``iteration``, ``n_train``, ``n_heldout`` and ``energy``/``force``/``stress`` = (value, stderr)
    (:func:`deepearth.report.data.learning_points`). None with fewer than two iterations."""
    if len(points) < 2:
        return None
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.4))
    for row, (xkey, xlabel) in enumerate((("n_train", "training labels (count)"), ("iteration", "iteration"))):
        for ax, (key, ylabel) in zip(axes[row], _ERRORS):
            x = np.array([p[xkey] for p in points], dtype=float)
            y = np.array([p[key][0] if finite(p[key][0]) else np.nan for p in points])
            e = np.array([p[key][1] if finite(p[key][1]) else np.nan for p in points])
            ax.plot(x, y, "-", color="0.6", lw=0.8, label="_nolegend_")
            bar = np.isfinite(e)
            if bar.any():
                ax.errorbar(x[bar], y[bar], yerr=e[bar], fmt="o", ms=5, capsize=3, color="C0",
                            label="held-out RMSE ± 1σ (bootstrap over frames)")
            if (~bar & np.isfinite(y)).any():
                ax.plot(x[~bar], y[~bar], "o", mfc="none", ms=6, color="C3",
                        label="held-out RMSE, no error bar (< 2 held-out frames)")
            for p, xi, yi in zip(points, x, y):
                if np.isfinite(yi):
                    ax.annotate(f"{p['n_heldout']}", (xi, yi), xytext=(4, 4), textcoords="offset points", fontsize=7)
            ax.set_ylim(bottom=0)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if xkey == "iteration":
                mark_unitless(ax, "x")
            ax.legend(fontsize=6)
    fig.suptitle("held-out errors of member 0 by iteration (numbers at the points: held-out frames; the "
                 "held-out set grows with the labels)", fontsize=9)
    return save_figure(fig, out)


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
    mark_unitless(ax, "x")
    ax.set_ylabel("force RMSE, running mean (eV/Å)")
    ax.legend(fontsize=7)
    return save_figure(fig, out)


# -- parity ------------------------------------------------------------------------------------------
# (parity key, record RMSE key, its stderr key, what, unit of the axes)
_PARITY = (("energy_eV_per_atom", "rmse_energy_meV_per_atom", "rmse_energy_stderr", "energy", "meV/atom"),
           ("force_eV_per_A", "rmse_force_eV_per_A", "rmse_force_stderr", "force components", "eV/Å"),
           ("stress_GPa", "rmse_stress_GPa", "rmse_stress_stderr", "−stress components", "GPa"))


def _parity_panels(val: dict) -> tuple[list[tuple], list[str]]:
    """The panels with enough points, and a sentence for each left out."""
    panels, notes = [], []
    n_frames = val.get("n_frames") or len((val.get("parity") or {}).get("energy_eV_per_atom", [[]])[0])
    for spec in _PARITY:
        key, what = spec[0], spec[3]
        n = len(val["parity"].get(key, [[]])[0])
        if n >= MIN_PARITY_POINTS:
            panels.append(spec)
        elif n:
            notes.append(f"No {what.replace('−', '')} parity plot: {n} point{'s' if n != 1 else ''} from "
                         f"{n_frames} held-out frame{'s' if n_frames != 1 else ''} (a parity plot needs at least "
                         f"{MIN_PARITY_POINTS}); the error is in the held-out table.")
    return panels, notes


def parity_notes(val: dict) -> list[str]:
    """Why parity panels of a validation record were left out (too few points), one sentence each."""
    return _parity_panels(val)[1] if val.get("parity") else []


def parity(val: dict, out: Path) -> Path | None:
    """Model vs reference on held-out frames (a validation record with ``parity``): energy per atom
    (relative to the mean reference energy, meV/atom), force components, stress components, coloured
    by bin when the validation was binned; the record's RMSE ± 1σ in each title. Panels with fewer
    than :data:`MIN_PARITY_POINTS` points are left out (:func:`parity_notes`); None if none is left."""
    if not val.get("parity"):
        return None
    panels, _ = _parity_panels(val)
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(3.8 * len(panels), 3.8), squeeze=False)
    for ax, (key, rmse_key, err_key, what, unit) in zip(axes[0], panels):
        ref, mod = (np.asarray(x, dtype=float) for x in val["parity"][key])
        if key == "stress_GPa":  # stored in the ASE sign (tension > 0)
            ref, mod = -ref, -mod
            name = "−stress (GPa, compression > 0)"
        elif key == "energy_eV_per_atom":  # a shift: the absolute energy of a reference means nothing here
            shift = float(np.mean(ref))
            ref, mod = 1000.0 * (ref - shift), 1000.0 * (mod - shift)
            name = f"E − ⟨E_ref⟩ (meV/atom; ⟨E_ref⟩ = {shift:.4f} eV/atom)"
        else:
            name = f"F component ({unit})"
        bins = val["parity"].get("bin", {}).get(key)
        if bins and len(bins) == len(ref):
            bins = np.asarray(bins)
            for lab in sorted(set(bins.tolist()), key=bin_order):
                ax.plot(ref[bins == lab], mod[bins == lab], ".", ms=3, label=bin_text(lab, val.get("bin_by")))
        else:
            ax.plot(ref, mod, ".", ms=3, label="held-out frames")
        lim = [min(ref.min(), mod.min()), max(ref.max(), mod.max())]
        ax.plot(lim, lim, "k-", lw=0.8, label="model = reference")
        ax.set_xlabel(f"reference {name}")
        ax.set_ylabel(f"model {name}")
        ax.set_title(f"{what}: RMSE {pm(val.get(rmse_key), val.get(err_key), '.3g', '.2g', unit)}\n"
                     f"({len(ref)} points)", fontsize=8)
        ax.legend(fontsize=6, markerscale=2, title=val.get("bin_by"), title_fontsize=6)
    return save_figure(fig, out)


def frame_errors(val: dict, out: Path) -> Path | None:
    """Per-frame errors of a validation record (``parity["frames"]``), frames ranked worst first:
    |ΔE|/atom (meV) and the frame's force RMSE (eV/Å), log scale, with the median and 95th percentile;
    frames outside the model's training envelope in red; the record's median and p95 as lines. None with fewer than
    :data:`MIN_RANKED_FRAMES` frames."""
    frames = (val.get("parity") or {}).get("frames")
    if not frames or len(frames.get("id") or []) < MIN_RANKED_FRAMES:
        return None
    panels = (("energy_meV_per_atom", "|ΔE| per frame (meV/atom)", "meV/atom"),
              ("force_rmse_eV_per_A", "force RMSE per frame (eV/Å)", "eV/Å"))
    outside = np.array([bool(v) for v in frames.get("outside_envelope", [])] or [False] * len(frames["id"]))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, (key, label, unit) in zip(axes, panels):
        x = np.asarray(frames[key], dtype=float)
        order = np.argsort(-np.nan_to_num(x, nan=-np.inf), kind="stable")
        rank = np.arange(1, len(x) + 1)
        xs, bad = x[order], outside[order]
        ax.semilogy(rank[~bad], xs[~bad], "o", ms=3, label="inside training envelope")
        if bad.any():
            ax.semilogy(rank[bad], xs[bad], "o", ms=4, color="tab:red", label="outside training envelope")
        recorded = (val.get("per_frame") or {}).get(key) or {}
        for q, ls in (("median", "--"), ("p95", ":")):
            v = recorded.get(q)
            if finite(v) and v > 0:
                ax.axhline(v, color="k", ls=ls, lw=0.8, label=f"{q} {v:.3g} {unit}")
        ax.set_xlabel("frame rank (worst first)")
        mark_unitless(ax, "x")
        ax.set_ylabel(label)
        ax.legend(fontsize=7)
    return save_figure(fig, out)
