"""A synthetic campaign run directory, built from records in seconds: what the report of a
``[[systems]]`` recipe reads, written the way the pipeline writes it (RunDir with system folders,
LabelStore ids prefixed ``<system>-``, validation_errors on real EMT labels, DiffusionResult rows with
``system`` and ``region``, Arrhenius laws fitted by :func:`deepearth.properties.arrhenius_fit` per
(system, species, region), the W-isotope model run on the grain-boundary law), without training or MD.

Three systems: ``cu`` (crystal, a 2 × 2 P–T grid whose 1200 K row the temperature ramp never reached),
``cu-gb`` (a Σ5 bicrystal; its name starts with another system's name and its frames have 48 atoms,
not 32) and ``cu-liq`` (a liquid). Production: the liquid at 2 temperatures, the bicrystal's GB slab
and grain interior at 3 (one grain point without a diffusive regime), the crystal at 2 temperatures
without a diffusive regime (its law is not fitted).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from ase.build import bulk
from ase.io import write
from ase.calculators.emt import EMT
from report_run import NoisyEMT

from emt_copper import POD_SMALL, write_copper
from deepearth.geophysics.w_isotopes import exchange_from_arrhenius
from deepearth.potentials.validation import validation_errors
from deepearth.properties import arrhenius_fit, from_diffusion_results
from deepearth.properties.arrhenius import ArrheniusResult
from deepearth.properties.diffusion import DiffusionResult
from deepearth.recipe import load_recipe
from deepearth.reference.labeller import Label
from deepearth.rundir import Candidate, ExplorationResult, IterationRecord, RunDir, RunState, RunSummary
from deepearth.store import LabelStore
from deepearth.units import R_J_PER_MOL_K

RECIPE = """
name = "synthetic-campaign"
run_dir = "{run_dir}"
seed = 3
[[systems]]
name = "cu"
structure = "cu.vasp"
supercell = [1, 1, 1]
bulk_modulus_GPa = 140.0
pressures_GPa = [5.0, 10.0]
temperatures_K = [600.0, 1200.0]
[[systems]]
name = "cu-gb"
structure = "cu4.vasp"
supercell = [1, 1, 1]
bulk_modulus_GPa = 140.0
grain_boundary = {{sigma = 5, min_length_A = 12.0, gb_width_A = 4.0}}
temperatures_K = [900.0]
weight = 0.5
[[systems]]
name = "cu-liq"
builder = "liquid"
structure = "cu.vasp"
supercell = [1, 1, 1]
bulk_modulus_GPa = 140.0
temperatures_K = [2000.0]
trust_lo = 0.05
trust_hi = 5.0
[reference]
kind = "emt"
{pod}
[exploration]
pressures_GPa = [5.0]
criterion = "absolute"
trust_lo = 0.02
trust_hi = 5.0
ramp = "temperature"
[production]
replicas = 2
allow_unconverged = true
[[production.cases]]
system = "cu-liq"
species = ["Cu"]
P_GPa = [5.0]
temperatures_K = [2000.0, 2500.0]
[[production.cases]]
system = "cu-gb"
species = ["Cu"]
P_GPa = [5.0]
temperatures_K = [1200.0, 1400.0, 1600.0]
regions = ["gb", "grain"]
[[production.cases]]
system = "cu"
species = ["Cu"]
P_GPa = [5.0]
temperatures_K = [600.0, 900.0]
[geophysics.w_isotopes]
system = "cu-gb"
species = "Cu"
T_K = 4000.0
P_GPa = 5.0
[properties.diffusion]
min_fit_start_ps = 0.05
"""

#: The systems: (name, explored (P, T) points, frames' cell repeat, held-out frames, training frames)
SYSTEMS = (("cu", [(5.0, 600.0), (10.0, 600.0)], (2, 2, 2), 10, 6),
           ("cu-gb", [(5.0, 900.0)], (2, 2, 3), 3, 5),
           ("cu-liq", [(5.0, 2000.0)], (2, 2, 2), 2, 5))
#: The synthetic laws D = D0 exp(−ΔH/RT): (system, species name in the rows, region) -> (D0 m²/s, ΔH kJ/mol)
LAWS = {("cu-liq", "Cu", "all"): (3e-7, 60.0),
        ("cu-gb", "Cu in z-slab 10.91±1.96 Å ×2", "gb"): (1e-6, 150.0),
        ("cu-gb", "Cu in outside the z-slab 10.91±3.92 Å ×2", "grain"): (1e-5, 250.0)}
PROVENANCE = {"labeller": "emt", "method": "EMT", "code": "ase 3.29.0"}


def _label(atoms) -> Label:
    a = atoms.copy()
    a.calc = EMT()
    return Label(a, True, a.get_potential_energy(), a.get_forces(), a.get_stress(), provenance=PROVENANCE)


def _frames(rng, n: int, repeat: tuple, rattle: float) -> list:
    base = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(repeat)
    out = []
    for _ in range(n):
        a = base.copy()
        a.set_cell(a.cell * (1 + rng.normal(0, 0.01)), scale_atoms=True)
        a.rattle(rattle, seed=int(rng.integers(1 << 30)))
        out.append(a)
    return out


def _row(system: str, species: str, region: str, T: float, D: float, diffusive: bool = True) -> dict:
    err = 0.08 * D if diffusive else 2e-11
    res = DiffusionResult(species=species, D_m2_per_s=D if diffusive else 3e-12, D_stderr_m2_per_s=err, n_replicas=2,
                          fit_window_ps=(1.0, 2.0), diffusive=diffusive, method="GLS fit (synthetic)", T_K=T, P_GPa=5.0,
                          stderr_source="gls")
    lag = np.linspace(0.0, 4.0, 81)
    msd = 0.3 + 6 * res.D_m2_per_s / 1e-8 * lag if diffusive else 0.25 * (1 - np.exp(-lag / 0.05))
    return {**res.to_dict(), "lag_ps": lag.tolist(), "msd_A2": msd.tolist(), "region": region, "model_converged": False,
            "system": system}


def diffusion_rows() -> list[dict]:
    """The production results: D from :data:`LAWS` with a deterministic ±5 % scatter; the grain interior
    at 1200 K and the crystal without a diffusive regime."""
    rows = []
    for (system, species, region), (D0, dH) in LAWS.items():
        temps = (2000.0, 2500.0) if system == "cu-liq" else (1200.0, 1400.0, 1600.0)
        for k, T in enumerate(temps):
            D = D0 * np.exp(-dH * 1e3 / (R_J_PER_MOL_K * T)) * (1 + 0.05 * (-1) ** k)
            rows.append(_row(system, species, region, T, float(D), diffusive=not (region == "grain" and T == 1200.0)))
    rows += [_row("cu", "Cu", "all", T, 0.0, diffusive=False) for T in (600.0, 900.0)]
    return rows


def arrhenius_laws(rows: list[dict]) -> list[dict]:
    """One law per (system, species, region), as :func:`deepearth.pipeline.transport.arrhenius_laws` writes them."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["system"], r["species"], r["region"]), []).append(r)
    out = []
    for (system, species, region), items in groups.items():
        head = {"system": system, "species": species, "region": region}
        usable = [r for r in items if r["diffusive"]]
        if len({r["T_K"] for r in usable}) < 2:
            out.append({**head, "not_fitted": f"diffusive at {len(usable)} of {len(items)} state points: an "
                                              "Arrhenius law needs 2 temperatures"})
            continue
        fit = arrhenius_fit(*from_diffusion_results(usable, species=species), species=species)
        out.append({**head, **fit.to_dict(), "n_points": len(usable)})
    return out


