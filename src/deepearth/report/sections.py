"""Sections of the run report beyond the single-system page: one per campaign system (its coverage
map, grid table, deviation histograms and held-out parity), the Arrhenius laws (a figure per system
and species, a line and band per region; the laws that could not be fitted with their reason) and
the geophysics hand-off (OIB μ182W from the run's own grain-boundary law).

Each function returns HTML pieces and writes its figures into the report folder; the numbers come from
:mod:`deepearth.report.data`.
"""

from __future__ import annotations

import html
from pathlib import Path

from deepearth.report import data, figures, geo_figures, run_figures, tables
from deepearth.report.fmt import REGION_WORDS, num
from deepearth.rundir import RunDir

#: The report's figure files written by these sections (removed before each report is written).
FIGURE_PATTERNS = ("coverage_*.png", "deviation_*.png", "parity_*.png", "arrhenius_*.png", "w_isotopes.png")


def figure_block(title: str, path, caption: str = "", missing: str = "", level: int = 3) -> list[str]:
    """A figure with its caption, or the sentence saying why there is none."""
    if path is None:
        if not missing:
            return []
        return [f"<h{level}>{html.escape(title)}</h{level}><p class='note'>{html.escape(missing)}</p>"]
    return [f"<h{level}>{html.escape(title)}</h{level}><img src='{Path(path).name}' alt='{html.escape(title)}'>"
            + (f"<p class='note'>{html.escape(caption)}</p>" if caption else "")]


def coverage_caption(cov: dict) -> str:
    return ("Squares: the exploration grid (target P, T of the NPT MD). Dots: labelled MD frames at their "
            "own static virial pressure (no kinetic part) and the temperature of the MD "
            "they came from; 'n chosen': frames chosen there for labelling. The strips below hold the labels "
            "made without MD (the reference's EOS scan, strained and rattled seeds or a liquid's random packings): "
            "they have no temperature. Right: the mean volume each exploration reached, against the labels' volumes."
            + ("" if any(e["mean_P_GPa"] is not None for e in cov["explored"]) else
               " The mean P and T of the explored frames are not recorded by this run.")
            + (f" {cov['note']}" if cov["note"] else ""))


DEVIATION_CAPTION = ("Each iteration's exploration, one histogram per grid point; frames below trust_lo count as "
                     "accurate, from trust_hi on as failed, between as candidates for labelling.")


def calibration_sentence(validation: dict) -> list[str]:
    """What the final validation says of the committee's spread calibration, as a sentence."""
    cal = validation.get("committee_calibration")
    if not isinstance(cal, dict):
        return []
    if cal.get("factor") is None:
        why = cal.get("reason") or "not recorded why"
        return [f"<p>Committee spread not calibrated: {html.escape(str(why))} (exploration.min_calibration_frames = "
                f"{num(cal.get('min_frames'), 'd')}); the exploration used the raw committee spread.</p>"]
    use = ("applied to the exploration's deviation (never below 1)" if cal.get("applied")
           else "reported only, not applied")
    return [f"<p>Committee spread calibration: s = {num(cal['factor'], '.3g')} (held-out force error / committee "
            f"spread over {num(cal.get('n_frames'), 'd')} held-out frames, {num(cal.get('n_atoms'), 'd')} atoms); "
            f"{use}.</p>"]


