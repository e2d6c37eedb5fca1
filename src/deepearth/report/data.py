"""What the report shows, gathered from the run's records through :class:`~deepearth.rundir.RunDir`.

Nothing here fits or estimates: the iteration records (``summary.json``/``state.json``), each
iteration's ``validation.json`` (its bootstrap errors), the exploration ``result.json`` and
``candidates.json`` files, the label store's rows (their own stress, volume and origin) and the
``results/`` files are read and arranged for the tables and figures. Two things are evaluated, not
fitted: a recorded Arrhenius law on a temperature grid (its line and 1σ band,
:meth:`~deepearth.properties.ArrheniusResult.predict`) and the W-isotope model at the recorded D_eff
quantiles (:func:`deepearth.geophysics.w_isotopes.oib_curves`), for the figures.

A campaign (``[[systems]]``) is read per system: exploration results, candidates and grid entries
carry their system's name; labels are attributed by their id prefix ``<system>-``
(:func:`system_of_id`).
"""

from __future__ import annotations

import logging
from collections import Counter

import numpy as np

from deepearth.files import read_json
from deepearth.geophysics.w_isotopes import EARTH_AGE_GYR, PGZ_FRACTION, oib_curves
from deepearth.properties.arrhenius import ArrheniusResult
from deepearth.report.fmt import region_name, species_name
from deepearth.rundir import RunDir
from deepearth.store import LabelStore
from deepearth.units import GYR_S, stress_to_pressure_gpa

log = logging.getLogger("deepearth")

#: Label kinds by how they were made (the store's ``parent``), for the coverage map.
EOS, SEED, MD, IMPORTED = ("reference EOS scan (ideal cell, static)", "strained + rattled seeds (no MD)",
                           "labelled MD frames", "imported frames")
#: A liquid system's seeds: random packings of its atoms, rattled (its coverage map names them so).
LIQUID_SEED = "random packings, rattled (no MD)"


def validation_record(rundir: RunDir, iteration: int) -> dict:
    """``models/iter-NNN/validation.json`` (empty when that iteration has none)."""
    f = rundir.validation_file(iteration)
    return read_json(f) if f.is_file() else {}


def iteration_rows(rundir: RunDir, iterations: list[dict]) -> list[dict]:
    """The iteration records with the bootstrap errors of their held-out RMSE (from each iteration's
    ``validation.json``: ``rmse_*_stderr``) and the training-label count (``n_train_labels`` if the
    record holds it, else all labels less the held-out ones)."""
    rows = []
    for rec in iterations:
        val = validation_record(rundir, rec["iteration"])
        n_train = rec.get("n_train_labels")
        if n_train is None:
            n_train = rec.get("n_labelled_total", 0) - rec.get("n_validation_frames", 0)
        rows.append({**rec, "n_train": n_train, **{k: val.get(k) for k in
                    ("rmse_energy_stderr", "rmse_force_stderr", "rmse_stress_stderr")}})
    return rows


def learning_points(rows: list[dict]) -> list[dict]:
    """Points of the held-out learning curves (:func:`deepearth.report.figures.heldout_learning_curves`)."""
    return [{"iteration": r["iteration"], "n_train": r["n_train"], "n_heldout": r.get("n_validation_frames", 0),
             "energy": (r.get("rmse_energy_meV_per_atom"), r.get("rmse_energy_stderr")),
             "force": (r.get("rmse_force_eV_per_A"), r.get("rmse_force_stderr")),
             "stress": (r.get("rmse_stress_GPa"), r.get("rmse_stress_stderr"))} for r in rows]


def deviations(rundir: RunDir, iterations: list[int],
               system: str | None = None) -> dict[int, list[tuple[float, float, list[float]]]]:
    """The classified deviation of every explored frame: (P GPa, T K, values) per grid point, by iteration
    (``system``: that campaign system's points only)."""
    out = {}
    for it in iterations:
        res = [r for r in rundir.exploration_results(it) if system is None or r.system == system]
        if res:
            out[it] = [(r.P_GPa, r.T_K, list(r.deviation_used)) for r in res]
    return out


def _n_atoms(rundir: RunDir, labels: list[dict], system: str = "") -> int | None:
    eos = reference_eos(rundir, system) or {}
    if eos.get("n_atoms"):
        return int(eos["n_atoms"])
    counts = Counter(lab["n_atoms"] for lab in labels)
    return counts.most_common(1)[0][0] if counts else None


