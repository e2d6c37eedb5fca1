"""The stages of a run, each a function over a :class:`~deepearth.pipeline.context.RunContext`.

Every stage reads what earlier stages wrote (the store, the run directory's records) and is
idempotent: labels are in the store the moment they are computed, models and MD results appear
atomically when complete, so a killed run started again skips finished work.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
from ase import Atoms

from deepearth.explore.campaign import GridPointTask, explore_point, load_candidate, select_candidates
from deepearth.explore.deviation import FRAME_CLASSES, model_deviation
from deepearth.files import write_json_atomic
from deepearth.md.production import ReplicaTask, run_replica
from deepearth.parallel import map_or_raise
from deepearth.pipeline.context import RunContext
from deepearth.potentials.committee import Committee, committee_calibration
from deepearth.potentials.ensemble import train_committee
from deepearth.potentials.registry import backend_for_model, load_evaluator
from deepearth.potentials.validation import validation_errors
from deepearth.properties import DiffusionResult, diffusion_coefficient, read_trajectory
from deepearth.properties.eos import BirchMurnaghan3, fit_birch_murnaghan3
from deepearth.reference.batch import LabelRequest, label_requests
from deepearth.rundir import ExplorationResult, IterationRecord, ReplicaResult
from deepearth.structures.build import initial_configurations, volume_at_pressure
from deepearth.units import stress_to_pressure_gpa

log = logging.getLogger("deepearth")


def label(ctx: RunContext, requests: list[LabelRequest], what: str) -> dict:
    """Label the requests not yet in the store with the context's labeller; returns the counts."""
    if ctx.labeller is None:
        raise RuntimeError(f"{what}: reference.kind = 'imported' has no labeller to compute new labels")
    n, done = len(requests), [0]

    def progress(req, lab):
        done[0] += 1
        status = "ok" if lab.ok else f"FAILED ({lab.error[:80]})"
        log.info("label %s [%d/%d] %s", req.candidate_id, done[0], n, status)
        ctx.progress.advance()

    ref = ctx.recipe.reference
    ctx.progress.start(f"labelling: {what}", n, done=sum(ctx.store.has_label(r.candidate_id) for r in requests))
    counts = label_requests(ctx.labeller, requests, ctx.store, ctx.split_of, ctx.executor, progress,
                            max_attempts=ref.max_attempts, retry_backoff_s=ref.retry_backoff_s, timeout_s=ref.timeout_s)
    ctx.progress.finish()
    log.info("%s: %d labelled, %d failed, %d already in the store", what, counts["ok"], counts["failed"],
             counts["skipped"])
    return counts


def scaled(atoms: Atoms, volume_A3: float) -> Atoms:
    """A copy of ``atoms`` scaled isotropically to ``volume_A3`` (Å³)."""
    out = atoms.copy()
    out.set_cell(out.cell.array * (volume_A3 / out.get_volume()) ** (1 / 3), scale_atoms=True)
    return out


