"""HTML tables of the report: every number column titled with its unit, values as value ± error,
flags as words (never ``None``, ``True``/``False`` or a JSON dict), diffusion without a diffusive
regime as an upper bound. The rows come from the run's records (:mod:`deepearth.report.data`)."""

from __future__ import annotations

import html
import math

from deepearth.report.fmt import (MISSING, NOT_DIFFUSIVE, band_text, bin_text, bin_title, diffusion_value, finite,
                                  installed_version, law_text, num, pm, region_name, region_text, species_name,
                                  where_text)


def table(rows: list[dict], cols: list[tuple[str, str, object]], cls: str = "") -> str:
    """An HTML table: ``cols`` = (key, title, how) with ``how`` a format spec for numbers or a
    function of the row returning text; missing values show as :data:`MISSING`."""
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title, _ in cols)
    body = ""
    for r in rows:
        cells = []
        for key, _, how in cols:
            if callable(how):
                text = how(r)
            else:
                v = r.get(key)
                text = num(v, how or ".4g") if (v is None or isinstance(v, (int, float))) else str(v)
            cells.append(f"<td>{html.escape(text)}</td>")
        body += "<tr>" + "".join(cells) + "</tr>"
    return f"<table{f' class={cls!r}' if cls else ''}><tr>{head}</tr>{body}</table>"


def _pct(key: str):
    return lambda r: num(100 * r[key], ".0f") if finite(r.get(key)) else MISSING


def _err(key: str, err: str, fmt: str):
    return lambda r: pm(r.get(key), r.get(err), fmt, ".2g")


def iteration_table(rows: list[dict]) -> str:
    cols = [("iteration", "iteration", "d"), ("n_train", "training labels (count)", "d"),
            ("n_validation_frames", "held-out labels (count)", "d"), ("n_new_labels", "new labels (count)", "d"),
            ("n_failed_labels_total", "failed labels (count)", "d"),
            ("accurate_fraction", "accurate frames (%)", _pct("accurate_fraction")),
            ("candidate_fraction", "candidate frames (%)", _pct("candidate_fraction")),
            ("failed_fraction", "failed frames (%)", _pct("failed_fraction")),
            ("e", "E RMSE (meV/atom)", _err("rmse_energy_meV_per_atom", "rmse_energy_stderr", ".3g")),
            ("f", "F RMSE (eV/Å)", _err("rmse_force_eV_per_A", "rmse_force_stderr", ".3g")),
            ("s", "σ RMSE (GPa)", _err("rmse_stress_GPa", "rmse_stress_stderr", ".3g")),
            ("deviation_scale", "spread calibration (factor)", ".3g")]
    return table(rows, cols)


def grid_table(rows: list[dict]) -> str:
    """One row per grid point: its frame classes by iteration, frames chosen, volume, blow-ups."""
    def history(key):
        return lambda r: " → ".join(num(100 * h[key], ".0f") if finite(h.get(key)) else MISSING
                                    for h in r["history"]) or ("not explored" if key == "accurate" else MISSING)

    def stops(r):
        if not r["history"]:
            return MISSING
        out = [f"iteration {h['iteration']}: {h['blow_up']}" for h in r["history"] if h.get("blow_up")]
        return "; ".join(out) or "none"

    cols = [("P_GPa", "P target (GPa)", "g"), ("T_K", "T target (K)", "g"),
            ("a", "accurate (%) by iteration", history("accurate")),
            ("c", "candidate (%) by iteration", history("candidate")),
            ("f", "failed (%) by iteration", history("failed")),
            ("n_chosen", "frames chosen for labelling (count)", lambda r: str(r.get("n_chosen", 0))),
            ("volume_A3_per_atom", "mean volume, last exploration (Å³/atom)", ".4g"),
            ("b", "MD stopped early", stops)]
    return table(rows, cols)


_ERROR_SOURCES = {"gls": "GLS fit covariance", "replicas": "scatter of replicas", "blocks": "scatter of time blocks",
                  "per-atom": "scatter of per-atom fits"}


