"""``deepearth analyze melting|rdf|phase`` on trajectory files (extxyz, LAMMPS dumps, anything
:func:`deepearth.properties.read_trajectory` reads).

* ``melting TRAJ...``: one coexistence run per file (T from ``--temperatures-K`` or the frames'
  ``T_K``); every atom solid or liquid by q̄6, solid fraction vs time, the T_m bracket with its error
  budget; with ``--solute`` the solute's partition coefficient per run. Writes ``melting.json`` and
  ``melting.png``; prints the bracket's one line (exit status 1 when there is no bracket: the line
  says which T to try next).
* ``rdf TRAJ...``: g(r) (total and ``--pairs``) with block error bars and coordination numbers.
  Writes ``rdf.json`` and ``rdf.png``.
* ``phase TRAJ...`` (replicas of one state): crystal, liquid or superionic with the evidence.
  Writes ``phase.json``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from deepearth.files import write_json_atomic

__all__ = ["add_parser", "run_melting", "run_phase", "run_rdf"]


def _inputs(args) -> dict:
    return {k: v for k, v in vars(args).items() if k not in ("func", "analyze_func", "command", "analysis")}


def _first_frame(path: str, fmt: str | None):
    """The first frame as ASE reads it (for ``T_K``, ``member`` and ``solid_label``), or None (LAMMPS
    dumps carry none of them)."""
    from ase.io import read

    from deepearth.properties.lammps_dump import is_lammps_dump

    if is_lammps_dump(Path(path), fmt):
        return None
    try:
        return read(path, index=0, format=fmt)
    except Exception:  # noqa: BLE001 - read_trajectory has already named what is wrong with the file
        return None


def _per_file(flag: str, values: list | None, n: int) -> list | None:
    if values and len(values) != n:
        raise ValueError(f"{flag}: {len(values)} values for {n} trajectory files (give one per file)")
    return values or None


def _out(args) -> Path:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def run_melting(args: argparse.Namespace) -> int:
    """Classify, bracket, write melting.json and melting.png, print the bracket's line."""
    from deepearth.properties import read_trajectory
    from deepearth.properties.melting import melting_bracket, solid_fraction_series
    from deepearth.properties.partitioning import partitioning
    from deepearth.report.melting_figures import solid_fraction_figure

    temps = _per_file("--temperatures-K", args.temperatures_K, len(args.trajectories))
    members = _per_file("--members", args.members, len(args.trajectories))
    axis = "xyz".index(args.axis)
    series, parts = [], []
    for k, path in enumerate(args.trajectories):
        traj = read_trajectory(path, dt_ps=args.dt_ps, stride=args.stride, format=args.format)
        first = _first_frame(path, args.format)
        info = first.info if first is not None else {}
        T = temps[k] if temps else info.get("T_K")
        if T is None:
            raise ValueError(f"{path}: no temperature: give --temperatures-K (one per file) or frames with T_K in "
                             "their info (written by deepearth.pipeline.melting)")
        labels = None
        if args.threshold is None and first is not None and "solid_label" in first.arrays:
            labels = np.asarray(first.arrays["solid_label"]).astype(bool)
        member = members[k] if members else str(info.get("member", ""))
        s = solid_fraction_series(traj, T_K=float(T), threshold=args.threshold, labels=labels, axis=axis,
                                  species=args.species, n_blocks=args.n_blocks, member=member,
                                  replica=int(info.get("replica", 0)), P_GPa=args.pressure_GPa)
        series.append(s)
        print(f"{path}: {s.T_K:g} K, solid fraction {s.f_start:.2f} -> {s.f_end:.2f} ({s.verdict}; "
              f"v = {s.interface_velocity_A_per_ps:+.3f} ± {s.interface_velocity_stderr_A_per_ps:.3f} Å/ps)")
        if args.solute:
            p = partitioning(traj, solute=args.solute, basis=args.basis, threshold=args.threshold, labels=labels,
                             n_blocks=args.n_blocks)
            parts.append({"file": path, "T_K": s.T_K, **p.to_dict()})
            print(f"  {args.solute}: c_solid {p.c_solid:.4g} ± {p.c_solid_stderr:.2g}, c_liquid {p.c_liquid:.4g} ± "
                  f"{p.c_liquid_stderr:.2g}, D = {p.D:.3g} ± {p.D_stderr:.2g}")
    bracket = melting_bracket(series, args.pressure_GPa)
    result = {"bracket": bracket.to_dict(), "series": [s.to_dict() for s in series], "inputs": _inputs(args)}
    if parts:
        result["partitioning"] = parts
    out = _out(args)
    figure = solid_fraction_figure(result["series"], out / "melting.png", result["bracket"])
    result["figure"] = str(figure)
    write_json_atomic(out / "melting.json", result)
    print(f"{bracket.message}\n  -> {out / 'melting.json'}, {figure}")
    return 0 if bracket.bracketed else 1


