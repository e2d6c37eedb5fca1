"""Report sections of the thermodynamic properties a run measured with its final model
(``[properties.eos|elastic|melting|phase]``, :mod:`deepearth.pipeline.thermo`): one section per
record of ``results/``, read by :func:`deepearth.report.data.property_record`.

- **EOS**: the isotherm fits with their residuals (figure and table: V0, K0, K0' ± 1σ, χ²_red), the
  thermal quantities (V, K_T, α at each pressure and isotherm; γ; figure), the state points;
- **elastic constants**: Cij ± 1σ per (P, T) (the 0 K constants beside them), K and G (Voigt, Reuss,
  Hill), V_P, V_S, V_B with their Monte Carlo errors, Born stability (figure and table);
- **melting**: solid fraction vs time per T with the interface velocity and the T_m bracket (figure),
  the verdict per T and the error budget;
- **phase**: the phase of every production state point with its evidence.

Numbers are shown as recorded, with their units and 1σ errors; nothing is fitted here.
"""

from __future__ import annotations

import html
from pathlib import Path

from deepearth.report import data, tables
from deepearth.report.elastic_figures import elastic_figure, shown_constants
from deepearth.report.eos_figures import eos_fit_figure, thermal_figure
from deepearth.report.fmt import MISSING, num, pm
from deepearth.report.melting_figures import solid_fraction_figure
from deepearth.report.sections import figure_block
from deepearth.rundir import RunDir

__all__ = ["FIGURES", "budget_text", "constant_names", "elastic_section", "eos_section", "melting_section",
           "phase_section", "thermal_rows", "thermo_sections"]

#: The figures these sections may write (removed before each report is written).
FIGURES = ("thermo_eos_fit.png", "thermo_eos_thermal.png", "thermo_elastic.png", "thermo_melting.png")


def _esc(text) -> str:
    return html.escape(str(text))


def _pm(value, err, fmt: str = ".4g") -> str:
    """``value ± err``: the error to 2 significant digits, without an exponent from 100 up."""
    big = isinstance(err, (int, float)) and abs(err) >= 100
    return pm(value, err, fmt, ".0f" if big else ".2g")


def _head(rec: dict, what: str, key: str) -> list[str]:
    """Where the record comes from: system, model, convergence; or why there is no result."""
    sentence = (f"<p>{_esc(what)} of system <b>{_esc(rec.get('system') or '')}</b> with "
                f"<code>{_esc(rec.get('model', ''))}</code> (recipe section [properties.{key}], in the recipe "
                "below).")
    if rec.get("model_converged") is False:
        sentence += " Active learning did not converge: these numbers are provisional."
    out = [sentence + "</p>"]
    if "error" in rec:
        out.append(f"<p class='note'>Not measured: {_esc(rec['error'])}</p>")
    return out


def _notes(notes: list[str]) -> list[str]:
    return ["<ul class='note'>" + "".join(f"<li>{_esc(n)}</li>" for n in notes) + "</ul>"] if notes else []


# -- EOS ---------------------------------------------------------------------------------------------
def _fit_table(isotherms: list[dict]) -> str:
    return tables.table(isotherms, [
        ("T_K", "T (K)", ".0f"), ("form", "form", None), ("data", "data", None), ("n_points", "points", "d"),
        ("V0", "V0 (Å³ per cell)", lambda r: _pm(r.get("V0"), r.get("V0_stderr"), ".5g")),
        ("K0", "K0 (GPa)", lambda r: _pm(r.get("K0"), r.get("K0_stderr"), ".4g")),
        ("K0_prime", "K0'", lambda r: _pm(r.get("K0_prime"), r.get("K0_prime_stderr"), ".3g")),
        ("chi2_red", "χ²_red", ".3g"), ("runs_p_value", "runs-test p", ".2g"),
        ("error", "not fitted", lambda r: r.get("error", ""))])


def _at(thermal: dict, key: str, i: int, j: int, scale: float = 1.0) -> float | None:
    v = thermal[key][i][j]
    return None if v is None else scale * v


