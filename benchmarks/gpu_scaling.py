"""DeePMD ``pair_style deepmd`` on a GPU: atom-steps/s vs N for MgO rock salt (a markdown table).

    python benchmarks/gpu_scaling.py [--model model.pb] [--cells 10,15,20,25,30,40,50] [--out table.md] [--quick]

For when a machine with an NVIDIA GPU is lent. On a machine without one (no ``nvidia-smi``, or it
lists no GPU) it prints the one line ``no GPU: nothing measured`` and exits 0 (the smoke test checks
this); it imports nothing heavy before that check.

The GPU needs DeePMD-kit's CUDA build with the LAMMPS plugin and TensorFlow with CUDA:

    pip install "deepmd-kit[gpu,cu12,lmp]"

(not installed by this project; the CPU install ``deepmd-kit[cpu,lmp]`` cannot use the GPU: with a
GPU present but a TensorFlow that sees none the script says so and exits 1 rather than time the CPU).

What runs: ``lammps_scaling.md_commands`` (MgO rock salt n×n×n conventional cells, 8 n³ atoms:
8000 … 1,000,000 for n = 10 … 50, a = 3.767 Å ≈ 140 GPa, velocities at 8000 K, NVT 4000 K, 1 fs),
one LAMMPS child process per size on 1 MPI rank (one CPU thread), DeePMD on the GPU; a warm-up run
then a timed run of ≈ 2 × 10⁷ atom-steps (10–200 steps), timed by LAMMPS' own loop time
(``lammps_timing.timed_run``). GPU memory: the largest ``nvidia-smi`` ``memory.used`` seen while the
child ran (sampled every 0.2 s; ``TF_FORCE_GPU_ALLOW_GROWTH=true`` so TensorFlow takes what it uses,
not the whole card), minus the reading before it started.

Model: ``--model`` (default: the benchmark's compressed Mg/O model ``runs/bench-deepmd-mgo/model-compressed.pb``,
made by ``benchmarks/lammps_scaling.py``; ``runs/`` is ignored by git, so on a lent machine carry it
or pass another ``.pb``). ``--quick``: 1000 and 8000 atoms, 20 steps.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

NO_GPU = "no GPU: nothing measured"
INSTALL = 'pip install "deepmd-kit[gpu,cu12,lmp]"'


def gpus() -> list[str]:
    """The GPUs ``nvidia-smi -L`` lists ([] without the tool, a driver or a device)."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if out.returncode != 0:
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.startswith("GPU ")]


def gpu_memory_mb() -> float:
    """``memory.used`` of GPU 0 in MiB (nan when unreadable)."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits", "-i", "0"],
                             capture_output=True, text=True, timeout=10)
        return float(out.stdout.split()[0])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        return float("nan")


class GpuMemoryPeak:
    """Samples GPU 0's memory.used in a thread while the ``with`` block runs; ``peak_mb`` above the start."""

    def __init__(self, interval_s: float = 0.2):
        self.interval_s, self.peak_mb, self._stop = interval_s, float("nan"), threading.Event()

    def __enter__(self):
        self.base = gpu_memory_mb()
        self._max = self.base
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self):
        while not self._stop.wait(self.interval_s):
            m = gpu_memory_mb()
            if m == m and (self._max != self._max or m > self._max):
                self._max = m

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_mb = self._max - self.base


def tensorflow_gpus() -> int:
    """GPUs TensorFlow sees, asked in a child process (importing TensorFlow takes seconds and memory)."""
    code = "import tensorflow as tf; print(len(tf.config.list_physical_devices('GPU')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    try:
        return int(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a DeePMD .pb (default: runs/bench-deepmd-mgo/model-compressed.pb)")
    parser.add_argument("--cells", default="10,15,20,25,30,40,50", help="n of the n×n×n cells (8 n³ atoms)")
    parser.add_argument("--atom-steps", type=float, default=2e7, help="atom-steps of each timed run (10–200 steps)")
    parser.add_argument("--T-K", dest="T_K", type=float, default=4000.0)
    parser.add_argument("--workdir", default=None, help="default: runs/bench-lammps/gpu")
    parser.add_argument("--out", help="also write the markdown table to this file")
    parser.add_argument("--quick", action="store_true", help="1000 and 8000 atoms, 20 steps")
    args = parser.parse_args(argv)

    found = gpus()
    if not found:
        print(NO_GPU)
        return 0
    if tensorflow_gpus() == 0:
        print(f"GPU present ({found[0]}) but TensorFlow sees none: {INSTALL}; nothing measured")
        return 1

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import lammps_scaling
    import lammps_timing as lt

    model = Path(args.model) if args.model else lt.DEEPMD_DIR / "model-compressed.pb"
    if not model.is_file():
        print(f"no DeePMD model {model}: run benchmarks/lammps_scaling.py first (it makes one) or pass --model")
        return 2
    workdir = Path(args.workdir) if args.workdir else lt.ROOT / "runs" / "bench-lammps" / "gpu"
    cells = [5, 10] if args.quick else [int(c) for c in args.cells.split(",")]
    print(f"GPU: {found[0]}; machine: {lt.machine_line()}; model {model}")
    rows, timings = [], []
    for n in cells:
        n_atoms = 8 * n ** 3
        steps = 20 if args.quick else lt.steps_for(n_atoms, args.atom_steps, 10, 200)
        with GpuMemoryPeak() as mem:
            t = lt.timed_run("deepmd (GPU)", lammps_scaling.md_commands(model, n, args.T_K),
                             workdir / f"deepmd-{n_atoms}", steps=steps, warmup=5, plugins=True,
                             env={"TF_FORCE_GPU_ALLOW_GROWTH": "true"})
        timings.append(t)
        print(f"  N = {t.n_atoms}: {t.atom_steps_per_s / 1e6:.3f} Matom-step/s, GPU memory +{mem.peak_mb:.0f} MiB, "
              f"host RSS {t.rss_mb:.0f} MB (child {t.wall_s:.0f} s)", flush=True)
        rows.append([t.n_atoms, t.steps, f"{t.loop_s:.2f}", f"{t.atom_steps_per_s / 1e6:.3f}",
                     f"{t.us_per_atom_step * 1e3:.1f}", f"{t.ns_per_day():.3g}", f"{mem.peak_mb:.0f}",
                     f"{t.rss_mb:.0f}", f"{t.thermo.get('Temp', float('nan')):.0f}"])
    table = lt.markdown_table(["N atoms", "steps", "loop (s)", "Matom-step/s", "ns/atom-step", "ns/day at 1 fs",
                               "GPU MiB (peak − idle)", "host RSS MB", "T_end (K)"], rows)
    summary = f"- DeePMD {model.name} on {found[0]}, 1 MPI rank: {lt.linearity(timings)}"
    print()
    print(table)
    print()
    print(summary)
    if args.out:
        Path(args.out).write_text(f"{table}\n\n{summary}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
