"""Shared code of the LAMMPS-at-scale benchmarks (issue 14): models, cells, one timed run, the table.

Not a benchmark itself; ``lammps_scaling.py``, ``seeds_bicrystal.py`` and ``gpu_scaling.py`` import it
(they run as scripts from any directory: ``benchmarks/`` is on ``sys.path`` then).

One timed run (:func:`timed_run`) is a LAMMPS input in a child process
(:func:`deepearth.lammps.child.run_child`, ``mpirun -np R`` for ``ranks=R > 1``), one thread per rank:
set-up commands, ``run WARMUP`` (neighbour lists, first force call, thermostat start), ``run STEPS``
and ``info memory out log``. From LAMMPS' own log:

* speed: the *last* ``Loop time of X on P procs for S steps with N atoms`` line, i.e. the
  ``STEPS`` loop alone (no set-up, no warm-up, no Python or TensorFlow start-up):
  atom-steps/s = N S / X;
* memory: ``Per MPI rank memory allocation (min/avg/max)`` (what LAMMPS itself allocated: atoms,
  neighbour lists, the pair style's own arrays as far as it reports them; max over ranks), and the
  peak RSS of rank 0 (the whole process: Python, the LAMMPS library, TensorFlow for DeePMD), read at
  the end by ``shell grep VmHWM /proc/$PPID/status`` (``$PPID`` of the shell LAMMPS starts is the
  rank). Not getrusage: Linux carries the RSS of the process that forked the child into the child's
  ``ru_maxrss`` across ``exec`` (``info memory``'s "Maximum resident set size" of a 1-rank child
  started from this benchmark reads ≈ 120 MB, the benchmark's own RSS, for a 60 MB LAMMPS; under
  ``mpirun`` it is right). Peak RSS is the number a job must ask for per rank; differences between
  sizes give the memory per atom.
* contention: LAMMPS' ``NN% CPU use with P MPI tasks`` of the timed loop (CPU time over wall time,
  averaged over ranks). On a shared machine a share well below 100 % means another process took the
  core(s), and the speed is low by about that factor.

Models: a ``.pod`` (deepearth POD manifest, ``pair_style pod`` via
:func:`deepearth.potentials.pod.pair_commands`) or a ``.pb`` (DeePMD-kit frozen graph,
``pair_style deepmd``, needs the ``lammps.plugins`` entry point: ``plugins=True``). LAMMPS types are
named by a list of elements; ``as_species`` maps an element the model does not know onto one it does
(W → Mg for the seeds' bicrystal: speed only).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from ase.data import atomic_masses, atomic_numbers  # noqa: E402

from deepearth.lammps import lammps_word, run_child  # noqa: E402
from deepearth.parallel import SINGLE_THREAD_ENV  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "runs" / "mgo-quickstart"
QUICKSTART_MODEL = Path("models/final/member-0/model.pod")          # inside the quickstart run
NEED_QUICKSTART = "no MgO POD model: run `deepearth run examples/mgo-quickstart.toml` first (or pass --model PATH)"
DEEPMD_DIR = ROOT / "runs" / "bench-deepmd-mgo"                       # the DeePMD model these benchmarks make
#: MgO rock salt at ≈ 140 GPa: the quickstart run's GFN1-xTB BM3 EOS (benchmarks/gb_energy.py: 3.767 Å).
A_140GPA = 3.767
#: 140 GPa in LAMMPS metal units (bar).
P_140GPA_BAR = 1.4e6

_LOOP = re.compile(r"^Loop time of (\S+) on (\d+) procs for (\d+) steps with (\d+) atoms")
_MEM = re.compile(r"^Per MPI rank memory allocation \(min/avg/max\) = (\S+) \| (\S+) \| (\S+) Mbytes")
_RSS = re.compile(r"^Maximum resident set size: (\S+) Mbyte")
_CPU = re.compile(r"^(\S+)% CPU use with")
_HWM = re.compile(r"^VmHWM:\s+(\d+) kB")
_PAIR = re.compile(r"^Pair\s*\|.*\|\s*(\S+)\s*$")


# ------------------------------------------------------------------------------------------ models

def quickstart_model(run_dir: Path = QUICKSTART) -> Path | None:
    """The quickstart's final model (member 0), or None when the run has not been made."""
    path = Path(run_dir) / QUICKSTART_MODEL
    return path if path.is_file() else None


def pod_model(args) -> Path | int:
    """The POD model a benchmark runs: ``args.model``, else the quickstart's, else (``--quick`` only) a
    tiny POD model fitted to Lennard-Jones labels in ``args.workdir``; an exit status (2) after saying
    why there is none."""
    if args.model:
        return Path(args.model)
    found = quickstart_model(Path(args.quickstart))
    if found is None and not args.quick:
        print(NEED_QUICKSTART)
        return 2
    if found is None:
        print("QUICK MODE WITHOUT THE QUICKSTART: a tiny POD model fitted to Lennard-Jones labels "
              "(timings of the plumbing only, no MgO physics)")
        found = tiny_pod_model(Path(args.workdir) / "tiny-pod")
    return found