def _label_kind(row) -> str:
    parent = row.get("parent", "")
    if parent.startswith("reference-eos"):  # a campaign system's scan: reference-eos-<system>
        return EOS
    if parent == "initial":
        return SEED
    if row.get("labeller") == "import":
        return IMPORTED
    return MD


def store_labels(rundir: RunDir) -> tuple[list[dict], str]:
    """Every label of the store (ok or failed): iteration, kind, origin P/T, its own static virial
    pressure (GPa) and volume per atom (Å³); and a note when the store could not be read."""
    try:
        rows = LabelStore(rundir.store_location).rows()
    except (ValueError, OSError) as exc:  # a store server down: the report is still written
        log.warning("report: label store not readable (%s): coverage without labels", exc)
        return [], f"The label store could not be read ({exc}); the labels are not drawn."
    labels = []
    for row in rows:
        ok = bool(row.get("ok", False))
        stress = row.get("stress") if ok else None
        labels.append({"id": str(row.get("candidate_id", "")), "iteration": int(row.get("iteration", 0)),
                       "kind": _label_kind(row), "ok": ok,
                       "origin_P_GPa": row.get("origin_P_GPa"), "origin_T_K": row.get("origin_T_K"),
                       "P_static_GPa": None if stress is None else stress_to_pressure_gpa(stress),
                       "volume_A3_per_atom": row.volume / row.natoms, "n_atoms": row.natoms})
    return labels, ""


def coverage(rundir: RunDir, pressures_GPa: list[float], temperatures_K: list[float],
             iterations: list[int], system: str | None = None, names: list[str] = (),
             labels: tuple[list[dict], str] | None = None, liquid: bool = False) -> dict:
    """The P–T coverage: the exploration grid, what each explored point recorded (mean volume per
    atom; mean P and T where recorded), the frames chosen for labelling and the labels.

    ``system``: one campaign system's coverage (its explored points, candidates and the labels whose
    id carries its prefix among ``names``); ``labels``: :func:`store_labels` read once by the caller;
    ``liquid``: the system's seeds are random packings (:data:`LIQUID_SEED`)."""
    labels, note = labels if labels is not None else store_labels(rundir)
    if system is not None:
        labels = [{**lab, "kind": LIQUID_SEED if liquid and lab["kind"] == SEED else lab["kind"]}
                  for lab in labels if system_of_id(lab["id"], names) == system]
    n_atoms = _n_atoms(rundir, labels, system or "")
    explored, chosen = [], []
    for it in iterations:
        for r in rundir.exploration_results(it):
            if system is not None and r.system != system:
                continue
            raw = read_json(rundir.point_dir(it, r.P_GPa, r.T_K, r.system) / "result.json")
            v = r.mean_volume_A3
            explored.append({"iteration": it, "P_GPa": r.P_GPa, "T_K": r.T_K,
                             "volume_A3_per_atom": v / n_atoms if v is not None and n_atoms else None,
                             "mean_P_GPa": raw.get("mean_P_GPa"), "mean_T_K": raw.get("mean_T_K"),
                             "blow_up": r.blow_up})
        chosen += [{"iteration": it, "P_GPa": c.P_GPa, "T_K": c.T_K} for c in rundir.read_candidates(it) or []
                   if system is None or c.system == system]
    return {"grid": [(p, t) for p in pressures_GPa for t in temperatures_K], "explored": explored,
            "chosen": chosen, "labels": labels, "note": note}


def grid_rows(iterations: list[dict], cov: dict, system: str | None = None) -> list[dict]:
    """One row per exploration grid point: its frame classes in each iteration, the frames chosen
    there for labelling, the mean volume per atom of its last exploration, and where MD stopped; grid
    points never explored have an empty history (``system``: the grid entries of that campaign system
    only, with ``cov`` its coverage)."""
    points: dict[tuple[float, float], dict] = {}
    for rec in iterations:
        for g in rec.get("grid", []):
            if system is not None and g.get("system", "") != system:
                continue
            p = points.setdefault((g["P_GPa"], g["T_K"]), {"P_GPa": g["P_GPa"], "T_K": g["T_K"], "history": []})
            p["history"].append({"iteration": rec["iteration"], **{k: g.get(k) for k in
                                 ("accurate", "candidate", "failed", "blow_up")}})
    for P, T in cov["grid"]:  # a point the exploration never reached (a temperature ramp still below it)
        points.setdefault((P, T), {"P_GPa": P, "T_K": T, "history": []})
    for e in cov["explored"]:
        if (e["P_GPa"], e["T_K"]) in points:
            points[(e["P_GPa"], e["T_K"])]["volume_A3_per_atom"] = e["volume_A3_per_atom"]
    for c in cov["chosen"]:
        if (c["P_GPa"], c["T_K"]) in points:
            p = points[(c["P_GPa"], c["T_K"])]
            p["n_chosen"] = p.get("n_chosen", 0) + 1
    return [points[k] for k in sorted(points)]


