"""``deepearth geo ...``: the geophysical models from the command line, with JSON and figures."""

from __future__ import annotations

import argparse
from pathlib import Path

from deepearth.files import write_json_atomic


def _w_isotopes(args) -> dict:
    from deepearth.geophysics import w_isotopes as w
    from deepearth.report.geo_figures import distance_vs_grain_size, oib_vs_pgz_height

    _paper_defaults(args)
    if args.arrhenius_gb:
        return _w_isotopes_from_arrhenius(args)
    if not (args.D_eff or (args.D_lattice is not None and args.D_gb)):
        raise ValueError("give --D-eff, or --D-lattice with --D-gb (and --grain-size-mm)")
    summary = w.exchange_summary(args.D_eff, args.D_lattice, args.D_gb, args.grain_size_mm * 1e-3,
                                 args.gb_width_nm * 1e-9, args.pgz_height_km, args.pgz_fraction, args.time_gyr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    figs = [str(oib_vs_pgz_height(summary.oib_curves, out / "oib_mu182w_vs_pgz_height.png"))]
    if summary.length_curves is not None:
        figs.append(str(distance_vs_grain_size(summary.length_curves, out / "distance_vs_grain_size.png")))
    result = summary.to_dict() | {"figures": figs}
    write_json_atomic(out / "w_isotopes.json", result)
    return result


def _paper_defaults(args) -> None:
    """Options left out take the values of Peng et al. (2025) (kept, with their source, in ``w_isotopes``)."""
    from deepearth.geophysics import w_isotopes as w

    if args.pgz_fraction is None:
        args.pgz_fraction = w.PGZ_FRACTION
    if args.time_gyr is None:
        args.time_gyr = w.EARTH_AGE_GYR


def _load_fit(path: str):
    import json

    from deepearth.properties.arrhenius import ArrheniusResult

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: Arrhenius result file not found")
    return ArrheniusResult.from_dict(json.loads(p.read_text()), source=str(p))


def _w_isotopes_from_arrhenius(args) -> dict:
    """D_GB (and D_lattice) from Arrhenius result files at (T, P) with Monte-Carlo bands."""
    from deepearth.geophysics import w_isotopes as w

    if args.T_K is None:
        raise ValueError("--arrhenius-gb needs --T-K (and --P-GPa for fits with an activation volume)")
    gb = _load_fit(args.arrhenius_gb)
    lattice = _load_fit(args.arrhenius_lattice) if args.arrhenius_lattice else None
    res = w.exchange_from_arrhenius(gb, args.T_K, args.P_GPa, args.pgz_height_km, args.grain_size_mm * 1e-3, lattice,
                                    args.D_lattice or 0.0, args.gb_width_nm * 1e-9, args.time_gyr, args.pgz_fraction)
    result = {"model": res["model"], "T_K": args.T_K, "P_GPa": args.P_GPa, "grain_size_mm": args.grain_size_mm,
              "gb_width_nm": args.gb_width_nm, "time_gyr": args.time_gyr, "pgz_fraction": args.pgz_fraction,
              "arrhenius_gb": args.arrhenius_gb, "arrhenius_lattice": args.arrhenius_lattice,
              "extrapolated": res["extrapolated"], "results": res["results"]}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "w_isotopes.json", result)
    return result


def _bmo_conductivity(args) -> dict:
    from deepearth.geophysics import magma_ocean as mo

    result = mo.conductivity_summary(args.P, args.T, args.X)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    write_json_atomic(Path(args.out) / "bmo_conductivity.json", result)
    return result


def _prem(args) -> dict:
    """PREM + geotherm along depth, the named conditions, and optional deviations of computed V_P, V_S, ρ."""
    from deepearth.geophysics import earth
    from deepearth.report.earth_figures import deviation_figure, prem_figure

    compare = [_parse_compare(item) for item in args.compare or []]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary = earth.prem_summary(args.depth_km, args.step_km, args.geotherm, compare)
    result = summary.to_dict()
    figs = [str(prem_figure(summary.prem_nodes, summary.geotherm_profiles, out / "prem.png"))]
    if summary.deviations:
        figs.append(str(deviation_figure(summary.deviations, out / "prem_deviation.png", list(args.compare))))
    result["figures"] = figs
    write_json_atomic(out / "prem.json", result)
    n_depths = len(summary.profile.depth_km)
    return {k: v for k, v in result.items() if k != "profile"} | {"profile": f"{n_depths} depths in prem.json"}


def _bmo_evolution(args) -> dict:
    """Eqs. 14–18 for the four standard cases (± Fe enrichment × MLT/CIA), figures, and optionally the
    Monte-Carlo lifetime spread over the parameter file's ranges."""
    from deepearth.geophysics import bmo_evolution as bmo
    from deepearth.report.bmo_figures import all_figures

    params = bmo.BMOParameters.from_toml(args.parameters)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cases = bmo.standard_cases(params, args.dt_Myr, args.t_end_Gyr, args.mc_samples, args.seed)
    for res in cases.runs.values():
        name = f"bmo_evolution_{'fe' if res.fe_enrichment else 'nofe'}_{res.flow}.json"
        write_json_atomic(out / name, res.to_dict())
    result = cases.to_dict(str(args.parameters or "embedded bmo_parameters.toml"))
    result["figures"] = [str(f) for f in all_figures(out, cases.runs)]
    write_json_atomic(out / "bmo_evolution.json", result)
    return result


