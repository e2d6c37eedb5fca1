"""Calibration of the diffusion estimator on a real liquid: Lennard-Jones argon through LAMMPS.

    OMP_NUM_THREADS=1 python benchmarks/diffusion_calibration_liquid.py [--sets 48] [--jobs 1] [--quick]

Issue 17: on LJ argon the estimator read D 12 % high with a bar 10× too small. This benchmark runs
many independent LAMMPS simulations of the issue's system and measures, for the default
:func:`deepearth.properties.diffusion.diffusion_coefficient` (positions only, as the pipeline
calls it), the bias and the coverage of its 1σ bar (target 68 ± 10 %), for sets of 4 replicas
(the issue's set-up) and for single runs.

System (argon units: σ = 3.405 Å, ε/k_B = 119.8 K, m = 39.948 amu, τ = σ√(m/ε) = 2.156 ps): N = 256,
``lj/cut`` at rc = 3σ, fcc start melted at 2T for 1000 steps, 2000 steps of Nosé–Hoover NVT at T,
then 50 ps of Nosé–Hoover NVT (damping 0.1 ps, deepearth's ``MDSettings`` default) with unwrapped
positions and velocities every 0.1 ps (10 steps of 0.01 ps). Each run has its own velocity seed.

Reference ("truth") for the coverage: the issue's estimator, OLS of the MSD over 2–25 ps, averaged
over all runs of the state point (its standard error is printed; it is 3–5× below a set's σ). The
velocity-autocorrelation integral to 5 ps is printed beside it. State points: ρ* 0.80, T* 1.00 (the
issue's) and ρ* 0.8442, T* 0.722 (near the triple point, stronger caging). A published value to hold
the ρ* 0.80, T* 1.00 result against (Meier, Laesecke & Kabelac, J. Chem. Phys. 121, 9526 (2004))
could not be read from here; the printed D* is for N = 256 and rc = 3σ without the Yeh–Hummer
correction.

``--old-commit REV`` also runs the estimator as it was at REV (read with ``git show``) on the same
trajectories. Shared with ``tests/md/test_lj_liquid_diffusion.py``.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from deepearth.units import A2_PER_PS_TO_M2_PER_S, AVOGADRO, KB_J_PER_K  # noqa: E402

SIGMA_A = 3.405
EPS_K = 119.8
MASS_AMU = 39.948
#: LJ time unit of argon, ps: σ √(m/ε).
TAU_PS = SIGMA_A * 1e-10 * np.sqrt(MASS_AMU * 1e-3 / AVOGADRO / (EPS_K * KB_J_PER_K)) * 1e12
#: D* (σ²/τ) per m²/s.
DSTAR_PER_SI = TAU_PS / SIGMA_A**2 / A2_PER_PS_TO_M2_PER_S
STATES = ((0.80, 1.00), (0.8442, 0.722))


def lj_argon_commands(density: float, temperature: float, n_cells: int, seed: int, *, rc: float = 3.0,
                      run_ps: float = 50.0, frame_ps: float = 0.1, steps_per_frame: int = 10,
                      tdamp_ps: float = 0.1, dump: str = "traj.dump") -> list[str]:
    """LAMMPS commands (``units lj``) for one LJ argon run (see the module docstring)."""
    dt = frame_ps / TAU_PS / steps_per_frame
    n_frames = int(round(run_ps / frame_ps))
    tdamp = tdamp_ps / TAU_PS
    return [
        "atom_style atomic", f"lattice fcc {density}", f"region box block 0 {n_cells} 0 {n_cells} 0 {n_cells}",
        "create_box 1 box", "create_atoms 1 box", "mass 1 1.0", f"pair_style lj/cut {rc}", "pair_coeff 1 1 1.0 1.0",
        "neighbor 0.3 bin", "neigh_modify delay 0 every 1 check yes", f"timestep {dt}",
        f"velocity all create {2 * temperature} {seed} mom yes rot yes dist gaussian", "thermo 1000",
        f"fix melt all nvt temp {2 * temperature} {temperature} {tdamp}", "run 1000", "unfix melt",
        f"fix eq all nvt temp {temperature} {temperature} {tdamp}", "run 2000", "unfix eq", "reset_timestep 0",
        f"fix nh all nvt temp {temperature} {temperature} {tdamp}",
        "thermo_style custom step temp pe etotal press", f"thermo {max(n_frames * steps_per_frame // 20, 1)}",
        f"dump traj all custom {steps_per_frame} {dump} id xu yu zu vx vy vz",
        "dump_modify traj sort id format float %.8g", f"run {n_frames * steps_per_frame}",
    ]


def lj_argon_run(workdir: str | os.PathLike, density: float, temperature: float, seed: int, *, n_atoms: int = 256,
                 run_ps: float = 50.0, frame_ps: float = 0.1, **kw) -> dict:
    """One run: unwrapped positions (Å) and velocities (Å/ps) ``(frames, N, 3)``, frame spacing
    (ps), mean temperature (reduced) and LAMMPS wall time (s)."""
    from deepearth.md.lammps_runner import run_lammps

    n_cells = round((n_atoms / 4) ** (1 / 3))
    if 4 * n_cells**3 != n_atoms:
        raise ValueError(f"{n_atoms} atoms is not 4n³")
    run = run_lammps(lj_argon_commands(density, temperature, n_cells, seed, run_ps=run_ps, frame_ps=frame_ps, **kw),
                     workdir, units="lj", dumps={"traj": "traj.dump"})
    dump = run.dumps["traj"]
    (Path(workdir) / "traj.dump").unlink(missing_ok=True)
    vel = np.stack([dump[c] for c in ("vx", "vy", "vz")], axis=-1) * SIGMA_A / TAU_PS
    return {"pos": dump.positions() * SIGMA_A, "vel": vel, "dt_ps": frame_ps,
            "T": float(run.thermo[-1]["Temp"].mean()), "wall_s": run.wall_s}


def reference_D(run: dict, ols_window_ps: tuple[float, float] = (2.0, 25.0),
                vacf_ps: float = 5.0) -> tuple[float, float]:
    """D* of one run by the issue's two references: OLS slope of the MSD (drift removed) over
    ``ols_window_ps``, and the velocity-autocorrelation integral to ``vacf_ps``."""
    from deepearth.properties.diffusion import msd_per_atom
    from deepearth.properties.diffusion.inputs import vacf

    pos, vel, dt = run["pos"], run["vel"], run["dt_ps"]
    msd = msd_per_atom(pos - pos.mean(axis=1, keepdims=True)).mean(axis=1)
    lag = np.arange(len(msd)) * dt
    w = (lag >= ols_window_ps[0]) & (lag <= ols_window_ps[1])
    ols = np.polyfit(lag[w], msd[w], 1)[0] / 6
    n = int(round(vacf_ps / dt)) + 1
    c = vacf([vel - vel.mean(axis=1, keepdims=True)], n)
    gk = np.trapezoid(c, dx=dt) / 3
    return ols * A2_PER_PS_TO_M2_PER_S * DSTAR_PER_SI, gk * A2_PER_PS_TO_M2_PER_S * DSTAR_PER_SI


def _estimate(runs: list[dict], estimator=None) -> dict:
    """The default estimator (positions only) on ``runs`` pooled as replicas, in D* units."""
    if estimator is None:
        from deepearth.properties.diffusion import diffusion_coefficient as estimator
    r = estimator([x["pos"] for x in runs], dt_ps=runs[0]["dt_ps"])
    out = {"D": r.value * DSTAR_PER_SI, "err": r.stderr * DSTAR_PER_SI, "t0": r.fit_window_ps[0],
           "diffusive": r.diffusive}
    if hasattr(r, "D_stderr_gls_m2_per_s"):
        out.update(gls=r.D_stderr_gls_m2_per_s * DSTAR_PER_SI, source=r.stderr_source)
    return out


def _one_set(args) -> dict:
    """Run and analyse one set of replicas (a worker)."""
    state, k, n_rep, run_ps, old_dir = args
    rho, temp = state
    t0 = time.perf_counter()
    runs = []
    with tempfile.TemporaryDirectory(prefix="lj-diff-") as tmp:
        for j in range(n_rep):
            runs.append(lj_argon_run(Path(tmp) / f"r{j}", rho, temp, seed=1000 + 97 * (n_rep * k + j), run_ps=run_ps))
    out = {"set": _estimate(runs), "single": [_estimate([x]) for x in runs], "ref": [reference_D(x) for x in runs],
           "T": [x["T"] for x in runs], "lammps_s": sum(x["wall_s"] for x in runs)}
    if old_dir:
        sys.path.insert(0, old_dir)
        from deepearth_old.estimator import diffusion_coefficient as old  # noqa: PLC0415
        out["old_set"] = _estimate(runs, old)
        out["old_single"] = [_estimate([x], old) for x in runs]
    out["wall_s"] = time.perf_counter() - t0
    return out


def load_old_estimator(rev: str, into: Path) -> str:
    """Write the diffusion package as it was at git revision ``rev`` into ``into/deepearth_old``."""
    root = Path(__file__).resolve().parents[1]
    pkg = into / "deepearth_old"
    pkg.mkdir(parents=True, exist_ok=True)
    for name in ("__init__", "estimator", "inputs", "msd_gls"):
        text = subprocess.run(["git", "show", f"{rev}:src/deepearth/properties/diffusion/{name}.py"], cwd=root,
                              check=True, capture_output=True, text=True).stdout
        (pkg / f"{name}.py").write_text(text.replace("from deepearth.properties.diffusion.", "from deepearth_old."))
    return str(into)


def summarise(label: str, est: list[dict], truth: float) -> str:
    """One table row: bias, scatter, mean bar, their ratio and the coverage of the 1σ bar."""
    D = np.array([e["D"] for e in est])
    err = np.array([e["err"] for e in est])
    cov = np.mean(np.abs(D - truth) <= err)
    gls = np.array([e.get("gls", np.nan) for e in est])
    cov_gls = f"{100 * np.mean(np.abs(D - truth) <= gls):.0f} %" if np.isfinite(gls).all() else "—"
    t0 = np.array([e["t0"] for e in est])
    return (f"| {label} | {len(D)} | {D.mean():.4f} | {100 * (D.mean() / truth - 1):+.1f} % | {D.std(ddof=1):.4f} "
            f"| {err.mean():.4f} | {err.mean() / D.std(ddof=1):.2f} | **{100 * cov:.0f} %** | {cov_gls} "
            f"| {t0.min():.1f}–{t0.max():.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", type=int, default=48, help="sets of replicas per state point")
    ap.add_argument("--replicas", type=int, default=4)
    ap.add_argument("--run-ps", type=float, default=50.0)
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (each runs LAMMPS on one thread)")
    ap.add_argument("--old-commit", default=None, help="also run the estimator of this git revision")
    ap.add_argument("--quick", action="store_true", help="4 sets per state point (a smoke run)")
    args = ap.parse_args()
    n_sets = 4 if args.quick else args.sets
    t_start = time.perf_counter()
    old_dir = load_old_estimator(args.old_commit, Path(tempfile.mkdtemp())) if args.old_commit else None
    print(f"LJ argon, N 256, rc 3σ, {args.replicas} × {args.run_ps:g} ps per set, {n_sets} sets per state point, "
          f"NH 0.1 ps; {platform.processor() or platform.machine()}, {os.cpu_count()} cores, jobs {args.jobs}")
    rows = []
    for state in STATES:
        jobs = [(state, k, args.replicas, args.run_ps, old_dir) for k in range(n_sets)]
        if args.jobs > 1:
            with ProcessPoolExecutor(args.jobs) as pool:
                res = list(pool.map(_one_set, jobs))
        else:
            res = [_one_set(j) for j in jobs]
        ref = np.array([r for x in res for r in x["ref"]])
        truth, truth_err = ref[:, 0].mean(), ref[:, 0].std(ddof=1) / np.sqrt(len(ref))
        gk, gk_err = ref[:, 1].mean(), ref[:, 1].std(ddof=1) / np.sqrt(len(ref))
        temps = np.array([t for x in res for t in x["T"]])
        name = f"ρ* {state[0]:g}, T* {state[1]:g}"
        lammps_s = sum(x["lammps_s"] for x in res)
        print(f"\n{name}: reference D* (OLS 2–25 ps, {len(ref)} runs) {truth:.4f} ± {truth_err:.4f}; VACF "
              f"integral to 5 ps {gk:.4f} ± {gk_err:.4f}; ⟨T*⟩ {temps.mean():.3f}; LAMMPS {lammps_s:.0f} s")
        rows.append(summarise(f"{name}, sets of {args.replicas}", [x["set"] for x in res], truth))
        rows.append(summarise(f"{name}, single runs", [e for x in res for e in x["single"]], truth))
        if old_dir:
            rows.append(summarise(f"{name}, sets of {args.replicas}, estimator of {args.old_commit}",
                                  [x["old_set"] for x in res], truth))
            rows.append(summarise(f"{name}, single runs, estimator of {args.old_commit}",
                                  [e for x in res for e in x["old_single"]], truth))
        srcs = [x["set"]["source"] for x in res]
        print("stderr source of the sets: " + ", ".join(f"{s} {srcs.count(s)}" for s in sorted(set(srcs))))
    print("\n| case | n | mean D* | bias | std D* | mean σ | σ/std | coverage | GLS-bar coverage "
          "| window start (ps) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nwall time {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
