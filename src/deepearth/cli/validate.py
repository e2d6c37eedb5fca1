"""``deepearth validate``: errors of a trained model (or k-fold cross-validation of a backend) on any
labelled first-principles data that ``read_frames`` reads, binned by temperature, pressure or
composition, with bootstrap bars, a JSON file and a parity figure; ``--baseline NAME`` scores pretrained
universal potentials (:mod:`deepearth.reference.universal`) on the same frames, side by side."""

from __future__ import annotations

import argparse
from pathlib import Path

from deepearth.files import write_json_atomic
from deepearth.potentials.registry import POTENTIALS, load_evaluator, make_potential
from deepearth.reference.universal import BASELINES

BASELINE_NAMES = tuple(BASELINES)


def backend(name: str, type_map: list[str], training_steps: int | None = None):
    """A :class:`~deepearth.potentials.base.Potential` by name (``deepmd`` or ``pod``) at its defaults."""
    extra = {"training_steps": training_steps} if training_steps and name == "deepmd" else {}
    return make_potential(name, type_map, **extra)


def _frames(args) -> list:
    from deepearth.reference import read_frames

    if args.T_K and len(args.T_K) != len(args.data):
        raise ValueError(f"--T-K: {len(args.T_K)} temperatures for {len(args.data)} data files (give one per file)")
    frames = []
    for i, path in enumerate(args.data):
        part = read_frames(path, fmt=args.fmt)
        for atoms in part:
            if atoms.calc is None:
                raise ValueError(f"{path}: frame without energy/forces cannot validate a model")
            if args.T_K:
                atoms.info["temperature_K"] = float(args.T_K[i])
        frames.extend(part)
    if not frames:
        raise ValueError(f"{', '.join(args.data)}: no frames")
    return frames


def _envelope(args):
    """The training envelope to check frames against: built from ``--envelope-from`` data, else the one
    recorded with the model (its path; :func:`~deepearth.potentials.envelope.load_envelope`)."""
    from deepearth.potentials.envelope import TrainingEnvelope
    from deepearth.reference import read_frames

    if not args.envelope_from:
        return args.model
    return TrainingEnvelope.from_frames([a for path in args.envelope_from for a in read_frames(path, fmt=args.fmt)])


