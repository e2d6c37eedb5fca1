"""``deepearth run RECIPE``: run (or resume) a recipe; ``deepearth status RUN_DIR``: where it stands."""

from __future__ import annotations

import signal
import traceback
from pathlib import Path

from rich.markup import escape

from deepearth.cli.console import CommandFailed, console
from deepearth.cli.logs import library_noise_to, log_to_file, setup_logging
from deepearth.recipe import load_recipe
from deepearth.rundir import RunDir


class RunFailed(CommandFailed):
    """A stage failed; the message says which and where the log is."""


def cmd_run(args) -> int:
    """Run (or resume) the recipe; 0 when done (3: not converged and no production), 130/143 when
    stopped by SIGINT/SIGTERM (one line on how to resume), ``RunFailed`` when a stage failed."""
    from deepearth.cli.interrupt import EXIT_CODES, StopOnSignals, resume_command, stop_workers

    recipe = load_recipe(args.recipe)
    from deepearth.pipeline.resume import check_run_dir

    run_dir = check_run_dir(args.run_dir or recipe.run_dir, recipe.source, explicit=args.run_dir is not None)
    recipe = recipe.model_copy(update={"run_dir": str(run_dir)})
    rundir = RunDir(run_dir)
    setup_logging(rundir.log_file)
    summary, signum = None, None
    with StopOnSignals() as stop:
        try:
            # the libraries' own writes to fd 2 go to the log (kept until exit in the command's own process:
            # DeePMD-kit's CUDA stub prints again from its destructors)
            with library_noise_to(rundir.log_file, keep=getattr(args, "own_process", False)):
                summary = _run(recipe)
        except KeyboardInterrupt:
            signum = stop.signum or signal.SIGINT
        except Exception as exc:  # the whole traceback goes to the run's log file, one line to the user
            if stop.signum is None:
                with open(rundir.log_file, "a") as fh:
                    fh.write(traceback.format_exc())
                raise RunFailed(f"{exc} (traceback in {rundir.log_file})") from None
            signum = stop.signum  # a task failed because of the signal (its worker was stopped)
        if signum is not None:
            stop_workers()
    if signum is not None:
        log_to_file(rundir.log_file, f"stopped by {signal.Signals(signum).name} at stage: {_stage(rundir)}",
                    "WARNING")
        console.print(f"stopped — run the same command to resume: {resume_command(args.recipe, args.run_dir)}",
                      markup=False, highlight=False, soft_wrap=True)
        return EXIT_CODES.get(signum, 130)
    console.print(f"[bold green]finished[/] in {summary.wall_time_s:.0f} s: "
                  f"{escape(str(rundir.report_dir / 'index.html'))}, {escape(str(rundir.summary_file))}")
    for d in summary.diffusion:
        where = (f"system {d['system']}, " if d.get("system") else "") + (
            f"region {d['region']}, " if d.get("region") not in (None, "all") else "")
        console.print(f"  D({d['species']}, {where}{d['P_GPa']:g} GPa, {d['T_K']:g} K) = "
                      f"{d['D_m2_per_s']:.3e} ± {d['D_stderr_m2_per_s']:.2e} m²/s"
                      + ("" if d.get("diffusive", True) else "  (not diffusive)")
                      + ("" if d.get("model_converged", True) else "  (unconverged model)"),
                      markup=False, highlight=False)
    for flag in summary.flags:
        console.print(f"[bold yellow]warning:[/] {escape(flag)}", markup=True, highlight=False, soft_wrap=True)
    from deepearth.pipeline.run import UNCONVERGED_STOP

    return 3 if UNCONVERGED_STOP in summary.flags and recipe.properties.diffusion is not None else 0


def _run(recipe):
    """``run_recipe`` with progress bars on the terminal."""
    from deepearth.cli.progress import RunProgress
    from deepearth.pipeline import run_recipe  # the ML stack loads only for a run

    with RunProgress(console) as bars:
        return run_recipe(recipe, progress=bars)


def _stage(rundir: RunDir) -> str:
    try:
        return rundir.read_state().stage or "start"
    except Exception:  # a state being rewritten: the log says the rest
        return "unknown"


def status_text(run_dir: str | Path) -> str:
    """Where a run stands: stage, iteration records, label counts."""
    rundir = RunDir(run_dir, create=False)
    if not rundir.is_run():
        raise FileNotFoundError(f"{run_dir}: not a deepearth run directory (no state.json)")
    state = rundir.read_state()
    lines = [f"run: {run_dir}", f"stage: {state.stage} (updated {state.updated})"]
    if rundir.store_location != rundir.store_file or rundir.store_file.is_file():
        from deepearth.store import LabelStore

        store = LabelStore(rundir.store_location)
        lines.append(f"labels: {store.count(ok=True)} ok, {store.count(ok=False)} failed")
    for r in state.iteration_records():
        rmse = r.rmse_force_eV_per_A
        rmse_text = "n/a (no held-out frames)" if rmse is None or rmse != rmse else f"{rmse:.3f} eV/Å"
        lines.append(f"iteration {r.iteration}: labels {r.n_labelled_total} (+{r.n_new_labels}), "
                     f"accurate {r.accurate_fraction:.2f} candidate {r.candidate_fraction:.2f} "
                     f"failed {r.failed_fraction:.2f}, F RMSE {rmse_text}")
    if state.converged is not None:
        lines.append(f"converged: {state.converged} (final iteration {state.final_iteration})")
    return "\n".join(lines)


def cmd_status(args) -> int:
    print(status_text(args.run_dir))
    return 0


def add_run_parsers(sub) -> None:
    p_run = sub.add_parser("run", help="run (or resume) a recipe")
    p_run.add_argument("recipe", help="recipe TOML file")
    p_run.add_argument("--run-dir", help="write here instead of the recipe's run_dir (the only way to write outside "
                                         "the recipe's folder and the current directory)")
    p_run.set_defaults(func=cmd_run)
    p_status = sub.add_parser("status", help="where a run stands")
    p_status.add_argument("run_dir")
    p_status.set_defaults(func=cmd_status)