def thermal_rows(thermal: dict) -> list[dict]:
    """One row per (isotherm, pressure) of a thermal-EOS record: V, K_T, α (10⁻⁵/K) with their 1σ."""
    rows = []
    for i, T in enumerate(thermal["T_K"]):
        for j, P in enumerate(thermal["pressures_GPa"]):
            at = lambda key, scale=1.0: _at(thermal, key, i, j, scale)  # noqa: E731
            rows.append({"T_K": T, "P_GPa": P, "V": (at("volume_A3"), at("volume_stderr_A3")),
                         "K_T": (at("K_T_GPa"), at("K_T_stderr_GPa")),
                         "alpha": (at("alpha_per_K", 1e5), at("alpha_stderr_per_K", 1e5))})
    return rows


def _thermal_table(thermal: dict) -> str:
    return tables.table(thermal_rows(thermal), [
        ("T_K", "T (K)", ".0f"), ("P_GPa", "P (GPa)", ".4g"),
        ("V", "V (Å³ per cell)", lambda r: _pm(*r["V"], ".5g")),
        ("K_T", "K_T (GPa)", lambda r: _pm(*r["K_T"], ".4g")),
        ("alpha", "α (10⁻⁵/K)", lambda r: _pm(*r["alpha"], ".3g"))])


def _points_table(points: list[dict]) -> str:
    return tables.table(points, [
        ("P_target_GPa", "P target (GPa)", ".4g"), ("T_K", "T (K)", ".0f"),
        ("P_GPa", "⟨P⟩ (GPa)", lambda r: _pm(r.get("P_GPa"), r.get("P_stderr_GPa"), ".4g")),
        ("V_A3", "⟨V⟩ (Å³ per cell)", lambda r: _pm(r.get("V_A3"), r.get("V_stderr_A3"), ".5g")),
        ("T_mean_K", "⟨T⟩ (K)", lambda r: _pm(r.get("T_mean_K"), r.get("T_stderr_K"), ".4g")),
        ("msd_A2", "MSD while sampled (Å²)", ".3g"), ("replicas", "replicas", "d"),
        ("blow_ups", "stopped", lambda r: "; ".join(r.get("blow_ups") or []) or "no")])


def eos_section(rec: dict, out: Path) -> list[str]:
    """``results/eos.json``: fits with residuals, thermal quantities, state points."""
    body = ["<h3>Equation of state (NPT MD)</h3>"] + _head(rec, "EOS", "eos")
    if "error" in rec:
        return body
    s = rec.get("section", {})
    body.append(f"<p>{num(rec.get('n_atoms'), 'd')} atoms ({_esc(rec.get('formula', ''))}); volumes and energies per "
                f"cell. Grid: {', '.join(f'{p:g}' for p in s.get('pressures_GPa', []))} GPa × "
                f"{', '.join(f'{t:g}' for t in s.get('temperatures_K', []))} K, "
                f"{num(s.get('replicas'), 'd')} replica(s), "
                f"{num(s.get('equilibration_steps'), 'd')} + {num(s.get('steps'), 'd')} steps of "
                f"{num(s.get('timestep_fs'), 'g')} fs per point; every point from {_esc(rec.get('start', ''))}. "
                f"{_esc(rec.get('method', ''))}.</p>")
    fits = [f for f in rec.get("isotherms", []) if "error" not in f]
    body += ["<h4>Isotherm fits</h4>", _fit_table(rec.get("isotherms", []))]
    path = eos_fit_figure(fits, out / FIGURES[0], [f"{f['T_K']:.0f} K" for f in fits]) if fits else None
    body += figure_block("EOS fits and residuals", path, "Per isotherm: the state points (⟨P⟩ vs ⟨V⟩ ± 1σ) "
                         "and the "
                         "fitted curve above, data − fit below (structured residuals: a wrong form).",
                         "No isotherm could be fitted (the table says why).", level=4)
    thermal = rec.get("thermal")
    if thermal:
        body += ["<h4>Thermal quantities</h4>", _thermal_table(thermal)]
        if thermal.get("gamma"):
            body.append("<p>Grüneisen parameter γ = V (∂P/∂E)_V at V = "
                        + ", ".join(f"{v:.4g} Å³: {_pm(g, e, '.3g')}" for v, g, e in
                                    zip(thermal["volumes_A3"], thermal["gamma"], thermal["gamma_stderr"] or []))
                        + ".</p>")
        body += figure_block("P–V–T quantities", thermal_figure(thermal, out / FIGURES[1]),
                             f"α and K_T against P per isotherm, thermal pressure against V (vs "
                             f"{thermal['T_ref_K']:.0f} K), γ against V; 1σ bars. {thermal.get('method', '')}",
                             level=4)
    else:
        body.append("<p class='note'>No thermal quantities: they need two or more fitted isotherms.</p>")
    body += ["<h4>State points</h4>", _points_table(rec.get("points", []))] + _notes(rec.get("notes", []))
    return body