def build_campaign(root: Path) -> tuple[RunDir, RunSummary, object]:
    """The synthetic campaign in ``root/run``: returns (RunDir, RunSummary, Recipe)."""
    rng = np.random.default_rng(13)
    root.mkdir(parents=True, exist_ok=True)
    write_copper(root / "cu.vasp")
    write(root / "cu4.vasp", bulk("Cu", "fcc", a=3.61, cubic=True), format="vasp")
    (root / "recipe.toml").write_text(RECIPE.format(run_dir=root / "run", pod=POD_SMALL))
    recipe = load_recipe(root / "recipe.toml")
    rundir = RunDir(root / "run")
    rundir.recipe_file.write_text((root / "recipe.toml").read_text())
    store = LabelStore(rundir.store_file)
    for name, points, repeat, n_valid, n_train in SYSTEMS:
        if name != "cu-liq":  # the liquid shares the crystal's EOS scan (no labels, no record of its own)
            for k, a in enumerate(_frames(rng, 5, repeat, 0.0)):
                a.set_cell(a.cell * (0.97 + 0.015 * k), scale_atoms=True)
                store.add(_label(a), f"{name}-eos-{k:02d}", 0, "train", origin_T_K=0.0, parent=f"reference-eos-{name}")
            rundir.write_result(f"reference_eos_{name}", {"system": name, "n_atoms": 4 * int(np.prod(repeat))})
        for k, a in enumerate(_frames(rng, n_valid + n_train, repeat, 0.05)):
            store.add(_label(a), f"{name}-init-{k:04d}", 0, "valid" if k < n_valid else "train", origin_P_GPa=5.0)
    records = []
    for it in range(2):
        results, chosen = [], []
        for name, points, repeat, _, _ in SYSTEMS:
            for g, (P, T) in enumerate(points):
                dev = list(np.abs(rng.lognormal(np.log(0.03 / (it + 1)), 0.6, 21)))
                res = ExplorationResult(P_GPa=P, T_K=T, n_frames=21, deviation_used=dev, system=name,
                                        mean_volume_A3=4 * np.prod(repeat) * (11.6 + T / 6000 - P / 100),
                                        fractions={"accurate": 0.5, "candidate": 0.5, "failed": 0.0})
                folder = rundir.point_dir(it, P, T, name)
                folder.mkdir(parents=True, exist_ok=True)
                (folder / "result.json").write_text(json.dumps(res.to_dict()))
                results.append(res)
                if it == 0 and g == 0:
                    chosen.append(Candidate(str(folder / "traj.extxyz"), 10, P, T, system=name))
        if it == 0:
            rundir.write_candidates(it, chosen)
            for c in chosen:
                repeat = next(s[2] for s in SYSTEMS if s[0] == c.system)
                a = _frames(rng, 1, repeat, 0.12)[0]
                store.add(_label(a), f"{c.system}-it001-P{c.P_GPa:g}-T{c.T_K:g}-f{c.frame:05d}", 1, "train",
                          c.P_GPa, c.T_K, c.parent, c.frame)
            bad = Label(_frames(rng, 1, (2, 2, 2), 0.3)[0], False, error="SCF did not converge", provenance=PROVENANCE)
            store.add(bad, "cu-liq-it001-bad", 1, "train", 5.0, 2000.0, "traj", 3)
        frames = store.configurations(f"iteration<={it}", split="valid")
        val = validation_errors(NoisyEMT(it), frames, bin_by="pressure")
        rundir.model_dir(it).mkdir(parents=True, exist_ok=True)
        calibration = {"applied": False, "n_frames": val.n_frames, "min_frames": 20,
                       "reason": f"{val.n_frames} held-out frames < 20: not calibrated"}
        rundir.validation_file(it).write_text(json.dumps(
            {**val.summary(), "parity": val.parity, "committee_calibration": calibration, "trust_levels": None}))
        upto = f"iteration<={it}"
        records.append(IterationRecord(
            iteration=it, n_labelled_total=store.count(upto, ok=True), n_new_labels=store.count(iteration=it),
            n_failed_labels_total=store.count(upto, ok=False), accurate_fraction=0.5, candidate_fraction=0.5,
            failed_fraction=0.0, rmse_energy_meV_per_atom=val.rmse_energy_meV_per_atom,
            rmse_force_eV_per_A=val.rmse_force_eV_per_A, rmse_stress_GPa=val.rmse_stress_GPa,
            n_validation_frames=val.n_frames, deviation_scale=1.0,
            grid=[{"P_GPa": r.P_GPa, "T_K": r.T_K, **r.fractions, "blow_up": r.blow_up, "system": r.system}
                  for r in results]))
    rundir.mark_final(1)
    rundir.write_state(RunState(stage="finished", iteration=1, iterations=[r.to_dict() for r in records],
                                converged=False, final_iteration=1))
    rows = diffusion_rows()
    rundir.write_result("diffusion", rows)
    laws = arrhenius_laws(rows)
    rundir.write_result("arrhenius", laws)
    gb = next(x for x in laws if x["region"] == "gb")
    grain = next(x for x in laws if x["region"] == "grain")
    w = recipe.geophysics.w_isotopes
    res = exchange_from_arrhenius(ArrheniusResult.from_dict(gb), w.T_K, w.P_GPa, w.pgz_height_km,
                                  w.grain_size_mm * 1e-3, ArrheniusResult.from_dict(grain), w.D_lattice_m2_per_s, w.gb_width_nm * 1e-9,
                                  w.time_gyr, n_samples=4000, seed=3)
    rundir.write_result("w_isotopes", {**w.model_dump(), **res, "lattice": "grain-interior law"})
    summary = RunSummary(
        deepearth_version="0.1.0", recipe=str(root / "recipe.toml"), name="synthetic-campaign", converged=False,
        iterations=[r.to_dict() for r in records], final_model="models/final/member-0/model.pod",
        potential={"backend": "pod", "rcut_A": 4.5}, labeller=dict(PROVENANCE),
        diffusion=[{k: v for k, v in d.items() if k not in ("lag_ps", "msd_A2")} for d in rows],
        wall_time_s=5.0, flags=["active learning did not converge: production ran with the last model"])
    rundir.write_summary(summary)
    return rundir, summary, recipe