def diffusion_results(rundir: RunDir, summary: dict) -> list[dict]:
    """The diffusion results with their MSD curves (``results/diffusion.json``), else the summary's."""
    return rundir.read_result("diffusion") or summary.get("diffusion", [])


def arrhenius_records(rundir: RunDir) -> list[dict]:
    """``results/arrhenius.json`` entries (one dict or a list), if the run has such a record."""
    data = rundir.read_result("arrhenius")
    if data is None:
        return []
    return [data] if isinstance(data, dict) else list(data)


def run_time(rundir: RunDir, summary: dict) -> tuple[float | None, int, float | None]:
    """(total compute time over invocations s, number of invocations, this invocation's wall time s):
    the total from the summary's ``wall_time_total_s`` or the state's ``invocations`` records, None
    when the run records neither."""
    this = summary.get("wall_time_s")
    if summary.get("wall_time_total_s") is not None:
        return float(summary["wall_time_total_s"]), int(summary.get("n_invocations") or 0), this
    state = read_json(rundir.state_file) if rundir.state_file.is_file() else {}
    inv = state.get("invocations") or []
    times = [i.get("wall_time_s") for i in inv if isinstance(i, dict) and i.get("wall_time_s") is not None]
    if times:
        return float(sum(times)), len(inv), this
    return None, 0, this


# -- campaigns: systems ------------------------------------------------------------------------------
def campaign_systems(recipe) -> list[dict]:
    """A campaign's systems as the report shows them (none for a single-``[system]`` recipe): name
    (= its folder and label-id prefix), builder, P–T grid (GPa, K), MD steps, weight and trust levels
    (its own or ``[exploration]``'s), criterion."""
    ex = recipe.exploration
    out = []
    for e in recipe.systems:
        own = lambda key: getattr(e, key, None) if getattr(e, key, None) is not None else getattr(ex, key)  # noqa: E731
        out.append({"name": e.name, "builder": getattr(e, "builder", "crystal"),
                    "pressures_GPa": list(own("pressures_GPa")), "temperatures_K": list(own("temperatures_K")),
                    "steps": own("steps"), "weight": getattr(e, "weight", 1.0), "trust_lo": own("trust_lo"),
                    "trust_hi": own("trust_hi"), "criterion": ex.criterion,
                    "own_trust": getattr(e, "trust_lo", None) is not None or getattr(e, "trust_hi", None) is not None})
    return out


def system_of_id(label_id: str, names: list[str]) -> str:
    """The campaign system a label (or held-out frame) id belongs to: the longest name among ``names``
    that the id starts with followed by ``-`` ("" when none: a single-system run, an imported frame)."""
    hits = [n for n in names if str(label_id).startswith(f"{n}-")]
    return max(hits, key=len) if hits else ""


def _rmse(pairs, scale: float = 1.0) -> float | None:
    ref, mod = (np.asarray(x, dtype=float) for x in pairs)
    return float(scale * np.sqrt(np.mean((ref - mod) ** 2))) if ref.size else None


def _split(values: list, sizes: list[int], keep: list[bool]) -> list:
    """The entries of the frames kept, from a list of ``sizes[i]`` entries per frame in frame order."""
    out, start = [], 0
    for n, k in zip(sizes, keep):
        if k:
            out += values[start:start + n]
        start += n
    return out


