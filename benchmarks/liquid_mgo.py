"""Melt–quench of MgO at 140 GPa with the quickstart POD model, and the liquid check.

Rock-salt MgO (64 atoms by default) is melted far above its melting point (NPT, 10 000 K,
140 GPa), quenched by isotropic MTK NPT in four temperature steps to the target (default 7500 K),
equilibrated (NPT) and checked over an NVT window at the mean volume
(:func:`deepearth.structures.melt_quench`): MSD slope fitted over the second half of the lags
(→ D = slope/6), first shell and the largest g(r) beyond its first minimum. A further NVT window on
the returned liquid gives the partial g(r) peaks. For contrast the unmelted crystal is put through the
same check at 3000 K (it must fail).

The model is the quickstart's converged POD member (runs/mgo-quickstart/models/final/member-0/model.pod),
trained on 21 GFN1-xTB frames at 100–140 GPa and 3000–5000 K: 7000–10 000 K is outside its training
envelope, so the numbers test the machinery, not MgO. Measured with it (64 atoms, 1 fs): every
member of the committee blows up between 7000 and 10 000 K (moving one O towards its O neighbour,
the energy rises to +21 eV at 1.33 Å and then falls to −104 eV at 1.15 Å: a hole the training
data never reached); at 6500 K the crystal does not melt in 1.5 ps, and the check says so. The model
exists only on the machine that ran the quickstart; the script says so and exits cleanly when it
is absent.

Run: ``OMP_NUM_THREADS=1 python benchmarks/liquid_mgo.py [--T-melt K --T K --model PATH]`` (≈ 10 ms
per step for 64 atoms on one core: ≈ 1–2 min when nothing blows up).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "runs" / "mgo-quickstart" / "models" / "final" / "member-0" / "model.pod"


def first_peak(r, g):
    """(r, height) of the first maximum of g above 1."""
    from deepearth.structures.liquid import first_shell

    r1, _ = first_shell(r, g)
    if not np.isfinite(r1):
        return float("nan"), float("nan")
    i = int(np.argmin(abs(r - r1)))
    return float(r1), float(g[i])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=MODEL)
    ap.add_argument("--repeat", type=int, default=2, help="cubic cells per side (2: 64 atoms)")
    ap.add_argument("--a", type=float, default=3.75, help="starting lattice constant, Å (≈ 140 GPa)")
    ap.add_argument("--P", type=float, default=140.0, help="GPa")
    ap.add_argument("--T-melt", type=float, default=10000.0, help="K")
    ap.add_argument("--T", type=float, default=7500.0, help="K")
    ap.add_argument("--steps", type=int, default=1500, help="melt and quench steps (each)")
    ap.add_argument("--equilibrate", type=int, default=1000)
    ap.add_argument("--check", type=int, default=2000)
    ap.add_argument("--dt", type=float, default=1.0, help="fs")
    ap.add_argument("--melt-ensemble", choices=("npt", "nvt"), default="npt")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    if not args.model.is_file():
        print(f"model not found: {args.model}\n(it is written by the MgO quickstart run and exists only on the "
              "machine that ran it); nothing to do.")
        return 0

    from ase.build import bulk

    import deepearth
    from deepearth.md.engine import ASEEngine, MDSettings
    from deepearth.structures.liquid import check_liquid, melt_quench, radial_distribution
    from deepearth.units import A2_PER_PS_TO_M2_PER_S, A3_PER_CM3_MOL

    calc = deepearth.load_potential(args.model)
    crystal = bulk("MgO", "rocksalt", a=args.a, cubic=True).repeat(args.repeat)
    n = len(crystal)
    t0 = time.perf_counter()
    try:
        liq = melt_quench(crystal, calc, T_melt_K=args.T_melt, T_K=args.T, P_GPa=args.P,
                          melt_steps=args.steps, quench_steps=args.steps, equilibrate_steps=args.equilibrate,
                          check_steps=args.check, timestep_fs=args.dt, seed=args.seed,
                          melt_ensemble=args.melt_ensemble)
        failed = None
    except RuntimeError as exc:  # it crystallised, glassed or blew up: say so, with the numbers
        liq, failed = None, str(exc)
    t_mq = time.perf_counter() - t0

    print(f"# MgO melt-quench, POD quickstart model, {n} atoms, {args.P:g} GPa, "
          f"{args.T_melt:g} K -> {args.T:g} K, dt {args.dt:g} fs")
    print(f"protocol: melt ({args.melt_ensemble.upper()}) {args.steps} + quench {args.steps} (4 NPT stages) + "
          f"equilibrate {args.equilibrate} (NPT) + check {args.check} (NVT) steps; wall {t_mq:.0f} s")
    if failed:
        print(f"\nNOT LIQUID: {failed}")
        return 1
    print(f"{1e3 * t_mq / (2 * args.steps + args.equilibrate + args.check):.1f} ms/step")

    c = liq.info["liquid_check"]
    # a further NVT window on the liquid for the partial g(r)
    frames = []
    ASEEngine().run(liq, calc, MDSettings("nvt", args.T, 1000, timestep_fs=args.dt, init_velocities=False,
                                          seed=args.seed + 5,
                                          observers=[(lambda a, s: frames.append(a.get_positions()), 20)]))
    frames = np.array(frames)
    mg, o = liq.numbers == 12, liq.numbers == 8
    peaks = {}
    for name, pair in (("Mg-O", (mg, o)), ("O-O", (o, o)), ("Mg-Mg", (mg, mg))):
        r, g = radial_distribution(frames, liq.cell.array, pair=pair)
        peaks[name] = first_peak(r, g)
    mass_g = liq.get_masses().sum()  # g/mol of the cell
    rho = mass_g / (c["volume_A3"] / A3_PER_CM3_MOL)  # g/cm³

    print("\n| quantity | value |\n|---|---|")
    rows = [
        ("T target / NVT mean (K)", f"{args.T:g} / {c['T_mean_K']:.0f}"),
        ("P target / NPT mean / NVT mean (GPa)", f"{args.P:g} / {c['P_npt_mean_GPa']:.1f} / {c['P_mean_GPa']:.1f}"),
        ("volume (Å³/atom), density (g/cm³)", f"{c['volume_A3'] / n:.3f}, {rho:.2f}"),
        ("MSD slope, all atoms (Å²/ps), fit lags (ps)",
         f"{c['msd_slope_A2_per_ps']:.2f}, {c['msd_fit_lags_ps'][0]:.2f}–{c['msd_fit_lags_ps'][1]:.2f}"),
    ]
    for el, s in c["msd_slope_by_element_A2_per_ps"].items():
        rows.append((f"D({el}) (m²/s)", f"{s / 6 * A2_PER_PS_TO_M2_PER_S:.2e}"))
    rows += [
        ("MSD growth over r1², log-log exponent", f"{c['msd_growth_over_r1_sq']:.2f}, {c['msd_exponent']:.2f}"),
        ("total g(r): first peak, first minimum (Å)", f"{c['first_shell_A']:.2f}, {c['first_minimum_A']:.2f}"),
        ("total g(r): max beyond the first shell", f"{c['rdf_max_g_after_first_shell']:.2f} (limit 1.6)"),
    ]
    for name, (r1, h) in peaks.items():
        rows.append((f"g_{name}: first peak r (Å), height", f"{r1:.2f}, {h:.2f}"))
    rows.append(("diffusive / crystalline peaks / liquid",
                 f"{c['diffusive']} / {c['crystalline_peaks']} / {c['is_liquid']}"))

    t1 = time.perf_counter()
    xtal = check_liquid(crystal.copy(), calc, 3000.0, 500, timestep_fs=args.dt, init_velocities=True,
                        seed=args.seed, raise_on_failure=False)
    rows.append(("contrast: the crystal at 3000 K (500 NVT steps)",
                 f"liquid={xtal['is_liquid']}; MSD growth {xtal['msd_growth_over_r1_sq']:.3f} r1², "
                 f"max g beyond first shell {xtal['rdf_max_g_after_first_shell']:.2f}"))
    for k, v in rows:
        print(f"| {k} | {v} |")
    print(f"\nwall: melt-quench + check {t_mq:.0f} s, partial-RDF window and crystal contrast "
          f"{time.perf_counter() - t1:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
