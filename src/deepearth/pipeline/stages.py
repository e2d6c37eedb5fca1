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

from deepearth.explore.deviation import model_deviation
from deepearth.files import write_json_atomic
from deepearth.pipeline.context import RunContext
from deepearth.potentials.committee import Committee, committee_calibration
from deepearth.potentials.ensemble import train_committee
from deepearth.potentials.registry import backend_for_model, load_evaluator
from deepearth.potentials.validation import validation_errors
from deepearth.properties.eos import BirchMurnaghan3, fit_birch_murnaghan3
from deepearth.reference.batch import LabelRequest, label_requests
from deepearth.pipeline.systems import CampaignSystem, continuation_start
from deepearth.structures.build import initial_configurations, volume_at_pressure
from deepearth.structures.packing import random_packing
from deepearth.store import configuration_hash
from deepearth.units import stress_to_pressure_gpa

log = logging.getLogger("deepearth")


def label(ctx: RunContext, requests: list[LabelRequest], what: str, held_out: frozenset[str] = frozenset()) -> dict:
    """Label the requests not yet in the store with the context's labeller; returns the counts. Ids in
    ``held_out`` go to the validation split whatever their hash says (calibration frames)."""
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
    split_of = (lambda cid: "valid" if cid in held_out else ctx.split_of(cid)) if held_out else ctx.split_of
    counts = label_requests(ctx.labeller, requests, ctx.store, split_of, ctx.executor, progress,
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


def reference_eos(ctx: RunContext, system: CampaignSystem | None = None) -> BirchMurnaghan3:
    """Static EOS of a system's ideal cell with the reference itself (labels ``[<system>-]eos-NN``,
    BM3 fit; ``system``: the first by default).

    Places the initial data and every fresh MD start at the reference's own density for the target
    pressures: the recipe's K0 guess only sets the scanned range (GFN1-xTB's MgO reaches 140 GPa
    at a volume ≈ 5 % larger than a K0 = 160 GPa BM3 guess says). With imported labels (no
    labeller) the recipe's BM3 guess itself places the MD starts; NPT finds the volume. A liquid's
    scan is its crystal's: the random packings start at the crystal's volume and NPT expands them.
    """
    system = system or ctx.systems[0]
    if system.name in ctx.eos:
        return ctx.eos[system.name]
    same = next((o for o in ctx.systems[:ctx.systems.index(system)]
                 if configuration_hash(o.atoms) == configuration_hash(system.atoms)), None)
    if same is not None:  # e.g. a liquid of the crystal another system explores: one scan serves both
        ctx.eos[system.name] = reference_eos(ctx, same)
        ctx.rundir.write_result(f"reference_eos_{system.folder}", {"system": system.name, "same_as": same.name})
        return ctx.eos[system.name]
    s, ex, atoms = system.spec, system.exploration, system.atoms
    v0 = atoms.get_volume()
    if ctx.labeller is None:
        ctx.eos[system.name] = BirchMurnaghan3(v0, s.bulk_modulus_GPa, s.bulk_modulus_derivative,
                                               method="the recipe's guess (bulk_modulus_GPa, bulk_modulus_derivative)")
        return ctx.eos[system.name]
    guess = lambda p: volume_at_pressure(p, v0, s.bulk_modulus_GPa, s.bulk_modulus_derivative)  # noqa: E731
    v_lo, v_hi = guess(1.5 * max(ex.pressures_GPa)), guess(0.4 * min(ex.pressures_GPa))
    parent = "reference-eos" + (f"-{system.folder}" if system.folder else "")
    reqs = [LabelRequest(f"{system.label_prefix}eos-{k:02d}", scaled(atoms, v), 0, None, 0.0, parent)
            for k, v in enumerate(np.linspace(v_lo, v_hi, ctx.recipe.initial.n_eos_volumes))]
    ctx.set_stage(f"initial data: static EOS of {system.title}'s ideal cell with the reference", iteration=0)
    label(ctx, reqs, f"reference EOS of {system.title}")
    rows = ctx.store.rows(parent=parent, ok=True)
    if len(rows) < 4:
        raise RuntimeError(f"reference EOS of {system.title}: only {len(rows)} of {len(reqs)} ideal-cell labels "
                           f"succeeded (need 4 for a BM3 fit); see the failed rows' 'error' in {ctx.store.path}")
    vols = [r.volume for r in rows]
    press = [stress_to_pressure_gpa(r.stress) for r in rows]
    eos = fit_birch_murnaghan3(vols, press, guess=(v0, s.bulk_modulus_GPa, s.bulk_modulus_derivative))
    ctx.eos[system.name] = eos
    name = "reference_eos" + (f"_{system.folder}" if system.folder else "")
    ctx.rundir.write_result(name, {**eos.to_dict(), "system": system.name, "volumes_A3": vols, "pressures_GPa": press,
                                   "n_atoms": len(atoms), "labeller": ctx.labeller.provenance})
    at = ", ".join(f"V({p:g} GPa) = {eos.volume(p):.1f}" for p in ex.pressures_GPa)
    log.info("reference static EOS of %s (%d atoms; BM3 fit over %.0f-%.0f GPa): %s A^3", system.title, len(atoms),
             min(press), max(press), at)
    return eos


#: A liquid's random packings start at this × the crystal's static volume for P: melts of oxides and
#: silicates at mantle pressures are a few to 10 % less dense than their crystals, and a random
#: packing's close contacts need room (MgO at 50 GPa: packed at the crystal's volume the iteration-0
#: model gives 80–130 GPa and NPT blows the cell up; at 1.1 × it gives ≈ 50 GPa). NPT then finds
#: the liquid's own volume.
LIQUID_START_VOLUME = 1.1


def liquid_start(ctx: RunContext, system: CampaignSystem, P_GPa: float, seed: int) -> Atoms:
    """A random packing of the system's atoms at :data:`LIQUID_START_VOLUME` × its crystal's static
    volume for ``P_GPa`` (seeded)."""
    return random_packing(system.atoms, LIQUID_START_VOLUME * reference_eos(ctx, system).volume(P_GPa), seed)


def fresh_start(ctx: RunContext, system: CampaignSystem, P_GPa: float, seed: int) -> Atoms:
    """A system's start at ``P_GPa`` without history: its crystal at the reference's static volume for
    P, or for a liquid :func:`liquid_start`."""
    if system.builder == "liquid":
        return liquid_start(ctx, system, P_GPa, seed)
    return scaled(system.atoms, reference_eos(ctx, system).volume(P_GPa))


def start_structure(ctx: RunContext, system: CampaignSystem, P_GPa: float, T_K: float | None = None,
                    iteration: int = 0) -> Atoms:
    """Where a system's MD at (P, T) starts in ``iteration``: the last trusted frame of earlier
    exploration (:func:`deepearth.pipeline.systems.continuation_start`, with
    ``exploration.continue_from_last`` and a temperature), else :func:`fresh_start`."""
    if T_K is not None and iteration > 0 and ctx.recipe.exploration.continue_from_last:
        start = continuation_start(lambda it, p, t: ctx.rundir.point_dir(it, p, t, system.folder), iteration, system,
                                   P_GPa, T_K)
        if start is not None:
            return start
    return fresh_start(ctx, system, P_GPa, ctx.seed(5, ctx.systems.index(system), int(P_GPa * 1000)))


def initial_data(ctx: RunContext) -> None:
    """Label strained and rattled copies of each system at its target densities (iteration 0); a
    liquid's are random packings at those densities, rattled."""
    if ctx.labeller is None:
        log.info("initial data: %d imported labels in %s", ctx.store.count(ok=True), ctx.store.path)
        return
    i = ctx.recipe.initial
    for k, system in enumerate(ctx.systems):
        eos = reference_eos(ctx, system)
        ctx.set_stage(f"initial data: labelling strained and rattled configurations of {system.title}", iteration=0)
        pressures = system.exploration.pressures_GPa
        seed = ctx.seed(0) if k == 0 else ctx.seed(0, k)  # the first system keeps the seed of single-system runs
        n_configs = getattr(system.spec, "n_configs", None) or i.n_configs
        if system.builder == "liquid":
            configs = [liquid_start(ctx, system, pressures[n % len(pressures)], seed + n) for n in range(n_configs)]
            for n, a in enumerate(configs):
                a.rattle(i.rattle_A, seed=seed + n)
                a.info["origin_P_GPa"] = pressures[n % len(pressures)]
        else:
            configs = initial_configurations(system.atoms, pressures, n_configs, i.strain, i.rattle_A, eos.volume, seed)
        label(ctx, [LabelRequest(f"{system.label_prefix}init-{n:04d}", a, 0, a.info["origin_P_GPa"], None)
                    for n, a in enumerate(configs)], f"initial data of {system.title}")


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
    need = ctx.recipe.exploration.min_calibration_frames
    if len(frames) < need:
        # one scale factor from a few frames is noise: its relative error is ~ 1/sqrt(2 n_eff), and the
        # frames of one run are correlated, so n_eff is the number of frames, not of force components
        log.warning("%d held-out labels, fewer than exploration.min_calibration_frames = %d: the committee spread "
                    "is used unscaled", len(frames), need)
        return {"applied": False, "n_frames": len(frames), "min_frames": need,
                "reason": f"{len(frames)} held-out frames < {need}: not calibrated"}, 1.0
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


def trust_earned(ctx: RunContext, n_held_out: int) -> bool:
    """Whether the committee's deviations rest on enough held-out labels to earn trust: a ramp step or
    convergence needs ``exploration.min_calibration_frames`` of them. An uncalibrated bootstrap spread
    is 2.5–5× too small (the MgO campaigns of benchmarks/RESULTS.md), so a grid it calls accurate is
    not evidence: the quickstart used to "converge" at iteration 0 on 3 held-out frames. A recipe from
    before the rule (min_calibration_frames = 1) keeps the old behaviour."""
    need = ctx.recipe.exploration.min_calibration_frames
    return need <= 1 or n_held_out >= need
