"""Run the stages of a recipe in order, resumably.

Each stage reads what earlier stages wrote in the run directory and is idempotent: labels are in
the store the moment they are computed, models and MD results appear atomically when complete, so
``deepearth run`` after a kill skips finished work and continues the rest. ``state.json`` says
where the run stands (read by ``deepearth status``).
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import numpy as np

from deepearth import __version__
from deepearth.explore.campaign import GridPointTask, explore_point, load_candidate, point_dir, select_candidates
from deepearth.files import read_json, write_json_atomic
from deepearth.md.production import ReplicaTask, run_replica
from deepearth.parallel import run_tasks
from deepearth.potentials.base import backend_for_model, load_evaluator, make_potential
from deepearth.potentials.committee import Committee, committee_calibration
from deepearth.potentials.deepmd import set_single_thread_env
from deepearth.potentials.ensemble import train_committee
from deepearth.potentials.validation import validation_errors
from deepearth.properties.eos import BirchMurnaghan3, fit_birch_murnaghan3
from deepearth.recipe import Recipe, ReferenceSpec, recipe_to_toml
from deepearth.reference.batch import LabelRequest, label_requests
from deepearth.reference.xtb import xtb_labeller
from deepearth.store import LabelStore, assign_split
from deepearth.structures.build import build_supercell, initial_configurations, volume_at_pressure
from deepearth.units import stress_to_pressure_gpa

log = logging.getLogger("deepearth")


def make_labeller(r: ReferenceSpec):
    """The recipe's reference: GFN1-xTB (tblite) or GPAW plane-wave DFT."""
    if r.kind == "gpaw":
        from deepearth.reference.gpaw import gpaw_labeller

        g = r.gpaw
        return gpaw_labeller(g.xc, g.cutoff_eV, g.kpts, r.electronic_temperature_K, gamma_centered=g.gamma_centered,
                             maxiter=g.max_scf_iterations)
    return xtb_labeller(r.method, r.electronic_temperature_K, r.max_scf_iterations)


