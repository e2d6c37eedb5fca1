"""A tiny synthetic run directory, built from records in seconds: what the report reads, written the
way the pipeline writes it (RunDir, LabelStore, validation_errors, DiffusionResult), without any
training or MD.

Three iterations of an EMT-copper run over a 2×2 (P, T) grid; labels of every kind (the reference's
EOS scan, strained seeds, labelled MD frames, a failed one); held-out errors of a noisy model on real
EMT labels; one diffusive result, one without a diffusive regime and a negative D (the resumed-run
case of issue 18); an Arrhenius record; a code without a recorded version.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from ase.build import bulk
from ase.calculators.emt import EMT

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ (emt_copper)

from emt_copper import EMT_RECIPE, POD_SMALL, write_copper  # noqa: E402

from deepearth.potentials.validation import validation_errors  # noqa: E402
from deepearth.properties.diffusion import DiffusionResult  # noqa: E402
from deepearth.recipe import load_recipe  # noqa: E402
from deepearth.reference.labeller import Label  # noqa: E402
from deepearth.rundir import Candidate, ExplorationResult, IterationRecord, RunDir, RunState, RunSummary  # noqa: E402
from deepearth.store import LabelStore  # noqa: E402

GRID_P, GRID_T = (5.0, 10.0), (600.0, 1200.0)
PROVENANCE = {"labeller": "emt", "method": "EMT", "code": "ase ?"}


class NoisyEMT:
    """A 'model': EMT plus fixed noise (energy per atom ~1 meV, forces ~0.02 eV/Å, stress ~0.1 GPa)."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def evaluate(self, positions, cell, symbols):
        from ase import Atoms

        atoms = Atoms(symbols, positions=positions, cell=cell, pbc=True)
        atoms.calc = EMT()
        n = len(atoms)
        e = atoms.get_potential_energy() + n * self.rng.normal(0, 1e-3)
        f = atoms.get_forces() + self.rng.normal(0, 0.02, (n, 3))
        stress = atoms.get_stress(voigt=False) + self.rng.normal(0, 0.1 / 160.2, (3, 3))
        return e, f, -0.5 * (stress + stress.T) * atoms.get_volume()


def _label(atoms) -> Label:
    a = atoms.copy()
    a.calc = EMT()
    return Label(a, True, a.get_potential_energy(), a.get_forces(), a.get_stress(), provenance=PROVENANCE)


def _configs(rng, n: int, scale: float, rattle: float) -> list:
    base = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 2, 2))
    out = []
    for _ in range(n):
        a = base.copy()
        a.set_cell(a.cell * scale * (1 + rng.normal(0, 0.01)), scale_atoms=True)
        a.rattle(rattle, seed=int(rng.integers(1 << 30)))
        out.append(a)
    return out


def _msd_result(species: str, T_K: float, D: float, stderr: float, diffusive: bool) -> dict:
    lag = np.linspace(0.0, 4.0, 201)
    if diffusive:
        msd = 0.3 + 6 * D / 1e-8 * lag
    else:
        msd = 0.25 * (1 - np.exp(-lag / 0.05)) + 0.01 * np.sin(17 * lag)
    res = DiffusionResult(species=species, D_m2_per_s=D, D_stderr_m2_per_s=stderr, n_replicas=2,
                          fit_window_ps=(1.0, 2.0), diffusive=diffusive, method="GLS fit (synthetic)",
                          lag_ps=lag.tolist(), msd_A2=msd.tolist(), T_K=T_K, P_GPa=5.0,
                          stderr_source="gls" if diffusive else "replicas")
    return {**res.to_dict(curves=True), "model_converged": False}


