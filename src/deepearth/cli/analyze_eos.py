"""``deepearth analyze eos TABLE``: an isothermal EOS fit (BM3 or Vinet) of a table's (V, P) or (V, E)
columns, or with ``--temperature-column`` a P–V–T analysis (one fit per isotherm, thermal pressure,
α, K_T, γ, an adiabat). Writes ``<out>/eos.json`` and ``<out>/eos.png`` (data, fit and residuals per
isotherm; plus ``eos_thermal.png`` for a grid) and prints one line with V0, K0, K0' ± their errors.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from deepearth.files import write_json_atomic

__all__ = ["add_parser", "run"]

_PARAMETERS = ("V0", "K0", "K0_prime", "E0")


def _pairs(flag: str, items: list[str], numbers: int) -> dict:
    """``NAME=VALUE`` (or ``NAME=MEAN,SIGMA``) items of ``flag`` as a dict."""
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise ValueError(f"{flag}: expected NAME=VALUE, got {item!r}")
        if numbers:
            try:
                nums = [float(x) for x in value.split(",")]
            except ValueError:
                raise ValueError(f"{flag}: {item!r} is not NAME=number{',number' * (numbers - 1)}") from None
            if len(nums) != numbers or name not in _PARAMETERS:
                raise ValueError(f"{flag}: {item!r}: need one of {', '.join(_PARAMETERS)} = "
                                 f"{'VALUE' if numbers == 1 else 'MEAN,SIGMA'}")
            out[name] = nums[0] if numbers == 1 else tuple(nums)
        else:
            out[name] = value
    return out


def _columns(args) -> dict[str, np.ndarray]:
    """The table's columns by role: V, P, E, T and their stderr columns (``--stderr-columns COL=ERRCOL``)."""
    from deepearth.properties.table import select_columns

    roles = {"V": args.volume_column, "P": args.pressure_column, "E": args.energy_column, "T": args.temperature_column}
    stderr = _pairs("--stderr-columns", args.stderr_columns, 0)
    for col in stderr:
        if col not in [c for c in roles.values() if c]:
            raise ValueError(f"--stderr-columns: {col!r} is not one of the value columns given "
                             f"({', '.join(c for c in roles.values() if c)})")
    names = {role: col for role, col in roles.items() if col}
    names.update({f"s{role}": stderr[col] for role, col in roles.items() if col and col in stderr})
    data = select_columns(args.table, list(names.values()))
    return {role: data[:, k] for k, role in enumerate(names)}


def run(args: argparse.Namespace) -> int:
    """Fit, write eos.json and the figure(s), print the one-line result."""
    from deepearth.properties import eos
    from deepearth.report.eos_figures import eos_fit_figure, thermal_figure

    if args.pressure_column is None and args.energy_column is None:
        raise ValueError("give --pressure-column or --energy-column (or both with --temperature-column)")
    cols = _columns(args)
    fixed = _pairs("--fix", args.fix, 1)
    prior = _pairs("--prior", args.prior, 2)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    inputs = {k: v for k, v in vars(args).items() if k not in ("func", "analyze_func", "command", "analysis")}
    if args.temperature_column:
        if "P" not in cols:
            raise ValueError("--temperature-column needs --pressure-column (the isotherms are P(V) fits)")
        res = eos.pvt_analysis(cols["V"], cols["T"], cols["P"], cols.get("E"), volumes_stderr_A3=cols.get("sV"),
                               pressures_stderr_GPa=cols.get("sP"), energies_stderr_eV=cols.get("sE"), form=args.form,
                               adiabat_start=tuple(args.adiabat_from) if args.adiabat_from else None,
                               fixed=fixed or None, prior=prior or None)
        result = res.to_dict()
        figure = eos_fit_figure(result["isotherms"], out / "eos.png", [f"{t:.0f} K" for t in res.T_K])
        result["thermal_figure"] = str(thermal_figure(result, out / "eos_thermal.png"))
        ref = res.isotherms[res.T_K.index(res.T_ref_K)]
        head = (f"{ref['form']} at {res.T_ref_K:.0f} K: V0 = {ref['V0']:.5g} ± {ref['V0_stderr']:.2g} Å³, "
                f"K0 = {ref['K0']:.4g} ± {ref['K0_stderr']:.2g} GPa, K0' = {ref['K0_prime']:.3g} ± "
                f"{ref['K0_prime_stderr']:.2g} ({len(res.T_K)} isotherms {res.T_K[0]:.0f}-{res.T_K[-1]:.0f} K)")
    else:
        if "P" in cols and "E" in cols:
            raise ValueError("give --pressure-column or --energy-column, not both (both: with --temperature-column)")
        energies = "E" in cols
        r = eos.fit(cols["V"], None if energies else cols["P"], cols.get("E"), form=args.form,
                    pressures_stderr_GPa=cols.get("sP"), energies_stderr_eV=cols.get("sE"), fixed=fixed or None,
                    prior=prior or None)
        result = r.to_dict()
        figure = eos_fit_figure([result], out / "eos.png")
        head = f"{r.form} fit of {r.data}: " + r.summary().split(" (")[0].replace("K0_prime", "K0'")
    result["inputs"] = inputs
    result["figure"] = str(figure)
    write_json_atomic(out / "eos.json", result)
    print(f"{head}\n  -> {out / 'eos.json'}, {figure}")
    return 0


def add_parser(asub) -> None:
    """``eos`` under ``deepearth analyze`` (``asub``: its subparsers)."""
    p = asub.add_parser("eos", help="equation of state (BM3/Vinet) of a (V, P[, E][, T]) table, with errors")
    p.add_argument("table", help="whitespace table with a header naming the columns (or 0-based indices)")
    p.add_argument("--volume-column", required=True, help="volume column, Å³ (per cell, atom or formula unit)")
    p.add_argument("--pressure-column", help="pressure column, GPa")
    p.add_argument("--energy-column", help="energy column, eV (E-V fit; with --temperature-column: for γ)")
    p.add_argument("--stderr-columns", nargs="+", default=[], metavar="COL=ERRCOL",
                   help="1σ columns of value columns, e.g. P=P_err V=V_err: a weighted fit with absolute errors")
    p.add_argument("--form", choices=["bm3", "vinet"], default="bm3")
    p.add_argument("--temperature-column", help="temperature column, K: one fit per isotherm and the thermal EOS")
    p.add_argument("--fix", nargs="+", default=[], metavar="NAME=VALUE",
                   help="hold parameters (of every isotherm), e.g. K0_prime=4")
    p.add_argument("--prior", nargs="+", default=[], metavar="NAME=MEAN,SIGMA",
                   help="Gaussian prior on a parameter, e.g. K0_prime=4,0.5 (needs --stderr-columns)")
    p.add_argument("--adiabat-from", nargs=2, type=float, metavar=("P_GPA", "T_K"),
                   help="foot of the adiabat (default: lowest shared pressure, hottest isotherm)")
    p.add_argument("--out", default="analysis")
    p.set_defaults(analyze_func=run)
