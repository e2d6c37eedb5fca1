"""``deepearth train DATA... --backend pod|deepmd [--committee N] --out DIR``: a model, or a calibrated
committee, from labelled first-principles frames without a recipe (what ``dp train`` is to DeePMD users).

Reads every DATA path with :func:`deepearth.reference.read_frames` (VASP, QE, CP2K, ABACUS, DeePMD npy,
extxyz), calls :func:`deepearth.potentials.training.train_from_frames` and prints one table. ``DIR``
then holds ``member-k/model.pod`` (or ``model.pb``) — what ``deepearth validate --model`` and
``deepearth.load_potential`` take — and ``training.json``.
"""

from __future__ import annotations

import argparse

from deepearth.potentials.registry import POTENTIALS


def _type_map(values: list[str] | None) -> list[str] | None:
    """``--type-map Ca O Si`` or ``--type-map Ca,O,Si``."""
    if not values:
        return None
    return [t.strip() for v in values for t in v.split(",") if t.strip()]


def _pm(value, stderr, fmt: str) -> str:
    if value is None or value != value:
        return "n/a (no held-out frames)"
    se = "" if stderr is None or stderr != stderr else f" ± {stderr:{fmt}}"
    return f"{value:{fmt}}{se}"


def table(doc: dict) -> str:
    """The result (:meth:`TrainResult.to_dict`) as one two-column table."""
    h = doc["held_out"]
    cal = doc["calibration"]
    rows = [
        ("backend", f"{doc['backend']} ({len(doc['models'])} member{'s' if len(doc['models']) > 1 else ''}), "
                    f"species {' '.join(doc['type_map'])}"),
        ("frames", f"{doc['n_train']} train, {doc['n_valid']} held out (fraction {doc['validation_fraction']:g}, "
                   f"seed {doc['seed']}) from {len(doc['sources'])} file(s)"
                   + (f"; {doc['n_duplicates']} duplicates skipped" if doc["n_duplicates"] else "")),
        ("E RMSE held-out", _pm(h["rmse_energy_meV_per_atom"], h["rmse_energy_stderr"], ".2f") + " meV/atom"),
        ("F RMSE held-out", _pm(h["rmse_force_eV_per_A"], h["rmse_force_stderr"], ".3f") + " eV/Å"),
        ("S RMSE held-out", _pm(h["rmse_stress_GPa"], h["rmse_stress_stderr"], ".2f") + " GPa"),
        ("calibration", (f"force spread × {cal['factor']:.3g} (|ΔF| {cal['rmse_force_eV_per_A']:.3f}, spread "
                         f"{cal['rms_spread_eV_per_A']:.3f} eV/Å on {cal['n_frames']} frames)")
         if cal else doc["calibration_note"]),
    ]
    rows += [(f"member-{k}", m) for k, m in enumerate(doc["models"])]
    rows += [("record", f"{doc['out_dir']}/training.json"), ("time", f"{doc['wall_time_s']:.0f} s")]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}s}  {v}" for k, v in rows)


def run_train(args: argparse.Namespace) -> int:
    from deepearth.parallel import make_executor
    from deepearth.potentials.training import train_from_frames
    from deepearth.reference import read_frames

    if args.steps is not None and args.backend != "deepmd":
        raise ValueError(f"--steps sets DeePMD training steps; --backend {args.backend} has none")
    if args.workers < 1:
        raise ValueError(f"--workers must be at least 1, got {args.workers}")
    type_map = _type_map(args.type_map)
    frames = []
    for path in args.data:  # read everything first: a bad file fails before any training
        frames.extend(read_frames(path, args.fmt, type_map=type_map))
    settings = {"training_steps": args.steps} if args.steps is not None else None
    result = train_from_frames(frames, args.backend, args.out, committee=args.committee,
                               validation_fraction=args.validation_fraction, seed=args.seed, settings=settings,
                               type_map=type_map, allow_mixed=args.allow_mixed,
                               executor=make_executor(args.workers))
    print(table(result.to_dict()))
    return 0


def add_train_parser(sub) -> None:
    p = sub.add_parser("train", help="train a model (or a calibrated committee) on labelled first-principles frames")
    p.add_argument("data", nargs="+", metavar="DATA",
                   help="labelled frames: OUTCAR, vasprun.xml, QE/CP2K output, ABACUS folder, DeePMD npy, extxyz...")
    p.add_argument("--backend", choices=list(POTENTIALS), required=True,
                   help="pod: LAMMPS ML-POD linear model (seconds); deepmd: DeePMD-kit se_e2_a network")
    p.add_argument("--committee", type=int, default=1,
                   help="number of models (POD: bootstrap resamples, DeePMD: seeds); ≥ 2 calibrates the spread")
    p.add_argument("--out", required=True, help="output folder: member-k/model.*, data/, training.json")
    p.add_argument("--fmt", help="data format for every path (default: guessed per path)")
    p.add_argument("--type-map", nargs="+", help="species order of the models (default: the sorted species of "
                                                 "the data); also names the types of DeePMD npy without type_map.raw")
    p.add_argument("--validation-fraction", type=float, default=0.15, help="fraction of frames held out (default 0.15)")
    p.add_argument("--seed", type=int, default=2026, help="seed of the train/valid split and the members (default 2026)")
    p.add_argument("--workers", type=int, default=1, help="members trained in parallel processes (default 1)")
    p.add_argument("--steps", type=int, help="DeePMD training steps per member (default: the recipe default)")
    p.add_argument("--allow-mixed", action="store_true",
                   help="train on frames of different codes or functionals (refused by default)")
    p.set_defaults(func=run_train)
