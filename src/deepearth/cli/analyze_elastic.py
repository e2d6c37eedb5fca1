"""``deepearth analyze elastic``: elastic constants, moduli and seismic velocities with errors.

Two inputs:

* ``--cij FILE`` — a 6×6 Voigt stiffness (GPa): a whitespace table of 6 rows (12 rows: the next 6
  are its standard errors; ``#`` comments allowed), or JSON — a 6×6 list, ``{"C_GPa": 6×6,
  "C_stderr_GPa": 6×6, ...}`` (an ``elastic.json`` this command wrote) or named constants
  ``{"C11": 829.78, "C11_stderr": 3.0, ...}`` (with ``--symmetry`` the system's form fills the rest;
  without, the entries given and their transposes). ``--cij-stderr FILE``: the errors apart.
* ``--stress-strain FILE...`` — one file per strained NVT run, the layout that
  :func:`deepearth.pipeline.elastic_md.write_stress_series` writes::

      # voigt_strain: 0.01 0 0 0 0 0          (Voigt engineering strain of this run)
      # temperature_K: 4000                    (optional)
      # density_kg_m3: 5900.1                  (optional: the unstrained reference's)
      # reference_pressure_GPa: 140.2          (optional: the unstrained reference's)
      # step sxx syy szz syz sxz sxy           (header; columns chosen with --columns)
      500 -139.1 -141.2 ...

  Stresses in GPa positive in tension unless ``--stress-sign compressive`` (LAMMPS ``pxx`` …) and
  ``--stress-units bar`` or ``eV/A3``. Each file's series is block-averaged (``--n-blocks``), then
  ``C_IJ = Δσ_I/Δe_J`` by weighted least squares.

Writes ``<out>/elastic.json`` (:class:`~deepearth.properties.elastic.ElasticResult` and the inputs) and
``<out>/elastic.png``; prints one line: K_VRH, G_VRH, V_P, V_S with their errors.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np

from deepearth.files import write_json_atomic

__all__ = ["add_parser", "read_cij", "read_stress_strain", "run"]

_UNITS = {"GPa": 1.0, "bar": 1e-4}
_NAMED = re.compile(r"^C([1-6])([1-6])$")


def _matrix(value, where: str) -> np.ndarray:
    arr = np.asarray(value, dtype=float) if not isinstance(value, str) else None
    if arr is None or arr.shape != (6, 6):
        raise ValueError(f"{where}: a 6×6 matrix is needed, got {np.shape(value)}")
    return arr


def _named(d: dict, symmetry: str | None, path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    from deepearth.properties.elastic import from_independent
    from deepearth.properties.elastic.tensor import independent_names

    values = {k: float(v) for k, v in d.items() if _NAMED.match(k)}
    errors = {k[: -len("_stderr")]: float(v) for k, v in d.items() if k.endswith("_stderr")}
    if symmetry:
        names = independent_names(symmetry)
        missing = [n for n in names if n not in values]
        if missing:
            raise ValueError(f"{path}: a {symmetry} stiffness needs {', '.join(names)}; missing {', '.join(missing)}")
        c = from_independent(symmetry, [values[n] for n in names])
        err = from_independent(symmetry, [errors.get(n, 0.0) for n in names]) if errors else None
        return c, None if err is None else np.abs(err)
    c, err = np.zeros((6, 6)), np.zeros((6, 6))
    for k, v in values.items():
        i, j = (int(x) - 1 for x in _NAMED.match(k).groups())
        c[i, j] = c[j, i] = v
        err[i, j] = err[j, i] = errors.get(k, 0.0)
    return c, err if errors else None


def read_cij(path: str | Path, symmetry: str | None = None) -> tuple[np.ndarray, np.ndarray | None, dict]:
    """``(C, stderr or None, extra)`` (GPa) from a ``--cij`` file (module docstring: the formats);
    ``extra``: density/pressure/temperature a JSON file holds. One ``ValueError`` line naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: Cij file not found")
    text = path.read_text()
    if text.lstrip().startswith(("{", "[")):
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        if isinstance(d, list):
            return _matrix(d, str(path)), None, {}
        extra = {k: d[k] for k in ("density_kg_m3", "pressure_GPa", "temperature_K") if d.get(k) is not None}
        if "C_GPa" in d:
            err = d.get("C_stderr_GPa")
            return (_matrix(d["C_GPa"], f"{path}: C_GPa"), None if err is None else
                    _matrix(err, f"{path}: C_stderr_GPa"), extra)
        if any(_NAMED.match(k) for k in d):
            return (*_named(d, symmetry, path), extra)
        raise ValueError(f"{path}: JSON needs a 6×6 list, C_GPa, or named constants C11, C12, …")
    rows = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            rows.append([float(x) for x in line.split()])
        except ValueError:
            raise ValueError(f"{path}:{lineno}: not a row of numbers: {line[:50]!r}") from None
        if len(rows[-1]) != 6:
            raise ValueError(f"{path}:{lineno}: {len(rows[-1])} numbers; a Cij row has 6")
    if len(rows) not in (6, 12):
        raise ValueError(f"{path}: {len(rows)} rows; 6 (Cij) or 12 (Cij, then their standard errors) needed")
    arr = np.array(rows)
    return arr[:6], (arr[6:] if len(rows) == 12 else None), {}