def _system_text(rundir: RunDir, s: dict, labels: list[dict]) -> str:
    unit = " eV/Å" if s["criterion"] == "absolute" else " (dimensionless)"
    ok = [lab for lab in labels if lab["ok"]]
    kinds: dict[str, int] = {}
    for lab in ok:
        kinds[lab["kind"]] = kinds.get(lab["kind"], 0) + 1
    made = "; ".join(f"{k}: {n}" for k, n in kinds.items()) or "none"
    builder = ("liquid (random packings of the crystal's atoms, melted and quenched by the exploration's MD)"
               if s["builder"] == "liquid" else "crystal (the structure as built)")
    scan = data.reference_eos(rundir, s["name"])
    eos = (f" It uses the reference EOS scan of {html.escape(scan['same_as'])} (the same cell)." if scan and "same_as" in scan
           else "" if scan else
           f" {s['name']} has no reference EOS scan of its own (results/reference_eos_{s['name']}.json): a system built "
           "from the cell of another system uses that system's scan.")
    return (f"<p>Builder: {html.escape(builder)}. Exploration grid: {', '.join(f'{p:g}' for p in s['pressures_GPa'])} "
            f"GPa × {', '.join(f'{t:g}' for t in s['temperatures_K'])} K, {num(s['steps'], 'd')} MD steps per point; "
            f"weight {s['weight']:g} in the label budget; trust_lo {s['trust_lo']:g}{unit}, trust_hi {s['trust_hi']:g}"
            f"{unit} ({'its own' if s['own_trust'] else 'from [exploration]'}). Labels (id prefix "
            f"<code>{html.escape(s['name'])}-</code>): {len(ok)} ok, {len(labels) - len(ok)} failed "
            f"({html.escape(made)})."
            f"{html.escape(eos)}</p>")


def _held_out_text(name: str, sub: dict) -> list[str]:
    """``melt: 1 held-out frame; RMSE E …, F …, σ …`` over the system's parity points."""
    if not sub:
        return []
    n = sub["n_frames"]
    parts = [f"{what} {num(sub.get(key), '.3g')} {unit}" for key, what, unit in
             (("rmse_energy_meV_per_atom", "E", "meV/atom"), ("rmse_force_eV_per_A", "F", "eV/Å"),
              ("rmse_stress_GPa", "σ", "GPa")) if key in sub]
    return [f"<p>Held-out labels of {html.escape(name)} in the final model's validation: "
            f"{n} frame{'s' if n != 1 else ''}; "
            f"RMSE over their points: {html.escape(', '.join(parts))} (no 1σ: the validation record bootstraps the "
            "whole held-out set only).</p>"]


def system_sections(rundir: RunDir, recipe, iterations: list[dict], validation: dict, out: Path) -> list[str]:
    """One section per campaign system (none for a single-``[system]`` recipe): its settings and
    labels, grid table, coverage map, deviation histograms and the parity of its held-out labels."""
    systems = data.campaign_systems(recipe)
    if not systems:
        return []
    names = [s["name"] for s in systems]
    its = [r["iteration"] for r in iterations]
    store = data.store_labels(rundir)
    body = ["<h2>Systems</h2><p class='note'>One section per [[systems]] entry: labels belong to a system by their id "
            "prefix, explored points and candidates by their folder.</p>"]
    for s in systems:
        name = s["name"]
        cov = data.coverage(rundir, s["pressures_GPa"], s["temperatures_K"], its, system=name, names=names,
                            labels=store, liquid=s["builder"] == "liquid")
        body += [f"<h2 id='system-{html.escape(name)}'>System {html.escape(name)}</h2>",
                 _system_text(rundir, s, cov["labels"]),
                 "<h3>Exploration grid points</h3>", tables.grid_table(data.grid_rows(iterations, cov, system=name))]
        body += figure_block(f"P–T coverage of {name}",
                             run_figures.coverage_map(cov, out / f"coverage_{name}.png", title=f"system {name}"),
                             coverage_caption(cov))
        body += figure_block(f"Model deviation of {name}'s explored frames",
                             run_figures.deviation_histograms(data.deviations(rundir, its, system=name),
                                                              out / f"deviation_{name}.png",
                                                              (s["trust_lo"], s["trust_hi"]), s["criterion"]),
                             DEVIATION_CAPTION + f" Trust levels: {name}'s.", f"No explored frame of {name}.")
        sub, notes = data.system_validation(validation, name, names, store[0])
        body += _held_out_text(name, sub)
        body += figure_block(f"Parity on {name}'s held-out labels (final model)",
                             figures.parity(sub, out / f"parity_{name}.png") if sub else None,
                             f"The held-out frames whose id starts with '{name}-', coloured by pressure bin; RMSE over "
                             "their points." if sub else "")
        body += [f"<p class='note'>{html.escape(n)}</p>" for n in notes + (figures.parity_notes(sub) if sub else [])]
    return body