def reference_eos(ctx: RunContext) -> BirchMurnaghan3:
    """Static EOS of the ideal supercell with the reference itself (labels ``eos-NN``, BM3 fit).

    Places the initial data and every MD start at the reference's own density for the target
    pressures: the recipe's K0 guess only sets the scanned range (GFN1-xTB's MgO reaches 140 GPa
    at a volume ≈ 5 % larger than a K0 = 160 GPa BM3 guess says). With imported labels (no
    labeller) the recipe's BM3 guess itself places the MD starts; NPT finds the volume.
    """
    if ctx.eos is not None:
        return ctx.eos
    s, ex = ctx.recipe.system, ctx.recipe.exploration
    v0 = ctx.structure.get_volume()
    if ctx.labeller is None:
        ctx.eos = BirchMurnaghan3(v0, s.bulk_modulus_GPa, s.bulk_modulus_derivative,
                                  method="the recipe's guess (system.bulk_modulus_GPa, bulk_modulus_derivative)")
        return ctx.eos
    guess = lambda p: volume_at_pressure(p, v0, s.bulk_modulus_GPa, s.bulk_modulus_derivative)  # noqa: E731
    v_lo, v_hi = guess(1.5 * max(ex.pressures_GPa)), guess(0.4 * min(ex.pressures_GPa))
    reqs = [LabelRequest(f"eos-{k:02d}", scaled(ctx.structure, v), 0, None, 0.0, "reference-eos")
            for k, v in enumerate(np.linspace(v_lo, v_hi, ctx.recipe.initial.n_eos_volumes))]
    ctx.set_stage("initial data: static EOS of the ideal supercell with the reference", iteration=0)
    label(ctx, reqs, "reference EOS")
    rows = ctx.store.rows(parent="reference-eos", ok=True)
    if len(rows) < 4:
        raise RuntimeError(f"reference EOS: only {len(rows)} of {len(reqs)} ideal-cell labels succeeded "
                           f"(need 4 for a BM3 fit); see the failed rows' 'error' in {ctx.store.path}")
    vols = [r.volume for r in rows]
    press = [stress_to_pressure_gpa(r.stress) for r in rows]
    ctx.eos = fit_birch_murnaghan3(vols, press, guess=(v0, s.bulk_modulus_GPa, s.bulk_modulus_derivative))
    ctx.rundir.write_result("reference_eos", {**ctx.eos.to_dict(), "volumes_A3": vols, "pressures_GPa": press,
                                              "n_atoms": len(ctx.structure), "labeller": ctx.labeller.provenance})
    at = ", ".join(f"V({p:g} GPa) = {ctx.eos.volume(p):.1f}" for p in ex.pressures_GPa)
    log.info("reference static EOS of the %d-atom cell (BM3 fit over %.0f-%.0f GPa): %s A^3",
             len(ctx.structure), min(press), max(press), at)
    return ctx.eos


def start_structure(ctx: RunContext, P_GPa: float) -> Atoms:
    """The ideal supercell at the reference's static volume for ``P_GPa`` (MD starts here)."""
    return scaled(ctx.structure, reference_eos(ctx).volume(P_GPa))


def initial_data(ctx: RunContext) -> None:
    """Label strained and rattled copies of the structure at the target densities (iteration 0)."""
    if ctx.labeller is None:
        log.info("initial data: %d imported labels in %s", ctx.store.count(ok=True), ctx.store.path)
        return
    i, ex = ctx.recipe.initial, ctx.recipe.exploration
    eos = reference_eos(ctx)
    ctx.set_stage("initial data: labelling strained and rattled configurations", iteration=0)
    configs = initial_configurations(ctx.structure, ex.pressures_GPa, i.n_configs, i.strain, i.rattle_A,
                                     eos.volume, ctx.seed(0))
    label(ctx, [LabelRequest(f"init-{k:04d}", a, 0, a.info["origin_P_GPa"], None) for k, a in enumerate(configs)],
          "initial data")


def train(ctx: RunContext, iteration: int) -> list[Path]:
    """Train the committee of ``iteration`` on the store's labels up to that iteration."""
    ddir = ctx.rundir.data_dir(iteration)
    shutil.rmtree(ddir, ignore_errors=True)  # cheap to rebuild; the store is the source of truth
    upto = f"iteration<={iteration}"  # labels of later iterations (present on resume) stay out
    train_sys = ctx.store.export_deepmd(ddir / "train", ctx.type_map, upto, split="train")
    valid_sys = ctx.store.export_deepmd(ddir / "valid", ctx.type_map, upto, split="valid")
    if not train_sys:
        raise RuntimeError(f"{ctx.store.path}: no successfully labelled training configurations")
    n_train = ctx.store.count(upto, ok=True, split="train")
    size = ctx.recipe.potential.ensemble_size
    ctx.set_stage(f"iteration {iteration}: training {size} models on {n_train} labels", iteration=iteration)
    seeds = [ctx.seed(1, iteration, k) for k in range(size)]

    def on_done(k: int, path: Path) -> None:
        log.info("trained member %d: %s", k, path)
        ctx.progress.advance()

    ctx.progress.start(f"iteration {iteration}: training", size)
    models = train_committee(ctx.potential, ctx.rundir.model_dir(iteration), train_sys, valid_sys, seeds,
                             ctx.executor, on_done=on_done)
    ctx.progress.finish()
    return models


