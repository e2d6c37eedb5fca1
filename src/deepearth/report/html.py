"""The run report: ``report/index.html`` with the figures and the summary tables."""

from __future__ import annotations

import html
import json

from deepearth.files import read_json
from deepearth.recipe import Recipe
from deepearth.report import figures
from deepearth.rundir import RunDir, RunSummary
from deepearth.store import LabelStore
from deepearth.units import stress_to_pressure_gpa


def _table(rows: list[dict], cols: list[tuple[str, str, str]]) -> str:
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title, _ in cols)
    body = ""
    for r in rows:
        cells = []
        for key, _, fmt in cols:
            v = r.get(key)
            cells.append(f"<td>{html.escape(format(v, fmt) if isinstance(v, (int, float)) else str(v))}</td>")
        body += "<tr>" + "".join(cells) + "</tr>"
    return f"<table><tr>{head}</tr>{body}</table>"


def label_coverage(store: LabelStore) -> dict[int, list[tuple[float, float]]]:
    """(static virial pressure GPa, MD temperature of origin K; 0 for static seeds) of every
    successful label, by iteration."""
    pts: dict[int, list[tuple[float, float]]] = {}
    for row in store.rows(ok=True):
        pts.setdefault(row.get("iteration", 0), []).append((stress_to_pressure_gpa(row.stress),
                                                           row.get("origin_T_K", 0.0)))
    return pts


def write_report(rundir: RunDir, summary: RunSummary, recipe: Recipe) -> str:
    """Write the figures and ``index.html`` into the run's report folder; returns the page path."""
    out = rundir.report_dir
    out.mkdir(parents=True, exist_ok=True)
    summary = summary.to_dict()
    recipe_text = rundir.recipe_file.read_text() if rundir.recipe_file.is_file() else ""
    final_iter = summary["iterations"][-1]["iteration"] if summary["iterations"] else 0
    ex = recipe.exploration
    lcurves = {it: rundir.member_file(it, "lcurve.out") for it in rundir.iterations_with_models()}
    deviations = {it: [v for r in rundir.exploration_results(it) for v in r.deviation_used]
                  for it in rundir.explored_iterations()}
    val_file = rundir.validation_file(final_iter)
    validation = read_json(val_file) if val_file.is_file() else {}
    diffusion = rundir.read_result("diffusion") or []
    figs = [
        ("Learning curves", figures.learning_curves({it: f for it, f in lcurves.items() if f},
                                                    out / "learning_curves.png")),
        ("Parity on held-out data (final model)", figures.parity(validation, out / "parity.png")),
        ("Per-frame errors on held-out data (final model)", figures.frame_errors(validation, out / "frame_errors.png")),
        ("Model deviation per iteration", figures.deviation_histograms(deviations, out / "deviation.png",
                                                                       (ex.trust_lo, ex.trust_hi), ex.criterion)),
        ("P–T coverage of the labels", figures.pt_coverage(label_coverage(LabelStore(rundir.store_location)),
                                                           out / "coverage.png")),
        ("Mean squared displacement", figures.msd_curves(diffusion, out / "msd.png")),
    ]
    it_cols = [("iteration", "iter", "d"), ("n_labelled_total", "labels", "d"), ("n_new_labels", "new", "d"),
               ("accurate_fraction", "accurate", ".2f"), ("candidate_fraction", "candidate", ".2f"),
               ("failed_fraction", "failed", ".2f"), ("rmse_energy_meV_per_atom", "E RMSE meV/atom", ".2f"),
               ("rmse_force_eV_per_A", "F RMSE eV/Å", ".3f"), ("rmse_stress_GPa", "σ RMSE GPa", ".2f"),
               ("n_validation_frames", "held-out frames", "d")]
    d_cols = [("species", "species", ""), ("P_GPa", "P (GPa)", "g"), ("T_K", "T (K)", "g"),
              ("D_m2_per_s", "D (m²/s)", ".3e"), ("D_stderr_m2_per_s", "± (m²/s)", ".2e"),
              ("n_replicas", "replicas", "d"), ("fit_window_ps", "fit window (ps)", ""),
              ("diffusive", "diffusive", ""), ("method", "method", "")]
    body = [f"<h1>deepearth report: {html.escape(summary.get('name', ''))}</h1>",
            f"<p>deepearth {html.escape(summary.get('deepearth_version', ''))}; reference: "
            f"{html.escape(json.dumps(summary.get('labeller', {})))}; converged: {summary.get('converged')}; "
            f"final model: <code>{html.escape(summary.get('final_model', ''))}</code>; "
            f"wall time {summary.get('wall_time_s', 0):.0f} s.</p>",
            *([("<h2>Read this first</h2><ul>" + "".join(f"<li>{html.escape(f)}</li>" for f in summary["flags"])
                + "</ul>")] if summary.get("flags") else []),
            "<h2>Active learning</h2>", _table(summary.get("iterations", []), it_cols),
            "<h2>Diffusion</h2>", _table(summary.get("diffusion", []), d_cols)]
    body += validation_section(validation)
    for title, path in figs:
        if path is not None:
            body.append(f"<h2>{html.escape(title)}</h2><img src='{path.name}' alt='{html.escape(title)}'>")
    body.append(f"<h2>Recipe</h2><pre>{html.escape(recipe_text)}</pre>")
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>deepearth report</title><style>"
            "body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px}img{max-width:100%}</style></head><body>"
            + "\n".join(body) + "</body></html>")
    (out / "index.html").write_text(page)
    return str(out / "index.html")


