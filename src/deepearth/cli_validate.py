"""``deepearth validate``: errors of a trained model (or k-fold cross-validation of a backend) on any
labelled first-principles data that ``read_frames`` reads, binned by temperature, pressure or
composition, with bootstrap bars, a JSON file and a parity figure."""

from __future__ import annotations

import argparse
from pathlib import Path

from deepearth.files import write_json_atomic

BACKENDS = ("deepmd", "pod")


def backend(name: str, type_map: list[str], training_steps: int | None = None):
    """A :class:`~deepearth.potentials.base.Potential` by name (``deepmd`` or ``pod``)."""
    if name == "deepmd":
        from deepearth.potentials.deepmd import DeepMDPotential

        return DeepMDPotential(type_map=type_map, **({"training_steps": training_steps} if training_steps else {}))
    if name == "pod":
        from deepearth.potentials.pod import PODPotential

        return PODPotential(type_map=type_map)
    raise ValueError(f"unknown backend {name!r} (one of {', '.join(BACKENDS)})")


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


def run_validate(args: argparse.Namespace) -> int:
    from deepearth.potentials.validation import kfold_errors, validation_errors
    from deepearth.report.figures import parity

    if (args.model is None) == (args.kfold is None):
        raise ValueError("give either --model FILE (held-out errors) or --kfold K with --backend (cross-validation)")
    frames = _frames(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    binning = {"bin_by": args.bin_by, "bin_edges": args.bin_edges, "temperature_key": args.T_key}
    if args.model:
        from deepearth.potentials.base import load_evaluator

        res = validation_errors(load_evaluator(args.model), frames, **binning)
        doc = {"model": str(args.model), **res.summary(), "parity": res.parity}
    else:
        type_map = args.type_map or sorted({s for a in frames for s in a.get_chemical_symbols()})
        kf = kfold_errors(backend(args.backend, type_map, args.training_steps), frames, args.kfold, out / "kfold",
                          type_map, seed=args.seed, **binning)
        doc = {"backend": args.backend, **kf.pooled.summary(), "k": kf.k, "folds": kf.folds,
               "fold_spread": kf.fold_spread, "models": kf.models, "parity": kf.pooled.parity}
    doc["data"] = list(args.data)
    write_json_atomic(out / "validation.json", doc)
    fig = parity(out / "validation.json", out / "parity.png")
    summary = {k: v for k, v in doc.items() if k not in ("parity",)}
    summary["figure"] = str(fig) if fig else None
    import json

    print(json.dumps(summary, indent=1, default=str))
    return 0


def add_validate_parser(sub) -> None:
    v = sub.add_parser("validate", help="model errors on labelled data (binned, bootstrap bars) or k-fold CV")
    v.add_argument("data", nargs="+", help="labelled data: OUTCAR, vasprun.xml, QE/CP2K output, DeePMD npy, extxyz...")
    v.add_argument("--model", help="trained model file (.pb DeePMD, .pod LAMMPS POD)")
    v.add_argument("--kfold", type=int, help="k-fold cross-validation: train k models with --backend")
    v.add_argument("--backend", choices=BACKENDS, default="deepmd")
    v.add_argument("--training-steps", type=int, help="DeePMD training steps per fold (default: the backend's)")
    v.add_argument("--type-map", nargs="+", help="species order for training (default: sorted species of the data)")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--fmt", help="data format for every path (default: guessed per file)")
    v.add_argument("--bin-by", choices=("temperature", "pressure", "composition"))
    v.add_argument("--bin-edges", type=float, nargs="+", help="bin edges (K or GPa) for numeric bins")
    v.add_argument("--T-K", type=float, nargs="+", help="temperature of each data file (K), for --bin-by temperature")
    v.add_argument("--T-key", help="atoms.info key holding the temperature (default: the usual ones)")
    v.add_argument("--out", default="validation", help="folder for validation.json and parity.png")
    v.set_defaults(func=run_validate)
