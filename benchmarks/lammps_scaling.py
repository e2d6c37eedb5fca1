"""LAMMPS MD speed and memory vs system size: MgO rock salt, POD and compressed DeePMD, 1 and 2 MPI ranks.

    OMP_NUM_THREADS=1 python benchmarks/lammps_scaling.py [--model model.pod] [--deepmd-model model.pb]
                                                          [--cells 5,10,15,20,25] [--mid 15] [--quick]

MgO rock salt, n×n×n conventional cells (8 n³ atoms: 1000, 8000, 27000, 64000, 125000 for n = 5, 10,
15, 20, 25) at a = 3.767 Å (≈ 140 GPa by the quickstart's xTB EOS), velocities at 4000 K, NVT
(Nosé–Hoover, 0.1 ps) at 4000 K, 1 fs. Each size is one LAMMPS child process (one thread, 1 MPI rank;
2 ranks via ``mpirun -np 2`` for the ``--mid`` size): set-up, a warm-up run, then a timed run of
≈ 4 × 10⁵ atom-steps (4–50 steps). Speed is LAMMPS' own loop time of the timed run (no set-up, no
start-up), memory its per-rank allocation and rank 0's peak RSS (``info memory``); see
``lammps_timing.py``.

Models: ``--model`` (default: the quickstart's final POD model, member 0; without it the script says
to run ``deepearth run examples/mgo-quickstart.toml`` and exits 2) and ``--deepmd-model`` (default: a
small se_e2_a Mg/O model trained on the quickstart's labels and compressed with ``dp --tf compress``,
made once in ``runs/bench-deepmd-mgo``, ≈ 40 s; ``--no-deepmd`` skips it). ``--quick`` (< 60 s, the
smoke test): 64 and 512 atoms, 10 steps, no DeePMD unless ``--deepmd-model`` is given, and without the
quickstart a tiny POD model fitted on Lennard-Jones labels (plumbing only, said in the output).

Prints a markdown table, then per model whether the time per atom-step is constant in N (the
exponent of time per step vs N; 1 = linear scaling), memory per atom, and the 2-rank speed-up.
"CPU %" is LAMMPS' own CPU use of the timed loop: on a shared machine a row well under 100 % lost
its core to another process part of the time, and "katom-step/s ÷ CPU share" estimates the speed
with the core(s) to itself; ``--retries K`` repeats such runs up to K times and keeps the fastest.
Results: benchmarks/RESULTS.md, "LAMMPS at scale (issue 14)".
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import lammps_timing as lt  # noqa: E402


def md_commands(model: Path, n_cells: int, T_K: float, seed: int = 12345) -> list[str]:
    types = ["Mg", "O"]
    return ["units metal", "atom_style atomic", "boundary p p p",
            *lt.rocksalt_commands(n_cells, lt.A_140GPA, types),
            *lt.pair_lines(model, types),
            "neighbor 2.0 bin", "neigh_modify delay 0 every 1 check yes",
            # 2T: a perfect lattice shares the kinetic energy with the potential (equipartition)
            f"velocity all create {2 * T_K} {seed} mom yes rot no dist gaussian loop geom",
            f"fix md all nvt temp {T_K} {T_K} 0.1", "timestep 0.001"]


def resolve_models(args) -> list[Path] | int:
    """The models to run (POD first), or an exit status after saying why there are none."""
    pod = lt.pod_model(args)
    if isinstance(pod, int):
        return pod
    models = [pod]
    if args.deepmd_model:
        models.append(Path(args.deepmd_model))
    elif not args.no_deepmd and not args.quick and all(lt.model_kind(m) != "deepmd" for m in models):
        models.append(lt.deepmd_model(compressed=True))
    elif args.quick and not args.no_deepmd:
        print("DeePMD skipped in --quick (pass --deepmd-model to time one)")
    for m in models:
        if not m.is_file():
            print(f"no model file {m}")
            return 2
    return models


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a model.pod or model.pb (default: the quickstart's final POD model)")
    parser.add_argument("--deepmd-model", help="a DeePMD .pb to time as well (default: the compressed "
                                               "benchmark model, made if missing)")
    parser.add_argument("--no-deepmd", action="store_true", help="time the --model only")
    parser.add_argument("--quickstart", default=str(lt.QUICKSTART), help="the quickstart run directory")
    parser.add_argument("--cells", default="5,10,15,20,25", help="n of the n×n×n conventional cells (8 n³ atoms)")
    parser.add_argument("--deepmd-cells", help="cells for the DeePMD model (default: --cells)")
    parser.add_argument("--mid", type=int, default=15, help="cells of the 1- vs 2-rank comparison (0: none)")
    parser.add_argument("--atom-steps", type=float, default=4e5, help="atom-steps per timed run (4–50 steps)")
    parser.add_argument("--retries", type=int, default=0, help="repeat a run whose loop got < 90 %% of its "
                                                                "cores (shared machine), keeping the fastest")
    parser.add_argument("--T-K", dest="T_K", type=float, default=4000.0)
    parser.add_argument("--workdir", default=str(lt.ROOT / "runs" / "bench-lammps" / "scaling"))
    parser.add_argument("--quick", action="store_true", help="64 and 512 atoms, 10 steps (< 60 s)")
    args = parser.parse_args(argv)
    if args.quick:
        args.cells, args.mid, args.atom_steps = "2,4", 4, 0
    models = resolve_models(args)
    if isinstance(models, int):
        return models
    workdir = Path(args.workdir)
    cells = [int(c) for c in args.cells.split(",")]
    t_start = time.perf_counter()
    print(f"machine: {lt.machine_line()}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    results: dict[str, list[lt.Timing]] = {}
    two_rank: dict[str, tuple[lt.Timing, lt.Timing]] = {}
    for model in models:
        kind = lt.model_kind(model)
        label = f"{kind} {model.name}"
        print(f"{label}: {model}")
        these = cells if kind == "pod" or not args.deepmd_cells else [int(c) for c in args.deepmd_cells.split(",")]
        results[label] = []
        for n in these:
            n_atoms = 8 * n ** 3
            steps = 10 if args.quick else lt.steps_for(n_atoms, args.atom_steps, 4, 50)
            warmup = 2 if args.quick else lt.steps_for(n_atoms, 5e4, 1, 5)
            for ranks in ((1, 2) if n == args.mid else (1,)):
                t = lt.timed_run(label, md_commands(model, n, args.T_K), workdir / f"{kind}-{n_atoms}-r{ranks}",
                                 steps=steps, warmup=warmup, ranks=ranks, plugins=kind == "deepmd",
                                 retries=args.retries)
                print(f"  N = {t.n_atoms:6d}, {ranks} rank(s): {t.atom_steps_per_s / 1e3:7.2f} katom-step/s, "
                      f"peak RSS {t.rss_mb:6.0f} MB, CPU {100 * t.cpu_share:3.0f} %, "
                      f"T_end {t.thermo.get('Temp', float('nan')):5.0f} K (child {t.wall_s:.0f} s)", flush=True)
                if ranks == 1:
                    results[label].append(t)
                else:
                    two_rank[label] = (next(x for x in results[label] if x.n_atoms == t.n_atoms), t)

    header = ["model", "N atoms", "ranks", "steps", "loop (s)", "katom-step/s", "µs/atom-step",
              "LAMMPS MB/rank", "peak RSS MB (rank 0)", "pair %", "CPU %", "katom-step/s ÷ CPU share",
              "ns/day at 1 fs", "T_end (K)"]
    rows = []
    for label, ts in results.items():
        for t in ts + ([two_rank[label][1]] if label in two_rank else []):
            rows.append([label, t.n_atoms, t.ranks, t.steps, f"{t.loop_s:.2f}", f"{t.atom_steps_per_s / 1e3:.2f}",
                         f"{t.us_per_atom_step:.1f}", f"{t.lammps_mb:.1f}", f"{t.rss_mb:.0f}", f"{t.pair_pct:.1f}",
                         f"{100 * t.cpu_share:.0f}", f"{t.atom_steps_per_s / t.cpu_share / 1e3:.2f}",
                         f"{t.ns_per_day():.3g}", f"{t.thermo.get('Temp', float('nan')):.0f}"])
    print()
    print(lt.markdown_table(header, rows))
    print()
    for label, ts in results.items():
        print(f"- {label}: {lt.linearity(ts)}; {lt.memory_per_atom(ts)}")
        if label in two_rank:
            one, two = two_rank[label]
            speedup = two.atom_steps_per_s / one.atom_steps_per_s
            print(f"- {label}: 2 ranks at N = {one.n_atoms}: speed-up {speedup:.2f} (parallel efficiency "
                  f"{speedup / 2:.0%}); peak RSS rank 0 {two.rss_mb:.0f} MB vs {one.rss_mb:.0f} MB on 1 rank")
    print(f"- NVT {args.T_K:.0f} K, a = {lt.A_140GPA} Å; total wall {time.perf_counter() - t_start:.0f} s; "
          f"machine: {lt.machine_line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
