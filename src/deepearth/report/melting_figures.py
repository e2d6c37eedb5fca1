"""Figures of melting and structure results: the solid fraction of coexistence runs over time, one
line per temperature (with the interface velocity against T and the T_m bracket beside it), and
g(r) with its error band and first-shell cutoff. They draw the results they are given (dicts from
the ``to_dict()`` of :mod:`deepearth.properties.melting` and :mod:`deepearth.properties.structure`)
and run no estimator."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from deepearth.report.figures import save_figure  # noqa: E402

__all__ = ["rdf_figure", "solid_fraction_figure"]


def _run_label(s: dict, many_members: bool, many_sizes: bool, many_replicas: bool) -> str:
    parts = [f"{s['T_K']:.0f} K"]
    if many_members:
        parts.append(s.get("member") or "model")
    if many_sizes:
        parts.append(f"{s['n_atoms']} atoms")
    if many_replicas:
        parts.append(f"replica {s.get('replica', 0)}")
    return ", ".join(parts) + f": {s['verdict']}"


def solid_fraction_figure(series: list[dict], out: Path, bracket: dict | None = None,
                          reference: tuple[float, str] | None = None) -> Path:
    """Left: solid fraction vs time for every run (colour by temperature, cold blue to hot red).
    Right: mean interface velocity vs T (± 1σ; > 0 the crystal grows), with the T_m bracket and
    T_m ± σ shaded when ``bracket`` (a :class:`~deepearth.properties.melting.MeltingBracket` dict) has
    one, and a published ``reference`` = (T_m in K, its label) as a dashed line."""
    if not series:
        raise ValueError("solid_fraction_figure: no series to draw")
    temps = sorted({s["T_K"] for s in series})
    cmap = plt.get_cmap("coolwarm")
    colour = {t: cmap(0.5 if len(temps) == 1 else k / (len(temps) - 1)) for k, t in enumerate(temps)}
    many = [len({s.get(k) for s in series}) > 1 for k in ("member", "n_atoms", "replica")]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = ["-", "--", ":", "-."]
    members = sorted({s.get("member", "") for s in series})
    for s in sorted(series, key=lambda s: (s["T_K"], s.get("member", ""), s["n_atoms"], s.get("replica", 0))):
        a1.plot(s["times_ps"], s["solid_fraction"], styles[members.index(s.get("member", "")) % len(styles)],
                color=colour[s["T_K"]], lw=1.2, label=_run_label(s, *many))
    a1.set_xlabel("time (ps)")
    a1.set_ylabel("solid fraction (atoms with q̄6 ≥ threshold / all)")
    a1.set_ylim(-0.02, 1.02)
    a1.legend(fontsize=7, ncol=2 if len(series) > 8 else 1)
    for m, member in enumerate(members):
        sub = [s for s in series if s.get("member", "") == member]
        t = np.array([s["T_K"] for s in sub])
        v = np.array([s["interface_velocity_A_per_ps"] for s in sub])
        e = np.array([s["interface_velocity_stderr_A_per_ps"] for s in sub])
        a2.errorbar(t, v, yerr=e, fmt="os^v"[m % 4], capsize=3, ls="none",
                    label=f"interface velocity{' (' + member + ')' if member else ''}")
    a2.axhline(0.0, color="0.5", lw=0.8)
    if bracket and bracket.get("bracketed"):
        lo, hi = bracket["T_crystallises_K"], bracket["T_melts_K"]
        a2.axvspan(min(lo, hi), max(lo, hi), color="0.85", lw=0, label=f"bracket {lo:.0f}–{hi:.0f} K")
        tm, sd = bracket["T_m_K"], bracket["T_m_stderr_K"]
        a2.axvline(tm, color="k", lw=1, label=f"T_m = {tm:.0f} ± {sd:.0f} K")
        a2.axvspan(tm - sd, tm + sd, color="k", alpha=0.08, lw=0, label="T_m ± 1σ")
    if reference is not None:
        a2.axvline(reference[0], color="tab:red", ls="--", lw=1, label=f"{reference[1]}: {reference[0]:.0f} K")
    a2.set_xlabel("temperature (K)")
    a2.set_ylabel("interface velocity (Å/ps; > 0 the crystal grows)")
    a2.legend(fontsize=7)
    return save_figure(fig, out)


def rdf_figure(results: list[dict], out: Path) -> Path:
    """g(r) of each result (a :class:`~deepearth.properties.structure.RDFResult` dict) with its ±1σ band
    and a dotted line at its coordination cutoff, labelled with the coordination number."""
    if not results:
        raise ValueError("rdf_figure: no g(r) to draw")
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for res in results:
        r, g = np.asarray(res["r_A"]), np.asarray(res["g"])
        line, = ax.plot(r, g, lw=1.2, label=f"g(r) {res['pair']}")
        if res.get("g_stderr") is not None:
            err = np.asarray(res["g_stderr"])
            ax.fill_between(r, g - err, g + err, color=line.get_color(), alpha=0.25, lw=0,
                            label=f"{res['pair']} ±1σ ({res['n_blocks']} blocks of frames)")
        if res.get("coordination_cutoff_A") is not None and res.get("coordination") is not None:
            cn, err = res["coordination"], res.get("coordination_stderr")
            text = f"{cn:.2f}" + (f" ± {err:.2f}" if err is not None else "")
            ax.axvline(res["coordination_cutoff_A"], color=line.get_color(), ls=":", lw=1,
                       label=f"{res['pair']} cutoff {res['coordination_cutoff_A']:.2f} Å, CN = {text}")
    ax.axhline(1.0, color="0.6", lw=0.6)
    ax.set_xlabel("r (Å)")
    ax.set_ylabel("g(r) (1: ideal gas)")
    ax.legend(fontsize=7)
    return save_figure(fig, out)