def system_validation(validation: dict, system: str, names: list[str],
                      labels: list[dict]) -> tuple[dict, list[str]]:
    """One campaign system's held-out frames out of a validation record: its parity points (energy per
    frame; force components split by the store's atom count of each frame, stress by 9 components per
    frame, where the recorded totals add up) and the RMSE over them (no bootstrap 1σ: the record
    bootstraps the whole held-out set only). Returns (record for :func:`~deepearth.report.figures.parity`,
    or {} when there is nothing to draw; sentences on what could not be split)."""
    par = validation.get("parity") or {}
    ids = (par.get("frames") or {}).get("id")
    if not ids:
        return {}, ["The held-out parity record carries no frame ids: its points cannot be attributed to "
                    "systems (the pooled parity of all systems is under Held-out errors)."]
    keep = [system_of_id(i, names) == system for i in ids]
    n = sum(keep)
    if not n:
        return {}, [f"No held-out label of {system} in the final model's validation ({len(ids)} frames)."]
    notes = []
    sub: dict = {"energy_eV_per_atom": [[x for x, k in zip(col, keep) if k] for col in par["energy_eV_per_atom"]]}
    bins = par.get("bin") or {}
    sub_bins = {"energy_eV_per_atom": [b for b, k in zip(bins.get("energy_eV_per_atom", []), keep) if k]}
    atoms = {lab["id"]: lab["n_atoms"] for lab in labels}
    f_sizes = [3 * atoms.get(str(i).split(" (")[0], 0) for i in ids]
    forces = par.get("force_eV_per_A") or [[], []]
    if all(f_sizes) and sum(f_sizes) == len(forces[0]):
        sub["force_eV_per_A"] = [_split(col, f_sizes, keep) for col in forces]
        sub_bins["force_eV_per_A"] = _split(bins.get("force_eV_per_A", []), f_sizes, keep)
    elif forces[0]:
        notes.append(f"The force components of {system}'s held-out frames cannot be told apart: the store's atom "
                     "counts of the frames do not add up to the recorded components.")
    stress = par.get("stress_GPa") or [[], []]
    if len(stress[0]) == 9 * len(ids):
        sub["stress_GPa"] = [_split(col, [9] * len(ids), keep) for col in stress]
        sub_bins["stress_GPa"] = _split(bins.get("stress_GPa", []), [9] * len(ids), keep)
    elif stress[0]:
        notes.append(f"The stress components of {system}'s held-out frames cannot be told apart (some frames have no "
                     "stress).")
    if bins:
        sub["bin"] = {k: v for k, v in sub_bins.items() if k in sub and len(v) == len(sub[k][0])}
    rec = {"n_frames": n, "bin_by": validation.get("bin_by") if bins else None, "parity": sub,
           "rmse_energy_meV_per_atom": _rmse(sub["energy_eV_per_atom"], 1000.0)}
    if "force_eV_per_A" in sub:
        rec["rmse_force_eV_per_A"] = _rmse(sub["force_eV_per_A"])
    if "stress_GPa" in sub:
        rec["rmse_stress_GPa"] = _rmse(sub["stress_GPa"])
    return rec, notes


# -- campaigns: Arrhenius laws and the W-isotope hand-off ----------------------------------------------
#: Temperatures a recorded law is drawn at (over its fitted range).
N_CURVE = 40


def _law_curves(law: dict, pressures: list[float]) -> list[dict]:
    """A recorded law (``results/arrhenius.json`` entry) evaluated over its fitted temperatures: one
    curve (T K, D, D_lo, D_hi m²/s: the 1σ band of the parameters) at its pressure (eq. 3) or at
    each of ``pressures`` (eq. 4, ΔV fitted)."""
    fit = ArrheniusResult.from_dict(law, source="results/arrhenius.json")
    grid = 1.0 / np.linspace(1.0 / fit.T_range_K[0], 1.0 / fit.T_range_K[1], N_CURVE)
    at = [None] if fit.activation_kind == "dH" else sorted(set(pressures))
    out = []
    for P in at:
        pred = fit.predict(grid, None if P is None else np.full(grid.shape, P))
        out.append({"P_GPa": fit.P_GPa if P is None else P, "T_K": grid.tolist(),
                    "D_m2_per_s": np.asarray(pred.D_m2_per_s).tolist(),
                    "D_lo_m2_per_s": np.asarray(pred.D_lo_m2_per_s).tolist(),
                    "D_hi_m2_per_s": np.asarray(pred.D_hi_m2_per_s).tolist()})
    return out


def arrhenius_laws(rundir: RunDir) -> list[dict]:
    """The laws of ``results/arrhenius.json`` in the form the run pipeline writes (a list, one entry per
    (system, species, region): a fit's fields, or ``not_fitted`` with the reason); [] for a run without
    the record or with a record of drawn curves (:func:`arrhenius_records`)."""
    return [r for r in arrhenius_records(rundir) if "region" in r and "curve" not in r]


