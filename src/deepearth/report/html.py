"""The run report: ``report/index.html`` with the figures and the summary tables."""

from __future__ import annotations

import html
import json
from pathlib import Path

from deepearth.report import figures


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


def write_report(run_dir: Path, summary: dict) -> Path:
    """Write the figures and ``index.html`` into ``run_dir/report``; returns the page path."""
    run_dir = Path(run_dir)
    out = run_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    recipe = (run_dir / "recipe.toml").read_text() if (run_dir / "recipe.toml").is_file() else ""
    state = json.loads((run_dir / "state.json").read_text()) if (run_dir / "state.json").is_file() else {}
    final_iter = state.get("final_iteration", 0)
    trust, criterion = _trust(run_dir)
    figs = [
        ("Learning curves", figures.learning_curves(run_dir, out / "learning_curves.png")),
        ("Parity on held-out data (final model)",
         figures.parity(run_dir / "models" / f"iter-{final_iter:03d}" / "validation.json", out / "parity.png")),
        ("Model deviation per iteration", figures.deviation_histograms(run_dir, out / "deviation.png", trust, criterion)),
        ("P–T coverage of the labels", figures.pt_coverage(run_dir / "deepearth.db", out / "coverage.png")),
        ("Mean squared displacement", figures.msd_curves(run_dir / "results" / "diffusion.json", out / "msd.png")),
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
            "<h2>Active learning</h2>", _table(summary.get("iterations", []), it_cols),
            "<h2>Diffusion</h2>", _table(summary.get("diffusion", []), d_cols)]
    val_json = run_dir / "models" / f"iter-{final_iter:03d}" / "validation.json"
    body += validation_section(json.loads(val_json.read_text()) if val_json.is_file() else {})
    for title, path in figs:
        if path is not None:
            body.append(f"<h2>{html.escape(title)}</h2><img src='{path.name}' alt='{html.escape(title)}'>")
    body.append(f"<h2>Recipe</h2><pre>{html.escape(recipe)}</pre>")
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>deepearth report</title><style>"
            "body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px}img{max-width:100%}</style></head><body>"
            + "\n".join(body) + "</body></html>")
    (out / "index.html").write_text(page)
    return out / "index.html"


def validation_section(validation: dict) -> list[str]:
    """HTML for held-out (or k-fold pooled) errors with bootstrap bars, one row per bin."""
    if not validation.get("n_frames"):
        return []
    cols = [("bin", validation.get("bin_by") or "bin", ""), ("n_frames", "frames", "d"),
            ("rmse_energy_meV_per_atom", "E RMSE meV/atom", ".2f"), ("rmse_energy_stderr", "±", ".2f"),
            ("rmse_force_eV_per_A", "F RMSE eV/Å", ".3f"), ("rmse_force_stderr", "±", ".3f"),
            ("rmse_stress_GPa", "σ RMSE GPa", ".2f"), ("rmse_stress_stderr", "±", ".2f")]
    rows = [{"bin": "all", **validation}] + [{"bin": k, **v} for k, v in validation.get("bins", {}).items()]
    return [f"<h2>Held-out errors</h2><p>{html.escape(validation.get('method', ''))}</p>", _table(rows, cols)]


def _trust(run_dir: Path) -> tuple[tuple[float, float], str]:
    import tomllib

    try:
        ex = tomllib.loads((run_dir / "recipe.toml").read_text()).get("exploration", {})
        return (ex.get("trust_lo", 0.0), ex.get("trust_hi", 0.0)), ex.get("criterion", "absolute")
    except (OSError, tomllib.TOMLDecodeError):
        return (0.0, 0.0), "absolute"
