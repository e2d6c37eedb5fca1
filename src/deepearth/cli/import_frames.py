"""``deepearth import PATH... --run RUN_DIR``: first-principles frames into a run's label store
(:func:`deepearth.reference.importing.import_frames`; one reference per store)."""

from __future__ import annotations

import argparse


def run_import(args: argparse.Namespace) -> int:
    from deepearth.reference.importing import import_frames
    from deepearth.rundir import RunDir
    from deepearth.store import LabelStore

    type_map = [t.strip() for t in args.type_map.split(",")] if args.type_map else None
    done = import_frames(args.paths, args.run_dir, fmt=args.fmt, type_map=type_map, fparam_name=args.fparam_name,
                         T_el_K=args.T_el_K, split_seed=args.split_seed,
                         validation_fraction=args.validation_fraction, allow_mixed=args.allow_mixed,
                         wait_s=args.wait, store_url=args.store)
    for f in done:
        t_el = ", ".join(f"{t:g}" for t in f.T_el_K[:6]) + (" ..." if len(f.T_el_K) > 6 else "") + " K" \
            if f.T_el_K else "none"
        settings = ", ".join(f"{k} {v:.6g}" if isinstance(v, float) else f"{k} {v}" for k, v in f.settings.items())
        print(f"{f.path} ({f.source_format}): {f.n_read} frames read, {f.n_added} added, {f.n_skipped} already in "
              f"the store; elements {' '.join(f.elements)}; T_el {t_el}" + (f"; {settings}" if settings else "")
              + (f"; {f.n_without_stress} frames without stress" if f.n_without_stress else ""))
        if f.rejected:
            print(f"{f.path}: {len(f.rejected)} frames rejected (stored as failed labels, never trained on), "
                  f"first: {f.rejected[0]}")
    db = args.store or RunDir(args.run_dir).store_location
    print(f"{sum(f.n_read for f in done)} frames read, {sum(f.n_added for f in done)} added -> {db} "
          f"({LabelStore(db).count(ok=True)} labelled rows)")
    return 0


def add_import_parser(sub) -> None:
    p = sub.add_parser("import", help="add first-principles frames (VASP, QE, CP2K, ABACUS, DeePMD npy, extxyz) "
                                      "to a run's label store")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="OUTCAR, vasprun.xml, pw.x output (input beside it), CP2K output or AIMD folder, "
                        "ABACUS folder, DeePMD npy system folder, extxyz (incl. GPUMD/NEP)")
    p.add_argument("--run", dest="run_dir", required=True, help="run directory (its deepearth.db is created if absent)")
    p.add_argument("--fmt", help="format for every PATH (default: guessed per path), e.g. vasp/outcar, qe/pw/scf, "
                                 "cp2k/output, cp2k/aimd_output, abacus, deepmd/npy, extxyz")
    p.add_argument("--split-seed", type=int, default=2026, help="seed of the train/valid split (the recipe's seed)")
    p.add_argument("--validation-fraction", type=float, default=0.15, help="fraction held out as 'valid'")
    p.add_argument("--T-el-K", dest="T_el_K", type=float,
                   help="electronic temperature (K) for frames whose source records none")
    p.add_argument("--fparam-name", default="T_el_K",
                   help="comma-separated names of the fparam.npy columns of DeePMD systems (default: one "
                        "column, the electronic temperature in K)")
    p.add_argument("--type-map", help="comma-separated elements of DeePMD systems without type_map.raw")
    p.add_argument("--store", metavar="URL", help="a PostgreSQL label store (the recipe's store_url); default: "
                                                  "the run's own store")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="wait this long for a run using the directory to release it (default: fail at once)")
    p.add_argument("--allow-mixed", action="store_true",
                   help="import frames of another code or functional than the store holds (never trained on together "
                        "by a recipe)")
    p.set_defaults(func=run_import)
