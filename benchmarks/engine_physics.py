"""Same physics through both engines: the quickstart's production with the ASE and the LAMMPS engine.

The quickstart's final POD model, its production settings (NPT equilibration, then NVT, Nosé–Hoover)
at its state point, ``--replicas`` replicas per engine with the same seeds: ⟨T⟩, ⟨P⟩ (mean over
replicas ± standard error of the replica means) and D per species (deepearth's estimator with its
error bar) side by side, and the difference in units of the combined error. Prints a markdown table.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/engine_physics.py --run runs/mgo-quickstart
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from ase.io import read

from deepearth.md.engine import ASEEngine
from deepearth.md.lammps_engine import LammpsEngine
from deepearth.md.production import ReplicaTask, run_replica
from deepearth.properties.diffusion import diffusion_coefficient
from deepearth.properties.trajectory import read_trajectory
from deepearth.recipe import load_recipe


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, default=Path("runs/mgo-quickstart"), help="a finished quickstart run")
    ap.add_argument("--replicas", type=int, default=3)
    ap.add_argument("--steps", type=int, default=None, help="NVT steps (default: the recipe's)")
    args = ap.parse_args(argv)
    recipe = load_recipe(args.run / "recipe.toml")
    final = args.run / "models" / "final"
    models = sorted(final.glob("member-*/model.pod")) or sorted(final.glob("member-*/model.pb"))
    starts = sorted((args.run / "md").glob("*/rep-*/equilibration.extxyz")) or []
    if not models:
        print(f"no final model in {args.run}: run `deepearth run examples/mgo-quickstart.toml` first")
        return 2
    spec = recipe.production
    if args.steps:
        spec = spec.model_copy(update={"steps": args.steps})
    point = spec.points[0]
    start = read(starts[0], 0) if starts else None
    if start is None:
        print(f"no production start frame in {args.run}/md")
        return 2
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for engine in (ASEEngine(), LammpsEngine()):
            t0 = time.perf_counter()
            reps = [run_replica(ReplicaTask(f"{tmp}/{engine.name}-{k}", str(models[0]), start, point.P_GPa, point.T_K,
                                            spec, engine, seed=recipe.seed + 101 * k)) for k in range(args.replicas)]
            wall = time.perf_counter() - t0
            ok = [r for r in reps if not r.blow_up]
            trajs = [read_trajectory(r.trajectory) for r in ok]
            d = {sp: diffusion_coefficient(trajs, species=sp, T_K=point.T_K, P_GPa=point.P_GPa)
                 for sp in sorted(set(start.get_chemical_symbols()))}
            rows[engine.name] = dict(T=[r.T_mean_K for r in ok], P=[r.P_mean_GPa for r in ok], D=d, wall=wall,
                                     failed=len(reps) - len(ok))

    def mean_se(x):
        x = np.asarray(x, float)
        return x.mean(), x.std(ddof=1) / np.sqrt(len(x)) if len(x) > 1 else float("nan")

    print(f"{point.P_GPa:g} GPa, {point.T_K:g} K, {args.replicas} replicas × ({spec.equilibration_steps} NPT + "
          f"{spec.steps} NVT) steps, model {models[0]}\n")
    print("| quantity | ASE engine | LAMMPS engine | difference / combined σ |\n|---|---|---|---|")
    for key, unit in (("T", "K"), ("P", "GPa")):
        (a, sa), (b, sb) = mean_se(rows["ase"][key]), mean_se(rows["lammps"][key])
        print(f"| ⟨{key}⟩ ({unit}) | {a:.4g} ± {sa:.2g} | {b:.4g} ± {sb:.2g} | {(b - a) / np.hypot(sa, sb):+.2f} |")
    for sp, da in rows["ase"]["D"].items():
        dl = rows["lammps"]["D"][sp]
        z = (dl.D_m2_per_s - da.D_m2_per_s) / np.hypot(da.D_stderr_m2_per_s, dl.D_stderr_m2_per_s)
        flag = lambda r: "" if r.diffusive else " (not diffusive)"  # noqa: E731
        print(f"| D({sp}) (m²/s) | {da.D_m2_per_s:.3e} ± {da.D_stderr_m2_per_s:.1e}{flag(da)} | "
              f"{dl.D_m2_per_s:.3e} ± {dl.D_stderr_m2_per_s:.1e}{flag(dl)} | {z:+.2f} |")
    print(f"| wall time (s) | {rows['ase']['wall']:.0f} | {rows['lammps']['wall']:.0f} | "
          f"{rows['ase']['wall'] / rows['lammps']['wall']:.1f}× faster |")
    if rows["ase"]["failed"] or rows["lammps"]["failed"]:
        print(f"\nblown-up replicas: ASE {rows['ase']['failed']}, LAMMPS {rows['lammps']['failed']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
