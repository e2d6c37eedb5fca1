"""Time the building blocks of a run on this machine and print a table.

    python benchmarks/components.py [--model path/to/model.pb]

Measures: GFN1-xTB label of a 64-atom MgO cell; one ASE-engine MD step with a DeePMD model;
a 4-member committee evaluation; the FFT MSD of 64 atoms × 2000 frames. The model defaults to
the quickstart's final model (run the quickstart first).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from ase.build import bulk  # noqa: E402


def timeit(fn, repeat: int) -> float:
    fn()  # warm-up
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t) / repeat


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="runs/mgo-quickstart/models/final/member-0/model.pb")
    args = parser.parse_args()
    from deepearth.parallel import set_single_thread_env

    set_single_thread_env()
    rows = []
    atoms = bulk("MgO", "rocksalt", a=3.76, cubic=True).repeat((2, 2, 2))
    atoms.rattle(0.1, seed=1)

    from deepearth.reference.xtb import xtb_labeller

    lab = xtb_labeller("GFN1-xTB", 4000.0)
    rows.append(("GFN1-xTB label, 64-atom MgO", timeit(lambda: lab.label(atoms), 3), "s"))

    if os.path.isfile(args.model):
        from deepearth import load_potential
        from deepearth.md.engine import ASEEngine, MDSettings
        from deepearth.potentials.committee import Committee
        from deepearth.potentials.deepmd import DeepMDPotential

        md_atoms, calc, n = atoms.copy(), load_potential(args.model), 500
        ASEEngine().run(md_atoms, calc, MDSettings("nvt", 4000.0, 20, 1.0, seed=1))  # warm-up: graph load
        t = time.perf_counter()
        ASEEngine().run(md_atoms, calc, MDSettings("nvt", 4000.0, n, 1.0, seed=1, init_velocities=False))
        rows.append(("ASE NVT step with DeePMD, 64 atoms", (time.perf_counter() - t) / n, "s"))
        committee = Committee([args.model] * 4, DeepMDPotential())
        rows.append(("4-member committee evaluation, 64 atoms", timeit(lambda: committee.predict(atoms), 20), "s"))
    else:
        print(f"(no model at {args.model}: MD and committee rows skipped)")

    from deepearth.properties.diffusion import msd_per_atom

    pos = np.random.default_rng(0).normal(size=(2000, 64, 3)).cumsum(axis=0)
    rows.append(("FFT MSD, 64 atoms x 2000 frames", timeit(lambda: msd_per_atom(pos), 3), "s"))

    print(f"machine: {platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"date {time.strftime('%Y-%m-%d')}, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}")
    print(f"| {'what':45s} | {'time':>10s} |")
    print(f"|{'-' * 47}|{'-' * 12}|")
    for what, value, unit in rows:
        print(f"| {what:45s} | {value * 1e3:8.1f} ms |")


if __name__ == "__main__":
    main()