# -- elastic constants -------------------------------------------------------------------------------
def constant_names(results: list[dict]) -> list[str]:
    """The Cij columns: the independent constants of the crystal system every result was fitted with
    (e.g. C11, C12, C44), else the upper-triangle entries that are non-zero in some result."""
    names = {tuple(r.get("independent") or ()) for r in results}
    if len(names) == 1 and next(iter(names)):
        return list(next(iter(names)))
    return [f"C{i + 1}{j + 1}" for i, j in shown_constants(results)] if results else []


def _cij(r: dict, names: list[str]) -> dict:
    ind = r.get("independent") or {}
    return {n: _pm(*ind[n]) if n in ind else _pm(r["C_GPa"][int(n[1]) - 1][int(n[2]) - 1],
                                                 r["C_stderr_GPa"][int(n[1]) - 1][int(n[2]) - 1]) for n in names}


def elastic_rows(rec: dict) -> tuple[list[dict], list[str]]:
    """One row per measured (P, T), then per 0 K pressure: the Cij (:func:`constant_names`) and the
    moduli with 1σ; and the Cij names."""
    done = [r for r in rec.get("points", []) + rec.get("static", []) if "error" not in r]
    names = constant_names(done)
    rows = []
    for r in rec.get("points", []) + rec.get("static", []):
        row = {"P_target": r["P_GPa"], "T": "0 K (static)" if "T_K" not in r else f"{r['T_K']:g} K"}
        if "error" in r:
            rows.append({**row, "error": r["error"]})
            continue
        m, e = r["moduli"], r["moduli_stderr"]
        rows.append({**row, **_cij(r, names), "P_GPa": r["pressure_GPa"], "rho": r["density_kg_m3"],
                     "stable": r["stability"].get("stable"),
                     **{k: _pm(m[k], e.get(k), ".4g" if k[0] in "KG" else ".3f")
                        for k in ("K_vrh", "G_vrh", "Vp", "Vs", "Vb")}, "A_U": m.get("A_universal"),
                     "checks": "; ".join(r.get("warnings", []) + r.get("asymmetry", [])
                                         + r.get("symmetry_deviations", []))})
    return rows, names


def elastic_section(rec: dict, out: Path) -> list[str]:
    """``results/elastic.json``: Cij ± 1σ, moduli, velocities; the 0 K constants beside them."""
    body = ["<h3>Elastic constants (stress–strain MD)</h3>"] + _head(rec, "Elastic constants", "elastic")
    rows, names = elastic_rows(rec)
    md = [r for r in rec.get("points", []) if "error" not in r]
    if md:
        body.append(f"<p>{_esc(md[0].get('method', ''))}; errors: {_esc(md[0].get('error_method', ''))}. Isothermal "
                    "stress–strain coefficients (Wallace 1972); velocities from them and the NPT density.</p>")
    if rows:
        cols = [("P_target", "P target (GPa)", ".4g"), ("T", "T", None), ("P_GPa", "P of the reference (GPa)", ".4g")]
        cols += [(n, f"{n} (GPa)", None) for n in names]
        cols += [("rho", "ρ (kg/m³)", ".5g"), ("K_vrh", "K_VRH (GPa)", None), ("G_vrh", "G_VRH (GPa)", None),
                 ("Vp", "V_P (km/s)", None), ("Vs", "V_S (km/s)", None), ("Vb", "V_B (km/s)", None),
                 ("A_U", "A_U", ".3g"), ("stable", "Born stable", None),
                 ("checks", "checks", lambda r: r.get("checks") or r.get("error") or "none")]
        body.append(tables.table(rows, cols))
        body.append("<p class='note'>Cij: the independent constants of the imposed crystal system, else the entries "
                    "above 1 % of the largest and 3σ in some result; P of the reference: the NPT mean pressure of the "
                    "unstrained cell (MD) or the relaxation's target (0 K); "
                    "K, G: Voigt–Reuss–Hill averages (their bounds in the figure); A_U: universal anisotropy "
                    "(0: isotropic). 0 K rows: relaxed cell and ions at P, errors from the fit residuals.</p>")
    if md:
        body += figure_block("Elastic constants, moduli and velocities", elastic_figure(md, out / FIGURES[2]),
                             "MD results only, 1σ bars; K and G with their Voigt and Reuss bounds.", level=4)
    return body