_COMPARE_KEYS = {"P": "P_GPa", "vp": "vp_km_s", "vs": "vs_km_s", "rho": "rho_kg_m3", "P_err": "P_err",
                 "vp_err": "vp_err", "vs_err": "vs_err", "rho_err": "rho_err", "side": "side"}


def _parse_compare(item: str) -> dict:
    """``P=136,vp=13.7,vp_err=0.1,vs=7.2,rho=5600`` → keyword arguments of ``earth.prem_deviation``."""
    kw = {}
    for part in item.split(","):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in _COMPARE_KEYS:
            raise ValueError(f"--compare {item!r}: '{part}' is not KEY=VALUE with KEY in {sorted(_COMPARE_KEYS)}")
        try:
            kw[_COMPARE_KEYS[key]] = value.strip() if key == "side" else float(value)
        except ValueError:
            raise ValueError(f"--compare {item!r}: {key} = {value!r} is not a number") from None
    if "P_GPa" not in kw:
        raise ValueError(f"--compare {item!r}: needs P=<GPa>")
    return kw


def _geo_subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = argparse.ArgumentParser(prog="deepearth")
    add_geo_parser(parser.add_subparsers(dest="command"))
    geo = next(a for a in parser._subparsers._group_actions if a.dest == "command").choices["geo"]
    return dict(next(a for a in geo._subparsers._group_actions if a.dest == "model").choices)


def _recipe(args) -> dict:
    """Run the models of a geophysics recipe: one TOML table per model (``[w-isotopes]``,
    ``[bmo-conductivity]``, ``[bmo-evolution]``, ``[prem]``) whose keys are the command's options
    (``grain_size_mm = 0.1`` ≡ ``--grain-size-mm 0.1``); relative paths are read from the recipe's
    folder; each model writes into ``OUT/<model>``."""
    import contextlib
    import io

    from deepearth.files import read_toml

    path = Path(args.recipe)
    recipe = read_toml(path, "geophysics recipe")
    parsers = _geo_subparsers()
    parsers.pop("recipe")
    results = {}
    for name, table in recipe.items():
        model = name.replace("_", "-")
        if model not in parsers or not isinstance(table, dict):
            raise ValueError(f"{path}: [{name}] is not a geophysics model (one of {sorted(parsers)})")
        options = {a.dest: a for a in parsers[model]._actions
                   if a.option_strings and a.dest not in ("help", "out", "json")}
        argv = ["--out", str(Path(args.out) / model)]
        for key, value in table.items():
            dest = key.replace("-", "_")
            if dest not in options:
                raise ValueError(f"{path}: [{name}] {key}: unknown option (known: {sorted(options)})")
            values = value if isinstance(value, list) else [value]
            if dest in ("arrhenius_gb", "arrhenius_lattice", "parameters"):
                values = [str((path.parent / str(v)).resolve()) if not Path(str(v)).is_absolute() else v for v in values]
            if options[dest].nargs == 0:  # a flag
                argv += [options[dest].option_strings[0]] if value else []
                continue
            if dest == "compare":  # repeated option: one table entry per comparison
                for v in values:
                    argv += ["--compare", str(v)]
                continue
            argv += [options[dest].option_strings[0], *(str(v) for v in values)]
        captured = io.StringIO()
        try:
            with contextlib.redirect_stderr(captured):
                sub_args = parsers[model].parse_args(argv)
        except SystemExit:
            why = captured.getvalue().strip().splitlines()[-1].split("error: ")[-1]
            raise ValueError(f"{path}: [{name}] {why}") from None
        results[model] = sub_args.geo_func(sub_args)
    result = {"recipe": str(path), "out": str(args.out), "results": results}
    write_json_atomic(Path(args.out) / RECIPE_RECORD, result)
    return result


#: Where ``deepearth geo`` writes by default: under ``runs/`` (ignored by git), one folder per model.
DEFAULT_OUT = Path("runs") / "geo"
#: The record of a geophysics recipe's run (every model's result), in its ``--out`` folder.
RECIPE_RECORD = "geo_recipe.json"


def _out(p: argparse.ArgumentParser, default: Path, what: str) -> None:
    p.add_argument("--out", default=str(default), help=f"{what} (default: {default})")
    p.add_argument("--json", action="store_true", help="print the whole result as JSON instead of the summary")


