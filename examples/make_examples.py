"""Regenerate the small example inputs that README.md's commands read (examples/analyze, examples/data,
examples/structures); examples/README.md says what each file is, where it comes from and its licence.

    OMP_NUM_THREADS=1 python examples/make_examples.py       # from the repository root; ≈ 2 min on one core

1. ``examples/data/casio3-melt-pbe/t{2500,3000,4000}.xyz``: 5 frames of each file of
   ``tests/data/casio3-melt-pbe`` (every ``len/5``-th frame, so the pressure range is kept), copied line
   for line (VASP PBE labels of CaSiO3 melt, GPL-3.0).
2. ``examples/analyze/silica-heat-flux.dat``: the first 10 ps (10,000 rows) of
   ``tests/data/sportran-silica/Silica.dat``, copied line for line (heat flux of a-SiO2, GPL-3.0).
3. ``examples/analyze/mgo-melt/``: LAMMPS MD of liquid MgO at 136 GPa with a classical rigid-ion
   potential (Buckingham + Ewald, formal charges ±2; Lewis & Catlow, J. Phys. C 18, 1149 (1985)),
   64 atoms, time step 1 fs. For each temperature (6500–9000 K) and replica: melt at 12,000 K and
   equilibrate at T under NPT (136 GPa), then NVT at the mean NPT volume — 1 ps to settle, 10 ps
   recorded. ``8000K/rep-{0,1,2}/traj.lammpstrj.gz`` are the 8000 K dumps (``id element xu yu zu`` every
   0.2 ps); ``diffusion/<T>K/diffusion_O.json`` are ``deepearth analyze diffusion`` of O at each T
   (the dumps of the other temperatures are not kept); ``gk-8000K.dat`` is a 20 ps NVT run at 8000 K
   whose ``fix ave/time`` table holds the pressure tensor (bar) and the charge current
   J = Σ q_i v_i (e·Å/ps), each a 10-step (0.01 ps) average, and the temperature.
4. ``examples/structures/cu-fcc.extxyz``: the conventional fcc Cu cell (a = 3.61 Å, 4 atoms) that the
   README's liquid and coexistence builders melt with ASE's EMT.

The rigid-ion melt is a stand-in with the right physics for the estimators (a dense ionic liquid),
not a potential for science: its numbers are not deepearth results.
"""

from __future__ import annotations

import gzip
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TESTS_DATA = ROOT / "tests" / "data"

P_GPA = 136.0
TEMPERATURES_K = (6500, 7000, 7500, 8000, 8500, 9000)
SHIPPED_T_K = 8000
REPLICAS = 3
DUMP_EVERY = 200          # steps (0.2 ps)
PRODUCTION_STEPS = 10000  # 10 ps
GK_STEPS = 20000          # 20 ps
GK_AVERAGE = 10           # steps per row of the Green–Kubo table (0.01 ps)


def copy_frames(src: Path, dst: Path, n_keep: int) -> None:
    """Every ``len/n_keep``-th frame of an extxyz file, copied line for line."""
    lines = src.read_text().splitlines(keepends=True)
    frames, i = [], 0
    while i < len(lines):
        n = int(lines[i])
        frames.append(lines[i:i + n + 2])
        i += n + 2
    step = len(frames) // n_keep
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text("".join("".join(f) for f in frames[::step][:n_keep]))


def copy_rows(src: Path, dst: Path, n_rows: int) -> None:
    """The comment and header lines of a table and its first ``n_rows`` numeric rows, line for line."""
    out, rows = [], 0
    for line in src.read_text().splitlines(keepends=True):
        numeric = bool(line.split()) and line.split()[0].lstrip("-").replace(".", "", 1).isdigit()
        if numeric:
            if rows == n_rows:
                break
            rows += 1
        out.append(line)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text("".join(out))


def mgo_commands(T_K: float, seed: int, steps: int, record: list[str]) -> list[str]:
    """A 64-atom rigid-ion MgO melt: melt, NPT at (T, P), NVT at the mean NPT volume, then ``record``."""
    p_bar = P_GPA * 1e4
    return [
        "atom_style charge",
        "lattice custom 4.0 a1 1 0 0 a2 0 1 0 a3 0 0 1 basis 0 0 0 basis 0.5 0.5 0 basis 0.5 0 0.5 "
        "basis 0 0.5 0.5 basis 0.5 0 0 basis 0 0.5 0 basis 0 0 0.5 basis 0.5 0.5 0.5",
        "region box block 0 2 0 2 0 2",
        "create_box 2 box",
        "create_atoms 1 box basis 5 2 basis 6 2 basis 7 2 basis 8 2",
        "mass 1 24.305", "mass 2 15.999",
        "set type 1 charge 2.0", "set type 2 charge -2.0",
        "group mg type 1", "group ox type 2",
        # Lewis & Catlow (1985): Mg-O A = 821.6 eV, rho = 0.3242 A; O-O A = 22764 eV, rho = 0.149 A, C = 27.88 eV A^6
        "pair_style buck/coul/long 7.0",
        "pair_coeff 1 1 0.0 1.0 0.0", "pair_coeff 1 2 821.6 0.3242 0.0", "pair_coeff 2 2 22764.0 0.149 27.88",
        "kspace_style ewald 1e-5",
        "neighbor 1.0 bin",
        "timestep 0.001",
        "thermo 1000",
        f"velocity all create 12000 {seed} mom yes rot yes dist gaussian",
        f"fix md all npt temp 12000 12000 0.1 iso {p_bar} {p_bar} 1.0",
        "run 2000",
        "unfix md",
        "reset_timestep 0",
        "variable V equal vol",
        "fix vav all ave/time 10 200 2000 v_V",
        f"fix md all npt temp {T_K} {T_K} 0.1 iso {p_bar} {p_bar} 1.0",
        "run 4000",
        "unfix md",
        "variable s equal (f_vav/vol)^(1.0/3.0)",
        "change_box all x scale ${s} y scale ${s} z scale ${s} remap",
        "unfix vav",
        f"fix md all nvt temp {T_K} {T_K} 0.1",
        "run 1000",
        "reset_timestep 0",
        *record,
        f"run {steps}",
    ]


