"""Figures of the basal-magma-ocean evolution (Dragulet & Stixrude 2025, Fig. 4 and Figs. S5–S8 style).

Each function takes :class:`deepearth.geophysics.bmo_evolution.BMOEvolution` results keyed by a label
(e.g. ``{"Fe enrichment, MLT": r1, "no enrichment, MLT": r2, "Fe enrichment, CIA": r3}``, as in
``bmo_evolution.standard_cases(...).runs``); the figures draw them and run no model.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from deepearth.report.figures import save_figure  # noqa: E402


def _style(label: str) -> dict:
    return {"ls": "-" if "Fe enrichment" in label else "--", "color": "k" if "MLT" in label else "tab:red"}


def rm_vs_time(results: dict, out: Path) -> Path:
    """Magnetic Reynolds number vs age with the Rm = 40 dynamo threshold (paper Fig. 4 / S7)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, r in results.items():
        ge = "≥ " if r.dynamo_lifetime_Gyr >= r.time_Gyr[-1] and r.Rm[-1] > r.params.Rm_crit else ""
        ax.semilogy(r.time_Gyr, r.Rm, label=f"{label} (Rm > {r.params.Rm_crit:g} for "
                    f"{ge}{r.dynamo_lifetime_Gyr:.2f} Gyr)", **_style(label))
    crit = next(iter(results.values())).params.Rm_crit
    ax.axhline(crit, color="0.5", lw=1.5, label=f"Rm = {crit:g}")
    ax.set_ylim(bottom=1)
    ax.set_xlabel("time since 4.5 Ga (Gyr)")
    ax.set_ylabel("magnetic Reynolds number Rm")
    ax.legend(fontsize=7)
    return save_figure(fig, out)


def evolution_panels(results: dict, out: Path) -> Path:
    """Six panels: T, BMO thickness, X_Fe, heat flows (total and conducted), σ and Rm vs time."""
    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    (aT, aD, aX), (aQ, aS, aR) = axes
    for label, r in results.items():
        st = _style(label)
        aT.plot(r.time_Gyr, r.T_K, label=label, **st)
        aD.plot(r.time_Gyr, r.thickness_km, **st)
        aX.plot(r.time_Gyr, r.X_Fe, **st)
        aQ.plot(r.time_Gyr, r.Q_total_TW, **st)
        aQ.plot(r.time_Gyr, r.Q_cond_TW, lw=0.8, **{**st, "ls": ":"})
        aS.semilogy(r.time_Gyr, r.sigma_S_m, **st)
        aR.semilogy(r.time_Gyr, r.Rm, **st)
    aR.axhline(next(iter(results.values())).params.Rm_crit, color="0.5", lw=1.5)
    aR.set_ylim(bottom=1)
    for ax, lab in ((aT, "T = T_L(X) (K)"), (aD, "BMO thickness (km)"), (aX, "X = Fe/(Fe+Mg)"),
                    (aQ, "Q total (solid), Q_cond (dotted) (TW)"), (aS, "σ_el (S/m)"), (aR, "Rm")):
        ax.set_ylabel(lab)
        ax.set_xlabel("time since 4.5 Ga (Gyr)")
    aT.legend(fontsize=7)
    return save_figure(fig, out)


def heat_budget(result, out: Path) -> Path:
    """The terms of eq. 14 for one run: total = BMO cooling + core cooling + radiogenic + latent."""
    fig, ax = plt.subplots(figsize=(6, 4))
    r = result
    ax.plot(r.time_Gyr, r.Q_total_TW, "k", lw=2, label="Q total (eq. 14 left)")
    for arr, lab in ((r.Q_bmo_cooling_TW, "BMO secular cooling"), (r.Q_core_cooling_TW, "core secular cooling"),
                     (r.Q_radiogenic_TW, "radiogenic"), (r.Q_latent_TW, "latent heat")):
        ax.plot(r.time_Gyr, arr, label=lab)
    ax.plot(r.time_Gyr, r.Q_cond_TW, "k:", label="Q_cond along the adiabat")
    ax.set_xlabel("time since 4.5 Ga (Gyr)")
    ax.set_ylabel("heat flow (TW)")
    ax.set_title(f"{'Fe enrichment' if r.fe_enrichment else 'no enrichment'}", fontsize=9)
    ax.legend(fontsize=7)
    return save_figure(fig, out)


def all_figures(out_dir: Path, res: dict) -> list[Path]:
    """Write every BMO figure of the standard cases ``res`` (``bmo_evolution.standard_cases(...).runs``,
    keyed by ``bmo_evolution.case_label``) into ``out_dir``; returns the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [rm_vs_time(res, out_dir / "bmo_rm_vs_time.png"),
            evolution_panels(res, out_dir / "bmo_evolution.png"),
            heat_budget(res["Fe enrichment, MLT"], out_dir / "bmo_heat_budget_fe.png"),
            heat_budget(res["no enrichment, MLT"], out_dir / "bmo_heat_budget_nofe.png")]
