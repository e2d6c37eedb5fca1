"""Electronic temperature in PBE (GPAW): how much do F, forces and pressure of MgO change with T_el?

The T_el machinery (``potentials/tel.py``, ``benchmarks/tel_demo.py``) is demonstrated on GFN1-xTB,
whose near-zero MgO gap exaggerates the electronic entropy (−48 meV/atom at 5000 K). This script
measures the physics with PBE: 8-atom MgO cells (ideal and rattled) at the 140 GPa density, labelled
with the GPAW labeller (800 eV, Γ-centred 2×2×2, Fermi–Dirac) at several T_el; prints
F(T_el) − F(300 K) (meV/atom), the RMS change of the forces (eV/Å) and the change of the pressure
(GPa). Usage: ``python benchmarks/tel_gpaw.py [--cells 3] [--T-el 300 3000 6000 10000]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from ase.build import bulk

from deepearth.reference.gpaw import gpaw_labeller
from deepearth.units import stress_to_pressure_gpa


def cells(n: int, a_A: float, rattle_A: float, seed: int = 0):
    out = []
    for k in range(n):
        atoms = bulk("MgO", "rocksalt", a=a_A, cubic=True)
        if k:
            atoms.rattle(rattle_A, seed=seed + k)
        out.append(atoms)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=3, help="cells: the ideal one + rattled copies")
    ap.add_argument("--a", type=float, default=3.72, help="lattice constant, Å (3.72: ≈ 140 GPa in PBE)")
    ap.add_argument("--rattle", type=float, default=0.15, help="rattle std, Å")
    ap.add_argument("--T-el", type=float, nargs="+", default=[300.0, 3000.0, 6000.0, 10000.0])
    args = ap.parse_args()
    configs = cells(args.cells, args.a, args.rattle)
    labels = {}
    t0 = time.time()
    for T in args.T_el:
        lab = gpaw_labeller(electronic_temperature_K=T, gamma_centered=True)
        labels[T] = [lab.label(a) for a in configs]
        bad = [i for i, lb in enumerate(labels[T]) if not lb.ok]
        if bad:
            raise SystemExit(f"T_el {T} K: labels {bad} failed: {labels[T][bad[0]].error}")
    ref = labels[args.T_el[0]]
    print(f"8-atom MgO, a = {args.a} Å, {args.cells} cells (1 ideal + rattled {args.rattle} Å), PBE 800 eV, "
          f"Γ-centred 2x2x2, {time.time() - t0:.0f} s")
    print(f"{'T_el (K)':>9s} {'ΔF (meV/atom)':>14s} {'ΔF ideal':>9s} {'RMS ΔF_i (eV/Å)':>16s} {'ΔP (GPa)':>9s}")
    for T in args.T_el:
        dF = [1000 * (lb.energy_eV - r.energy_eV) / len(lb.atoms) for lb, r in zip(labels[T], ref)]
        dforce = np.sqrt(np.mean([np.mean((lb.forces_eV_per_A - r.forces_eV_per_A) ** 2)
                                  for lb, r in zip(labels[T], ref)]))
        dP = np.mean([stress_to_pressure_gpa(lb.stress_eV_per_A3) - stress_to_pressure_gpa(r.stress_eV_per_A3)
                      for lb, r in zip(labels[T], ref)])
        print(f"{T:9.0f} {np.mean(dF):14.2f} {dF[0]:9.2f} {dforce:16.4f} {dP:9.3f}")


if __name__ == "__main__":
    main()
