"""``deepearth build mineral|defects|gb|liquid|coexistence``: structures of the deep Earth as extxyz
files (with the per-atom arrays: region, gb_distance_A, formal_charge, phase) and a one-line summary
(atoms, composition, formal charge, density, GB area). Each subcommand calls one builder of
:mod:`deepearth.structures`.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _load(spec: str):
    """A structure file ASE reads, or the name of a mineral of the library. A file is read and checked
    by :func:`deepearth.structures.checks.read_structure` (one line naming the file for an unreadable,
    empty or truncated file, no atoms, no 3-D cell, an impossible density or overlapping atoms)."""
    path = Path(spec)
    if path.is_file():
        from deepearth.structures.checks import read_structure

        return read_structure(path)
    from deepearth.structures import mineral

    if path.suffix or len(path.parts) > 1:
        from deepearth.structures.minerals import is_mineral

        if not is_mineral(spec):
            raise ValueError(f"{path}: no such structure file")
    return mineral(spec)  # ValueError listing the known minerals for anything else


def _fields(text: str, n_min: int, n_max: int, option: str, usage: str) -> list[str]:
    parts = text.split(":")
    if not n_min <= len(parts) <= n_max or not all(parts):
        raise ValueError(f"{option} {text!r}: expected {usage}")
    return parts


def _number(text: str, option: str, kind=float):
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"{option}: {text!r} is not a{'n integer' if kind is int else ' number'}") from None


def _region(text: str | None):
    if text is None or text in ("gb", "grain"):
        return text
    return _number(text, "--region", int)


def _write(atoms, args) -> int:
    from ase.io import write

    from deepearth.structures.summary import summary_line

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write(out, atoms, format="extxyz")
    print(f"{out}: {summary_line(atoms)}")
    return 0


def _supercell(atoms, args):
    if args.n_atoms is None and args.min_length_A is None:
        return atoms
    from deepearth.structures import supercell

    return supercell(atoms, n_atoms=args.n_atoms, min_length_A=args.min_length_A)


def run_mineral(args) -> int:
    from deepearth.structures import mineral

    return _write(_supercell(mineral(args.name), args), args)


def _defect_steps(args) -> list[tuple[str, dict]]:
    """The ``(kind, arguments)`` of every defect option, substitutions first, then vacancies and
    Schottky units, then impurities (each in the order given)."""
    region, steps = _region(args.region), []
    for text in args.substitute:
        host, element, fraction, *valence = _fields(text, 3, 4, "--substitute", "HOST:ELEMENT:FRACTION[:VALENCE]")
        steps.append(("substitute", dict(host=host, element=element, fraction=_number(fraction, "--substitute"),
                                         valence=_number(valence[0], "--substitute") if valence else None)))
    for text in args.vacancies:
        element, n = _fields(text, 2, 2, "--vacancies", "ELEMENT:N")
        steps.append(("vacancies", dict(element=element, n=_number(n, "--vacancies", int))))
    for text in args.schottky:
        pair, n = _fields(text, 2, 2, "--schottky", "CATION,ANION:N")
        cation, _, anion = pair.partition(",")
        if not (cation and anion):
            raise ValueError(f"--schottky {text!r}: expected CATION,ANION:N")
        steps.append(("schottky", dict(cation=cation, anion=anion, n=_number(n, "--schottky", int))))
    for text in args.impurity:
        element, valence, host, n = _fields(text, 4, 4, "--impurity", "ELEMENT:VALENCE:HOST:N")
        steps.append(("impurity", dict(element=element, valence=_number(valence, "--impurity"), host=host,
                                       n=_number(n, "--impurity", int))))
    return [(kind, {**d, "region": region}) for kind, d in steps]


def run_defects(args) -> int:
    """Every defect option applied to the input (one seed for all), through the recipe's own dispatch."""
    from deepearth.structures.build import apply_defect

    steps = _defect_steps(args)
    atoms = _supercell(_load(args.input), args)
    for kind, d in steps:
        atoms = apply_defect(atoms, kind, d, args.seed)
    return _write(atoms, args)


def run_gb(args) -> int:
    from deepearth.structures import grain_boundary

    kw = {"plane": tuple(args.plane)} if args.plane else {"sigma": args.sigma}
    atoms = grain_boundary(_load(args.input), axis=tuple(args.axis), min_length_A=args.min_length_A,
                           gb_width_A=args.gb_width_A, seed=args.seed, **kw)
    return _write(atoms, args)


def _calculator(model: str):
    """A trained model file, or ``emt`` (ASE's effective-medium theory: a toy for metals, to try the builders)."""
    if model == "emt":
        from deepearth.reference.registry import emt_calculator

        return emt_calculator()
    from deepearth.potentials.registry import load_potential

    return load_potential(model)


def _md_builder(fn, *a, **kw):
    """Run an MD-driven builder; a run that did not give what was asked (not a liquid, a blow-up,
    lost interfaces) is one line, not a traceback."""
    from deepearth.cli.console import CommandFailed

    try:
        return fn(*a, **kw)
    except RuntimeError as exc:
        raise CommandFailed(str(exc)) from None


def run_liquid(args) -> int:
    from deepearth.structures import melt_quench

    atoms = _md_builder(melt_quench, _supercell(_load(args.input), args), _calculator(args.model),
                        T_melt_K=args.T_melt_K, T_K=args.T_K, P_GPa=args.P_GPa, melt_steps=args.melt_steps,
                        quench_steps=args.quench_steps, equilibrate_steps=args.equilibrate_steps,
                        check_steps=args.check_steps, quench_stages=args.quench_stages, timestep_fs=args.timestep_fs,
                        seed=args.seed)
    return _write(atoms, args)


