"""``deepearth import PATH... --run RUN_DIR``: first-principles frames into a run's label store.

Every frame that :func:`deepearth.reference.read_frames` reads (VASP OUTCAR/vasprun.xml, Quantum
ESPRESSO pw.x, CP2K, ABACUS, DeePMD npy, extxyz incl. GPUMD/NEP) becomes one labelled row of
``RUN_DIR/deepearth.db`` (iteration 0, ``labeller = import``, ``parent`` = source file, ``frame`` =
index in it, the provenance as columns). The ``candidate_id`` hashes the source path, the frame
index and the frame's content, so importing the same file again adds nothing. All paths are read
before anything is written: an unreadable file leaves the store as it was.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def _apply_T_el(frames, path, T_el_K: float | None) -> None:
    if T_el_K is None:
        return
    for atoms in frames:
        have = atoms.info.get("electronic_temperature_K")
        if have is None:
            atoms.info["electronic_temperature_K"] = float(T_el_K)
            atoms.info["provenance"]["T_el_K"] = float(T_el_K)
            atoms.info["provenance"]["T_el_source"] = "deepearth import --T-el-K"
        elif abs(have - T_el_K) > 1e-6 * max(abs(T_el_K), 1.0):
            frame = atoms.info["provenance"].get("source_frame", "?")
            raise ValueError(f"{path}: frame {frame} records T_el = {have:g} K but --T-el-K says {T_el_K:g} K")


def _label(atoms):
    from deepearth.reference.labeller import Label

    prov = dict(atoms.info["provenance"])
    source, frame = prov.pop("source_file"), prov.pop("source_frame")
    prov["labeller"] = "import"
    if "functional" in prov:
        prov.setdefault("method", prov["functional"])
    stress = atoms.calc.results.get("stress")
    work = atoms.copy()
    work.calc = None
    work.info = {}
    label = Label(atoms=work, ok=True, energy_eV=float(atoms.get_potential_energy()),
                  forces_eV_per_A=np.array(atoms.get_forces()),
                  stress_eV_per_A3=None if stress is None else np.array(stress), provenance=prov)
    return label, source, int(frame)


def run_import(args: argparse.Namespace) -> int:
    from deepearth.reference.io import frame_id, read_frames
    from deepearth.store import LabelStore, assign_split

    if not 0.0 <= args.validation_fraction < 1.0:
        raise ValueError(f"--validation-fraction must be in [0, 1), got {args.validation_fraction}")
    type_map = [t.strip() for t in args.type_map.split(",")] if args.type_map else None
    read = []
    for path in args.paths:  # read everything first: a bad file leaves the store untouched
        frames = read_frames(path, args.fmt, type_map=type_map, fparam_name=args.fparam_name)
        _apply_T_el(frames, path, args.T_el_K)
        read.append((path, frames))
    db = Path(args.run_dir) / "deepearth.db"
    store = LabelStore(db)
    total_added = total_read = 0
    for path, frames in read:
        added = skipped = 0
        for atoms in frames:
            label, source, frame = _label(atoms)
            cid = frame_id(atoms, source, frame)
            if store.has(cid):
                skipped += 1
                continue
            try:
                store.add(label, cid, iteration=0, split=assign_split(cid, args.split_seed, args.validation_fraction),
                          parent=source, frame=frame)
            except (ValueError, KeyError, TypeError) as exc:  # e.g. a provenance key ase.db refuses
                raise ValueError(f"{path}: frame {frame} not stored ({exc})") from None
            added += 1
        total_added += added
        total_read += len(frames)
        prov = frames[0].info["provenance"]
        elements = sorted({s for a in frames for s in a.get_chemical_symbols()})
        t_el = sorted({round(a.info["electronic_temperature_K"], 3) for a in frames
                       if "electronic_temperature_K" in a.info})
        t_text = ", ".join(f"{t:g}" for t in t_el[:6]) + (" ..." if len(t_el) > 6 else "") + " K" if t_el else "none"
        settings = ", ".join(f"{k} {prov[k]:.6g}" if isinstance(prov[k], float) else f"{k} {prov[k]}"
                             for k in ("code", "functional", "cutoff_eV", "smearing") if k in prov)
        no_stress = sum(1 for a in frames if a.calc.results.get("stress") is None)
        print(f"{path} ({prov['source_format']}): {len(frames)} frames read, {added} added, {skipped} already in the "
              f"store; elements {' '.join(elements)}; T_el {t_text}"
              + (f"; {settings}" if settings else "") + (f"; {no_stress} frames without stress" if no_stress else ""))
    print(f"{total_read} frames read, {total_added} added -> {db} ({store.count(ok=True)} labelled rows)")
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
    p.set_defaults(func=run_import)