def run_replica(workdir: Path, T_K: float, seed: int) -> Path:
    from deepearth.md.lammps_runner import run_lammps

    record = [f"dump d all custom {DUMP_EVERY} traj.lammpstrj id element xu yu zu",
              "dump_modify d element Mg O sort id format float %.4f"]
    run_lammps(mgo_commands(T_K, seed, PRODUCTION_STEPS, record), workdir, units="metal")
    dump = workdir / "traj.lammpstrj"
    gz = workdir / "traj.lammpstrj.gz"
    with open(dump, "rb") as fi, gzip.GzipFile(gz, "wb", mtime=0) as fo:
        shutil.copyfileobj(fi, fo)
    return gz


def make_mgo(out: Path, scratch: Path) -> None:
    from deepearth.cli import main

    out.mkdir(parents=True, exist_ok=True)
    for T in TEMPERATURES_K:
        reps = []
        for r in range(REPLICAS):
            gz = run_replica(scratch / f"{T}K" / f"rep-{r}", T, seed=1000 * r + T // 100)
            if T == SHIPPED_T_K:
                dst = out / f"{T}K" / f"rep-{r}" / "traj.lammpstrj.gz"
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(gz, dst)
            reps.append(gz)
        # analysed where the dumps are, so the result names them by relative paths
        cwd = Path.cwd()
        os.chdir(scratch / f"{T}K")
        try:
            rc = main(["analyze", "diffusion", *(str(p.relative_to(scratch / f"{T}K")) for p in reps), "--species", "O",
                       "--dt-ps", str(DUMP_EVERY * 0.001), "--temperature-K", str(T), "--pressure-GPa", str(P_GPA),
                       "--out", "an"])
        finally:
            os.chdir(cwd)
        assert rc == 0, f"analyze diffusion failed at {T} K"
        dst = out / "diffusion" / f"{T}K"
        dst.mkdir(parents=True, exist_ok=True)
        shutil.copy(scratch / f"{T}K" / "an" / "diffusion_O.json", dst / "diffusion_O.json")

    from deepearth.md.lammps_runner import run_lammps

    names = ["pxx", "pyy", "pzz", "pxy", "pxz", "pyz"]
    record = [*(f"variable {n} equal {n}" for n in names),
              *(f"variable j{a} equal 2*count(mg)*vcm(mg,{a})-2*count(ox)*vcm(ox,{a})" for a in "xyz"),
              "variable T equal temp",
              f"fix gk all ave/time 1 {GK_AVERAGE} {GK_AVERAGE} {' '.join('v_' + n for n in names)} v_jx v_jy v_jz v_T "
              "file gk.dat format ' %.5g'"]
    wd = scratch / "gk"
    run = run_lammps(mgo_commands(SHIPPED_T_K, 4242, GK_STEPS, record), wd, units="metal", final_thermo=["vol"])
    volume = run.final["vol"]
    header = (f"# rigid-ion MgO melt (Lewis & Catlow 1985), 64 atoms, NVT at {SHIPPED_T_K} K, volume {volume:.2f} A^3 "
              f"(P ~ {P_GPA:g} GPa), LAMMPS metal units; every row the mean of {GK_AVERAGE} steps of 1 fs "
              f"(dt between rows {GK_AVERAGE * 0.001:g} ps). v_p..: pressure tensor (bar); v_j.: charge current "
              "sum(q_i v_i) (e A/ps); v_T: temperature (K). Made by examples/make_examples.py.\n")
    (out / f"gk-{SHIPPED_T_K}K.dat").write_text(header + (wd / "gk.dat").read_text())
    print(f"gk-{SHIPPED_T_K}K.dat: volume {volume:.2f} A^3")


def make_cu(dst: Path) -> None:
    from ase.build import bulk
    from ase.io import write

    dst.parent.mkdir(parents=True, exist_ok=True)
    write(dst, bulk("Cu", "fcc", a=3.61, cubic=True), format="extxyz")


def main() -> int:
    for T in (2500, 3000, 4000):
        copy_frames(TESTS_DATA / "casio3-melt-pbe" / f"train_{T}K.xyz",
                    EXAMPLES / "data" / "casio3-melt-pbe" / f"t{T}.xyz", n_keep=5)
    copy_rows(TESTS_DATA / "sportran-silica" / "Silica.dat", EXAMPLES / "analyze" / "silica-heat-flux.dat", 10000)
    make_cu(EXAMPLES / "structures" / "cu-fcc.extxyz")
    with tempfile.TemporaryDirectory() as tmp:
        make_mgo(EXAMPLES / "analyze" / "mgo-melt", Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
