"""MgO elastic constants at 140 GPa / 4000 K with the quickstart's POD model, and at 0 K.

1. **0 K static** (:func:`deepearth.pipeline.elastic_static.static_elastic_constants`): the rocksalt
   cell relaxed at 140 GPa, ± 0.5 % strains along the six Voigt directions, relaxed ions; for every
   committee member (their spread is the model's part of the error).
2. **MD** (:func:`deepearth.pipeline.elastic_md.elastic_constants_md`, LAMMPS engine, member 0):
   NPT (aniso) at 140 GPa / 4000 K for the mean cell, then NVT on ± ``--strain`` along all six
   directions, stresses block-averaged: the full 6×6 with errors, its cubic deviations, and the cubic
   refit (C11, C12, C44) of the same stresses.
3. **Comparison**: SLB2011 periclase (Stixrude & Lithgow-Bertelloni 2011, GJI 184, 1180, through
   ``burnman_cpp.minerals.SLB11``) at the same (P, T): density, K_T, K_S, G, V_P, V_S. The MD constants
   are isothermal; K_S is also given with SLB's α γ T (K_S = K_T (1 + α γ T)). No published Cij of
   MgO at 140 GPa / 4000 K is quoted (Karki et al. 1999, Science 286, 1705, give LDA quasi-harmonic
   Cij to 150 GPa and 3000 K: a different temperature, not reproduced here).

The model was trained on GFN1-xTB labels: xTB is not DFT — report, do not tune.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/mgo_elastic.py            # ~10 min of one core
    OMP_NUM_THREADS=1 python benchmarks/mgo_elastic.py --quick    # plumbing only (~1 min)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from ase.build import bulk

from deepearth.md.engines import make_engine
from deepearth.pipeline.elastic_md import ElasticMDSettings, elastic_constants_md
from deepearth.pipeline.elastic_static import static_elastic_constants
from deepearth.potentials.registry import load_potential
from deepearth.properties import elastic

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "runs" / "mgo-quickstart" / "models" / "final"


def slb2011(p_gpa: float, t_k: float) -> dict:
    """SLB2011 periclase at (P, T): ρ (kg/m³), K_T, K_S, G (GPa), V_P, V_S (km/s), α (1/K), γ."""
    from burnman_cpp.minerals import SLB11

    m = SLB11.periclase()
    m.set_state(p_gpa * 1e9, t_k)
    return {"rho": m.density, "K_T": m.isothermal_bulk_modulus_reuss / 1e9, "K_S": m.isentropic_bulk_modulus_reuss / 1e9,
            "G": m.shear_modulus / 1e9, "Vp": m.p_wave_velocity / 1e3, "Vs": m.shear_wave_velocity / 1e3,
            "alpha": m.thermal_expansivity, "gamma": m.grueneisen_parameter}


def pm(v, e, f=".1f") -> str:
    return f"{v:{f}} ± {e:{f}}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=QUICKSTART, help="folder with member-*/model.pod")
    ap.add_argument("--pressure-GPa", type=float, default=140.0)
    ap.add_argument("--temperature-K", type=float, default=4000.0)
    ap.add_argument("--repeat", type=int, default=2, help="conventional rocksalt cells per edge (2: 64 atoms)")
    ap.add_argument("--strain", type=float, default=0.02)
    ap.add_argument("--npt-steps", type=int, default=3000)
    ap.add_argument("--nvt-steps", type=int, default=4000)
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "benchmarks" / "mgo_elastic")
    ap.add_argument("--quick", action="store_true", help="short runs (plumbing, not physics)")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore", message="logm result may be inaccurate")  # ASE's FrechetCellFilter, harmless
    members = sorted(args.models.glob("member-*/model.pod"))
    if not members:
        print(f"no POD committee under {args.models}: run `deepearth run examples/mgo-quickstart.toml` first")
        return 2
    P, T = args.pressure_GPa, args.temperature_K
    cell = bulk("MgO", "rocksalt", a=4.21, cubic=True).repeat(args.repeat)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)

    t0 = time.time()
    static = []
    for path in members:
        r = static_elastic_constants(cell, load_potential(path), P, strain=0.005)
        static.append(r)
        print(f"static {path.parent.name}: C11 {r.C_GPa[0][0]:.1f}, C12 {r.C_GPa[0][1]:.1f}, C44 {r.C_GPa[3][3]:.1f} "
              f"GPa, ρ {r.density_kg_m3:.0f} kg/m³, cubic deviations: {len(elastic.system_deviations(r.C_GPa, 'cubic')[1])}")
    t_static = time.time() - t0

    steps = (200, 500, 100, 600) if args.quick else (1000, args.npt_steps, 500, args.nvt_steps)
    settings = ElasticMDSettings(strain=args.strain, timestep_fs=1.0, npt_equilibration_steps=steps[0],
                                 npt_steps=steps[1], nvt_equilibration_steps=steps[2], nvt_steps=steps[3],
                                 sample_interval=10 if not args.quick else 5, n_blocks=10, barostat="aniso",
                                 seed=2026)
    calc = load_potential(members[0])
    t0 = time.time()
    md = elastic_constants_md(_start(cell, static[0]), calc, P, T, make_engine("lammps"), settings,
                              out_dir=out / "stress_strain")
    t_md = time.time() - t0
    runs = md.fit["runs"]
    cubic = elastic.from_stress_strain([r["voigt_strain"] for r in runs], [r["stress_GPa"] for r in runs],
                                       md.density_kg_m3, [r["stress_stderr_GPa"] for r in runs], symmetry="cubic",
                                       pressure_GPa=md.pressure_GPa, temperature_K=T, cell_A=md.cell_A,
                                       thermodynamic="isothermal", seed=1)
    _, deviations = elastic.system_deviations(md.C_GPa, "cubic", md.C_stderr_GPa)
    ref = slb2011(md.pressure_GPa, T)
    k_s = md.moduli["K_vrh"] * (1 + ref["alpha"] * ref["gamma"] * T)

    spread = {k: float(np.std([s.moduli[k] for s in static], ddof=1)) for k in ("K_vrh", "G_vrh", "Vp", "Vs")}
    cs = np.array([[s.C_GPa[0][0], s.C_GPa[0][1], s.C_GPa[3][3]] for s in static])
    m, e = md.moduli, md.moduli_stderr
    c, ce = np.array(md.C_GPa), np.array(md.C_stderr_GPa)
    iu = cubic.independent
    print()
    print(f"MgO, {len(cell)} atoms, quickstart POD model (xTB-trained: xTB is not DFT); MD: member 0, LAMMPS, "
          f"±{args.strain:g} strains, NPT {steps[0]}+{steps[1]}, NVT {steps[2]}+{steps[3]} steps per strain (1 fs)")
    print(f"MD state: P = {md.pressure_GPa:.2f} GPa (NPT mean ± {md.fit['npt_pressure_GPa'][1]:.2f}), T = {T:g} K, "
          f"ρ = {md.density_kg_m3:.0f} kg/m³; wall time static {t_static:.0f} s, MD {t_md:.0f} s")
    print()
    print("| quantity | 0 K static, member 0 (4-member spread) | MD 4000 K full 6×6 | MD 4000 K cubic fit | SLB2011 periclase |")
    print("|---|---|---|---|---|")
    for k, (i, j) in enumerate(((0, 0), (0, 1), (3, 3))):
        name = f"C{i + 1}{j + 1}"
        print(f"| {name} (GPa) | {cs[0, k]:.1f} ({np.std(cs[:, k], ddof=1):.1f}) | {pm(c[i, j], ce[i, j])} | "
              f"{pm(*iu[name])} | – |")
    print(f"| K_VRH (GPa) | {static[0].moduli['K_vrh']:.1f} ({spread['K_vrh']:.1f}) | {pm(m['K_vrh'], e['K_vrh'])} | "
          f"{pm(cubic.moduli['K_vrh'], cubic.moduli_stderr['K_vrh'])} | K_T {ref['K_T']:.1f} |")
    print(f"| K_S = K_T(1+αγT), SLB's αγ (GPa) | – | {k_s:.1f} | – | {ref['K_S']:.1f} |")
    print(f"| G_VRH (GPa) | {static[0].moduli['G_vrh']:.1f} ({spread['G_vrh']:.1f}) | {pm(m['G_vrh'], e['G_vrh'])} | "
          f"{pm(cubic.moduli['G_vrh'], cubic.moduli_stderr['G_vrh'])} | {ref['G']:.1f} |")
    print(f"| V_P (km/s) | {static[0].moduli['Vp']:.2f} ({spread['Vp']:.2f}) | {pm(m['Vp'], e['Vp'], '.2f')} | "
          f"{pm(cubic.moduli['Vp'], cubic.moduli_stderr['Vp'], '.2f')} | {ref['Vp']:.2f} |")
    print(f"| V_S (km/s) | {static[0].moduli['Vs']:.2f} ({spread['Vs']:.2f}) | {pm(m['Vs'], e['Vs'], '.2f')} | "
          f"{pm(cubic.moduli['Vs'], cubic.moduli_stderr['Vs'], '.2f')} | {ref['Vs']:.2f} |")
    print(f"| A_universal | {static[0].moduli['A_universal']:.3f} | {pm(m['A_universal'], e['A_universal'], '.3f')} | "
          f"{pm(cubic.moduli['A_universal'], cubic.moduli_stderr['A_universal'], '.3f')} | – |")
    print(f"| density (kg/m³) | {static[0].density_kg_m3:.0f} | {md.density_kg_m3:.0f} | | {ref['rho']:.0f} |")
    print()
    print(f"MD full 6×6: cubic deviations beyond 3σ: {deviations or 'none'}; C_IJ≠C_JI: {md.asymmetry or 'none'}; "
          f"Born stable: {md.stability['stable']} (smallest eigenvalue {md.stability['eigenvalues_GPa'][0]:.1f} GPa); "
          f"χ²/dof of the cubic refit {cubic.fit['chi2']:.1f}/{cubic.fit['dof']} (p = {cubic.fit['p_value']:.2g})")
    print(f"warnings: {md.warnings + cubic.warnings or 'none'}")
    (out / "elastic_md.json").write_text(json.dumps(md.to_dict(), indent=1))
    (out / "elastic_md_cubic.json").write_text(json.dumps(cubic.to_dict(), indent=1))
    (out / "elastic_static.json").write_text(json.dumps([s.to_dict() for s in static], indent=1))
    print(f"-> {out}")
    return 0


def _start(cell, static_result):
    """The rocksalt cell at the 0 K cell of 140 GPa (the MD's NPT then adds the thermal expansion)."""
    a = cell.copy()
    a.set_cell(np.array(static_result.cell_A), scale_atoms=True)
    return a


if __name__ == "__main__":
    sys.exit(main())