def calibrate(ctx: RunContext, models: list[Path], frames: list[Atoms]) -> tuple[dict | None, float]:
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
    cal["applied"] = ctx.calibrate_spread
    # only ever inflate: a bootstrap spread misses the model error, and a factor < 1 from a
    # handful of held-out frames would make the exploration overconfident
    scale = max(1.0, cal["factor"]) if ctx.calibrate_spread else 1.0
    log.info("committee spread x%.2f = held-out force error (%s)", cal["factor"],
             f"exploration deviation x{scale:.2f}" if cal["applied"] else "reported only")
    return cal, scale


def trust_check(ctx: RunContext, models: list[Path], frames: list[Atoms], scale: float) -> dict | None:
    """Where the trust levels sit against the committee's own held-out frames (in-distribution by
    construction): their (scaled) deviations in the recipe's criterion, the fraction the levels would
    call candidate or failed, and the 95th percentile as the ``trust_lo`` that would call 95 % of them
    accurate. Levels tighter than the model's own error flag everything (issue 17's CaSiO3 melt: 100 %)
    and the loop cannot converge; a warning says so."""
    ex = ctx.recipe.exploration
    if len(frames) < 2:
        return None
    committee = Committee(models, backend_for_model(models[0]))
    devs = []
    for atoms in frames:
        dev = model_deviation(committee.predict(atoms).forces_eV_per_A, f0=ex.relative_f0_eV_per_A, scale=scale)
        devs.append(dev.max_force_std if ex.criterion == "absolute" else dev.max_relative_force_std)
    devs = np.asarray(devs)
    out = {"criterion": ex.criterion, "trust_lo": ex.trust_lo, "trust_hi": ex.trust_hi, "n_frames": len(frames),
           "held_out_deviation_median": float(np.median(devs)), "held_out_deviation_p95": float(np.percentile(devs, 95)),
           "fraction_not_accurate": float(np.mean(devs >= ex.trust_lo)), "source": "the recipe (exploration.trust_lo, "
           "trust_hi); checked against the calibrated committee's deviation on the held-out labels"}
    if out["fraction_not_accurate"] > 0.5:
        log.warning("exploration.trust_lo = %g calls %.0f %% of the %d held-out (labelled, in-distribution) frames "
                    "candidates or failed: it is tighter than the model's own error (held-out deviation p95 %.3g); "
                    "the loop may never converge", ex.trust_lo, 100 * out["fraction_not_accurate"], len(frames),
                    out["held_out_deviation_p95"])
    return out


def validate(ctx: RunContext, iteration: int, models: list[Path]) -> dict:
    """Held-out errors of member 0 and the committee's spread calibration (``validation.json``);
    returns the error summary with the exploration's ``deviation_scale``."""
    frames = ctx.store.configurations(f"iteration<={iteration}", split="valid")
    # binned by the labels' own static pressure: every frame has one (seeds carry no MD temperature)
    errors = validation_errors(load_evaluator(models[0]), frames, bin_by="pressure", envelope=models[0])
    calibration, scale = calibrate(ctx, models, frames)
    write_json_atomic(ctx.rundir.validation_file(iteration),
                      {**errors.summary(), "committee_calibration": calibration, "parity": errors.parity,
                       "trust_levels": trust_check(ctx, models, frames, scale)})
    log.info("iteration %d held-out (%d frames): E %.2f meV/atom, F %.3f eV/A, stress %.2f GPa", iteration,
             errors.n_frames, errors.rmse_energy_meV_per_atom, errors.rmse_force_eV_per_A, errors.rmse_stress_GPa)
    return {**errors.summary(), "deviation_scale": scale}