def model_kind(model: Path) -> str:
    """``"pod"`` or ``"deepmd"`` from the file name (``.pod`` / ``.pb``)."""
    suffix = Path(model).suffix
    if suffix == ".pod":
        return "pod"
    if suffix == ".pb":
        return "deepmd"
    raise ValueError(f"{model}: a model is a .pod (POD manifest) or a .pb (DeePMD frozen graph)")


def pair_lines(model: Path, types: list[str], as_species: dict[str, str] | None = None) -> list[str]:
    """``pair_style``/``pair_coeff`` commands of ``model`` for LAMMPS types named ``types`` (in
    order); an element in ``as_species`` is given the model species it maps to (W → Mg)."""
    mapped = [(as_species or {}).get(t, t) for t in types]
    model = Path(model).resolve()
    if model_kind(model) == "deepmd":
        return [f"pair_style deepmd {lammps_word(str(model), 'DeePMD model')}", "pair_coeff * * " + " ".join(mapped)]
    from deepearth.potentials.pod import pair_commands, read_model

    species = list(read_model(model)["type_map"])
    missing = sorted(set(mapped) - set(species))
    if missing:
        raise ValueError(f"{model}: no species {missing} in the model's type map {species}")
    extra = [t for t in types if t not in species]
    base = list(types[:len(types) - len(extra)])
    if list(types[len(base):]) != extra:
        raise ValueError(f"types {types}: the elements the model does not know ({extra}) must come last")
    out = []
    for line in pair_commands(model, base):
        words = line.split()
        if extra and words[:3] == ["pair_coeff", "*", "*"] and words[-len(base):] == base:
            # the POD line names one model species per LAMMPS type: repeated names are fine there
            line = " ".join(words[:-len(base)] + mapped)
        out.append(line)  # per-pair lines (a ZBL floor) keep their type numbers: an extra type gets POD alone
    return out


def mass_lines(types: list[str]) -> list[str]:
    return [f"mass {i} {atomic_masses[atomic_numbers[s]]:.4f}" for i, s in enumerate(types, 1)]


