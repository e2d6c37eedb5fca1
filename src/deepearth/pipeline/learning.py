"""The active-learning loop of a campaign: explore every system's active grid, pick and label
candidates within each system's budget, record the iteration, and stop when every system explores
every point accurately (:mod:`deepearth.pipeline.systems` says how the exploration learns)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from deepearth.explore.campaign import GridPointTask, explore_point, load_candidate, select_candidates
from deepearth.explore.deviation import FRAME_CLASSES
from deepearth.parallel import map_or_raise
from deepearth.pipeline import stages
from deepearth.pipeline.context import RunContext
from deepearth.pipeline.systems import CampaignSystem, candidate_caps, next_level, state_point
from deepearth.reference.batch import LabelRequest
from deepearth.rundir import Candidate, ExplorationResult, IterationRecord

log = logging.getLogger("deepearth")


def explore(ctx: RunContext, iteration: int, models: list[Path], deviation_scale: float = 1.0,
            points: list[tuple[CampaignSystem, float, float]] | None = None, promoted: bool = False
            ) -> list[ExplorationResult]:
    """MD at ``points`` ((system, P GPa, T K); ``None``: every point of every system) with the
    committee's spread × ``deviation_scale`` classified. ``promoted``: points of a temperature added in
    this iteration, which continue from the lower temperature explored in this iteration."""
    if points is None:
        points = [(s, p, t) for s in ctx.systems for p, t in s.grid()]
    ctx.set_stage(f"iteration {iteration}: exploring {len(points)} (system, P, T) points", iteration=iteration)
    tasks = []
    for system, p, t in points:
        g = next(k for k, x in enumerate(system.grid()) if x == (p, t))  # seeds by grid position: resumable
        seed = ctx.seed(2, iteration, g) if not system.folder else ctx.seed(2, iteration, ctx.systems.index(system), g)
        tasks.append((GridPointTask(str(ctx.rundir.point_dir(iteration, p, t, system.folder)), [str(m) for m in models],
                                    stages.start_structure(ctx, system, p, t, iteration + promoted), p, t,
                                    system.exploration,
                                    ctx.exploration_engine, seed, deviation_scale, system=system.folder,
                                    envelope_tolerance=ctx.recipe.production.envelope_tolerance),))
    results: list[ExplorationResult | None] = [None] * len(tasks)
    ctx.progress.start(f"iteration {iteration}: exploring", len(tasks))
    for g, res in map_or_raise(ctx.executor, explore_point, tasks, "exploration grid point"):
        results[g] = res
        f = res.fractions
        log.info("explored %s: accurate %.2f candidate %.2f failed %.2f%s%s", state_point(points[g][0].folder, res.P_GPa, res.T_K),
                 f["accurate"], f["candidate"], f["failed"],
                 f"; {res.outside_envelope} frames outside the training envelope" if res.outside_envelope else "",
                 f" (blow-up: {res.blow_up})" if res.blow_up else "")
        ctx.progress.advance()
    ctx.progress.finish()
    return results  # type: ignore[return-value]


def explore_ramped(ctx: RunContext, iteration: int, models: list[Path], deviation_scale: float,
                   levels: dict[str, int], trusted: bool = True) -> list[ExplorationResult]:
    """Explore every system's active grid; a system whose active points are all accurate gets its next
    temperature explored at once, with the same models (no empty iteration), until a level is not
    accurate or the grid is done. ``levels`` (by system name) are updated in place. Not ``trusted``
    (:func:`stages.trust_earned`): no level is raised."""
    ramp = ctx.recipe.exploration.ramp
    points = [(s, p, t) for s in ctx.systems for p, t in s.active_grid(levels[s.name], ramp)]
    results: list[ExplorationResult] = []
    promoted = False
    while points:
        results += explore(ctx, iteration, models, deviation_scale, points, promoted)
        points, promoted = [], True
        for s in ctx.systems if trusted else []:
            new = next_level(levels[s.name], s, [r for r in results if r.system == s.folder], ramp)
            if new > levels[s.name]:
                log.info("%s: every active point accurate; exploring T = %g K now", s.title, s.temperatures[new])
                done = {(r.P_GPa, r.T_K) for r in results if r.system == s.folder}
                points += [(s, p, t) for p, t in s.active_grid(new, ramp) if (p, t) not in done]
            levels[s.name] = new
    return results


def calibration_frames(ctx: RunContext, iteration: int, results: list[ExplorationResult], taken: list[Candidate],
                       n: int) -> list[Candidate]:
    """``n`` explored frames the committee did not call failed and that are not already chosen, to be
    labelled as held-out data (``split`` valid): evenly spaced along each point's trajectory, the points
    taken in turn (every system, every P–T), so that the calibration covers what the exploration saw
    (failed frames, past ``trust_hi``, are out of distribution and would inflate the factor)."""
    taken_ids = {(c.parent, c.frame) for c in taken}
    queues = []
    for r in results:
        parent = str(ctx.rundir.point_dir(iteration, r.P_GPa, r.T_K, r.system) / "traj.extxyz")
        hi = ctx.system_of(r).exploration.trust_hi
        frames = [k for k, dev in enumerate(r.deviation_used) if dev <= hi and (parent, k) not in taken_ids]
        order = [frames[int(i)] for i in np.unique(np.linspace(0, len(frames) - 1, min(n, len(frames))).round())] if frames else []
        queues.append([Candidate(parent, k, r.P_GPa, r.T_K, r.system, split="valid") for k in order])
    out: list[Candidate] = []
    while len(out) < n and any(queues):
        for q in queues:
            if q and len(out) < n:
                out.append(q.pop(0))
    return out


def select_and_label(ctx: RunContext, iteration: int, results: list[ExplorationResult], n_calibration: int = 0) -> None:
    """Pick candidates from exploration ``iteration`` (each system within its share of the budget), and
    ``n_calibration`` more frames as held-out labels (:func:`calibration_frames`), and label them as data
    of ``iteration + 1``."""
    chosen = ctx.rundir.read_candidates(iteration)
    if chosen is None:  # chosen once: a resumed run labels the same frames
        caps = candidate_caps(ctx.systems, ctx.recipe.exploration.max_candidates_per_iteration)
        chosen = []
        for system in ctx.systems:
            explored = [(ctx.rundir.point_dir(iteration, r.P_GPa, r.T_K, system.folder), r)
                        for r in results if r.system == system.folder]
            chosen += select_candidates(explored, caps[system.name])
        if n_calibration > 0:
            extra = calibration_frames(ctx, iteration, results, chosen, n_calibration)
            log.info("%d held-out labels are fewer than exploration.min_calibration_frames: %d explored frames are "
                     "labelled as held-out data to calibrate the committee", ctx.recipe.exploration.min_calibration_frames
                     - n_calibration, len(extra))
            chosen += extra
        ctx.rundir.write_candidates(iteration, chosen)
    ctx.set_stage(f"iteration {iteration}: labelling {len(chosen)} candidates", iteration=iteration)
    reqs = [LabelRequest(f"{c.system + '-' if c.system else ''}it{iteration + 1:03d}-P{c.P_GPa:g}-T{c.T_K:g}-f{c.frame:05d}",
                         load_candidate(c), iteration + 1, c.P_GPa, c.T_K, c.parent, c.frame)
            for c in chosen]
    held_out = frozenset(r.candidate_id for r, c in zip(reqs, chosen) if c.split == "valid")
    stages.label(ctx, reqs, f"iteration {iteration} candidates", held_out)


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
        grid=[{"P_GPa": r.P_GPa, "T_K": r.T_K, **r.fractions, "blow_up": r.blow_up,
               **({"system": r.system} if r.system else {})} for r in results])


def exploration_flags(records: list[IterationRecord]) -> list[str]:
    """The grid points where the final iteration's MD blew up or left the trust region: the final
    model is not to be trusted there (earlier iterations' blow-ups are how candidates are found)."""
    last = records[-1]
    return [f"exploration of the final model (iteration {last.iteration}) stopped at "
            f"{state_point(g.get('system', ''), g['P_GPa'], g['T_K'])}: {g['blow_up']}"
            for g in last.grid if g.get("blow_up")]


def converged(ctx: RunContext, levels: dict[str, int], results: list[ExplorationResult], trusted: bool = True) -> bool:
    """Every system at its last ramp level and every explored point accurate enough, by a ``trusted``
    (calibrated: :func:`stages.trust_earned`) committee."""
    ramp = ctx.recipe.exploration.ramp
    full = trusted and all(levels[s.name] >= s.n_levels(ramp) - 1 for s in ctx.systems)
    return full and all(r.fractions["accurate"] >= ctx.system_of(r).exploration.converged_accurate_fraction
                        for r in results)


def active_learning(ctx: RunContext) -> tuple[list[IterationRecord], int, bool, list[Path]]:
    """Train, validate and explore until every system's grid is explored and accurate enough, or the
    iteration cap; returns the iteration records, the final iteration, whether it converged and its
    models."""
    ex = ctx.recipe.exploration
    records: list[IterationRecord] = []
    levels = {s.name: 0 for s in ctx.systems}
    for it in range(ex.max_iterations):
        n_before = ctx.store.count(iteration=it)
        models = stages.train(ctx, it)
        errors = stages.validate(ctx, it, models)
        trusted = stages.trust_earned(ctx, errors["n_frames"])
        if not trusted:
            log.warning("iteration %d: %d held-out labels < exploration.min_calibration_frames = %d: the deviations "
                        "are not calibrated, so no temperature is raised and the loop cannot converge yet", it,
                        errors["n_frames"], ex.min_calibration_frames)
        results = explore_ramped(ctx, it, models, errors["deviation_scale"], levels, trusted)
        records.append(iteration_record(ctx, it, n_before, results, errors))
        ctx.state.iterations = [r.to_dict() for r in records]
        if converged(ctx, levels, results, trusted):
            log.info("converged at iteration %d: every system's grid explored, accurate fraction >= %.2f at every "
                     "point", it, ex.converged_accurate_fraction)
            return records, it, True, models
        if it == ex.max_iterations - 1:
            log.warning("not converged after %d iterations (the iteration cap)", ex.max_iterations)
        elif ctx.labeller is None:
            log.warning("not converged at iteration %d, and reference.kind = 'imported' labels no candidates: "
                        "stopping the learning loop (import more data or name a reference)", it)
        else:
            select_and_label(ctx, it, results, 0 if trusted else ex.min_calibration_frames - errors["n_frames"])
            continue
        return records, it, False, models
    raise AssertionError("unreachable")  # max_iterations >= 1
