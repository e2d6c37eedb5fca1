"""The ``deepearth`` command: ``run RECIPE``, ``status RUN_DIR``, ``analyze ...`` on MD output files, ``geo ...``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.logging import RichHandler

from deepearth.recipe import RecipeError, load_recipe

console = Console(stderr=True)
if not console.is_terminal:  # logs piped to a file or CI: do not wrap at 80 columns
    console.width = 200


def _setup_logging(run_dir: Path) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger("deepearth")
    logger.setLevel(logging.INFO)
    logger.handlers.clear()
    logger.addHandler(RichHandler(console=console, show_path=False, markup=False))
    fh = logging.FileHandler(run_dir / "deepearth.log")
    fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(fh)


class RunFailed(RuntimeError):
    """A stage failed; the message says which and where the log is."""


def _log_traceback(run_dir: Path) -> None:
    import traceback

    with open(run_dir / "deepearth.log", "a") as fh:
        fh.write(traceback.format_exc())


def cmd_run(args) -> int:
    recipe = load_recipe(args.recipe)
    _setup_logging(Path(recipe.run_dir))
    from deepearth.pipeline import run_recipe

    try:
        summary = run_recipe(recipe)
    except Exception as exc:  # the whole traceback goes to the run's log file, one line to the user
        _log_traceback(Path(recipe.run_dir))
        raise RunFailed(f"{exc} (traceback in {Path(recipe.run_dir) / 'deepearth.log'})") from None
    console.print(f"[bold green]finished[/] in {summary['wall_time_s']:.0f} s: "
                  f"{Path(recipe.run_dir) / 'report' / 'index.html'}, {Path(recipe.run_dir) / 'summary.json'}")
    for d in summary["diffusion"]:
        console.print(f"  D({d['species']}, {d['P_GPa']:g} GPa, {d['T_K']:g} K) = "
                      f"{d['D_m2_per_s']:.3e} ± {d['D_stderr_m2_per_s']:.2e} m²/s")
    return 0


def status_text(run_dir: Path) -> str:
    """Where a run stands: stage, iteration records, label counts."""
    state_file = run_dir / "state.json"
    if not state_file.is_file():
        raise FileNotFoundError(f"{run_dir}: not a deepearth run directory (no state.json)")
    state = json.loads(state_file.read_text())
    lines = [f"run: {run_dir}", f"stage: {state.get('stage', '?')} (updated {state.get('updated', '?')})"]
    db = run_dir / "deepearth.db"
    if db.is_file():
        from deepearth.store import LabelStore

        store = LabelStore(db)
        lines.append(f"labels: {store.count(ok=True)} ok, {store.count(ok=False)} failed")
    for r in state.get("iterations", []):
        rmse = r.get("rmse_force_eV_per_A")
        rmse_text = "n/a (no held-out frames)" if rmse is None or rmse != rmse else f"{rmse:.3f} eV/Å"
        lines.append(f"iteration {r['iteration']}: labels {r['n_labelled_total']} (+{r['n_new_labels']}), "
                     f"accurate {r['accurate_fraction']:.2f} candidate {r['candidate_fraction']:.2f} "
                     f"failed {r['failed_fraction']:.2f}, F RMSE {rmse_text}")
    if "converged" in state:
        lines.append(f"converged: {state['converged']} (final iteration {state.get('final_iteration')})")
    return "\n".join(lines)


def cmd_status(args) -> int:
    print(status_text(Path(args.run_dir)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deepearth", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="run (or resume) a recipe")
    p_run.add_argument("recipe", help="recipe TOML file")
    p_run.set_defaults(func=cmd_run)
    p_status = sub.add_parser("status", help="where a run stands")
    p_status.add_argument("run_dir")
    p_status.set_defaults(func=cmd_status)
    from deepearth.cli.geo import add_geo_parser, run_geo

    add_geo_parser(sub)
    sub.choices["geo"].set_defaults(func=run_geo)
    from deepearth.cli.analyze import add_analyze_parser

    add_analyze_parser(sub)
    from deepearth.cli.import_frames import add_import_parser

    add_import_parser(sub)
    from deepearth.cli.validate import add_validate_parser

    add_validate_parser(sub)
    from deepearth.cli.train import add_train_parser
    add_train_parser(sub)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (RecipeError, FileNotFoundError, ValueError, RunFailed) as exc:
        # one line, never wrapped, and the message is not read as rich markup (it may hold "[...]")
        console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