def build_run(root: Path, n_iterations: int = 3, n_valid: int = 6) -> tuple[RunDir, RunSummary, object]:
    """The synthetic run in ``root/run``: returns (RunDir, RunSummary, Recipe)."""
    rng = np.random.default_rng(18)
    root.mkdir(parents=True, exist_ok=True)
    write_copper(root / "cu.vasp")
    (root / "recipe.toml").write_text(EMT_RECIPE.format(run_dir=root / "run", pod=POD_SMALL)
                                      .replace("pressures_GPa = [5.0]", f"pressures_GPa = {list(GRID_P)}"))
    recipe = load_recipe(root / "recipe.toml")
    rundir = RunDir(root / "run")
    rundir.recipe_file.write_text((root / "recipe.toml").read_text())
    store = LabelStore(rundir.store_file)
    for k, a in enumerate(_configs(rng, 5, 1.0, 0.0)):
        a.set_cell(a.cell * (0.97 + 0.015 * k), scale_atoms=True)
        store.add(_label(a), f"eos-{k:02d}", 0, "train", origin_T_K=0.0, parent="reference-eos")
    for k, a in enumerate(_configs(rng, 8 + n_valid, 0.99, 0.05)):
        store.add(_label(a), f"init-{k:04d}", 0, "valid" if k < n_valid else "train", origin_P_GPa=GRID_P[k % 2])
    records = []
    for it in range(n_iterations):
        results, chosen = [], []
        for g, (P, T) in enumerate((p, t) for p in GRID_P for t in GRID_T):
            dev = list(np.abs(rng.lognormal(np.log(0.01 * (g + 1) / (it + 1)), 0.6, 41)))
            res = ExplorationResult(P_GPa=P, T_K=T, n_frames=41, deviation_used=dev,
                                    mean_volume_A3=32 * (11.6 + T / 6000 - P / 100),
                                    fractions={"accurate": 0.9, "candidate": 0.08, "failed": 0.02},
                                    blow_up="deviation 0.9 > 3 × trust_hi at step 30" if (it, g) == (0, 3) else "")
            folder = rundir.point_dir(it, P, T)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "result.json").write_text(json.dumps(res.to_dict()))
            results.append(res)
            if it < n_iterations - 1 and T > 1000:
                chosen.append(Candidate(str(folder / "traj.extxyz"), 10 + it, P, T))
        if it < n_iterations - 1:
            rundir.write_candidates(it, chosen)
            for c, a in zip(chosen, _configs(rng, len(chosen), 1.005, 0.12)):
                store.add(_label(a), f"it{it + 1:03d}-P{c.P_GPa:g}-T{c.T_K:g}-f{c.frame:05d}", it + 1, "train",
                          c.P_GPa, c.T_K, c.parent, c.frame)
            bad = Label(_configs(rng, 1, 1.0, 0.3)[0], False, error="SCF did not converge", provenance=PROVENANCE)
            store.add(bad, f"it{it + 1:03d}-bad", it + 1, "train", GRID_P[0], GRID_T[1], "traj", 3)
        frames = store.configurations(f"iteration<={it}", split="valid")
        val = validation_errors(NoisyEMT(it), frames, bin_by="pressure")
        rundir.model_dir(it).mkdir(parents=True, exist_ok=True)
        rundir.validation_file(it).write_text(json.dumps(
            {**val.summary(), "parity": val.parity, "committee_calibration": None, "trust_levels": None}))
        upto = f"iteration<={it}"
        records.append(IterationRecord(
            iteration=it, n_labelled_total=store.count(upto, ok=True), n_new_labels=store.count(iteration=it),
            n_failed_labels_total=store.count(upto, ok=False), accurate_fraction=0.9, candidate_fraction=0.08,
            failed_fraction=0.02, rmse_energy_meV_per_atom=val.rmse_energy_meV_per_atom,
            rmse_force_eV_per_A=val.rmse_force_eV_per_A, rmse_stress_GPa=val.rmse_stress_GPa,
            n_validation_frames=val.n_frames, deviation_scale=1.5,
            grid=[{"P_GPa": r.P_GPa, "T_K": r.T_K, **r.fractions, "blow_up": r.blow_up} for r in results]))
    rundir.mark_final(n_iterations - 1)
    rundir.write_state(RunState(stage="finished", iteration=n_iterations - 1,
                                iterations=[r.to_dict() for r in records], converged=False,
                                final_iteration=n_iterations - 1))
    diffusion = [_msd_result("Cu", 1200.0, 2.1e-9, 1.5e-10, True),
                 _msd_result("Cu", 600.0, -7.7e-13, 1.9e-11, False)]  # a plateau with a negative fit
    rundir.write_result("diffusion", diffusion)
    T = np.array([1200.0, 1500.0, 1800.0])
    grid = np.linspace(1000.0, 2000.0, 30)
    rundir.write_result("arrhenius", [{
        "species": "Cu", "T_K": T.tolist(), "D_m2_per_s": (1e-7 * np.exp(-5000 / T)).tolist(),
        "D_stderr_m2_per_s": (1e-8 * np.exp(-5000 / T)).tolist(), "label": "ΔH = 41.6 ± 2.0 kJ/mol",
        "curve": {"T_K": grid.tolist(), "D_m2_per_s": (1e-7 * np.exp(-5000 / grid)).tolist(),
                  "D_lo_m2_per_s": (0.8e-7 * np.exp(-5000 / grid)).tolist(),
                  "D_hi_m2_per_s": (1.25e-7 * np.exp(-5000 / grid)).tolist()}}])
    summary = RunSummary(
        deepearth_version="0.1.0", recipe=str(root / "recipe.toml"), name="synthetic-copper", converged=False,
        iterations=[r.to_dict() for r in records], final_model="models/final/member-0/model.pod",
        potential={"backend": "pod", "rcut_A": 4.5, "two_body": 4, "three_body": [3, 2], "bootstrap": True},
        labeller=dict(PROVENANCE), diffusion=[{k: v for k, v in d.items() if k not in ("lag_ps", "msd_A2")}
                                             for d in diffusion],
        wall_time_s=7.0, flags=["active learning did not converge: production ran with the last model"])
    rundir.write_summary(summary)
    return rundir, summary, recipe
