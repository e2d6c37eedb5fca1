"""The LAMMPS engine's tax and the exploration speed-up (issue 14); prints two markdown tables.

1. *Engine tax*: the same POD model and MgO cell, NVT (Nosé–Hoover) at 4000 K, through
   :class:`~deepearth.md.lammps_engine.LammpsEngine` (guard every 10 steps, an observer taking every
   10th frame as production does, without writing it) and through bare LAMMPS with the same input as
   one ``run`` (``thermo`` every 10 steps): speed ratio bare/engine time (goal ≥ 0.95).
2. *Exploration cost*: one grid point of an exploration iteration (NPT, committee deviation every
   10 steps, 4 POD members) through the ASE engine with the committee evaluated by 4 calculators
   (before issue 14) and through the LAMMPS engine with the committee inside the engine.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/lammps_engine.py --models runs/mgo-quickstart/models/final

``--models`` is a folder with ``member-*/model.pod`` (the quickstart's final committee); the
quickstart (``deepearth run examples/mgo-quickstart.toml``) makes one.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from ase.build import bulk

from deepearth.explore.deviation import model_deviation
from deepearth.lammps.run import run_in_process
from deepearth.md.engine import ASEEngine, MDGuard, MDSettings
from deepearth.md.lammps_engine import LammpsEngine
from deepearth.potentials.committee import Committee
from deepearth.potentials.pod import PODCalculator, PODPotential


def _mgo(rep: int, a0: float = 3.85):
    atoms = bulk("MgO", "rocksalt", a=a0, cubic=True).repeat(rep)
    atoms.rattle(0.05, seed=1)
    return atoms


def engine_tax(model: Path, rep: int, steps: int) -> tuple[int, float, float]:
    """(atoms, engine seconds, bare seconds) for ``steps`` NVT steps."""
    calc = PODCalculator(model)
    atoms = _mgo(rep)
    kept = []
    settings = MDSettings("nvt", 4000.0, steps, 1.0, seed=3, guard=MDGuard(),
                          observers=[(lambda a, s: kept.append(a.positions.copy()), 10)])
    t0 = time.perf_counter()
    LammpsEngine().run(atoms, calc, settings)
    t_engine = time.perf_counter() - t0
    # bare LAMMPS: the same box, potential and thermostat, one run
    pair = calc.lammps_pair()
    atoms = _mgo(rep)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "mgo.data"
        from ase.io import write

        write(data, atoms, format="lammps-data", specorder=pair.type_map, masses=True)
        cmds = ["units metal", "atom_style atomic", "atom_modify map array sort 0 0.0", f"read_data {data}",
                *pair.commands, "timestep 0.001", "velocity all create 4000 3 mom yes rot no dist gaussian",
                "fix integrate all nvt temp 4000 4000 0.1", "thermo 10", f"run {steps}"]
        t0 = time.perf_counter()
        run_in_process(cmds, tmp)
        t_bare = time.perf_counter() - t0
    return len(atoms), t_engine, t_bare


def exploration_cost(models: list[Path], steps: int) -> tuple[float, float, float, float]:
    """(ASE-engine s, LAMMPS-engine s with the committee inside, LAMMPS-engine s with the committee
    evaluated by K calculators, max |σ difference| eV/Å of the first frames) for one grid point."""
    committee = Committee(models, PODPotential())
    out = {}
    for name, engine, inside in (("ase", ASEEngine(), False), ("lammps", LammpsEngine(), True),
                                 ("lammps-outside", LammpsEngine(), False)):
        devs = []

        def observe(a, step):
            res = a.calc.results
            forces = res.get("committee_forces")
            if forces is None:
                forces = committee.predict(a).forces_eV_per_A
            devs.append(model_deviation(forces).max_force_std)

        atoms = _mgo(2, a0=4.0)
        t0 = time.perf_counter()
        engine.run(atoms, PODCalculator(models[0]),
                   MDSettings("npt", 4000.0, steps, 1.0, pressure_GPa=140.0, seed=4,
                              observers=[(observe, 10)], committee=[str(m) for m in models] if inside else None))
        out[name] = (time.perf_counter() - t0, np.array(devs))
    return (out["ase"][0], out["lammps"][0], out["lammps-outside"][0],
            float(np.abs(out["ase"][1][:3] - out["lammps"][1][:3]).max()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=Path("runs/mgo-quickstart/models/final"))
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--quick", action="store_true", help="few steps, small cells (a smoke test)")
    args = ap.parse_args(argv)
    models = sorted(args.models.glob("member-*/model.pod"))
    if len(models) < 2:
        print(f"no POD committee in {args.models}: run `deepearth run examples/mgo-quickstart.toml` first")
        return 2
    steps = 100 if args.quick else args.steps
    print("| atoms | steps | engine (s) | bare LAMMPS (s) | bare / engine |\n|---|---|---|---|---|")
    for rep in ((2,) if args.quick else (2, 3, 5)):
        n, te, tb = engine_tax(models[0], rep, steps)
        print(f"| {n} | {steps} | {te:.2f} | {tb:.2f} | {tb / te:.3f} |")
    ex_steps = 60 if args.quick else 600
    ta, tl, to, diff = exploration_cost(models, ex_steps)
    print(f"\n| exploration, 64 atoms, {ex_steps} NPT steps, deviation every 10, {len(models)} members | time (s) | "
          f"speed-up |\n|---|---|---|")
    print(f"| ASE engine + committee by {len(models)} calculators | {ta:.2f} | 1 |")
    print(f"| LAMMPS engine + committee inside (pod/global) | {tl:.2f} | {ta / tl:.1f}× |")
    print(f"| LAMMPS engine + committee by {len(models)} calculators | {to:.2f} | {ta / to:.1f}× |")
    print(f"\n(first frames' max σ_F agree to {diff:.1e} eV/Å: same start, same committee)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
