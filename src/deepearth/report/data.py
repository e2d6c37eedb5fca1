"""What the report shows, gathered from the run's records through :class:`~deepearth.rundir.RunDir`.

Nothing here fits or estimates: the iteration records (``summary.json``/``state.json``), each
iteration's ``validation.json`` (its bootstrap errors), the exploration ``result.json`` and
``candidates.json`` files, the label store's rows (their own stress, volume and origin) and the
``results/`` files are read and arranged for the tables and figures.
"""

from __future__ import annotations

import logging
from collections import Counter

from deepearth.files import read_json
from deepearth.rundir import RunDir
from deepearth.store import LabelStore
from deepearth.units import stress_to_pressure_gpa

log = logging.getLogger("deepearth")

#: Label kinds by how they were made (the store's ``parent``), for the coverage map.
EOS, SEED, MD, IMPORTED = ("reference EOS scan (ideal cell, static)", "strained + rattled seeds (no MD)",
                           "labelled MD frames", "imported frames")


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


def deviations(rundir: RunDir, iterations: list[int]) -> dict[int, list[tuple[float, float, list[float]]]]:
    """The classified deviation of every explored frame: (P GPa, T K, values) per grid point, by iteration."""
    out = {}
    for it in iterations:
        res = rundir.exploration_results(it)
        if res:
            out[it] = [(r.P_GPa, r.T_K, list(r.deviation_used)) for r in res]
    return out


def _n_atoms(rundir: RunDir, labels: list[dict]) -> int | None:
    eos = rundir.read_result("reference_eos") or {}
    if eos.get("n_atoms"):
        return int(eos["n_atoms"])
    counts = Counter(lab["n_atoms"] for lab in labels)
    return counts.most_common(1)[0][0] if counts else None


def _label_kind(row) -> str:
    parent = row.get("parent", "")
    if parent == "reference-eos":
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
        labels.append({"iteration": int(row.get("iteration", 0)), "kind": _label_kind(row), "ok": ok,
                       "origin_P_GPa": row.get("origin_P_GPa"), "origin_T_K": row.get("origin_T_K"),
                       "P_static_GPa": None if stress is None else stress_to_pressure_gpa(stress),
                       "volume_A3_per_atom": row.volume / row.natoms, "n_atoms": row.natoms})
    return labels, ""


def coverage(rundir: RunDir, pressures_GPa: list[float], temperatures_K: list[float],
             iterations: list[int]) -> dict:
    """The P–T coverage: the exploration grid, what each explored point recorded (mean volume per
    atom; mean P and T where recorded), the frames chosen for labelling and the labels."""
    labels, note = store_labels(rundir)
    n_atoms = _n_atoms(rundir, labels)
    explored, chosen = [], []
    for it in iterations:
        for r in rundir.exploration_results(it):
            raw = read_json(rundir.point_dir(it, r.P_GPa, r.T_K, r.system) / "result.json")
            v = r.mean_volume_A3
            explored.append({"iteration": it, "P_GPa": r.P_GPa, "T_K": r.T_K,
                             "volume_A3_per_atom": v / n_atoms if v is not None and n_atoms else None,
                             "mean_P_GPa": raw.get("mean_P_GPa"), "mean_T_K": raw.get("mean_T_K"),
                             "blow_up": r.blow_up})
        chosen += [{"iteration": it, "P_GPa": c.P_GPa, "T_K": c.T_K} for c in rundir.read_candidates(it) or []]
    return {"grid": [(p, t) for p in pressures_GPa for t in temperatures_K], "explored": explored,
            "chosen": chosen, "labels": labels, "note": note}


def grid_rows(iterations: list[dict], cov: dict) -> list[dict]:
    """One row per exploration grid point: its frame classes in each iteration, the frames chosen
    there for labelling, the mean volume per atom of its last exploration, and where MD stopped."""
    points: dict[tuple[float, float], dict] = {}
    for rec in iterations:
        for g in rec.get("grid", []):
            p = points.setdefault((g["P_GPa"], g["T_K"]), {"P_GPa": g["P_GPa"], "T_K": g["T_K"], "history": []})
            p["history"].append({"iteration": rec["iteration"], **{k: g.get(k) for k in
                                 ("accurate", "candidate", "failed", "blow_up")}})
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
