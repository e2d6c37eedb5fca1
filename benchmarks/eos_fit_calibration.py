"""Calibration of :func:`deepearth.properties.eos.fit` on the cases issue 15 measured for the old fitter.

Periclase-like BM3 (V0 = 18.671 Å³/MgO, K0 = 161.4 GPa, K0' = 3.84), ``--draws`` noise draws per row:

* 15 points 5–140 GPa, uniform 0.5 GPa noise and 0.5 %-of-P noise: 1σ coverage of V0, K0, K0' for the
  weighted fit (known σ, absolute covariance) and the unweighted one (covariance scaled by χ²_red);
* Vinet data (same V0, K0, K0') fitted with BM3: the K0' bias, its coverage, χ²_red and the runs test;
* five points at 100–140 GPa with 0.5 %-of-P noise: converged / refused, with and without a Gaussian
  prior K0' = 4 ± 0.5, and the coverage of V and K_T at 120 GPa.

Usage: ``OMP_NUM_THREADS=1 python benchmarks/eos_fit_calibration.py [--draws 200]`` (≈ 30 s).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from scipy.optimize import brentq

from deepearth.properties import eos

V0, K0, K0P = 18.671, 161.4, 3.84


def volumes(P, f):
    return np.array([brentq(lambda v: f(v, V0, K0, K0P) - p, 0.3 * V0, 1.3 * V0) for p in P])


def covered(r) -> list[bool]:
    return [abs(r.V0 - V0) < r.V0_stderr, abs(r.K0 - K0) < r.K0_stderr, abs(r.K0_prime - K0P) < r.K0_prime_stderr]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=200)
    n = ap.parse_args(argv).draws
    t0 = time.time()
    rng = np.random.default_rng(2026)
    P = np.linspace(5.0, 140.0, 15)
    print("| data, noise | fit | coverage V0 / K0 / K0' | median χ²_red |")
    print("|---|---|---|---|")
    for form, f in (("bm3", eos.bm3_pressure), ("vinet", eos.vinet_pressure)):
        v = volumes(P, f)
        for noise, sig in (("0.5 GPa", np.full(P.size, 0.5)), ("0.5 % of P", 0.005 * P)):
            for weighted in (True, False):
                cov, chi = [], []
                for _ in range(n):
                    r = eos.fit(v, P + rng.normal(0, sig), form=form, pressures_stderr_GPa=sig if weighted else None)
                    cov.append(covered(r))
                    chi.append(r.chi2_red)
                c = np.mean(cov, axis=0)
                kind = "weighted (known σ)" if weighted else "unweighted (σ from scatter)"
                print(f"| {form}, {noise} | {form} {kind} | {c[0]:.2f} / {c[1]:.2f} / {c[2]:.2f} | "
                      f"{np.median(chi) if weighted else float('nan'):.2f} |")
    v = volumes(np.linspace(0.0, 140.0, 15), eos.vinet_pressure)
    for s in (0.5, 0.05, 0.02):
        bias, cov, chi, runs = [], [], [], []
        for _ in range(n):
            r = eos.fit(v, np.linspace(0, 140, 15) + rng.normal(0, s, 15), form="bm3",
                        pressures_stderr_GPa=np.full(15, s))
            bias.append(r.K0_prime - K0P)
            cov.append(abs(r.K0_prime - K0P) < r.K0_prime_stderr)
            chi.append(r.chi2_red)
            runs.append(r.runs_p_value if r.runs_p_value is not None else 1.0)
        print(f"| Vinet data 0-140 GPa, {s} GPa | bm3 weighted | K0' bias {np.mean(bias):+.2f}, coverage "
              f"{np.mean(cov):.2f}; runs-test p < 0.05 in {np.mean(np.array(runs) < 0.05):.2f} | {np.median(chi):.2f} |")
    P5 = np.linspace(100.0, 140.0, 5)
    v5 = volumes(P5, eos.bm3_pressure)
    k120 = float(eos.bm3_bulk_modulus(v5[2], V0, K0, K0P))
    for prior in (None, {"K0_prime": (4.0, 0.5)}):
        ok = 0
        inside = []
        for _ in range(n):
            s = 0.005 * P5
            try:
                r = eos.fit(v5, P5 + rng.normal(0, s), pressures_stderr_GPa=s, prior=prior)
            except ValueError:
                continue
            ok += 1
            vol, dv = r.volume(120.0, stderr=True)
            k, dk = r.bulk_modulus_at_pressure(120.0, stderr=True)
            inside.append(covered(r) + [abs(vol - v5[2]) < dv, abs(k - k120) < dk])
        c = np.mean(inside, axis=0)
        label = "no prior" if prior is None else "prior K0' = 4 ± 0.5"
        print(f"| 5 points 100-140 GPa, 0.5 % of P | bm3 weighted, {label} | converged {ok}/{n}; coverage of the "
              f"converged: {c[0]:.2f} / {c[1]:.2f} / {c[2]:.2f}; V(120 GPa) {c[3]:.2f}, K_T(120 GPa) {c[4]:.2f} | – |")
    print(f"\n{time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
