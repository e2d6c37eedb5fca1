"""The seeds' system in LAMMPS: a ≥ 50,000-atom Σ5 (310)/[001] MgO bicrystal with W⁶⁺ in the boundary slab,
NPT at 140 GPa and 4000 K; speed, memory and projected ns/day on 1 and 2 MPI ranks.

    OMP_NUM_THREADS=1 python benchmarks/seeds_bicrystal.py [--model model.pod] [--deepmd-model model.pb]
                                                           [--atoms 50000] [--w 8] [--quick]

Structure: ``deepearth.structures.grain_boundary`` (Σ5 (310)/[001] symmetric tilt, rock salt at
a = 3.767 Å ≈ 140 GPa by the quickstart's xTB EOS, ``--length`` Å along the normal, rigid translation
0, overlap repair) with the CSL block repeated in the boundary plane until the cell holds ≥ ``--atoms``
atoms (square-ish in plane), then ``deepearth.structures.defects.add_impurity(..., "W", 6, "Mg",
n=--w, region="gb")``: W⁶⁺ on random Mg sites of the boundary slabs (10 Å wide), each charge-balanced
by removing the 2 nearest Mg (Mg vacancies).

Potential: the MgO models know no W. **Speed only, W treated as Mg by the potential**: the W type
keeps W's mass, and ``pair_coeff`` maps it onto the model's Mg species (POD: ``... Mg O Mg``; DeePMD:
``pair_coeff * * Mg O Mg``). Nothing here is W physics; the cost per atom is what a W-aware model
of the same size would cost.

Run: velocities at 2 × 4000 K (the lattice takes half), ``fix npt`` (Nosé–Hoover, T damping 0.1 ps,
``aniso`` 1.4 × 10⁶ bar = 140 GPa, P damping 1 ps), 1 fs; a warm-up run, then a timed run of ≈ 4 × 10⁵
atom-steps, on 1 rank and on 2 ranks (``mpirun -np 2``), each in its own LAMMPS child process
(``lammps_timing.timed_run``: LAMMPS' loop time, per-rank allocation, rank 0's peak RSS).
Projected ns/day = steps/s × 86400 × 10⁻⁶ ns/fs, i.e. for this machine and this number of cores
("CPU %" and "÷ CPU share" as in ``lammps_scaling.py``: the loop's CPU use, and the speed it would
have had with its cores to itself). Results: benchmarks/RESULTS.md, "LAMMPS at scale (issue 14)".

``--quick`` (< 60 s, the smoke test): ≈ 1000 atoms, 10 steps; without the quickstart a tiny POD model
fitted on Lennard-Jones labels (plumbing only). DeePMD runs only with ``--deepmd-model`` or, in the
full run, when the benchmark's compressed model exists (``lammps_scaling.py`` makes it).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import lammps_timing as lt  # noqa: E402

TYPES = ["Mg", "O", "W"]
AS_SPECIES = {"W": "Mg"}
SPEED_ONLY = "SPEED ONLY, W TREATED AS Mg BY THE POTENTIAL (the MgO model knows no W; W keeps its mass)"


def build_bicrystal(n_atoms: int, length_A: float, n_w: int, seed: int = 0):
    """The Σ5 (310)/[001] MgO bicrystal with ≥ ``n_atoms`` atoms before the defects, W⁶⁺ in the slabs."""
    from ase.build import bulk

    from deepearth.structures.defects import add_impurity
    from deepearth.structures.grain_boundary import grain_boundary

    crystal = bulk("MgO", "rocksalt", a=lt.A_140GPA, cubic=True)
    block = grain_boundary(crystal, plane=(3, 1, 0), min_length_A=length_A, min_inplane_A=0.0)
    lx, ly, _ = block.cell.lengths()
    width = max(lx, ly)
    while math.ceil(width / lx - 1e-9) * math.ceil(width / ly - 1e-9) * len(block) < n_atoms:
        width += 0.5
    gb = grain_boundary(crystal, plane=(3, 1, 0), min_length_A=length_A, min_inplane_A=width)
    if len(gb) < n_atoms:
        raise RuntimeError(f"bicrystal of {len(gb)} atoms < {n_atoms}")
    n_plain = len(gb)
    seeded = add_impurity(gb, "W", 6, "Mg", n=n_w, region="gb", seed=seed) if n_w else gb
    seeded.info["n_plain"] = n_plain
    return seeded


def write_data(atoms, path: Path) -> None:
    from ase.io import write

    write(path, atoms, format="lammps-data", specorder=TYPES, atom_style="atomic", masses=False)


def md_commands(model: Path, data: Path, T_K: float, P_bar: float, seed: int = 4321) -> list[str]:
    return ["units metal", "atom_style atomic", "boundary p p p",
            f"read_data {lt.lammps_word(str(data.resolve()), 'data file')}",
            *lt.mass_lines(TYPES), *lt.pair_lines(model, TYPES, AS_SPECIES),
            "neighbor 2.0 bin", "neigh_modify delay 0 every 1 check yes",
            f"velocity all create {2 * T_K} {seed} mom yes rot no dist gaussian loop geom",
            f"fix md all npt temp {T_K} {T_K} 0.1 aniso {P_bar} {P_bar} 1.0", "timestep 0.001"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a model.pod or model.pb (default: the quickstart's final POD model)")
    parser.add_argument("--deepmd-model", help="a DeePMD .pb to time as well (default: the benchmark's "
                                               "compressed model if it exists)")
    parser.add_argument("--no-deepmd", action="store_true")
    parser.add_argument("--quickstart", default=str(lt.QUICKSTART), help="the quickstart run directory")
    parser.add_argument("--atoms", type=int, default=50000, help="at least this many atoms before the defects")
    parser.add_argument("--length", type=float, default=60.0, help="bicrystal length along the normal (Å)")
    parser.add_argument("--w", type=int, default=8, help="W⁶⁺ substituted on Mg in the boundary slabs")
    parser.add_argument("--atom-steps", type=float, default=4e5, help="atom-steps of the timed run")
    parser.add_argument("--ranks", default="1,2")
    parser.add_argument("--retries", type=int, default=0, help="repeat a run whose loop got < 90 %% of its "
                                                                "cores (shared machine), keeping the fastest")
    parser.add_argument("--T-K", dest="T_K", type=float, default=4000.0)
    parser.add_argument("--P-GPa", dest="P_GPa", type=float, default=140.0)
    parser.add_argument("--workdir", default=str(lt.ROOT / "runs" / "bench-lammps" / "bicrystal"))
    parser.add_argument("--quick", action="store_true", help="≈ 1000 atoms, 10 steps (< 60 s)")
    args = parser.parse_args(argv)
    if args.quick:
        args.atoms, args.length, args.w = 900, 30.0, 2
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)

    pod = lt.pod_model(args)
    if isinstance(pod, int):
        return pod
    models = [pod]
    if args.deepmd_model:
        models.append(Path(args.deepmd_model))
    elif not args.quick and not args.no_deepmd and (lt.DEEPMD_DIR / "model-compressed.pb").is_file():
        models.append(lt.DEEPMD_DIR / "model-compressed.pb")
    for m in models:
        if not m.is_file():
            print(f"no model file {m}")
            return 2

    t0 = time.perf_counter()
    atoms = build_bicrystal(args.atoms, args.length, args.w)
    t_build = time.perf_counter() - t0
    data = workdir / "bicrystal.data"
    write_data(atoms, data)
    cb = atoms.info.get("charge_balance", {})
    formula = atoms.get_chemical_formula()
    lengths = " × ".join(f"{x:.1f}" for x in atoms.cell.lengths())
    print(f"machine: {lt.machine_line()}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    print(f"Σ{atoms.info['sigma']} (310)/[001] MgO bicrystal, a = {lt.A_140GPA} Å: {atoms.info['n_plain']} atoms "
          f"built in {t_build:.2f} s, cell {lengths} Å (boundary normal last), boundaries at z = "
          + ", ".join(f"{z:.1f}" for z in atoms.info["boundary_positions_A"]) + " Å")
    print(f"W⁶⁺ on {args.w} Mg sites in the boundary slabs, {cb.get('removed', {})} removed for charge balance "
          f"(formal charge {cb.get('before', 0):+g} → {cb.get('after', 0):+g}): {len(atoms)} atoms, {formula}")
    print(SPEED_ONLY)
    P_bar = args.P_GPa * 1e4
    ranks_list = [int(r) for r in args.ranks.split(",")]
    rows, timings = [], []
    for model in models:
        kind = lt.model_kind(model)
        label = f"{kind} {model.name}"
        print(f"{label}: {model}")
        steps = 10 if args.quick else lt.steps_for(len(atoms), args.atom_steps, 4, 50)
        warmup = 2 if args.quick else 1
        for ranks in ranks_list:
            t = lt.timed_run(label, md_commands(model, data, args.T_K, P_bar), workdir / f"{kind}-r{ranks}",
                             steps=steps, warmup=warmup, ranks=ranks, plugins=kind == "deepmd",
                                 retries=args.retries)
            timings.append(t)
            th = t.thermo
            print(f"  {ranks} rank(s): {t.atom_steps_per_s / 1e3:.2f} katom-step/s, {t.ns_per_day():.3g} ns/day, "
                  f"peak RSS {t.rss_mb:.0f} MB, CPU {100 * t.cpu_share:.0f} % (child {t.wall_s:.0f} s)", flush=True)
            rows.append([label + " (W as Mg)", t.n_atoms, ranks, t.steps, f"{t.loop_s:.2f}",
                         f"{t.atom_steps_per_s / 1e3:.2f}", f"{t.us_per_atom_step:.1f}", f"{t.lammps_mb:.1f}",
                         f"{t.rss_mb:.0f}", f"{100 * t.cpu_share:.0f}",
                         f"{t.atom_steps_per_s / t.cpu_share / 1e3:.2f}", f"{t.ns_per_day():.3g}",
                         f"{1 / t.ns_per_day():.3g}",
                         f"{th.get('Temp', float('nan')):.0f}", f"{th.get('Press', float('nan')) / 1e4:.0f}"])
    header = ["model", "N atoms", "ranks", "steps", "loop (s)", "katom-step/s", "µs/atom-step", "LAMMPS MB/rank",
              "peak RSS MB (rank 0)", "CPU %", "katom-step/s ÷ CPU share", "ns/day at 1 fs", "days per ns",
              "T_end (K)", "P_end (GPa)"]
    print()
    print(lt.markdown_table(header, rows))
    print()
    print(f"- {SPEED_ONLY}")
    print(f"- NPT {args.T_K:.0f} K, {args.P_GPa:g} GPa (aniso); T_end/P_end: the last thermo line of the short "
          f"timed run (not equilibrated); total wall {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