# -- melting -----------------------------------------------------------------------------------------
def budget_text(budget: dict) -> str:
    """An error budget in words: ``bracket: 260 K; committee: – (one model only ...); ...``."""
    parts = []
    for k, v in budget.items():
        if k.endswith(("_note", "_members", "_atoms")):
            continue
        name = k.removesuffix("_K")
        number = isinstance(v, (int, float)) and not isinstance(v, bool)
        text = f"{v:.0f} K" if number else MISSING if v is None else str(v)
        why = [str(budget[n]) for n in (f"{name}_note", f"{name}_members", f"{name}_atoms") if n in budget]
        parts.append(f"{name.replace('_', ' ')}: {text}" + (f" ({'; '.join(why)})" if why else ""))
    return "; ".join(parts)


def melting_section(rec: dict, out: Path) -> list[str]:
    """``results/melting.json``: the bracket, verdicts per T, solid fraction vs time."""
    body = ["<h3>Melting by two-phase coexistence</h3>"] + _head(rec, "Melting", "melting")
    if "error" in rec:
        return body
    b = rec["bracket"]
    body.append(f"<p><b>{_esc(b.get('message', ''))}</b></p>")
    body.append(f"<p>Members: {_esc(', '.join(rec.get('members', [])))}; one layer {num(rec.get('layer_atoms'), 'd')} "
                f"atoms × {num(rec.get('protocol', {}).get('n_layers'), 'd')} layers; error budget: "
                f"{_esc(budget_text(b.get('error_budget', {})))}. {_esc(b.get('method', ''))}.</p>")
    body.append(tables.table(b.get("verdicts", []), [
        ("T_K", "T (K)", ".0f"), ("member", "member", lambda r: r.get("member") or "model"),
        ("n_atoms", "atoms", "d"), ("n_replicas", "replicas", "d"),
        ("change", "Δ solid fraction", lambda r: _pm(r.get("change"), r.get("change_stderr"), ".3f")),
        ("interface_velocity_A_per_ps", "interface velocity (Å/ps)", ".3g"), ("verdict", "verdict", None),
        ("final_states", "final state", lambda r: ", ".join(r.get("final_states", [])))]))
    series = rec.get("series", [])
    path = solid_fraction_figure(series, out / FIGURES[3], b) if series else None
    body += figure_block("Solid fraction vs time", path, "Left: the solid fraction (q̄6 classification) of every "
                         "coexistence run, cold blue to hot red. Right: the interface velocity per T (> 0: the crystal "
                         "grows) with the bracket and T_m ± 1σ.", "No coexistence run finished.", level=4)
    return body + _notes(rec.get("notes", []))


# -- phase -------------------------------------------------------------------------------------------
def phase_section(rec: dict) -> list[str]:
    """``results/phase.json``: the phase of every production state point with its evidence."""
    s = rec.get("section", {})
    return ["<h3>Phase of the production state points</h3>",
            f"<p>Per species: mobile when D &gt; {num(s.get('D_threshold_m2_per_s'), 'g')} m²/s, its sublattice "
            "ordered "
            f"when mean q̄6 ≥ {num(s.get('q6_threshold'), 'g')}; crystal, liquid, superionic (one sublattice "
            "diffusing, another ordered), amorphous or undetermined.</p>",
            tables.table(rec.get("points", []), [
                ("system", "system", None), ("P_GPa", "P (GPa)", ".4g"), ("T_K", "T (K)", ".0f"),
                ("phase", "phase", lambda r: r.get("phase") or f"not judged: {r.get('error', '')}"),
                ("evidence", "evidence", lambda r: " | ".join(r.get("evidence", [])))])]


def thermo_sections(rundir: RunDir, out: Path) -> list[str]:
    """Every property record of the run as report sections (none: nothing); this section's old
    figures are removed first."""
    for name in FIGURES:
        (out / name).unlink(missing_ok=True)
    body = []
    for name, section in (("eos", eos_section), ("elastic", elastic_section), ("melting", melting_section)):
        rec = data.property_record(rundir, name)
        if rec:
            body += section(rec, out)
    rec = data.property_record(rundir, "phase")
    if rec:
        body += phase_section(rec)
    return ["<h2>Results: thermodynamics and phases</h2>"] + body if body else []
