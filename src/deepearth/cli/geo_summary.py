"""What ``deepearth geo ...`` prints: the headline numbers of each model and what it wrote where.
The full result is in the model's JSON file (``--json`` prints it instead of the summary)."""

from __future__ import annotations

from pathlib import Path

#: The JSON file each model writes into its ``--out`` folder.
RESULT_FILE = {"w-isotopes": "w_isotopes.json", "bmo-conductivity": "bmo_conductivity.json",
               "bmo-evolution": "bmo_evolution.json", "prem": "prem.json"}

#: At most this many rows of a table (grid points, cases) on the terminal; the rest is in the JSON.
MAX_ROWS = 5


def _band(x, fmt: str) -> str:
    """``median (lower–upper)`` of a Monte-Carlo band, or the number itself."""
    if isinstance(x, dict):
        return f"{x['median']:{fmt}} ({x['lower']:{fmt}} to {x['upper']:{fmt}})"
    return format(x, fmt)


def _more(rows: list, what: str) -> list[str]:
    return [f"  ... {len(rows) - MAX_ROWS} more {what} in the JSON"] if len(rows) > MAX_ROWS else []


def w_isotopes(res: dict) -> list[str]:
    rows = res["results"]
    if rows and "pgz_height_km" in rows[0]:  # from Arrhenius fits: one row per PGZ height, Monte-Carlo bands
        mus = [r["oib_mu182w"]["median"] for r in rows]
        head = (f"w-isotopes: OIB μ182W {min(mus):+.3f} to {max(mus):+.3f} (median) at {res['T_K']:g} K from "
                f"Arrhenius fits" + (" (extrapolated beyond the fitted temperatures)" if res.get("extrapolated") else ""))
        body = [f"  PGZ {r['pgz_height_km']:g} km: μ182W {_band(r['oib_mu182w'], '+.3f')}, D_eff "
                f"{_band(r['D_eff_m2_per_s'], '.2e')} m²/s, length {_band(r['diffusion_length_m'], '.3g')} m"
                for r in rows[:MAX_ROWS]]
        return [head, *body, *_more(rows, "PGZ heights")]
    mus = [v for r in rows for v in r["oib_mu182w"].values()]
    heights = len(rows[0]["oib_mu182w"]) if rows else 0
    head = (f"w-isotopes: OIB μ182W {min(mus):+.3f} to {max(mus):+.3f} ({len(rows)} diffusivities × {heights} PGZ "
            f"heights, {res['time_gyr']:g} Gyr)") if mus else "w-isotopes: no results"
    body = [f"  D_eff {r['D_eff_m2_per_s']:.2e} m²/s: diffusion length {r['diffusion_length_m']:.3g} m; μ182W "
            + ", ".join(f"{h} {v:+.3f}" for h, v in list(r["oib_mu182w"].items())[:MAX_ROWS])
            for r in rows[:MAX_ROWS]]
    return [head, *body, *_more(rows, "diffusivities")]


def bmo_conductivity(res: dict) -> list[str]:
    head = (f"bmo-conductivity at {res['P_GPa']:g} GPa, {res['T_K']:g} K, X = {res['X']:g}: σ_el "
            f"{res['sigma_el_S_per_m']:.3g} S/m, κ_el {res['kappa_el_W_per_m_K']:.3g} W/m/K, κ total "
            f"{res['kappa_total_W_per_m_K']:.3g} W/m/K")
    return [head, *(f"  warning: {w}" for w in res.get("warnings", [])[:3])]


def bmo_evolution(res: dict) -> list[str]:
    cases = res["cases"]
    life = [c["dynamo_lifetime_Gyr"] for c in cases]
    head = (f"bmo-evolution: dynamo lifetime {min(life):.2f} to {max(life):.2f} Gyr over {len(cases)} cases "
            f"(Rm > {res.get('Rm_crit', 40):g}, dt {res['dt_Myr']:g} Myr)")
    body = []
    for c in cases[:MAX_ROWS]:
        line = (f"  {'Fe enrichment' if c['fe_enrichment'] else 'no Fe enrichment'}, {c['flow'].upper()}: "
                f"{c['dynamo_lifetime_Gyr']:.2f} Gyr")
        mc = c.get("lifetime_uncertainty")
        if mc:
            line += (f" (Monte Carlo median {mc['median_Gyr']:.2f}, 16-84 % {mc['p16_Gyr']:.2f} to "
                     f"{mc['p84_Gyr']:.2f}, {mc['n_samples']} sets)")
        if c.get("paper_lifetime_Gyr") is not None:
            line += f"; paper {c['paper_lifetime_Gyr']:g} Gyr"
        body.append(line)
    return [head, *body, *_more(cases, "cases")]


def prem(res: dict) -> list[str]:
    cond = res.get("conditions", {})
    cmb = cond.get("CMB")
    at_cmb = f"CMB {cmb['P_GPa']:.1f} GPa, {cmb['T_K']:.0f} K; " if cmb else ""
    head = f"prem: {at_cmb}{res['model']}" + (f"; {res['profile']}" if isinstance(res.get("profile"), str) else "")
    body = [f"  {name} ({c['depth_km']:g} km): {c['P_GPa']:.1f} GPa, {c['T_K']:.0f} K"
            for name, c in list(cond.items())[:MAX_ROWS]]
    for d in res.get("deviations", [])[:3]:
        parts = [f"dln{q} {d[f'dln{q}_pct']:+.2f} ± {d[f'dln{q}_err_pct']:.2f} %" for q in ("Vp", "Vs", "rho")
                 if d.get(f"dln{q}_pct") is not None]
        body.append(f"  computed vs PREM at {d['P_GPa']:g} GPa: " + ", ".join(parts))
    return [head, *body]


SUMMARIES = {"w-isotopes": w_isotopes, "bmo-conductivity": bmo_conductivity, "bmo-evolution": bmo_evolution,
             "prem": prem}


def written(out: str | Path, json_file: str, result: dict, more_json: int = 0) -> str:
    """``written: OUT/FILE (+ N figures, M more JSON files in OUT)``."""
    out = Path(out)
    n_fig = len(result.get("figures") or [])
    extra = [f"{n_fig} figure{'s' if n_fig != 1 else ''}"] if n_fig else []
    extra += [f"{more_json} more JSON file{'s' if more_json != 1 else ''}"] if more_json else []
    return f"written: {out / json_file}" + (f" (+ {', '.join(extra)} in {out})" if extra else "")


def summary(model: str, result: dict, out: str | Path) -> list[str]:
    """The lines ``deepearth geo MODEL`` prints: headline numbers, then what was written where."""
    more = len(result.get("cases", [])) if model == "bmo-evolution" else 0  # one file per case
    return [*SUMMARIES[model](result), written(out, RESULT_FILE[model], result, more)]


def recipe_summary(result: dict, out: str | Path, record: str) -> list[str]:
    """One headline per model of a geophysics recipe, then where everything is."""
    lines = [SUMMARIES[model](res)[0] for model, res in result["results"].items()]
    return [*lines, f"written: {record} and one folder per model in {out}"]
