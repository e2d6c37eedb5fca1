"""MgO P–V–T equation of state with the quickstart's POD model, against SLB2011 periclase.

:func:`deepearth.pipeline.eos_scan.eos_scan` runs NPT (LAMMPS engine, member 0 of the committee) on the
64-atom rocksalt cell at every (P, T) of a 5 × 5 grid (25–140 GPa × 300–5000 K), block-averages ⟨V⟩,
⟨P⟩, ⟨E⟩; then per isotherm a Vinet fit and the thermal EOS (:func:`deepearth.properties.eos.pvt_analysis`):
α and K_T at the grid pressures, thermal pressure, γ = V(∂P/∂E)_V and its power law, an adiabat. The
same quantities from SLB2011 periclase (Stixrude & Lithgow-Bertelloni 2011, GJI 184, 1180, through
``burnman_cpp.minerals.SLB11``) at the same (P, T) are printed beside them.

The model was trained on GFN1-xTB labels at 100–140 GPa and 3000–5000 K (the quickstart's exploration):
xTB is not DFT (its static MgO EOS has V0 ≈ 23.8 Å³/MgO and K0 ≈ 50 GPa against PBE's ≈ 19 Å³ and
≈ 160 GPa), and 25–80 GPa or 300 K lie outside what the model learned — report, do not tune. MD is
classical: below the Debye temperature (≈ 770 K) its α is not SLB's quantum (Debye) α.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/mgo_eos.py            # ~10 min on one core
    OMP_NUM_THREADS=1 python benchmarks/mgo_eos.py --quick    # plumbing only (~1 min)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from ase.build import bulk

from deepearth.files import write_json_atomic
from deepearth.md.engines import make_engine
from deepearth.pipeline.eos_scan import EOSScanSettings, eos_scan
from deepearth.potentials.registry import load_potential
from deepearth.properties import eos
from deepearth.properties.eos.forms import FORMS

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "runs" / "mgo-quickstart"
PRESSURES = [25.0, 50.0, 80.0, 110.0, 140.0]
TEMPERATURES = [300.0, 2000.0, 3000.0, 4000.0, 5000.0]


def slb2011(p_gpa: float, t_k: float) -> dict:
    """SLB2011 periclase at (P, T): V (Å³/MgO), α (1/K), K_T (GPa), γ."""
    from burnman_cpp.minerals import SLB11

    from deepearth.units import A3_PER_CM3_MOL

    m = SLB11.periclase()
    m.set_state(p_gpa * 1e9, t_k)
    return {"V": m.molar_volume * 1e6 * A3_PER_CM3_MOL, "alpha": m.thermal_expansivity,
            "K_T": m.isothermal_bulk_modulus_reuss / 1e9, "gamma": m.grueneisen_parameter}


def volume_guess(run: Path, n_mgo: int):
    """Start volumes: the run's static (xTB) BM3 EOS per 64-atom cell at P, +2e-5/K thermal expansion."""
    ref = json.loads((run / "results" / "reference_eos.json").read_text())
    scale = n_mgo * 2 / ref.get("n_atoms", 64)
    v0, k0, kp = ref["V0_A3"] * scale, ref["K0_GPa"], ref["K0_prime"]

    def guess(P: float, T: float) -> float:
        f = FORMS["bm3"].pressure
        lo, hi = 0.3 * v0, 1.2 * v0
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if f(mid, v0, k0, kp) > P else (lo, mid)
        return lo * (1 + 2e-5 * (T - 300.0))

    return guess