def validation_section(validation: dict) -> list[str]:
    """HTML for held-out (or k-fold pooled) errors: RMSE and MAE with bootstrap bars and the median and
    95th percentile of the per-frame errors, one row per bin; the worst held-out frames with their ids
    and why they might be off (outside the training envelope); the envelope count."""
    if not validation.get("n_frames"):
        return []
    cols = [("bin", validation.get("bin_by") or "bin", ""), ("n_frames", "frames", "d"),
            ("rmse_energy_meV_per_atom", "E RMSE meV/atom", ".2f"), ("rmse_energy_stderr", "±", ".2f"),
            ("mae_energy_meV_per_atom", "E MAE", ".2f"), ("mae_energy_stderr", "±", ".2f"),
            ("e_median", "|ΔE| median", ".2f"), ("e_p95", "|ΔE| p95", ".2f"),
            ("rmse_force_eV_per_A", "F RMSE eV/Å", ".3f"), ("rmse_force_stderr", "±", ".3f"),
            ("mae_force_eV_per_A", "F MAE", ".3f"), ("mae_force_stderr", "±", ".3f"),
            ("f_median", "F median", ".3f"), ("f_p95", "F p95", ".3f"), ("f_max", "F max", ".3f"),
            ("rmse_stress_GPa", "σ RMSE GPa", ".2f"), ("rmse_stress_stderr", "±", ".2f"),
            ("n_outside_envelope", "outside envelope", "d")]

    def row(label: str, r: dict) -> dict:
        pf = r.get("per_frame", {})
        e, f = pf.get("energy_meV_per_atom", {}), pf.get("force_rmse_eV_per_A", {})
        full = {"bin": label, **r, "e_median": e.get("median"), "e_p95": e.get("p95"), "f_median": f.get("median"),
                "f_p95": f.get("p95"), "f_max": f.get("max")}
        return {key: "-" if full.get(key) is None else full[key] for key, _, _ in cols}  # older records: "-"

    rows = [row("all", validation)] + [row(k, v) for k, v in validation.get("bins", {}).items()]
    out = [f"<h2>Held-out errors</h2><p>{html.escape(validation.get('method', ''))}. Median and p95: of the "
           "per-frame errors (|ΔE| per atom; the RMSE over one frame's force components).</p>", _table(rows, cols)]
    worst = validation.get("worst_frames") or []
    if worst:
        by = {"force": "force RMSE", "energy": "|ΔE| per atom", "force_max": "largest |ΔF| on an atom",
              "stress": "stress RMSE"}.get(validation.get("worst_by", "force"), "")
        w_cols = [("rank", "#", "d"), ("id", "frame", ""), ("bin", validation.get("bin_by") or "bin", ""),
                  ("energy_meV_per_atom", "|ΔE| meV/atom", ".1f"), ("force_rmse_eV_per_A", "F RMSE eV/Å", ".3f"),
                  ("force_max_eV_per_A", "max |ΔF| eV/Å", ".2f"), ("stress_rmse_GPa", "σ RMSE GPa", ".2f"),
                  ("why", "why it might be off", "")]
        w_rows = [{**w, "bin": w.get("bin", ""),
                   "why": "; ".join(w["outside_envelope"]) if w.get("outside_envelope") else
                   ("inside the training envelope" if w.get("outside_envelope") is not None else "not checked")}
                  for w in worst]
        out += [f"<h3>Worst held-out frames (by {html.escape(by)})</h3>", _table(w_rows, w_cols)]
    note = validation.get("envelope", {}).get("note")
    if note:
        out.append(f"<p>{html.escape(note)}</p>")
    trust = validation.get("trust_levels")
    if trust:
        out.append(f"<p>Trust levels ({html.escape(trust['criterion'])} deviation): trust_lo {trust['trust_lo']:g}, "
                   f"trust_hi {trust['trust_hi']:g}, from {html.escape(trust['source'])}. On the "
                   f"{trust['n_frames']} held-out frames the calibrated deviation has median "
                   f"{trust['held_out_deviation_median']:.3g} and p95 {trust['held_out_deviation_p95']:.3g}; "
                   f"{100 * trust['fraction_not_accurate']:.0f} % of them would not count as accurate.</p>")
    return out
