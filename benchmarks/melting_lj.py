"""The melting workflow against published melting points; prints a table per system.

    OMP_NUM_THREADS=1 python benchmarks/melting_lj.py [--system cu|lj|both] [--quick] [--out DIR]

Systems (the potential, its published coexistence T_m, and what is run):

* ``cu`` — Mishin et al.'s Cu EAM (Phys. Rev. B 63, 224106 (2001); tests/data/melting): T_m = 1327 K
  at 0 GPa by solid–liquid coexistence. (001) interfaces, two cell sizes (3×3 and 5×5 layers of the
  cubic cell, 8 layers: 288 and 800 atoms), two replicas, T = 1250–1400 K, 8 ps of NPT along z.
* ``lj`` — Lennard-Jones in reduced units mapped onto argon's σ = 3.405 Å and mass with ε/k_B =
  1000 K (any mapping gives the same reduced answer; this one keeps argon's mass for the time-step
  rule and puts τ = σ√(m/ε) at 0.75 ps), cut at 5σ (truncated and shifted; no tail correction).
  Reference: the triple point of the full potential, T* = 0.694 at P* ≈ 0 (Mastny & de Pablo, J.
  Chem. Phys. 127, 104504 (2007); Agrawal & Kofke, Mol. Phys. 85, 43 (1995): 0.687). The 5σ cutoff
  lowers T_m by an estimated ≈ 1 % (the missing tail attraction favours the denser solid by
  ≈ (8/3)π Δρ (σ/r_c)³ ε ≈ 0.007 ε per atom against a heat of fusion ≈ 1.1 ε), within the bracket
  resolution here. T* = 0.64–0.76 at P* = 0, a 4×4 layer, 8 layers (512 atoms; one size: with
  r_c = 5σ a second size costs more than this 2-core machine had).

Results go to RESULTS.md by hand (date, machine).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from ase.build import bulk  # noqa: E402

from deepearth.pipeline.melting import CoexistenceSettings, coexistence_melting  # noqa: E402
from deepearth.potentials.classical import ReducedUnits, eam_alloy, lennard_jones  # noqa: E402
from deepearth.report.melting_figures import solid_fraction_figure  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CU_EAM = ROOT / "tests" / "data" / "melting" / "Cu_mishin1.eam.alloy"
T_M_CU = 1327.0  # K, Mishin et al. 2001
T_TP_LJ = 0.694  # Mastny & de Pablo 2007
LJ = ReducedUnits("Ar", 1000.0, 3.405)


def _table(run, scale: float = 1.0, unit: str = "K") -> None:
    print(f"| T ({unit}) | atoms | replica | f start → end | change ± σ | v (Å/ps) | verdict |")
    print("|---|---|---|---|---|---|---|")
    for x in sorted(run.series, key=lambda x: (x.n_atoms, x.T_K, x.replica)):
        print(f"| {x.T_K * scale:.4g} | {x.n_atoms} | {x.replica} | {x.f_start:.2f} → {x.f_end:.2f} | {x.change:+.2f} ± "
              f"{x.change_stderr:.2f} | {x.interface_velocity_A_per_ps:+.3f} ± {x.interface_velocity_stderr_A_per_ps:.3f} "
              f"| {x.verdict} ({x.final_state}) |")
    for note in run.notes:
        print(f"note: {note}")


def cu(out: Path, quick: bool) -> dict:
    calc = eam_alloy(CU_EAM, ["Cu"])
    layers = [(3, 3)] if quick else [(3, 3), (5, 5)]
    units = [bulk("Cu", "fcc", a=3.70, cubic=True).repeat((*n, 1)) for n in layers]
    temps = [1250.0, 1400.0] if quick else [1250.0, 1300.0, 1350.0, 1400.0]
    s = CoexistenceSettings(n_layers=8, timestep_fs=2.0, lattice_steps=3000, melt_steps=1000, quench_steps=500,
                            equilibrate_steps=500, check_steps=1000, crystal_steps=200, join_steps=200,
                            run_steps=2000 if quick else 4000, sample_every=50)
    run = coexistence_melting(units, calc, 0.0, temps, settings=s, engine="lammps", replicas=1 if quick else 2,
                              out_dir=out / "cu", log=print)
    _table(run)
    b = run.bracket
    print(f"\n{b.message}\nerror budget: {json.dumps(b.error_budget)}")
    if b.bracketed:
        print(f"Mishin et al. 2001: {T_M_CU:.0f} K -> deviation {b.T_m_K - T_M_CU:+.0f} K "
              f"({(b.T_m_K - T_M_CU) / b.T_m_stderr_K:+.1f} σ)")
    result = run.to_dict()
    big = [x for x in result["series"] if x["n_atoms"] == max(s["n_atoms"] for s in result["series"])]
    print("figure:", solid_fraction_figure(big, out / "cu_solid_fraction.png", result["bracket"],
                                           (T_M_CU, "Mishin et al. 2001")))
    return result


def lj(out: Path, quick: bool) -> dict:
    calc = lennard_jones(LJ, rc_sigma=5.0)
    a = LJ.sigma_A * (4 / 0.96) ** (1 / 3)  # fcc at ρ* ≈ 0.96 (the solid near the triple point)
    units = [bulk("Ar", "fcc", a=a, cubic=True).repeat((4, 4, 1))]  # one size: r_c = 5σ is costly here
    t_star = [0.62, 0.76] if quick else [0.64, 0.68, 0.72, 0.76]
    # melted at T* = 0.95, P* = 0: hot enough to melt a small crystal in 8 ps, below the liquid's spinodal at P = 0
    s = CoexistenceSettings(n_layers=8, timestep_fs=4.0, lattice_steps=2000, T_melt_K=LJ.temperature_K(0.95),
                            melt_steps=2000,
                            quench_steps=500, equilibrate_steps=1000, check_steps=1000, crystal_steps=200,
                            join_steps=200, run_steps=4000 if quick else 6000, sample_every=100)
    run = coexistence_melting(units, calc, 0.0, [LJ.temperature_K(t) for t in t_star], settings=s, engine="lammps",
                              out_dir=out / "lj", log=print)
    _table(run, 1 / LJ.epsilon_K, "T*")
    b = run.bracket
    print(f"\n{b.message} (in K of the ε/k_B = {LJ.epsilon_K:g} K mapping)")
    if b.bracketed:
        tm, sd = b.T_m_K / LJ.epsilon_K, b.T_m_stderr_K / LJ.epsilon_K
        print(f"T*_m = {tm:.3f} ± {sd:.3f}; Mastny & de Pablo 2007 (full potential): {T_TP_LJ} -> "
              f"{(tm - T_TP_LJ) / sd:+.1f} σ")
    result = run.to_dict()
    print("figure:", solid_fraction_figure(result["series"], out / "lj_solid_fraction.png", result["bracket"],
                                           (LJ.temperature_K(T_TP_LJ), "Mastny & de Pablo 2007, T* 0.694")))
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--system", choices=["cu", "lj", "both"], default="cu")
    ap.add_argument("--quick", action="store_true", help="one size, two temperatures, shorter runs")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "benchmarks" / "melting-validation")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, fn in (("cu", cu), ("lj", lj)):
        if args.system in (name, "both"):
            t0 = time.time()
            results[name] = fn(args.out, args.quick)
            results[name]["wall_time_s"] = time.time() - t0
            print(f"{name}: wall time {results[name]['wall_time_s']:.0f} s\n")
    for name, res in results.items():  # one file per system: a later run of the other keeps this one
        (args.out / f"melting_validation_{name}.json").write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