def run_rdf(args: argparse.Namespace) -> int:
    """g(r) per pair, write rdf.json and rdf.png, print one line per pair."""
    from deepearth.properties import read_trajectory
    from deepearth.properties.checks import require_same_count
    from deepearth.properties.structure import radial_distribution_function
    from deepearth.report.melting_figures import rdf_figure

    trajs = [read_trajectory(p, dt_ps=1.0, stride=args.stride, format=args.format) for p in args.trajectories]
    require_same_count("trajectories", [t.n_atoms for t in trajs], item="file")
    pos = np.concatenate([t.positions_A for t in trajs])
    cells = np.concatenate([t.cells_A for t in trajs])
    symbols = trajs[0].symbols
    results = []
    for name in args.pairs:
        pair = None
        if name != "total":
            a, sep, b = name.partition("-")
            if not sep or not a or not b:
                raise ValueError(f"--pairs: {name!r} is not 'total' or A-B (e.g. Mg-O)")
            pair = (a, b)
        res = radial_distribution_function(pos, cells, symbols, pair=pair, r_max=args.r_max, dr=args.dr,
                                           n_blocks=args.n_blocks)
        results.append(res.to_dict())
        cn = "no first minimum" if res.coordination is None else (
            f"CN {res.coordination:.2f}" + (f" ± {res.coordination_stderr:.2f}" if res.coordination_stderr else "")
            + f" within {res.coordination_cutoff_A:.2f} Å")
        peak = "no peak above 1" if res.first_peak_A is None else f"first peak {res.first_peak_A:.2f} Å"
        print(f"g_{res.pair}(r): {peak}, {cn} ({res.n_frames} frames)")
    out = _out(args)
    figure = rdf_figure(results, out / "rdf.png")
    write_json_atomic(out / "rdf.json", {"rdf": results, "figure": str(figure), "inputs": _inputs(args)})
    print(f"  -> {out / 'rdf.json'}, {figure}")
    return 0


def run_phase(args: argparse.Namespace) -> int:
    """Identify the phase, write phase.json, print the phase and its evidence."""
    from deepearth.properties import read_trajectory
    from deepearth.properties.phase import identify_phase

    trajs = [read_trajectory(p, dt_ps=args.dt_ps, stride=args.stride, format=args.format) for p in args.trajectories]
    res = identify_phase(trajs, D_threshold=args.D_threshold, q6_threshold=args.q6_threshold, T_K=args.temperature_K,
                         P_GPa=args.pressure_GPa, min_fit_start_ps=args.min_start_ps)
    out = _out(args)
    write_json_atomic(out / "phase.json", {**res.to_dict(), "inputs": _inputs(args)})
    print(f"phase: {res.phase}\n" + "\n".join(f"  {line}" for line in res.evidence) + f"\n  -> {out / 'phase.json'}")
    return 0


def _common(p, dt: bool = True) -> None:
    p.add_argument("trajectories", nargs="+", help="trajectory files ASE reads (extxyz, LAMMPS dump ...)")
    if dt:
        p.add_argument("--dt-ps", type=float, help="time between stored frames, ps (default: frames' time_ps)")
    p.add_argument("--stride", type=int, default=1, help="keep every n-th frame")
    p.add_argument("--format", help="ASE format name when the suffix does not tell it")
    p.add_argument("--out", default="analysis")


def add_parser(asub) -> None:
    """Add ``melting``, ``rdf`` and ``phase`` to ``deepearth analyze``."""
    m = asub.add_parser("melting", help="solid fraction vs time of coexistence runs and the T_m bracket")
    _common(m)
    m.add_argument("--temperatures-K", type=float, nargs="+", help="temperature of each file (default: frames' T_K)")
    m.add_argument("--pressure-GPa", type=float, help="the runs' pressure, GPa (for the record)")
    m.add_argument("--axis", choices=["x", "y", "z"], default="z", help="cell vector normal to the interfaces")
    m.add_argument("--threshold", type=float,
                   help="q̄6 threshold (default: the equal-error point against the first frame's solid_label "
                        "array, else Otsu's threshold of the first frame)")
    m.add_argument("--species", help="classify this sublattice only")
    m.add_argument("--members", nargs="+", help="committee member (model) of each file, for the committee spread")
    m.add_argument("--n-blocks", type=int, default=5, help="blocks of frames for the error bars")
    m.add_argument("--solute", help="also the solute's partition coefficient D = c_solid/c_liquid per run")
    m.add_argument("--basis", nargs="+", help="species of the concentration's denominator (default: all cations)")
    m.set_defaults(analyze_func=run_melting)
    r = asub.add_parser("rdf", help="g(r), total and partial, with error bars and coordination numbers")
    _common(r, dt=False)
    r.add_argument("--pairs", nargs="+", default=["total"], help="'total' and/or A-B pairs, e.g. Mg-O O-O")
    r.add_argument("--r-max", type=float, help="largest r, Å (default: just under half the narrowest cell width)")
    r.add_argument("--dr", type=float, default=0.05, help="bin width, Å")
    r.add_argument("--n-blocks", type=int, help="blocks of frames for the error bars (default: min(frames, 10))")
    r.set_defaults(analyze_func=run_rdf)
    p = asub.add_parser("phase", help="crystal, liquid or superionic from per-species diffusion and order")
    _common(p)
    p.add_argument("--temperature-K", type=float)
    p.add_argument("--pressure-GPa", type=float)
    p.add_argument("--D-threshold", type=float, default=1e-9, help="a species diffuses above this D, m²/s")
    p.add_argument("--q6-threshold", type=float, default=0.25, help="a sublattice is ordered at mean q̄6 ≥ this")
    p.add_argument("--min-start-ps", type=float, default=0.1, help="earliest start of the MSD fit window, ps")
    p.set_defaults(analyze_func=run_phase)