def diffusion_table(results: list[dict]) -> str:
    """D as value ± 1σ (m²/s), or an upper bound where no diffusive regime was found; the method in a
    collapsed note per row."""
    def status(r):
        if r.get("diffusive", True) is False:
            return "not diffusive: MSD on a plateau"
        return "diffusive (local exponent ≈ 1 in the window)"

    def model(r):
        if "model_converged" not in r:
            return MISSING
        return "converged" if r["model_converged"] else "NOT converged: provisional"

    cols = [("species", "species", species_name), ("P_GPa", "P (GPa)", "g"), ("T_K", "T (K)", "g"),
            ("D", "D (m²/s), ± 1σ or upper bound", diffusion_value),
            ("status", "regime", status), ("n_replicas", "replicas (count)", "d"),
            ("fit_window_ps", "fit window (ps)", lambda r: "–".join(f"{x:.3g}" for x in r["fit_window_ps"])
             if r.get("fit_window_ps") else MISSING),
            ("stderr_source", "1σ from", lambda r: _ERROR_SOURCES.get(r.get("stderr_source"), MISSING)),
            ("model_converged", "model", model)]
    if any(region_name(r) != "all" or r.get("system") for r in results):  # a campaign: what each D is of
        cols.insert(1, ("region", "region (atoms counted)", region_text))
    if any(r.get("system") for r in results):
        cols.insert(0, ("system", "system", lambda r: r.get("system") or MISSING))
    out = table(results, cols)
    methods = "".join(f"<li>{html.escape(where_text(r))} at {num(r.get('P_GPa'), 'g')} GPa, "
                      f"{num(r.get('T_K'), 'g')} K: {html.escape(r.get('method', ''))}</li>" for r in results)
    if any(r.get("diffusive", True) is False for r in results):
        out += (f"<p>{html.escape(NOT_DIFFUSIVE[0].upper() + NOT_DIFFUSIVE[1:])}: no diffusion coefficient is "
                "given there. The fit on the late half of such an MSD measures only its noise, so the table gives "
                "the 2σ upper bound max(D, 0) + 2σ.</p>")
    return out + f"<details><summary>How each D was estimated</summary><ul>{methods}</ul></details>"


def arrhenius_table(laws: list[dict]) -> str:
    """One row per fitted law of ``results/arrhenius.json``: system, species, region, the law's form and
    activation ± 1σ (kJ/mol), ΔV ± 1σ (cm³/mol, eq. 4), D0 with its log-normal 1σ range, the points
    and temperatures it rests on, χ²/dof."""
    def d0(r):
        if not finite(r.get("D0_m2_per_s")):
            return MISSING
        s = r.get("lnD0_stderr")
        return f"{r['D0_m2_per_s']:.3g}" + (f" (×/÷ {math.exp(s):.3g})" if finite(s) else "")

    cols = [("system", "system", lambda r: r.get("system") or MISSING), ("species", "species", species_name),
            ("region", "region (atoms counted)", region_text),
            ("form", "law", lambda r: "eq. 4: ΔE + PΔV" if r.get("activation_kind") == "dE" else "eq. 3: ΔH"),
            ("a", "activation ΔH or ΔE (kJ/mol)", _err("activation_kJ_per_mol", "activation_stderr_kJ_per_mol", ".3g")),
            ("v", "ΔV (cm³/mol)", _err("dV_cm3_per_mol", "dV_stderr_cm3_per_mol", ".3g")),
            ("d0", "D0 (m²/s)", d0), ("n_points", "diffusive points (count)", "d"),
            ("T_range_K", "T range (K)", lambda r: "–".join(f"{x:g}" for x in r["T_range_K"]) if r.get("T_range_K")
             else MISSING),
            ("chi2_red", "χ²/dof (dimensionless)", ".3g")]
    rows = [r for r in laws if "not_fitted" not in r]
    if not any(r.get("system") for r in rows):
        cols = cols[1:]
    out = table(rows, cols) if rows else "<p class='note'>No Arrhenius law could be fitted.</p>"
    missing = [r for r in laws if "not_fitted" in r]
    if missing:
        out += ("<p>Not fitted:</p><ul>" + "".join(f"<li>{html.escape(where_text(r))}: "
                                                   f"{html.escape(str(r['not_fitted']))}</li>" for r in missing)
                + "</ul>")
    methods = "".join(f"<li>{html.escape(where_text(r))} ({html.escape(law_text(r))}): "
                      f"{html.escape(r.get('method', ''))}</li>" for r in rows)
    return out + (f"<details><summary>How each law was fitted</summary><ul>{methods}</ul></details>" if rows else "")