def deepmd_model(compressed: bool = True, log=print) -> Path:
    """A small Mg/O DeePMD model (TF backend, se_e2_a, the quickstart network: 8/16 embedding, 32/32
    fitting, rcut 5 Å) trained on the quickstart's xTB labels (2000 steps), frozen and, with
    ``compressed``, compressed (``dp --tf compress``); made once in ``runs/bench-deepmd-mgo``."""
    out = DEEPMD_DIR / ("model-compressed.pb" if compressed else "model.pb")
    if out.is_file():
        return out
    data = sorted((QUICKSTART / "data").glob("*/train/sys-*"))
    valid = sorted((QUICKSTART / "data").glob("*/valid/sys-*"))
    if not data:
        raise SystemExit(f"no DeePMD model and no training data for one: {NEED_QUICKSTART}")
    from deepearth.potentials.deepmd import DeepMDPotential

    t0 = time.perf_counter()
    log(f"training a DeePMD model in {DEEPMD_DIR} (2000 steps on {len(data)} quickstart system(s)) ...")
    frozen = DeepMDPotential(type_map=["Mg", "O"], training_steps=2000).train(DEEPMD_DIR, data, valid, seed=1)
    if compressed:
        with open(DEEPMD_DIR / "compress.log", "w") as f:
            proc = subprocess.run([sys.executable, "-m", "deepmd", "--tf", "compress", "-i", frozen.name,
                                   "-o", out.name], cwd=DEEPMD_DIR, env=dict(os.environ, **SINGLE_THREAD_ENV),
                                  stdout=f, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            raise SystemExit(f"dp compress failed (see {DEEPMD_DIR / 'compress.log'}); measure the frozen "
                             f"model instead: --deepmd-model {frozen}")
    log(f"  made {out} in {time.perf_counter() - t0:.0f} s")
    return out


def tiny_pod_model(workdir: Path, log=print) -> Path:
    """A tiny Mg/O POD model for ``--quick`` runs without the quickstart (CI): 2-body 4 + 3-body (3, 2),
    rcut 4.5 Å, fitted in a few seconds to 6 rattled 64-atom rock-salt cells labelled by a
    Lennard-Jones pair potential (ASE's; one σ, ε for every pair). Physics-free: only for checking
    that the benchmark machinery runs."""
    workdir = Path(workdir)
    model = workdir / "model.pod"
    if model.is_file():
        return model
    from ase.build import bulk
    from ase.calculators.lj import LennardJones

    from deepearth.potentials.pod import PODPotential
    from deepearth.store import write_deepmd_npy

    rng = np.random.default_rng(0)
    frames = []
    for k in range(6):
        a = bulk("MgO", "rocksalt", a=A_140GPA * (1 + 0.01 * (k % 3 - 1)), cubic=True).repeat(2)
        a.rattle(0.08, rng=rng)
        a.calc = LennardJones(sigma=1.7, epsilon=0.2, rc=4.5, smooth=True)
        a.get_potential_energy()
        frames.append(a)
    write_deepmd_npy(workdir / "train", frames, ["Mg", "O"])
    t0 = time.perf_counter()
    out = PODPotential(["Mg", "O"], rcut_A=4.5, two_body=4, three_body=(3, 2), bootstrap=False,
                       repulsion=False).train(workdir, [workdir / "train"], [], seed=0)
    log(f"tiny POD model (LJ labels, speed plumbing only) fitted in {time.perf_counter() - t0:.1f} s: {out}")
    return out


# ------------------------------------------------------------------------------------------ cells

def rocksalt_commands(n_cells: int, a: float = A_140GPA, types: list[str] = ("Mg", "O")) -> list[str]:
    """LAMMPS commands making an n×n×n conventional MgO rock-salt cell (8 n³ atoms; Mg type 1, O type 2)."""
    basis = ("0 0 0", "0.5 0.5 0", "0.5 0 0.5", "0 0.5 0.5", "0.5 0 0", "0 0.5 0", "0 0 0.5", "0.5 0.5 0.5")
    return [f"lattice custom {a} a1 1 0 0 a2 0 1 0 a3 0 0 1 " + " ".join(f"basis {b}" for b in basis),
            f"region box block 0 {n_cells} 0 {n_cells} 0 {n_cells}",
            f"create_box {len(types)} box",
            "create_atoms 1 box basis 5 2 basis 6 2 basis 7 2 basis 8 2",
            *mass_lines(list(types))]


# ------------------------------------------------------------------------------------------ a timed run

@dataclass
class Timing:
    """One timed run: what ran, how big, how fast, how much memory (see the module docstring)."""

    label: str
    n_atoms: int
    ranks: int
    steps: int
    loop_s: float
    lammps_mb: float           # LAMMPS' "Per MPI rank memory allocation", max over ranks (MB)
    rss_mb: float              # peak RSS of rank 0 (MB): VmHWM
    pair_pct: float            # share of the loop in the pair style (%)
    wall_s: float              # the child's whole wall time (start-up, set-up, warm-up included)
    cpu_share: float = float("nan")  # LAMMPS' "% CPU use" of the timed loop / 100: < 0.9 = contended
    thermo: dict = field(default_factory=dict)

    @property
    def atom_steps_per_s(self) -> float:
        return self.n_atoms * self.steps / self.loop_s

    @property
    def us_per_atom_step(self) -> float:
        """Wall µs per atom-step on this many ranks (not multiplied by the ranks)."""
        return 1e6 / self.atom_steps_per_s

    def ns_per_day(self, timestep_fs: float = 1.0) -> float:
        return self.steps / self.loop_s * 86400 * timestep_fs * 1e-6


def parse_log(path: Path, child_log: Path | None = None) -> dict:
    """The last loop, LAMMPS' per-rank memory, rank 0's peak RSS (``VmHWM`` in the child's log, else
    ``info memory``'s getrusage), the pair share and the last thermo line (Step, Temp, Press, Volume
    as printed) of a LAMMPS log."""
    loop = mem = rss = pair = cpu = None
    thermo_header, thermo_last = None, None
    for line in Path(path).read_text(errors="replace").splitlines():
        if m := _LOOP.match(line):
            loop = (float(m[1]), int(m[2]), int(m[3]), int(m[4]))
        elif m := _MEM.match(line):
            mem = float(m[3])
        elif m := _RSS.match(line):
            rss = float(m[1])
        elif m := _PAIR.match(line):
            pair = float(m[1])
        elif m := _CPU.match(line):
            cpu = float(m[1])
        words = line.split()
        if words[:1] == ["Step"]:
            thermo_header = words
        elif thermo_header and len(words) == len(thermo_header) and words[0].isdigit():
            thermo_last = dict(zip(thermo_header, map(float, words)))
    if loop is None:
        raise RuntimeError(f"{path}: no 'Loop time' line (the run did not finish)")
    if child_log is not None and Path(child_log).is_file():
        hwm = [float(m[1]) / 1024 for line in Path(child_log).read_text(errors="replace").splitlines()
               if (m := _HWM.match(line))]
        rss = hwm[-1] if hwm else rss
    return dict(loop=loop, lammps_mb=mem, rss_mb=rss, pair_pct=pair, cpu_pct=cpu if cpu is not None else float("nan"),
                thermo=thermo_last or {})


def timed_run(label: str, setup: list[str], workdir: Path, *, steps: int, warmup: int = 5, ranks: int = 1,
              plugins: bool = False, timeout_s: float = 1800, env: dict | None = None, retries: int = 0,
              min_cpu: float = 0.9) -> Timing:
    """Run ``setup`` (cell, potential, velocities, fix, timestep), then ``run warmup`` and ``run steps``
    in a child process on ``ranks`` MPI ranks (one thread each); time the last loop (module docstring).
    While the loop got less than ``min_cpu`` of its cores (another process took them) the run is
    repeated, at most ``retries`` times (in ``WORKDIR-try1``, ...); the fastest is returned."""
    best = None
    for k in range(int(retries) + 1):
        where = Path(workdir) if k == 0 else Path(workdir).with_name(f"{Path(workdir).name}-try{k}")
        t = _timed_run_once(label, setup, where, steps=steps, warmup=warmup, ranks=ranks, plugins=plugins,
                            timeout_s=timeout_s, env=env)
        best = t if best is None or t.atom_steps_per_s > best.atom_steps_per_s else best
        if t.cpu_share >= min_cpu:
            break
    return best


def _timed_run_once(label: str, setup: list[str], workdir: Path, *, steps: int, warmup: int, ranks: int,
                    plugins: bool, timeout_s: float, env: dict | None) -> Timing:
    workdir = Path(workdir)
    for old in ("log.lammps", "child.log"):
        (workdir / old).unlink(missing_ok=True)
    commands = [*setup, f"thermo {max(1, steps)}", "thermo_style custom step temp press vol",
                f"run {warmup}", f"run {steps}", "info memory out log",
                'shell grep VmHWM "/proc/$PPID/status"']
    run = run_child(commands, workdir, ranks=ranks, plugins=plugins, timeout_s=timeout_s,
                    env=dict(SINGLE_THREAD_ENV, **(env or {})), label=f"{label} ({ranks} rank(s))")
    got = parse_log(run.lammps_log, run.log_file)
    loop_s, procs, n_steps, n_atoms = got["loop"]
    if procs != ranks or n_steps != steps:
        raise RuntimeError(f"{run.lammps_log}: the last loop ran {n_steps} steps on {procs} procs, "
                           f"expected {steps} on {ranks}")
    return Timing(label, n_atoms, procs, n_steps, loop_s, got["lammps_mb"] or float("nan"),
                  got["rss_mb"] or float("nan"), got["pair_pct"] or float("nan"), run.wall_s,
                  cpu_share=got["cpu_pct"] / 100, thermo=got["thermo"])


def steps_for(n_atoms: int, atom_steps: float, lo: int, hi: int) -> int:
    """A step count giving about ``atom_steps`` atom-steps, clipped to [lo, hi]."""
    return int(min(hi, max(lo, round(atom_steps / n_atoms))))


# ------------------------------------------------------------------------------------------ output

def markdown_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_line() -> str:
    """CPU model, cores and memory of this machine, and the 1-minute load when the line is made."""
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{model}, {os.cpu_count()} CPUs, {mem_gb:.0f} GiB; load {os.getloadavg()[0]:.2f}"


def linearity(timings: list[Timing]) -> str:
    """One line on whether µs/atom-step is constant in N: the slope of log(time per step) vs log(N)
    (1 = linear scaling) and the spread of µs/atom-step."""
    if len(timings) < 2:
        return "one size only: no scaling exponent"
    n = np.array([t.n_atoms for t in timings], float)
    per_step = np.array([t.loop_s / t.steps for t in timings])
    us = np.array([t.us_per_atom_step for t in timings])
    slope = np.polyfit(np.log(n), np.log(per_step), 1)[0]
    return (f"time per step ∝ N^{slope:.3f} over N = {int(n.min())}–{int(n.max())}; µs/atom-step "
            f"{us.min():.1f}–{us.max():.1f} (max/min {us.max() / us.min():.2f})")


def memory_per_atom(timings: list[Timing]) -> str:
    """Peak RSS and LAMMPS' own allocation per atom: least-squares slopes over the sizes (KB/atom)."""
    if len(timings) < 2:
        return "one size only"
    n = np.array([t.n_atoms for t in timings], float)
    rss = np.array([t.rss_mb for t in timings])
    lmp = np.array([t.lammps_mb for t in timings])
    s_rss, c_rss = np.polyfit(n, rss, 1)
    s_lmp = np.polyfit(n, lmp, 1)[0]
    return (f"peak RSS ≈ {c_rss:.0f} MB + {s_rss * 1024:.2f} KB/atom; LAMMPS' own allocation "
            f"{s_lmp * 1024:.2f} KB/atom")