class Run:
    """The run directory of one recipe and the handles every stage needs."""

    def __init__(self, recipe: Recipe):
        self.recipe = recipe
        base = Path(recipe.source).parent if recipe.source else Path.cwd()
        self.dir = Path(recipe.run_dir).resolve()  # absolute: backends run in their own folders
        self.dir.mkdir(parents=True, exist_ok=True)
        self.store = LabelStore(self.dir / "deepearth.db")
        self.state_file = self.dir / "state.json"
        self.state = read_json(self.state_file) if self.state_file.is_file() else {"iterations": []}
        (self.dir / "results").mkdir(exist_ok=True)
        self._eos: BirchMurnaghan3 | None = None
        s = recipe.system
        self.structure = build_supercell(s.structure, s.formula, s.lattice_constant_A, s.supercell, base)
        self.type_map = sorted(set(self.structure.get_chemical_symbols()))
        r = recipe.reference
        self.labeller = make_labeller(r)
        self.store.check_provenance(self.labeller.provenance)
        p = recipe.potential
        self.potential = make_potential(p.backend, self.type_map, **p.backend_settings())
        # bootstrap committees (POD) are calibrated on held-out labels; DeePMD seed committees used raw
        self.calibrate_deviation = p.backend == "pod"

    # -- bookkeeping ---------------------------------------------------------------------------
    def set_stage(self, stage: str, **extra) -> None:
        self.state.update(stage=stage, updated=time.strftime("%Y-%m-%d %H:%M:%S"), **extra)
        write_json_atomic(self.state_file, self.state)
        log.info("stage: %s", stage)

    def split_of(self, candidate_id: str) -> str:
        return assign_split(candidate_id, self.recipe.seed, self.recipe.reference.validation_fraction)

    def seed(self, *parts: int) -> int:
        """A derived seed: deterministic in the master seed and the stage indices."""
        return int(np.random.default_rng([self.recipe.seed, *parts]).integers(0, 2**31 - 1))

    def start_structure(self, P_GPa: float):
        """The ideal supercell at the reference's static volume for ``P_GPa`` (MD starts here)."""
        v0 = self.structure.get_volume()
        v = self.reference_eos().volume(P_GPa)
        atoms = self.structure.copy()
        atoms.set_cell(atoms.cell.array * (v / v0) ** (1 / 3), scale_atoms=True)
        return atoms

    def label(self, requests: list[LabelRequest], what: str) -> dict:
        n = len(requests)
        done = {"n": 0}

        def progress(req, lab):
            done["n"] += 1
            status = "ok" if lab.ok else f"FAILED ({lab.error[:80]})"
            log.info("label %s [%d/%d] %s", req.candidate_id, done["n"], n, status)

        counts = label_requests(self.labeller, requests, self.store, self.split_of, self.recipe.workers, progress)
        log.info("%s: %d labelled, %d failed, %d already in the store", what, counts["ok"], counts["failed"],
                 counts["skipped"])
        return counts

    # -- stages --------------------------------------------------------------------------------
    def reference_eos(self) -> BirchMurnaghan3:
        """Static EOS of the ideal supercell with the reference itself (labels ``eos-NN``, BM3 fit).

        Places the initial data and every MD start at the reference's own density for the target
        pressures: the recipe's K0 guess only sets the scanned range (GFN1-xTB's MgO reaches 140 GPa
        at a volume ≈ 5 % larger than a K0 = 160 GPa BM3 guess says).
        """
        if self._eos is not None:
            return self._eos
        s, ex = self.recipe.system, self.recipe.exploration
        v0 = self.structure.get_volume()
        guess = lambda p: volume_at_pressure(p, v0, s.bulk_modulus_GPa, s.bulk_modulus_derivative)  # noqa: E731
        v_lo, v_hi = guess(1.5 * max(ex.pressures_GPa)), guess(0.4 * min(ex.pressures_GPa))
        reqs = []
        for k, v in enumerate(np.linspace(v_lo, v_hi, self.recipe.initial.n_eos_volumes)):
            atoms = self.structure.copy()
            atoms.set_cell(atoms.cell.array * (v / v0) ** (1 / 3), scale_atoms=True)
            reqs.append(LabelRequest(f"eos-{k:02d}", atoms, 0, None, 0.0, "reference-eos"))
        self.set_stage("initial data: static EOS of the ideal supercell with the reference", iteration=0)
        self.label(reqs, "reference EOS")
        rows = self.store.rows(parent="reference-eos", ok=True)
        if len(rows) < 4:
            raise RuntimeError(f"reference EOS: only {len(rows)} of {len(reqs)} ideal-cell labels succeeded "
                               f"(need 4 for a BM3 fit); see the failed rows' 'error' in {self.store.path}")
        vols = [r.volume for r in rows]
        press = [stress_to_pressure_gpa(r.stress) for r in rows]
        self._eos = fit_birch_murnaghan3(vols, press, guess=(v0, s.bulk_modulus_GPa, s.bulk_modulus_derivative))
        write_json_atomic(self.dir / "results" / "reference_eos.json",
                          {**self._eos.to_dict(), "volumes_A3": vols, "pressures_GPa": press,
                           "n_atoms": len(self.structure), "labeller": self.labeller.provenance})
        e = self._eos
        at = ", ".join(f"V({p:g} GPa) = {e.volume(p):.1f}" for p in ex.pressures_GPa)
        log.info("reference static EOS of the %d-atom cell (BM3 fit over %.0f-%.0f GPa): %s A^3",
                 len(self.structure), min(press), max(press), at)
        return e

    def initial_data(self) -> None:
        i = self.recipe.initial
        ex = self.recipe.exploration
        eos = self.reference_eos()
        self.set_stage("initial data: labelling strained and rattled configurations", iteration=0)
        configs = initial_configurations(self.structure, ex.pressures_GPa, i.n_configs, i.strain, i.rattle_A,
                                         eos.volume, self.seed(0))
        reqs = [LabelRequest(f"init-{k:04d}", a, 0, a.info["origin_P_GPa"], None) for k, a in enumerate(configs)]
        self.label(reqs, "initial data")

    def data_dir(self, iteration: int) -> Path:
        return self.dir / "data" / f"iter-{iteration:03d}"

    def model_dir(self, iteration: int) -> Path:
        return self.dir / "models" / f"iter-{iteration:03d}"

    def train(self, iteration: int) -> list[Path]:
        ddir = self.data_dir(iteration)
        shutil.rmtree(ddir, ignore_errors=True)  # cheap to rebuild; the store is the source of truth
        upto = f"iteration<={iteration}"  # labels of later iterations (present on resume) stay out
        train = self.store.export_deepmd(ddir / "train", self.type_map, upto, split="train")
        valid = self.store.export_deepmd(ddir / "valid", self.type_map, upto, split="valid")
        if not train:
            raise RuntimeError(f"{self.store.path}: no successfully labelled training configurations")
        n_train = self.store.count(upto, ok=True, split="train")
        self.set_stage(f"iteration {iteration}: training {self.recipe.potential.ensemble_size} models on {n_train} labels",
                       iteration=iteration)
        seeds = [self.seed(1, iteration, k) for k in range(self.recipe.potential.ensemble_size)]
        return train_committee(self.potential, self.model_dir(iteration), train, valid, seeds, self.recipe.workers,
                               on_done=lambda k, p: log.info("trained member %d: %s", k, p))

    def validate(self, iteration: int, models: list[Path]) -> dict:
        """Held-out errors of member 0 and the committee's spread calibration (``validation.json``)."""
        frames = self.store.configurations(f"iteration<={iteration}", split="valid")
        # binned by the labels' own static pressure: every frame has one (seeds carry no MD temperature)
        errors = validation_errors(load_evaluator(models[0]), frames, bin_by="pressure")
        calibration, scale = self.calibrate(models, frames)
        out = self.model_dir(iteration) / "validation.json"
        write_json_atomic(out, {**errors.summary(), "committee_calibration": calibration, "parity": errors.parity})
        log.info("iteration %d held-out (%d frames): E %.2f meV/atom, F %.3f eV/A, stress %.2f GPa", iteration,
                 errors.n_frames, errors.rmse_energy_meV_per_atom, errors.rmse_force_eV_per_A, errors.rmse_stress_GPa)
        return {**errors.summary(), "deviation_scale": scale}

    def calibrate(self, models: list[Path], frames) -> tuple[dict | None, float]:
        """Committee spread vs error on the held-out ``frames``: the calibration record and the factor
        for the exploration deviation, max(1, s) for a bootstrap committee (s from
        :func:`committee_calibration`), 1 otherwise or when there is nothing to calibrate on."""
        if not frames:
            log.warning("no held-out labels: the committee spread is used uncalibrated")
            return None, 1.0
        try:
            cal = committee_calibration(Committee(models, backend_for_model(models[0])), frames).to_dict()
        except ValueError as exc:
            log.warning("committee calibration failed (%s): the spread is used uncalibrated", exc)
            return None, 1.0
        cal["applied"] = self.calibrate_deviation
        # only ever inflate: a bootstrap spread misses the model error, and a factor < 1 from a
        # handful of held-out frames would make the exploration overconfident
        scale = max(1.0, cal["factor"]) if self.calibrate_deviation else 1.0
        log.info("committee spread x%.2f = held-out force error (%s)", cal["factor"],
                 f"exploration deviation x{scale:.2f}" if cal["applied"] else "reported only")
        return cal, scale

    def explore(self, iteration: int, models: list[Path], deviation_scale: float = 1.0) -> list[dict]:
        """MD at every grid point with the committee's spread × ``deviation_scale`` classified."""
        ex = self.recipe.exploration
        root = self.dir / "explore" / f"iter-{iteration:03d}"
        grid = [(p, t) for p in ex.pressures_GPa for t in ex.temperatures_K]
        self.set_stage(f"iteration {iteration}: exploring {len(grid)} (P, T) points", iteration=iteration)
        tasks = [(GridPointTask(str(point_dir(root, p, t)), [str(m) for m in models], self.start_structure(p), p, t,
                                ex.ensemble, ex.steps, ex.timestep_fs, ex.deviation_interval, ex.criterion,
                                ex.trust_lo, ex.trust_hi, ex.relative_f0_eV_per_A, self.seed(2, iteration, g),
                                deviation_scale),)
                 for g, (p, t) in enumerate(grid)]
        results: list[dict | None] = [None] * len(tasks)
        for g, res in run_tasks(explore_point, tasks, self.recipe.workers):
            results[g] = res
            f = res["fractions"]
            log.info("explored P=%g GPa T=%g K: accurate %.2f candidate %.2f failed %.2f%s", res["P_GPa"], res["T_K"],
                     f["accurate"], f["candidate"], f["failed"], f" (blow-up: {res['blow_up']})" if res["blow_up"] else "")
        return results  # type: ignore[return-value]

    def select_and_label(self, iteration: int, results: list[dict]) -> None:
        """Pick candidates from exploration ``iteration`` and label them as data of ``iteration + 1``."""
        root = self.dir / "explore" / f"iter-{iteration:03d}"
        chosen_file = root / "candidates.json"
        if not chosen_file.is_file():
            chosen = select_candidates(root, results, self.recipe.exploration.max_candidates_per_iteration)
            write_json_atomic(chosen_file, chosen)
        chosen = read_json(chosen_file)
        self.set_stage(f"iteration {iteration}: labelling {len(chosen)} candidates", iteration=iteration)
        reqs = [LabelRequest(f"it{iteration + 1:03d}-P{c['P_GPa']:g}-T{c['T_K']:g}-f{c['frame']:05d}",
                             load_candidate(c), iteration + 1, c["P_GPa"], c["T_K"], c["parent"], c["frame"])
                for c in chosen]
        self.label(reqs, f"iteration {iteration} candidates")

    def production(self, model: Path) -> dict[tuple[float, float], list[str]]:
        pr = self.recipe.production
        self.set_stage(f"production MD: {len(pr.points)} points x {pr.replicas} replicas")
        tasks, keys = [], []
        for j, pt in enumerate(pr.points):
            for r in range(pr.replicas):
                out = self.dir / "md" / f"P{pt.P_GPa:g}-T{pt.T_K:g}" / f"rep-{r}"
                tasks.append((ReplicaTask(str(out), str(model), self.start_structure(pt.P_GPa), pt.P_GPa, pt.T_K,
                                          pr.equilibration_steps, pr.steps, pr.timestep_fs, pr.sample_interval,
                                          pr.thermostat, self.seed(3, j, r)),))
                keys.append((pt.P_GPa, pt.T_K))
        trajectories: dict[tuple[float, float], list[str]] = {k: [] for k in keys}
        for i, res in run_tasks(run_replica, tasks, self.recipe.workers):
            trajectories[keys[i]].append(res["trajectory"])
            log.info("replica done: P=%g GPa T=%g K -> <T> %.0f K, <P> %.1f GPa", *keys[i], res["T_mean_K"],
                     res["P_mean_GPa"])
        return {k: sorted(v) for k, v in trajectories.items()}