def w_isotopes_table(rows: list[dict]) -> str:
    """One row per PGZ height of ``results/w_isotopes.json``: D_GB, D_eff, diffusion length and OIB
    μ182W, each as its Monte-Carlo median with the 2.5–97.5 % range."""
    def q(key, fmt=".3g"):
        return lambda r: band_text(r.get(key), fmt)

    cols = [("pgz_height_km", "PGZ height (km)", "g"),
            ("g", "D_GB at the model's T, P (m²/s), median [95 %]", q("D_gb_m2_per_s")),
            ("e", "D_eff (m²/s), median [95 %]", q("D_eff_m2_per_s")),
            ("l", "diffusion length √(D_eff t) (m), median [95 %]", q("diffusion_length_m")),
            ("m", "OIB μ¹⁸²W (ppm), median [95 %]", q("oib_mu182w", ".3g"))]
    return table(rows, cols)


# -- provenance -------------------------------------------------------------------------------------
_NAMES = {"labeller": "labeller", "method": "method", "functional": "functional", "code": "code",
          "T_el_K": "electronic temperature (K)", "kpoints": "k-points", "cutoff_eV": "plane-wave cutoff (eV)",
          "smearing": "smearing", "setups": "setups", "mode": "mode", "convergence": "convergence",
          "code_name": "code (name)", "backend": "backend"}
_SUFFIX = {"_K": "K", "_eV": "eV", "_A": "Å", "_GPa": "GPa", "_fs": "fs", "_ps": "ps", "_s": "s"}


def _name(key: str) -> str:
    if key in _NAMES:
        return _NAMES[key]
    for suf, unit in _SUFFIX.items():
        if key.endswith(suf):
            return f"{key[:-len(suf)].replace('_', ' ')} ({unit})"
    return key.replace("_", " ")