def run_coexistence(args) -> int:
    from deepearth.structures import coexistence_cell

    liquid = _load(args.liquid) if args.liquid else None
    atoms = _md_builder(coexistence_cell, _supercell(_load(args.input), args), liquid, axis=args.axis,
                        calculator=_calculator(args.model), T_K=args.T_K, P_GPa=args.P_GPa, seed=args.seed,
                        T_melt_K=args.T_melt_K, melt_steps=args.melt_steps, cool_steps=args.cool_steps,
                        run_steps=args.run_steps, timestep_fs=args.timestep_fs)
    return _write(atoms, args)


def _common(p: argparse.ArgumentParser, size: bool = True) -> None:
    p.add_argument("--out", required=True, help="output extxyz file")
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    if size:
        p.add_argument("--n-atoms", type=int, help="repeat the input to at least this many atoms (near cubic)")
        p.add_argument("--min-length-A", type=float, help="repeat the input until every width is at least this (Å)")


def add_build_parser(sub) -> None:
    b = sub.add_parser("build", help="build minerals, defects, grain boundaries, liquids, coexistence cells (extxyz)")
    bs = b.add_subparsers(dest="structure", required=True)
    m = bs.add_parser("mineral", help="a mineral of the library (conventional cell, cited source)")
    m.add_argument("name", help="periclase, wuestite, ferropericlase, bridgmanite, post-perovskite, stishovite, "
                                "davemaoite, forsterite, hcp-Fe, fcc-Fe, bcc-Fe, FeH")
    _common(m)
    m.set_defaults(func=run_mineral)

    d = bs.add_parser("defects", help="substitutions, vacancies, Schottky units, impurities with a formal valence")
    d.add_argument("input", help="structure file or mineral name")
    d.add_argument("--substitute", action="append", default=[], metavar="HOST:ELEMENT:FRACTION[:VALENCE]",
                   help="random substitution, e.g. Mg:Fe:0.1")
    d.add_argument("--vacancies", action="append", default=[], metavar="ELEMENT:N", help="e.g. Mg:2")
    d.add_argument("--schottky", action="append", default=[], metavar="CATION,ANION:N",
                   help="neutral Schottky units, e.g. Mg,O:1")
    d.add_argument("--impurity", action="append", default=[], metavar="ELEMENT:VALENCE:HOST:N",
                   help="charge-compensated impurities, e.g. W:6:Mg:20 (nearest hosts removed)")
    d.add_argument("--region", help="restrict every defect to a region: gb, grain or an integer code")
    _common(d)
    d.set_defaults(func=run_defects)

    g = bs.add_parser("gb", help="symmetric tilt bicrystal (two boundaries) from CSL geometry")
    g.add_argument("input", help="cubic structure file or mineral name (e.g. periclase)")
    g.add_argument("--axis", type=int, nargs=3, default=[0, 0, 1], help="tilt axis [uvw]")
    how = g.add_mutually_exclusive_group(required=True)
    how.add_argument("--plane", type=int, nargs=3, help="boundary plane (hkl), perpendicular to the axis")
    how.add_argument("--sigma", type=int, help="CSL Σ (the plane is chosen)")
    g.add_argument("--min-length-A", type=float, default=40.0, help="bicrystal length along the boundary normal (Å)")
    g.add_argument("--gb-width-A", type=float, default=10.0, help="width of the GB region (Å)")
    _common(g, size=False)
    g.set_defaults(func=run_gb)

    for name, fn, helptext in (("liquid", run_liquid, "melt and quench with a model, checked liquid (MSD, RDF)"),
                               ("coexistence", run_coexistence, "crystal and melt halves along one axis")):
        q = bs.add_parser(name, help=helptext)
        q.add_argument("input", help="crystal structure file or mineral name")
        q.add_argument("--model", required=True, help="trained model file (.pod, .pb) driving the MD, or 'emt' (ASE's EMT, metals only)")
        q.add_argument("--T-K", dest="T_K", type=float, required=True, help="target temperature (K)")
        q.add_argument("--P-GPa", dest="P_GPa", type=float, default=0.0, help="target pressure (GPa)")
        q.add_argument("--timestep-fs", type=float, default=1.0)
        q.add_argument("--melt-steps", type=int, default=2000)
        if name == "liquid":
            q.add_argument("--T-melt-K", dest="T_melt_K", type=float, required=True,
                           help="temperature of the melt, far above melting (K)")
            q.add_argument("--quench-steps", type=int, default=2000)
            q.add_argument("--quench-stages", type=int, default=4)
            q.add_argument("--equilibrate-steps", type=int, default=1000)
            q.add_argument("--check-steps", type=int, default=1000, help="NVT steps of the liquid check (MSD, RDF)")
        else:
            q.add_argument("--T-melt-K", dest="T_melt_K", type=float, help="melt of the liquid half (default 2 T)")
            q.add_argument("--cool-steps", type=int, default=500)
            q.add_argument("--run-steps", type=int, default=500, help="free NPT steps that must keep two interfaces")
            q.add_argument("--liquid", help="a liquid block (file) to join instead of melting half the crystal")
            q.add_argument("--axis", type=int, default=2, help="interface normal: 0, 1 or 2")
        _common(q)
        q.set_defaults(func=fn)