ARRHENIUS_CAPTION = ("Simulations with 1σ bars (open triangles: no diffusive regime, the 2σ upper bound, not "
                     "fitted); each region's law over its fitted temperatures with its 1σ band (parameter "
                     "uncertainty only).")


def arrhenius_section(rundir: RunDir, diffusion: list[dict], out: Path) -> list[str]:
    """The Arrhenius laws of ``results/arrhenius.json``: their table (and the laws not fitted, with
    the reason), one figure per system and species with a line and 1σ band per region; a run whose
    record holds drawn curves (one law per species) keeps its one figure per species."""
    laws = data.arrhenius_laws(rundir)
    body = []
    if laws:
        body += ["<h3>Arrhenius laws</h3>", tables.arrhenius_table(laws)]
        for g, path in run_figures.arrhenius_group_panels(data.arrhenius_groups(laws, diffusion), out):
            regions = ", ".join(REGION_WORDS.get(r["region"], r["region"]) for r in g["regions"] if r["law"])
            what = f"{g['system'] + ', ' if g['system'] else ''}{g['species']} ({regions})"
            body += figure_block(f"Arrhenius plot: {what}", path, ARRHENIUS_CAPTION)
        return body
    for path in run_figures.arrhenius_panels(data.arrhenius_records(rundir), out):
        body += figure_block(f"Arrhenius fit ({path.stem[10:]})", path, "Simulations with 1σ bars; the fit and its 1σ "
                             "band (parameter uncertainty only).")
    return body


def w_isotopes_section(rundir: RunDir, out: Path) -> list[str]:
    """The geophysics hand-off (``results/w_isotopes.json``): OIB μ182W vs PGZ height with the 95 % band
    from the run's own grain-boundary law, D_eff and diffusion length per height, whether the law was
    extrapolated to the CMB's (T, P)."""
    rec = data.w_isotopes_record(rundir)
    if not rec:
        return []
    extrap = bool(rec.get("extrapolated"))
    where = (f"{num(rec.get('T_K'), 'g')} K, {num(rec.get('P_GPa'), 'g')} GPa; grain size "
             f"{num(rec.get('grain_size_mm'), 'g')} mm, grain-boundary width {num(rec.get('gb_width_nm'), 'g')} nm, "
             f"{num(rec.get('time_gyr'), 'g')} Gyr")
    words = ("yes: the CMB temperature (or pressure) lies outside the temperatures of the simulations the law was "
             "fitted to, so D_GB there is an Arrhenius extrapolation" if extrap else
             "no: the CMB (T, P) lies within the fitted simulations' range")
    body = ["<h2>Geophysics hand-off: W isotopes</h2>",
            f"<p>{html.escape(str(rec.get('model', '')))}. D_GB from the grain-boundary law of "
            f"{html.escape(str(rec.get('species', '')))} in {html.escape(str(rec.get('system', '')))} "
            f"(results/arrhenius.json); lattice D: {html.escape(str(rec.get('lattice', '')))}. At {html.escape(where)}."
            f"</p><p><b>Extrapolated</b>: {html.escape(words)}.</p>",
            tables.w_isotopes_table(rec.get("results") or [])]
    band = data.w_isotopes_band(rec)
    path = geo_figures.oib_band_vs_pgz_height(band, out / "w_isotopes.png", extrap,
                                              f"D_GB from the grain-boundary law of {rec.get('species', '')} in "
                                              f"{rec.get('system', '')}") if band else None
    body += figure_block("OIB μ¹⁸²W vs PGZ height from this run's grain-boundary law", path,
                         "Line and band: the model at the recorded median and 2.5/97.5 % D_eff (μ¹⁸²W is "
                         "monotonic in D_eff at every height, so these are the median and 95 % band of the Monte "
                         "Carlo); points: the recorded heights with their 95 % ranges.",
                         "No band: the recorded rows do not share one D_eff.")
    return body