def _value(v) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (list, tuple)):
        return ", ".join(_value(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{_name(k)}: {_value(x)}" for k, x in v.items())
    return MISSING if v is None else str(v)


def code_text(code: str) -> str:
    """A code and its version; where the run recorded none (``tblite ?``), the installed version of
    the distribution, said to be so."""
    words = str(code).split()
    if words and (words[-1] == "?" or len(words) == 1):
        name = words[0]
        have = installed_version(name)
        if have:
            return (f"{name} (the run recorded no version; {have} is installed now, from "
                    f"importlib.metadata.version({name!r}))")
        return f"{name} (version not recorded)"
    return str(code)


def provenance_table(record: dict) -> str:
    """A key/value table of a provenance record (reference or potential), readable names with units."""
    rows = [{"k": _name(k), "v": code_text(v) if k == "code" else _value(v)} for k, v in record.items()]
    return table(rows, [("k", "setting", lambda r: r["k"]), ("v", "value", lambda r: r["v"])], cls="prov")


def software_table(deepearth_version: str, distributions: list[str]) -> str:
    rows = [{"k": "deepearth", "v": f"{deepearth_version} (recorded by the run)"}]
    for dist in distributions:
        v = installed_version(dist)
        if v:
            rows.append({"k": dist, "v": f"{v} (installed when this page was written)"})
    return table(rows, [("k", "package", lambda r: r["k"]), ("v", "version", lambda r: r["v"])], cls="prov")


# -- held-out errors ----------------------------------------------------------------------------------
def validation_section(validation: dict) -> list[str]:
    """HTML for held-out (or k-fold pooled) errors: RMSE and MAE ± bootstrap 1σ and the median and
    95th percentile of the per-frame errors, one row per bin; the worst held-out frames with their ids
    and why they might be off (outside the training envelope); the envelope count."""
    if not validation.get("n_frames"):
        return []
    by = validation.get("bin_by")

    def per(name, q):
        return lambda r: num(((r.get("per_frame") or {}).get(name) or {}).get(q), ".3g")

    cols = [("bin", bin_title(by), lambda r: bin_text(r["bin"], by)), ("n_frames", "frames (count)", "d"),
            ("e", "E RMSE (meV/atom)", _err("rmse_energy_meV_per_atom", "rmse_energy_stderr", ".3g")),
            ("em", "E MAE (meV/atom)", _err("mae_energy_meV_per_atom", "mae_energy_stderr", ".3g")),
            ("e50", "|ΔE| median (meV/atom)", per("energy_meV_per_atom", "median")),
            ("e95", "|ΔE| p95 (meV/atom)", per("energy_meV_per_atom", "p95")),
            ("f", "F RMSE (eV/Å)", _err("rmse_force_eV_per_A", "rmse_force_stderr", ".3g")),
            ("fm", "F MAE (eV/Å)", _err("mae_force_eV_per_A", "mae_force_stderr", ".3g")),
            ("f50", "F median (eV/Å)", per("force_rmse_eV_per_A", "median")),
            ("f95", "F p95 (eV/Å)", per("force_rmse_eV_per_A", "p95")),
            ("fmax", "F max (eV/Å)", per("force_rmse_eV_per_A", "max")),
            ("s", "σ RMSE (GPa)", _err("rmse_stress_GPa", "rmse_stress_stderr", ".3g")),
            ("n_outside_envelope", "outside envelope (count)", "d")]
    rows = [{"bin": "all", **validation}] + [{"bin": k, **v} for k, v in (validation.get("bins") or {}).items()]
    lonely = any(r.get("n_frames", 0) < 2 for r in rows)
    out = [f"<h2>Held-out errors</h2><p>{html.escape(validation.get('method', ''))}. ± is that 1σ"
           + (" (none where a row rests on one frame)" if lonely else "") + ". Median and p95: of the "
           "per-frame errors (|ΔE| per atom; the RMSE over one frame's force components).</p>", table(rows, cols)]
    worst = validation.get("worst_frames") or []
    if worst:
        what = {"force": "force RMSE", "energy": "|ΔE| per atom", "force_max": "largest |ΔF| on an atom",
                "stress": "stress RMSE"}.get(validation.get("worst_by", "force"), "")
        w_cols = [("rank", "rank", "d"), ("id", "frame", ""), ("bin", bin_title(by), lambda r: bin_text(r["bin"], by)),
                  ("energy_meV_per_atom", "|ΔE| (meV/atom)", ".3g"), ("force_rmse_eV_per_A", "F RMSE (eV/Å)", ".3g"),
                  ("force_max_eV_per_A", "max |ΔF| (eV/Å)", ".3g"), ("stress_rmse_GPa", "σ RMSE (GPa)", ".3g"),
                  ("why", "why it might be off", "")]
        w_rows = [{**w, "bin": w.get("bin", ""),
                   "why": "; ".join(w["outside_envelope"]) if w.get("outside_envelope") else
                   ("inside the training envelope" if w.get("outside_envelope") is not None else "not checked")}
                  for w in worst]
        out += [f"<h3>Worst held-out frames (by {html.escape(what)})</h3>", table(w_rows, w_cols)]
    note = (validation.get("envelope") or {}).get("note")
    if note:
        out.append(f"<p>{html.escape(note)}</p>")
    trust = validation.get("trust_levels")
    if trust:
        unit = " eV/Å" if trust["criterion"] == "absolute" else " (dimensionless)"
        out.append(f"<p>Trust levels ({html.escape(trust['criterion'])} deviation): "
                   f"trust_lo {trust['trust_lo']:g}{unit}, "
                   f"trust_hi {trust['trust_hi']:g}{unit}, from {html.escape(trust['source'])}. On the "
                   f"{trust['n_frames']} held-out frames the calibrated deviation has median "
                   f"{trust['held_out_deviation_median']:.3g} and p95 {trust['held_out_deviation_p95']:.3g}; "
                   f"{100 * trust['fraction_not_accurate']:.0f} % of them would not count as accurate.</p>")
    return out