def arrhenius_groups(laws: list[dict], diffusion: list[dict]) -> list[dict]:
    """One group per (system, element) with a fitted law: for each of its regions the simulations
    (``diffusion`` rows of the law's system, species and region: T, D, 1σ, diffusive or its upper
    bound) and the law's curves (:func:`_law_curves`); a region of the group whose law was not fitted
    keeps its simulations (``law`` None, no curve). A region's species carries the region's
    description (``Cu in z-slab …``): the group is the element's (:func:`~deepearth.report.fmt.species_name`)."""
    groups: dict[tuple[str, str], dict] = {}
    for law in sorted(laws, key=lambda x: "not_fitted" in x):  # fitted laws make the groups
        key = (law.get("system", ""), species_name(law))
        if "not_fitted" in law and key not in groups:
            continue
        rows = [r for r in diffusion if (r.get("system", ""), r.get("species"), region_name(r))
                == (key[0], law["species"], law["region"])]
        g = groups.setdefault(key, {"system": key[0], "species": key[1], "regions": []})
        if "not_fitted" in law:
            g["regions"].append({"region": law["region"], "law": None, "points": rows, "curves": []})
            continue
        g["regions"].append({"region": law["region"], "law": law, "points": rows,
                             "curves": _law_curves(law, [r["P_GPa"] for r in rows if r.get("P_GPa") is not None]
                                                   or [law.get("P_GPa") or 0.0])})
    return list(groups.values())


def w_isotopes_record(rundir: RunDir) -> dict | None:
    """``results/w_isotopes.json`` (``[geophysics.w_isotopes]`` fed by the run's GB law), if written."""
    return rundir.read_result("w_isotopes")


def w_isotopes_band(record: dict) -> dict | None:
    """OIB μ182W against PGZ height (km) at the recorded 2.5 %, 50 % and 97.5 % quantiles of D_eff:
    μ182W is monotonic in D_eff at every height (more exchange with the core, more negative), so these
    three curves are the median and 95 % band of the model's Monte Carlo at every height
    (:func:`~deepearth.geophysics.w_isotopes.oib_curves`, the record's time and the model's PGZ
    fraction). None when the rows' D_eff differ (not one law's)."""
    rows = record.get("results") or []
    effs = {tuple(r["D_eff_m2_per_s"][q] for q in ("lower", "median", "upper")) for r in rows}
    if len(effs) != 1:
        return None
    lo, med, hi = effs.pop()
    if not all(np.isfinite([lo, med, hi])) or lo <= 0:
        return None
    heights = [float(r["pgz_height_km"]) for r in rows]
    h = np.geomspace(min(0.5, min(heights)), max(100.0, max(heights)), 200)
    t_s = float(record.get("time_gyr", EARTH_AGE_GYR)) * GYR_S
    curves = oib_curves([lo, med, hi], h, t_s, float(record.get("pgz_fraction", PGZ_FRACTION)))
    mu = np.asarray(curves["oib_mu182w"], dtype=float)
    return {"pgz_height_km": h, "D_eff_m2_per_s": curves["D_eff_m2_per_s"], "lower": mu.min(axis=0),
            "median": mu[1], "upper": mu.max(axis=0),
            "points": [{"pgz_height_km": r["pgz_height_km"], **r["oib_mu182w"]} for r in rows]}


def reference_eos(rundir: RunDir, system: str = "") -> dict | None:
    """``results/reference_eos[_<system>].json``: the reference's static EOS scan of a system's cell; a
    system that borrowed another's scan (same cell, e.g. a liquid of it) gets that scan with ``same_as``."""
    own = rundir.read_result("reference_eos" + (f"_{system}" if system else ""))
    if own and "same_as" in own:
        other = rundir.read_result(f"reference_eos_{own['same_as']}") or {}
        return {**other, "same_as": own["same_as"]}
    return own


# -- thermodynamic properties ([properties.eos|elastic|melting|phase]) ---------------------------------
#: The records of :mod:`deepearth.pipeline.thermo`, by name (``results/<name>.json``).
PROPERTY_RECORDS = ("eos", "elastic", "melting", "phase")


def property_record(rundir: RunDir, name: str) -> dict | None:
    """``results/<name>.json`` of ``[properties.<name>]`` (one of :data:`PROPERTY_RECORDS`): the recipe's
    section, the model and the workflow's result (or its ``error``); None when not written."""
    if name not in PROPERTY_RECORDS:
        raise ValueError(f"name: {name!r} is not a property record ({', '.join(PROPERTY_RECORDS)})")
    rec = rundir.read_result(name)
    return rec if isinstance(rec, dict) else None