def explore(ctx: RunContext, iteration: int, models: list[Path], deviation_scale: float = 1.0
            ) -> list[ExplorationResult]:
    """MD at every grid point with the committee's spread × ``deviation_scale`` classified."""
    ex = ctx.recipe.exploration
    grid = [(p, t) for p in ex.pressures_GPa for t in ex.temperatures_K]
    ctx.set_stage(f"iteration {iteration}: exploring {len(grid)} (P, T) points", iteration=iteration)
    tasks = [(GridPointTask(str(ctx.rundir.point_dir(iteration, p, t)), [str(m) for m in models],
                            start_structure(ctx, p), p, t, ex, ctx.exploration_engine, ctx.seed(2, iteration, g),
                            deviation_scale),)
             for g, (p, t) in enumerate(grid)]
    results: list[ExplorationResult | None] = [None] * len(tasks)
    ctx.progress.start(f"iteration {iteration}: exploring", len(tasks))
    for g, res in map_or_raise(ctx.executor, explore_point, tasks, "exploration grid point"):
        results[g] = res
        f = res.fractions
        log.info("explored P=%g GPa T=%g K: accurate %.2f candidate %.2f failed %.2f%s", res.P_GPa, res.T_K,
                 f["accurate"], f["candidate"], f["failed"], f" (blow-up: {res.blow_up})" if res.blow_up else "")
        ctx.progress.advance()
    ctx.progress.finish()
    return results  # type: ignore[return-value]


def select_and_label(ctx: RunContext, iteration: int, results: list[ExplorationResult]) -> None:
    """Pick candidates from exploration ``iteration`` and label them as data of ``iteration + 1``."""
    chosen = ctx.rundir.read_candidates(iteration)
    if chosen is None:  # chosen once: a resumed run labels the same frames
        explored = [(ctx.rundir.point_dir(iteration, r.P_GPa, r.T_K), r) for r in results]
        chosen = select_candidates(explored, ctx.recipe.exploration.max_candidates_per_iteration)
        ctx.rundir.write_candidates(iteration, chosen)
    ctx.set_stage(f"iteration {iteration}: labelling {len(chosen)} candidates", iteration=iteration)
    reqs = [LabelRequest(f"it{iteration + 1:03d}-P{c.P_GPa:g}-T{c.T_K:g}-f{c.frame:05d}", load_candidate(c),
                         iteration + 1, c.P_GPa, c.T_K, c.parent, c.frame)
            for c in chosen]
    label(ctx, reqs, f"iteration {iteration} candidates")


def iteration_record(ctx: RunContext, iteration: int, n_new: int, results: list[ExplorationResult],
                     errors: dict) -> IterationRecord:
    """The summary record of ``iteration``: label counts, held-out errors, frame classes."""
    n_total = sum(r.n_frames for r in results)
    classes = {c: sum(r.fractions[c] * r.n_frames for r in results) / max(n_total, 1) for c in FRAME_CLASSES}
    upto = f"iteration<={iteration}"
    return IterationRecord(
        iteration=iteration, n_labelled_total=ctx.store.count(upto, ok=True), n_new_labels=n_new,
        n_failed_labels_total=ctx.store.count(upto, ok=False), accurate_fraction=classes["accurate"],
        candidate_fraction=classes["candidate"], failed_fraction=classes["failed"],
        rmse_energy_meV_per_atom=errors["rmse_energy_meV_per_atom"], rmse_force_eV_per_A=errors["rmse_force_eV_per_A"],
        rmse_stress_GPa=errors["rmse_stress_GPa"], n_validation_frames=errors["n_frames"],
        deviation_scale=errors["deviation_scale"],
        grid=[{"P_GPa": r.P_GPa, "T_K": r.T_K, **r.fractions, "blow_up": r.blow_up} for r in results])