def run_validate(args: argparse.Namespace) -> int:
    from deepearth.parallel import make_executor
    from deepearth.potentials.validation import kfold_errors, validation_errors
    from deepearth.report.figures import frame_errors, parity

    only_baselines = args.model is None and args.kfold is None and bool(args.baseline)
    if (args.model is None) == (args.kfold is None) and not only_baselines:
        raise ValueError("give either --model FILE (held-out errors) or --kfold K with --backend (cross-validation)"
                         " and/or --baseline NAME")
    if args.worst < 0:
        raise ValueError(f"--worst: {args.worst} frames (give 0 or more)")
    frames = _frames(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    binning = {"bin_by": args.bin_by, "bin_edges": args.bin_edges, "temperature_key": args.T_key,
               "n_worst": args.worst, "worst_by": args.worst_by}
    doc = {}
    if args.model:
        evaluator = load_evaluator(args.model)
        res = validation_errors(evaluator, frames, envelope=_envelope(args), **binning)
        doc = {"model": str(args.model), **res.summary(), "parity": res.parity}
    elif args.kfold is not None:
        type_map = args.type_map or sorted({s for a in frames for s in a.get_chemical_symbols()})
        kf = kfold_errors(backend(args.backend, type_map, args.training_steps), frames, args.kfold, out / "kfold",
                          type_map, seed=args.seed, executor=make_executor(args.workers), **binning)
        doc = {"backend": args.backend, **kf.pooled.summary(), "k": kf.k, "folds": kf.folds,
               "fold_spread": kf.fold_spread, "models": kf.models, "parity": kf.pooled.parity}
    baselines = _baselines(args, frames, out, binning)
    if baselines:
        doc["baselines"] = baselines
    doc["data"] = list(args.data)
    write_json_atomic(out / "validation.json", doc)
    fig = parity(doc, out / "parity.png")
    dist = frame_errors(doc, out / "frame_errors.png")
    summary = {k: v for k, v in doc.items() if k not in ("parity",)}
    summary["figure"] = str(fig) if fig else None
    summary["frame_errors_figure"] = str(dist) if dist else None
    if args.json:
        import json

        print(json.dumps(summary, indent=1, default=str))
        return 0
    if "model" in doc or "k" in doc:
        print(report(doc))
    if baselines:
        print(_table(doc))
    print(f"written: {out / 'validation.json'}" + "".join(f", {f}" for f in (fig, dist) if f))
    return 0


#: Rows of the error table: (label, pooled-error key stem, per-frame key, number format).
ROWS = (("E (meV/atom)", "energy_meV_per_atom", "energy_meV_per_atom", ".2f"),
        ("F (eV/Å)", "force_eV_per_A", "force_rmse_eV_per_A", ".3f"),
        ("max |ΔF| on an atom (eV/Å)", None, "force_max_eV_per_A", ".3f"),
        ("S (GPa)", "stress_GPa", "stress_rmse_GPa", ".2f"))
WORST_BY = {"force": "force RMSE", "energy": "|ΔE|/atom", "force_max": "largest |ΔF| on an atom",
            "stress": "stress RMSE"}


def _pm(doc: dict, stat: str, stem: str, fmt: str) -> str:
    value, se = doc.get(f"{stat}_{stem}"), doc.get(f"{stat}_{stem.split('_')[0]}_stderr")
    if value is None or value != value:
        return "-"
    return f"{value:{fmt}}" + ("" if se is None or se != se else f" ± {se:{fmt}}")


def _num(value, fmt: str) -> str:
    return "-" if value is None or value != value else format(value, fmt)


def report(doc: dict) -> str:
    """The held-out (or k-fold pooled) errors of ``doc`` (``validation.json``) as text: RMSE and MAE with
    bootstrap bars, median/95th percentile/max of the per-frame errors, per bin, the worst frames with
    their ids and why they might be off, and the training-envelope count."""
    who = f"model {doc['model']}" if "model" in doc else f"{doc['k']}-fold {doc['backend']} (out-of-fold)"
    lines = [f"{who}: {doc['n_frames']} frames; {doc.get('method', '')}",
             f"{'':28s} {'RMSE':>17s} {'MAE':>17s} {'median':>8s} {'p95':>8s} {'max':>8s}"]
    for label, stem, key, fmt in ROWS:
        pf = doc.get("per_frame", {}).get(key, {})
        rmse = _pm(doc, "rmse", stem, fmt) if stem else "-"
        mae = _pm(doc, "mae", stem, fmt) if stem else "-"
        lines.append(f"{label:28s} {rmse:>17s} {mae:>17s} " + " ".join(f"{_num(pf.get(q), fmt):>8s}"
                                                                       for q in ("median", "p95", "max")))
    lines.append("median, p95, max: of the per-frame errors (|ΔE|/atom; RMSE over a frame's force or stress "
                 "components; the largest |ΔF| on one atom)")
    if doc.get("bins"):
        lines.append(f"per {doc.get('bin_by') or 'bin'}:")
        lines.append(f"  {'bin':>14s} {'n':>4s} {'E RMSE meV/at':>16s} {'F RMSE eV/Å':>16s} {'F med':>6s} "
                     f"{'F p95':>6s} {'out of env.':>11s}  worst frame")
        for lab, b in doc["bins"].items():
            pf = b.get("per_frame", {}).get("force_rmse_eV_per_A", {})
            worst = b.get("worst_frames") or [{}]
            out = b.get("n_outside_envelope")
            lines.append(f"  {lab:>14s} {b['n_frames']:4d} {_pm(b, 'rmse', 'energy_meV_per_atom', '.1f'):>16s} "
                         f"{_pm(b, 'rmse', 'force_eV_per_A', '.3f'):>16s} {_num(pf.get('median'), '.3f'):>6s} "
                         f"{_num(pf.get('p95'), '.3f'):>6s} {'-' if out is None else str(out):>11s}  "
                         f"{worst[0].get('id', '-')}")
    worst = doc.get("worst_frames") or []
    if worst:
        wb = max([len(w.get("bin", "")) for w in worst] + [3])
        lines.append(f"worst {len(worst)} frames by {WORST_BY.get(doc.get('worst_by', 'force'))}:")
        lines.append(f"  {'#':>2s} {'frame':30s} {'E meV/at':>9s} {'F eV/Å':>7s} {'max|ΔF|':>8s} {'S GPa':>6s}"
                     + (f"  {'bin':{wb}s}" if "bin" in worst[0] else "") + "  why it might be off")
        for w in worst:
            why = "; ".join(w["outside_envelope"]) if w.get("outside_envelope") else (
                "inside the training envelope" if w.get("outside_envelope") is not None else "envelope not checked")
            lines.append(f"  {w['rank']:2d} {w['id']:30s} {_num(w['energy_meV_per_atom'], '.1f'):>9s} "
                         f"{_num(w['force_rmse_eV_per_A'], '.3f'):>7s} {_num(w['force_max_eV_per_A'], '.2f'):>8s} "
                         f"{_num(w['stress_rmse_GPa'], '.2f'):>6s}" + (f"  {w['bin']:{wb}s}" if "bin" in w else "")
                         + f"  {why}")
    if doc.get("envelope", {}).get("note"):
        lines.append(doc["envelope"]["note"])
    if "folds" in doc:
        lines.append("folds: " + "; ".join(f"{f['fold']}: {f['n_test']} frames, E {f['rmse_energy_meV_per_atom']:.1f} "
                                           f"meV/atom, F {f['rmse_force_eV_per_A']:.3f} eV/Å" for f in doc["folds"]))
    return "\n".join(lines)



def _baselines(args, frames: list, out: Path, binning: dict) -> dict:
    """Errors of each ``--baseline`` universal potential on ``frames``: a summary per name (the
    parity data in ``out/baseline-NAME.json`` and its figure), energies also after the per-element shift."""
    from deepearth.potentials.validation import validation_errors
    from deepearth.reference.universal import UniversalEvaluator, shifted_energy_rmse
    from deepearth.report.figures import parity

    docs = {}
    for name in args.baseline or []:
        ev = UniversalEvaluator(name)
        res = validation_errors(ev, frames, **binning)
        ref, mod = res.parity["energy_eV_per_atom"]
        shifted = shifted_energy_rmse(frames, ref, mod, res.parity.get("bin", {}).get("energy_eV_per_atom"))
        summary = {**res.summary(), **{k: v for k, v in shifted.items() if k != "bins"}}
        for lab, rmse in shifted.get("bins", {}).items():
            summary["bins"][lab]["rmse_energy_shifted_meV_per_atom"] = rmse
        summary["provenance"] = ev.provenance
        write_json_atomic(out / f"baseline-{name}.json", {"baseline": name, **summary, "parity": res.parity})
        fig = parity({**summary, "parity": res.parity}, out / f"parity-{name}.png")
        docs[name] = {**summary, "figure": str(fig) if fig else None}
    return docs


def _table(doc: dict) -> str:
    """Model (or k-fold pool) and baselines side by side, pooled and per bin: RMSE of E (meV/atom; E−shift:
    after removing a baseline's per-element energy shift, its energy zero is not ours), F (eV/Å), S (GPa)."""
    runs = [(f"model {Path(doc['model']).name}", doc)] if "model" in doc else []
    runs += [(f"{doc['k']}-fold {doc['backend']}", doc)] if "k" in doc else []
    runs += [(f"baseline {name}", res) for name, res in doc["baselines"].items()]
    rows = [f"{'':26s} {'bin':>12s} {'n':>5s} {'E meV/at':>9s} {'E-shift':>8s} {'F eV/A':>7s} {'S GPa':>6s}"]
    for name, res in runs:
        for lab, r in [("all", res), *res.get("bins", {}).items()]:
            shifted = r.get("rmse_energy_shifted_meV_per_atom")
            rows.append(f"{name:26s} {lab:>12s} {r['n_frames']:5d} {r['rmse_energy_meV_per_atom']:9.1f} "
                        f"{'-' if shifted is None else format(shifted, '.1f'):>8s} {r['rmse_force_eV_per_A']:7.3f} "
                        f"{r['rmse_stress_GPa']:6.2f}")
    return "\n".join(rows)


def add_validate_parser(sub) -> None:
    v = sub.add_parser("validate", help="model errors on labelled data (binned, bootstrap bars) or k-fold CV")
    v.add_argument("data", nargs="+", help="labelled data: OUTCAR, vasprun.xml, QE/CP2K output, DeePMD npy, extxyz...")
    v.add_argument("--model", help="trained model file (.pb DeePMD, .pod LAMMPS POD)")
    v.add_argument("--kfold", type=int, help="k-fold cross-validation: train k models with --backend")
    v.add_argument("--backend", choices=list(POTENTIALS), default="deepmd")
    v.add_argument("--training-steps", type=int, help="DeePMD training steps per fold (default: the backend's)")
    v.add_argument("--type-map", nargs="+", help="species order for training (default: sorted species of the data)")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--workers", type=int, default=1, help="k-fold models trained in parallel processes")
    v.add_argument("--fmt", help="data format for every path (default: guessed per file)")
    v.add_argument("--bin-by", choices=("temperature", "pressure", "composition"))
    v.add_argument("--bin-edges", type=float, nargs="+", help="bin edges (K or GPa) for numeric bins")
    v.add_argument("--T-K", type=float, nargs="+", help="temperature of each data file (K), for --bin-by temperature")
    v.add_argument("--T-key", help="atoms.info key holding the temperature (default: the usual ones)")
    v.add_argument("--baseline", action="append", choices=BASELINE_NAMES, metavar="NAME",
                   help=f"also score a pretrained universal potential (repeatable; {', '.join(BASELINE_NAMES)})")
    v.add_argument("--worst", type=int, default=5, metavar="N", help="list the N worst frames (default 5)")
    v.add_argument("--worst-by", choices=("force", "energy", "force_max", "stress"), default="force",
                   help="rank frames by their force RMSE (default), |dE|/atom, largest |dF| on an atom, or stress RMSE")
    v.add_argument("--envelope-from", nargs="+", metavar="DATA",
                   help="the model's training data: check frames against their envelope (for a model trained "
                        "before envelope.json was recorded; default: the model's own envelope.json)")
    v.add_argument("--json", action="store_true", help="print the summary as JSON instead of the tables")
    v.add_argument("--out", default="validation",
                   help="folder for validation.json (everything, with per-frame errors), parity.png, frame_errors.png")
    v.set_defaults(func=run_validate)