def _header(path: Path) -> dict[str, list[float]]:
    out = {}
    with open(path) as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            key, sep, value = line[1:].partition(":")
            if sep:
                try:
                    out[key.strip()] = [float(x) for x in value.split()]
                except ValueError:
                    raise ValueError(f"{path}: header '{key.strip()}' is not numbers: {value.strip()[:40]!r}") from None
    return out


def read_stress_strain(paths: list[str], columns: list[str], n_blocks: int = 8, units: str = "GPa",
                       stress_sign: str = "tensile", skip: int = 0) -> dict:
    """Strains, block-averaged stresses (GPa, positive in tension) ± errors and the headers' state
    (temperature, density, reference pressure: each must agree between files) from stress series files."""
    from deepearth.properties.elastic import block_average
    from deepearth.properties.table import select_columns
    from deepearth.units import EV_PER_A3_TO_GPA

    scale = EV_PER_A3_TO_GPA if units == "eV/A3" else _UNITS[units]
    if len(columns) != 6:
        raise ValueError(f"--columns: {len(columns)} names; 6 stress columns in Voigt order xx yy zz yz xz xy")
    strains, means, errors, state = [], [], [], {}
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise ValueError(f"{path}: stress series file not found")
        head = _header(path)
        if len(head.get("voigt_strain", [])) != 6:
            raise ValueError(f"{path}: needs a '# voigt_strain: e1 e2 e3 e4 e5 e6' line (Voigt engineering strain)")
        for key in ("temperature_K", "density_kg_m3", "reference_pressure_GPa"):
            if key in head:
                if key in state and not np.isclose(state[key], head[key][0], rtol=1e-6):
                    raise ValueError(f"{path}: {key} {head[key][0]:g} differs from the other files' {state[key]:g}")
                state[key] = head[key][0]
        data = select_columns(path, columns)[skip:] * scale
        b = block_average(data if stress_sign == "tensile" else -data, n_blocks, str(path))
        strains.append(head["voigt_strain"])
        means.append(b.mean)
        errors.append(b.stderr)
    return {"strains": np.array(strains), "stresses": np.array(means), "stderr": np.array(errors), **state}


