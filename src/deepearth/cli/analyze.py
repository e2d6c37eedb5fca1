"""``deepearth analyze diffusion|viscosity|thermal-conductivity|conductivity|arrhenius`` on files.

Each writes ``<out>/<quantity>.json`` (value, stderr, unit, method, window/cutoff, inputs) and a
figure beside it, and prints the one-line result.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from deepearth.files import write_json_atomic


def _temperature(args, path: str) -> float:
    if args.temperature_K is not None:
        return float(args.temperature_K)
    if args.temperature_column:
        from deepearth.properties.table import select_columns

        return float(select_columns(path, [args.temperature_column]).mean())
    raise ValueError("give --temperature-K or --temperature-column (the mean temperature of the run, K)")


def _inputs(args) -> dict:
    return {k: v for k, v in vars(args).items() if k not in ("func", "analyze_func", "command", "analysis")}


def _green_kubo(args, quantity: str) -> tuple[dict, str]:
    from deepearth.properties import ionic_conductivity, thermal_conductivity, viscosity
    from deepearth.properties.table import select_columns

    series = select_columns(args.table, args.columns)
    temperature = _temperature(args, args.table)
    kw = dict(dt_ps=args.dt_ps, volume_A3=args.volume_A3, temperature_K=temperature, units=args.units,
              fstar_THz=args.fstar_THz)
    if quantity == "viscosity":
        res = viscosity(series, **kw)
    elif quantity == "thermal_conductivity":
        if len(args.extra_columns) % 3:
            raise ValueError(f"--extra-columns needs 3 columns per flux, got {len(args.extra_columns)}")
        extra = [select_columns(args.table, args.extra_columns[i:i + 3]) for i in range(0, len(args.extra_columns), 3)]
        res = thermal_conductivity(series, extra_fluxes=extra, **kw)
    else:
        res = ionic_conductivity(series, nernst_einstein_S_per_m=args.nernst_einstein_S_per_m, **kw)
    return res.to_dict(curves=True), f"{quantity} = {res.value:.5g} ± {res.stderr:.2g} {res.unit}"


def _diffusion(args) -> tuple[dict, str]:
    from deepearth.properties import diffusion_coefficient, read_trajectory

    replicas = [read_trajectory(p, dt_ps=args.dt_ps, stride=args.stride, format=args.format) for p in args.trajectories]
    res = diffusion_coefficient(replicas, species=args.species, min_fit_start_ps=args.min_start_ps,
                                T_K=args.temperature_K, P_GPa=args.pressure_GPa)
    flag = "" if res.diffusive else " (no diffusive regime: plateau)"
    return res.to_dict(curves=True), f"D({res.species}) = {res.value:.4e} ± {res.stderr:.2e} m²/s{flag}"


_QUANTITY = {"viscosity": "viscosity", "thermal-conductivity": "thermal_conductivity",
             "conductivity": "ionic_conductivity"}


def _arrhenius(args) -> tuple[dict, str, dict]:
    import numpy as np

    from deepearth.properties.arrhenius import arrhenius_fit, from_diffusion_results

    data = from_diffusion_results(args.results, species=args.species, require_diffusive=not args.allow_plateau)
    brk = None if args.break_T_K is None else ("auto" if args.break_T_K == "auto" else float(args.break_T_K))
    fit = arrhenius_fit(*data, break_T_K=brk, fit_dV=False if args.no_dV else None, species=args.species)
    result = fit.to_dict()
    if args.predict_T_K:
        result["prediction"] = fit.predict(args.predict_T_K, args.predict_P_GPa, n_samples=2000).to_dict()
    pairs = zip(*(v if isinstance(v, list) else [v] for v in (fit.value, fit.stderr)))
    branches = ", ".join(f"{v:.1f} ± {e:.1f}" for v, e in pairs)
    preferred = f" ({result['preferred']} preferred)" if "preferred" in result else ""
    line = f"Arrhenius fit of D({args.species}): activation {branches} {fit.unit}{preferred}"
    grid = np.linspace(data.T_K.min() * 0.9, data.T_K.max() * 1.1, 200)  # the figure's curve: ±10 % beyond the data
    curve = fit.predict(grid, None if data.P_GPa is None else float(np.mean(data.P_GPa)))
    return result, line, {"T_K": data.T_K.tolist(), "D_m2_per_s": data.D_m2_per_s.tolist(),
                          "D_stderr_m2_per_s": None if data.D_stderr_m2_per_s is None else data.D_stderr_m2_per_s.tolist(),
                          "P_GPa": None if data.P_GPa is None else data.P_GPa.tolist(), "curve": curve,
                          "label": f"{branches} {fit.unit}{preferred}"}


#: Modules ``deepearth.cli.analyze_<name>`` with the thermodynamics commands (EOS, elastic constants,
#: melting and structure): each has ``add_parser(asub)`` whose subparsers set ``analyze_func``.
THERMO_COMMANDS: tuple[str, ...] = ("eos", "elastic", "melting")


def run_analyze(args: argparse.Namespace) -> int:
    if getattr(args, "analyze_func", None) is not None:
        return args.analyze_func(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from deepearth.report import transport_figures as figs

    if args.analysis == "arrhenius":
        result, line, data = _arrhenius(args)
        name = f"arrhenius_{args.species}"
        figure = figs.arrhenius_figure(data, out / f"{name}.png")
    elif args.analysis == "diffusion":
        result, line = _diffusion(args)
        name = f"diffusion_{result['species']}"
        figure = figs.msd_figure(result, out / f"{name}.png")
    else:
        quantity = _QUANTITY[args.analysis]
        result, line = _green_kubo(args, quantity)
        name = quantity
        figure = figs.green_kubo_figure(result, out / f"{name}.png")
    result["inputs"] = {k: v for k, v in _inputs(args).items() if k != "fit"}
    result["figure"] = str(figure)
    write_json_atomic(out / f"{name}.json", result)
    print(f"{line}\n  -> {out / f'{name}.json'}, {figure}")
    return 0


def _green_kubo_parser(sub, name: str, help_text: str, columns_help: str):
    p = sub.add_parser(name, help=help_text)
    p.add_argument("table", help="text table (LAMMPS fix ave/time or thermo output, or any headed table)")
    p.add_argument("--columns", nargs="+", required=True, help=columns_help)
    p.add_argument("--dt-ps", type=float, required=True, help="time between rows, ps (τ in lj units)")
    p.add_argument("--volume-A3", type=float, required=True, help="cell volume, Å³")
    p.add_argument("--temperature-K", type=float, help="mean temperature, K")
    p.add_argument("--temperature-column", help="column to average for the temperature")
    p.add_argument("--units", default="metal", choices=["metal", "lj"])
    p.add_argument("--fstar-THz", type=float, default=None, help="cepstral low-pass cutoff (default: automatic)")
    p.add_argument("--out", default="analysis")
    return p


def add_analyze_parser(sub) -> None:
    analyze = sub.add_parser("analyze", help="transport coefficients with error bars from MD output files")
    asub = analyze.add_subparsers(dest="analysis", required=True)
    d = asub.add_parser("diffusion", help="self-diffusion coefficient from one or more replica trajectories")
    d.add_argument("trajectories", nargs="+", help="trajectory files ASE reads (extxyz, XDATCAR, LAMMPS dump ...)")
    d.add_argument("--species", help="element to analyse (default: all atoms)")
    d.add_argument("--dt-ps", type=float, help="time between stored frames, ps (default: frames' time_ps)")
    d.add_argument("--stride", type=int, default=1)
    d.add_argument("--format", help="ASE format name when the suffix does not tell it (e.g. vasp-xdatcar)")
    d.add_argument("--min-start-ps", type=float, default=0.1, help="earliest start of the fit window, ps")
    d.add_argument("--temperature-K", type=float)
    d.add_argument("--pressure-GPa", type=float)
    d.add_argument("--out", default="analysis")
    _green_kubo_parser(asub, "viscosity", "shear viscosity (Green–Kubo, cepstral)",
                       "six pressure-tensor columns in the order xx yy zz xy xz yz (bar in metal units)")
    k = _green_kubo_parser(asub, "thermal-conductivity", "thermal conductivity (Green–Kubo, cepstral)",
                           "three heat-flux columns (J·V, eV·Å/ps in metal units)")
    k.add_argument("--extra-columns", nargs="*", default=[],
                   help="3 (or 6) columns of mass fluxes to decorrelate (multicomponent systems)")
    c = _green_kubo_parser(asub, "conductivity", "ionic electrical conductivity (Green–Kubo, cepstral)",
                           "three charge-current columns (e·Å/ps)")
    c.add_argument("--nernst-einstein-S-per-m", type=float, help="σ_NE, to report the Haven ratio")
    a = asub.add_parser("arrhenius", help="Arrhenius fit (D0, ΔH or ΔE and ΔV) of diffusion results")
    a.add_argument("results", nargs="+", help="JSON files written by 'analyze diffusion' or a run's results/diffusion.json")
    a.add_argument("--species", required=True)
    a.add_argument("--break-T-K", help="'auto' or a temperature (K): two Arrhenius branches")
    a.add_argument("--no-dV", action="store_true", help="treat slightly different pressures as one (fit ΔH only)")
    a.add_argument("--allow-plateau", action="store_true", help="keep results flagged as not diffusive")
    a.add_argument("--predict-T-K", type=float, nargs="*", default=[], help="extrapolate D to these temperatures")
    a.add_argument("--predict-P-GPa", type=float, help="pressure for the extrapolation (eq. 4 fits)")
    a.add_argument("--out", default="analysis")
    for name in THERMO_COMMANDS:
        importlib.import_module(f"deepearth.cli.analyze_{name}").add_parser(asub)
    analyze.set_defaults(func=run_analyze)
