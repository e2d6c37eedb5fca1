"""``deepearth run``: the stages of a recipe in order, resumably, then the summary and the report."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from deepearth import __version__
from deepearth.pipeline import stages, thermo, transport
from deepearth.pipeline.learning import active_learning, exploration_flags
from deepearth.pipeline.context import RunContext, build_context
from deepearth.pipeline.resume import check_resume, check_run_dir
from deepearth.parallel import set_single_thread_env
from deepearth.recipe import Recipe
from deepearth.recipe_toml import recipe_to_toml
from deepearth.report.html import write_report
from deepearth.rundir import RunSummary

log = logging.getLogger("deepearth")

UNCONVERGED_STOP = ("active learning did not converge: no production MD (set production.allow_unconverged = "
                    "true to run it with the last model; every result is then flagged)")
#: Per-lag arrays of a diffusion result: in results/diffusion.json, not in summary.json.
CURVE_KEYS = ("lag_ps", "msd_A2")

UNCONVERGED_RUN = ("active learning did not converge: production ran with the last model "
                   "(production.allow_unconverged = true); treat every property as provisional")


def run_recipe(recipe: Recipe, **parts) -> RunSummary:
    """Run (or resume) everything a recipe asks for; returns the summary (also ``summary.json``).

    ``parts`` replace the recipe's labeller, potential, engines or executor
    (:func:`~deepearth.pipeline.context.build_context`)."""
    set_single_thread_env()
    t0 = time.time()
    check_run_dir(recipe.run_dir, recipe.source, explicit=True)
    ctx = build_context(recipe, **parts)
    try:
        return _run(recipe, ctx, t0)
    finally:
        if "executor" not in parts:  # the pipeline's own (a Dask cluster's batch jobs end with it)
            getattr(ctx.executor, "close", lambda: None)()


def _run(recipe: Recipe, ctx, t0: float) -> RunSummary:
    lock = ctx.rundir.lock()  # held until this process ends (released even by kill -9)
    check_resume(recipe, ctx.structures, ctx.rundir, ctx.store)  # before anything is reused or overwritten
    ctx.state.invocations.append({"started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t0)), "t0": t0,
                                  "wall_time_s": 0.0})
    ctx.rundir.recipe_file.write_text(recipe_to_toml(recipe))
    stages.initial_data(ctx)
    records, final_iteration, converged, models = active_learning(ctx)
    ctx.rundir.mark_final(final_iteration)
    ctx.state.converged, ctx.state.final_iteration = converged, final_iteration  # written with the next stage

    flags = exploration_flags(records)
    diffusion = []
    if recipe.properties.diffusion is not None:
        if converged or recipe.production.allow_unconverged:
            replicas = transport.production(ctx, models[0], final_iteration + 1)
            flags += transport.replica_flags(replicas)
            diffusion = transport.diffusion(ctx, replicas, model_converged=converged)
            laws = transport.arrhenius_laws(ctx, diffusion)
            transport.w_isotopes(ctx, laws)
            flags += thermo.phase(ctx, replicas)
    if converged or recipe.production.allow_unconverged:  # [properties.eos|elastic|melting] with the final model
        flags += thermo.thermo_properties(ctx, models, converged)
    if not converged:
        flags.append(UNCONVERGED_RUN if recipe.production.allow_unconverged else UNCONVERGED_STOP)
    for flag in flags:
        log.warning("%s", flag)

    summary = RunSummary(
        deepearth_version=__version__, recipe=str(recipe.source), name=recipe.name, converged=converged,
        iterations=[r.to_dict() for r in records],
        final_model=ctx.rundir.final_model(models[0].name),
        potential={"backend": recipe.potential.backend, **recipe.potential.backend_settings()},
        labeller=(ctx.labeller.provenance if ctx.labeller is not None
                  else {"labeller": "import", **ctx.store.references(ctx.store.IMPORT_KEYS)[0]}),
        diffusion=[{k: v for k, v in d.items() if k not in CURVE_KEYS} for d in diffusion],
        wall_time_s=time.time() - t0, flags=flags,  # wall time: this invocation
        wall_time_total_s=sum(inv.get("wall_time_s", 0.0) for inv in ctx.state.invocations[:-1]) + time.time() - t0,
        n_invocations=len(ctx.state.invocations))
    ctx.set_stage("writing report")
    write_report(ctx.rundir, summary, recipe)
    ctx.rundir.write_summary(summary)
    ctx.set_stage("finished")
    lock.close()
    return summary