def run(args: argparse.Namespace) -> int:
    """Estimate, write elastic.json and elastic.png, print the one-line result."""
    from deepearth.properties.elastic import elastic_result, from_stress_strain
    from deepearth.report.elastic_figures import elastic_figure

    if bool(args.cij) == bool(args.stress_strain):
        raise ValueError("give --cij FILE or --stress-strain FILE... (one of them)")
    if args.cij:
        c, err, extra = read_cij(args.cij, args.symmetry)
        if args.cij_stderr:
            err, _, _ = read_cij(args.cij_stderr)
        rho = args.density_kg_m3 if args.density_kg_m3 is not None else extra.get("density_kg_m3")
        if rho is None:
            raise ValueError("--density-kg-m3 is needed (the Cij file holds no density)")
        p = args.pressure_GPa if args.pressure_GPa is not None else extra.get("pressure_GPa", 0.0)
        t = args.temperature_K if args.temperature_K is not None else extra.get("temperature_K")
        res = elastic_result(c, rho, err, p, t, method=f"given ({args.cij})", symmetry=args.symmetry,
                             n_mc=args.mc_samples, seed=args.seed)
    else:
        d = read_stress_strain(args.stress_strain, args.columns, args.n_blocks, args.stress_units, args.stress_sign,
                               args.skip_samples)
        rho = args.density_kg_m3 if args.density_kg_m3 is not None else d.get("density_kg_m3")
        if rho is None:
            raise ValueError("--density-kg-m3 is needed (the files' headers hold no density_kg_m3)")
        p = args.pressure_GPa if args.pressure_GPa is not None else d.get("reference_pressure_GPa")
        t = args.temperature_K if args.temperature_K is not None else d.get("temperature_K")
        res = from_stress_strain(d["strains"], d["stresses"], rho, d["stderr"], args.symmetry, p, t,
                                 method=f"stress-strain from {len(args.stress_strain)} files",
                                 thermodynamic="isothermal" if t else "unknown", n_mc=args.mc_samples, seed=args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = res.to_dict()
    figure = elastic_figure(result, out / "elastic.png")
    result["inputs"] = {k: v for k, v in vars(args).items() if k not in ("func", "analyze_func", "command", "analysis")}
    result["figure"] = str(figure)
    write_json_atomic(out / "elastic.json", result)
    warn = f"\n  warning: {res.warnings[0]}" if res.warnings else ""
    print(f"{res.line()}{warn}\n  -> {out / 'elastic.json'}, {figure}")
    return 0


def add_parser(asub) -> None:
    """``elastic`` under ``deepearth analyze`` (``asub``: its subparsers)."""
    p = asub.add_parser("elastic", help="elastic constants, moduli and seismic velocities (Cij table or "
                                        "stress–strain MD series), with errors")
    p.add_argument("--cij", help="6×6 Voigt Cij (GPa): whitespace table (6 rows, or 12 with errors) or JSON")
    p.add_argument("--cij-stderr", help="their standard errors (GPa), same formats")
    p.add_argument("--stress-strain", nargs="+", metavar="FILE",
                   help="one stress series per strained run ('# voigt_strain: e1..e6' header; see the module help)")
    p.add_argument("--columns", nargs=6, default=["sxx", "syy", "szz", "syz", "sxz", "sxy"],
                   metavar="COL", help="stress columns in Voigt order xx yy zz yz xz xy (names or 0-based indices)")
    p.add_argument("--stress-units", choices=["GPa", "bar", "eV/A3"], default="GPa")
    p.add_argument("--stress-sign", choices=["tensile", "compressive"], default="tensile",
                   help="tensile: positive in tension (ASE); compressive: a pressure tensor (LAMMPS pxx …)")
    p.add_argument("--skip-samples", type=int, default=0, help="drop this many samples at the start of each series")
    p.add_argument("--n-blocks", type=int, default=8, help="blocks for the stress error bars (block averaging)")
    p.add_argument("--density-kg-m3", type=float, help="density of the reference cell (kg/m³)")
    p.add_argument("--pressure-GPa", type=float, help="pressure of the reference state (GPa)")
    p.add_argument("--temperature-K", type=float, help="temperature (K), for the record")
    p.add_argument("--symmetry", help="crystal system in standard orientation (cubic, hexagonal, trigonal, tetragonal, "
                                      "orthorhombic, monoclinic, isotropic): checked, and fitted with its constants")
    p.add_argument("--mc-samples", type=int, default=2000, help="Monte Carlo draws for the moduli's errors")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="analysis")
    p.set_defaults(analyze_func=run)