def add_geo_parser(sub) -> None:
    geo = sub.add_parser("geo", help="geophysical models (W isotopes, basal magma ocean)")
    gsub = geo.add_subparsers(dest="model", required=True)
    w = gsub.add_parser("w-isotopes", help="μ182W of OIBs from diffusive exchange across the CMB")
    w.add_argument("--D-eff", type=float, nargs="+", help="effective diffusivities, m²/s")
    w.add_argument("--D-lattice", type=float, help="lattice diffusivity, m²/s (with --D-gb)")
    w.add_argument("--D-gb", type=float, nargs="+", help="grain-boundary diffusivities, m²/s")
    w.add_argument("--grain-size-mm", type=float, default=0.1)
    w.add_argument("--gb-width-nm", type=float, default=1.0)
    w.add_argument("--pgz-height-km", type=float, nargs="+", default=[1.0, 5.0, 10.0, 50.0])
    w.add_argument("--pgz-fraction", type=float, help="PGZ share of the OIB source (default: the paper's 1:8)")
    w.add_argument("--time-gyr", type=float, help="time of exchange, Gyr (default: the paper's age of the Earth)")
    w.add_argument("--arrhenius-gb", help="JSON of 'deepearth analyze arrhenius' for grain-boundary D (MC band)")
    w.add_argument("--arrhenius-lattice", help="JSON of an Arrhenius fit for lattice D (else --D-lattice, or 0)")
    w.add_argument("--T-K", type=float, help="temperature at which the Arrhenius fits are evaluated (CMB: ~4000 K)")
    w.add_argument("--P-GPa", type=float, help="pressure for fits with an activation volume (CMB: 136 GPa)")
    _out(w, DEFAULT_OUT / "w-isotopes", "folder for the JSON and figures")
    w.set_defaults(geo_func=_w_isotopes)
    b = gsub.add_parser("bmo-conductivity", help="σ_el, κ_el and κ of the basal magma ocean at (P, T, X)")
    b.add_argument("--P", type=float, required=True, help="GPa")
    b.add_argument("--T", type=float, required=True, help="K")
    b.add_argument("--X", type=float, required=True, help="Fe/(Fe+Mg)")
    _out(b, DEFAULT_OUT / "bmo-conductivity", "folder for the JSON")
    b.set_defaults(geo_func=_bmo_conductivity)
    e = gsub.add_parser("bmo-evolution", help="basal magma ocean cooling, crystallisation and dynamo lifetime")
    e.add_argument("--parameters", default=None, help="parameter TOML (default: the embedded, cited one)")
    e.add_argument("--dt-Myr", type=float, default=1.0, help="RK4 step (Myr)")
    e.add_argument("--t-end-Gyr", type=float, default=4.5)
    e.add_argument("--mc-samples", type=int, default=0, help="Monte-Carlo parameter sets for the lifetime spread")
    e.add_argument("--seed", type=int, default=0)
    _out(e, DEFAULT_OUT / "bmo-evolution", "folder for the JSON and figures")
    e.set_defaults(geo_func=_bmo_evolution)
    p = gsub.add_parser("prem", help="PREM P, ρ, V_P, V_S and a geotherm vs depth; deviations of computed values")
    p.add_argument("--geotherm", default="anzellini2013",
                   help="anzellini2013 (default, to the centre), brown_shankland, anderson, katsura2022, ...")
    p.add_argument("--depth-km", type=float, nargs="+", help="depths (km); default PREM's nodes")
    p.add_argument("--step-km", type=float, help="uniform depth grid spacing (km) instead of PREM's nodes")
    p.add_argument("--compare", action="append", metavar="P=..,vp=..,vs=..,rho=..[,vp_err=..]",
                   help="computed V_P, V_S (km/s), ρ (kg/m³) at P (GPa) with 1σ errors → %% deviation from PREM")
    _out(p, DEFAULT_OUT / "prem", "folder for prem.json and figures")
    p.set_defaults(geo_func=_prem)
    r = gsub.add_parser("recipe", help="run the models listed in a geophysics recipe (TOML, one table per model)")
    r.add_argument("recipe", help="TOML file, e.g. examples/geophysics.toml")
    _out(r, DEFAULT_OUT, f"folder; each model writes into OUT/<model>, the whole result into OUT/{RECIPE_RECORD}")
    r.set_defaults(geo_func=_recipe)


def run_geo(args: argparse.Namespace) -> int:
    """Run one model (or a recipe); print its headline numbers and what it wrote where (``--json``:
    the whole result). A spinner shows on a terminal while it computes (bmo-evolution: tens of s)."""
    import contextlib
    import json

    from deepearth.cli import geo_summary
    from deepearth.cli.console import console

    busy = (console.status(f"geo {args.model}: computing (results go to {args.out}) ...")
            if console.is_terminal and not args.json else contextlib.nullcontext())
    with busy:
        result = args.geo_func(args)
    if args.json:
        print(json.dumps(result, indent=1))
    elif args.model == "recipe":
        print("\n".join(geo_summary.recipe_summary(result, args.out, Path(args.out) / RECIPE_RECORD)))
    else:
        print("\n".join(geo_summary.summary(args.model, result, args.out)))
    return 0