def pm(v, e, f=".3g") -> str:
    return "–" if v is None or not np.isfinite(v) else f"{v:{f}} ± {e:.2g}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, default=QUICKSTART, help="quickstart run (models/final/member-0/model.pod)")
    ap.add_argument("--steps", type=int, default=2400, help="NPT steps sampled per point (1 fs)")
    ap.add_argument("--equilibration", type=int, default=600, help="NPT steps discarded per point")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "benchmarks" / "mgo_eos")
    ap.add_argument("--quick", action="store_true", help="short runs (plumbing, not physics)")
    args = ap.parse_args(argv)
    model = args.run / "models" / "final" / "member-0" / "model.pod"
    if not model.is_file():
        print(f"no POD model at {model}: run `deepearth run examples/mgo-quickstart.toml` first")
        return 2
    cell = bulk("MgO", "rocksalt", a=4.21, cubic=True).repeat(2)
    n_mgo = len(cell) // 2
    steps, eq = (400, 100) if args.quick else (args.steps, args.equilibration)
    settings = EOSScanSettings(steps=steps, equilibration_steps=eq, timestep_fs=1.0, sample_interval=10, n_blocks=6,
                               pdamp_fs=500.0, seed=2026, form="vinet")
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    res = eos_scan(cell, load_potential(model), PRESSURES, TEMPERATURES, settings, make_engine("lammps"),
                   volume_guess=volume_guess(args.run, n_mgo),
                   progress=lambda k, n, what: print(f"  [{k}/{n}] {what} ({time.time() - t0:.0f} s)", flush=True))
    wall = time.time() - t0
    res.write_table(args.out / "points.dat")
    ok = [p for p in res.points if p.ok]
    per = 1.0 / n_mgo  # per MgO
    thermal = eos.pvt_analysis([p.V_A3 * per for p in ok], [p.T_K for p in ok], [p.P_GPa for p in ok],
                               [p.E_eV * per for p in ok], volumes_stderr_A3=[p.V_stderr_A3 * per for p in ok],
                               pressures_stderr_GPa=[p.P_stderr_GPa for p in ok],
                               energies_stderr_eV=[p.E_stderr_eV * per for p in ok], form="vinet",
                               at_pressures_GPa=PRESSURES, adiabat_start=(PRESSURES[0], 3000.0))
    write_json_atomic(args.out / "mgo_eos.json", {"scan": res.to_dict(), "thermal_per_MgO": thermal.to_dict()})

    print()
    print(f"MgO, {len(cell)} atoms, quickstart POD (member 0; xTB-trained: xTB is not DFT), LAMMPS NPT {eq}+{steps} "
          f"steps per point (1 fs), {len(res.points)} points, wall time {wall:.0f} s; blow-ups: {len(res.notes)}")
    print()
    print("| P target (GPa) | T (K) | ⟨P⟩ (GPa) | ⟨V⟩ (Å³/MgO) | SLB V (Å³/MgO) | ⟨T⟩ (K) |")
    print("|---|---|---|---|---|---|")
    for p in res.points:
        ref = slb2011(p.P_target_GPa, p.T_K)
        print(f"| {p.P_target_GPa:g} | {p.T_K:g} | {pm(p.P_GPa, p.P_stderr_GPa)} | "
              f"{pm(p.V_A3 * per, p.V_stderr_A3 * per, '.4g')} | {ref['V']:.4g} | {p.T_mean_K:.0f} |")
    print()
    print("| T (K) | V0 (Å³/MgO) | K0 (GPa) | K0' | χ²_red |")
    print("|---|---|---|---|---|")
    for T, fit in zip(thermal.T_K, thermal.isotherms):
        print(f"| {T:.0f} | {pm(fit['V0'], fit['V0_stderr'], '.4g')} | {pm(fit['K0'], fit['K0_stderr'])} | "
              f"{pm(fit['K0_prime'], fit['K0_prime_stderr'])} | {fit['chi2_red']:.2g} |")
    print()
    print("| P (GPa) | T (K) | α model (1e-5/K) | α SLB | K_T model (GPa) | K_T SLB | γ model | γ SLB |")
    print("|---|---|---|---|---|---|---|---|")
    g = thermal.grueneisen
    for i, T in enumerate(thermal.T_K):
        for j, P in enumerate(thermal.pressures_GPa):
            ref = slb2011(P, T)
            v = thermal.volume_A3[i][j]
            gam = "–"
            if g is not None:
                gv = g.gamma0 * (v / g.V_ref_A3) ** g.q
                gam = f"{gv:.2f}"
            print(f"| {P:g} | {T:.0f} | {pm(1e5 * thermal.alpha_per_K[i][j], 1e5 * thermal.alpha_stderr_per_K[i][j])} | "
                  f"{1e5 * ref['alpha']:.3g} | {pm(thermal.K_T_GPa[i][j], thermal.K_T_stderr_GPa[i][j])} | "
                  f"{ref['K_T']:.3g} | {gam} | {ref['gamma']:.2f} |")
    if g is not None:
        print(f"\nγ(V) = {g.gamma0:.3f} ± {g.gamma0_stderr:.2g} (V/{g.V_ref_A3:.2f} Å³)^({g.q:.2f} ± {g.q_stderr:.2g}), "
              f"χ²_red {g.chi2_red if g.chi2_red is None else round(g.chi2_red, 2)}")
    if thermal.adiabat is not None:
        a = thermal.adiabat
        print("adiabat from 25 GPa, 3000 K: " + ", ".join(f"{p:.0f} GPa {t:.0f} ± {e:.0f} K" for p, t, e in
                                                          zip(a.pressures_GPa, a.T_K, a.T_stderr_K)))
    for n in res.notes:
        print(f"note: {n}")
    print(f"\n-> {args.out / 'mgo_eos.json'}, {args.out / 'points.dat'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