def exploration_flags(records: list[IterationRecord]) -> list[str]:
    """The grid points where the final iteration's MD blew up or left the trust region: the final
    model is not to be trusted there (earlier iterations' blow-ups are how candidates are found)."""
    last = records[-1]
    return [f"exploration of the final model (iteration {last.iteration}) stopped at P={g['P_GPa']:g} GPa, "
            f"T={g['T_K']:g} K: {g['blow_up']}" for g in last.grid if g.get("blow_up")]


def replica_flags(replicas: dict[tuple[float, float], list[ReplicaResult]]) -> list[str]:
    """One line per production replica that blew up (its frames are not used for properties)."""
    return [f"production replica {Path(r.trajectory).parent.name} at P={p:g} GPa, T={t:g} K stopped: {r.blow_up}"
            for (p, t), reps in replicas.items() for r in reps if r.blow_up]


def production(ctx: RunContext, model: Path) -> dict[tuple[float, float], list[ReplicaResult]]:
    """Production MD replicas at every point of ``[production]``; results by (P GPa, T K)."""
    pr = ctx.recipe.production
    ctx.set_stage(f"production MD: {len(pr.points)} points x {pr.replicas} replicas")
    tasks, keys = [], []
    for j, pt in enumerate(pr.points):
        for r in range(pr.replicas):
            tasks.append((ReplicaTask(str(ctx.rundir.replica_dir(pt.P_GPa, pt.T_K, r)), str(model),
                                      start_structure(ctx, pt.P_GPa), pt.P_GPa, pt.T_K, pr, ctx.production_engine,
                                      ctx.seed(3, j, r)),))
            keys.append((pt.P_GPa, pt.T_K))
    replicas: dict[tuple[float, float], list[ReplicaResult]] = {k: [] for k in keys}
    ctx.progress.start("production MD", len(tasks))
    for i, res in map_or_raise(ctx.executor, run_replica, tasks, "production replica"):
        replicas[keys[i]].append(res)
        if res.blow_up:
            log.warning("replica at P=%g GPa T=%g K stopped: %s", *keys[i], res.blow_up)
        else:
            log.info("replica done: P=%g GPa T=%g K -> <T> %.0f K, <P> %.1f GPa", *keys[i], res.T_mean_K,
                     res.P_mean_GPa)
        ctx.progress.advance()
    ctx.progress.finish()
    return {k: sorted(v, key=lambda r: r.trajectory) for k, v in replicas.items()}


def diffusion(ctx: RunContext, replicas: dict[tuple[float, float], list[ReplicaResult]],
              model_converged: bool = True) -> list[DiffusionResult]:
    """Self-diffusion coefficients per species and state point from the replicas that ran to the end
    (``results/diffusion.json``, each entry with ``model_converged``); a state point whose replicas
    all blew up has none (flagged by :func:`replica_flags`)."""
    spec = ctx.recipe.properties.diffusion
    ctx.set_stage("properties: diffusion")
    out = []
    for (p, t), reps in replicas.items():
        trajs = [read_trajectory(r.trajectory) for r in reps if not r.blow_up]
        if not trajs:
            log.warning("no diffusion coefficient at %g GPa, %g K: every replica blew up", p, t)
            continue
        for sp in spec.species or ctx.type_map:
            res = diffusion_coefficient(trajs, species=sp, min_fit_start_ps=spec.min_fit_start_ps, T_K=t, P_GPa=p)
            out.append(res)
            log.info("D(%s) at %g GPa, %g K = %.3e +/- %.3e m^2/s (window %.2f-%.2f ps%s)", sp, p, t,
                     res.D_m2_per_s, res.D_stderr_m2_per_s, *res.fit_window_ps,
                     "" if res.diffusive else ", not diffusive")
    ctx.rundir.write_result("diffusion", [{**d.to_dict(curves=True), "model_converged": model_converged}
                                          for d in out])
    return out