def _iteration_record(run: Run, iteration: int, n_new: int, results: list[dict], errors: dict) -> dict:
    classes = {"accurate": 0.0, "candidate": 0.0, "failed": 0.0}
    n_total = sum(r["n_frames"] for r in results)
    for r in results:
        for c in classes:
            classes[c] += r["fractions"][c] * r["n_frames"] / max(n_total, 1)
    upto = f"iteration<={iteration}"
    return {"iteration": iteration, "n_labelled_total": run.store.count(upto, ok=True), "n_new_labels": n_new,
            "n_failed_labels_total": run.store.count(upto, ok=False),
            "accurate_fraction": classes["accurate"], "candidate_fraction": classes["candidate"],
            "failed_fraction": classes["failed"],
            "rmse_energy_meV_per_atom": errors["rmse_energy_meV_per_atom"],
            "rmse_force_eV_per_A": errors["rmse_force_eV_per_A"], "rmse_stress_GPa": errors["rmse_stress_GPa"],
            "n_validation_frames": errors["n_frames"], "deviation_scale": errors["deviation_scale"],
            "grid": [{"P_GPa": r["P_GPa"], "T_K": r["T_K"], **r["fractions"]} for r in results]}


def run_recipe(recipe: Recipe) -> dict:
    """Run (or resume) everything a recipe asks for; returns the summary (also ``summary.json``)."""
    from deepearth.properties.diffusion import diffusion_coefficient
    from deepearth.properties.trajectory import read_trajectory
    from deepearth.report.html import write_report

    set_single_thread_env()
    t0 = time.time()
    run = Run(recipe)
    lock = _lock_run_dir(run.dir)  # held until this process ends (released even by kill -9)
    (run.dir / "recipe.toml").write_text(recipe_to_toml(recipe))
    ex = recipe.exploration
    run.initial_data()
    records, final_iteration = [], 0
    for it in range(ex.max_iterations):
        n_before = run.store.count(iteration=it)
        models = run.train(it)
        errors = run.validate(it, models)
        results = run.explore(it, models, errors["deviation_scale"])
        records.append(_iteration_record(run, it, n_before, results, errors))
        run.state["iterations"] = records
        final_iteration = it
        converged = all(r["fractions"]["accurate"] >= ex.converged_accurate_fraction for r in results)
        if converged:
            log.info("converged at iteration %d: accurate fraction >= %.2f at every grid point", it,
                     ex.converged_accurate_fraction)
            break
        if it == ex.max_iterations - 1:
            log.warning("not converged after %d iterations (the iteration cap)", ex.max_iterations)
            break
        run.select_and_label(it, results)
    final = run.dir / "models" / "final"
    if final.is_symlink() or final.exists():
        final.unlink()
    final.symlink_to(run.model_dir(final_iteration).name)
    final_model = models[0]
    run.state.update(converged=converged, final_iteration=final_iteration)

    diffusion = []
    if recipe.properties.diffusion is not None:
        trajs = run.production(final_model)
        run.set_stage("properties: diffusion")
        spec = recipe.properties.diffusion
        for (p, t), paths in trajs.items():
            reps = [read_trajectory(pth) for pth in paths]
            for sp in spec.species or run.type_map:
                res = diffusion_coefficient(reps, species=sp, min_fit_start_ps=spec.min_fit_start_ps, T_K=t, P_GPa=p)
                diffusion.append(res)
                log.info("D(%s) at %g GPa, %g K = %.3e +/- %.3e m^2/s (window %.2f-%.2f ps%s)", sp, p, t,
                         res.D_m2_per_s, res.D_stderr_m2_per_s, *res.fit_window_ps,
                         "" if res.diffusive else ", not diffusive")
        write_json_atomic(run.dir / "results" / "diffusion.json", [d.to_dict(curves=True) for d in diffusion])

    summary = {"deepearth_version": __version__, "recipe": str(recipe.source), "name": recipe.name,
               "converged": converged, "iterations": records,
               "final_model": str(Path("models") / "final" / "member-0" / final_model.name),
               "potential": {"backend": recipe.potential.backend, **recipe.potential.backend_settings()},
               "labeller": run.labeller.provenance,
               "diffusion": [d.to_dict() for d in diffusion],
               "wall_time_s": time.time() - t0}  # this invocation (a resumed run counts only its own part)
    run.set_stage("writing report")
    write_report(run.dir, summary)
    write_json_atomic(run.dir / "summary.json", summary)
    run.set_stage("finished")
    lock.close()
    return summary


def _lock_run_dir(run_dir: Path):
    import fcntl

    handle = open(run_dir / ".lock", "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise RuntimeError(f"{run_dir}: another deepearth run is using this run directory") from None
    return handle
