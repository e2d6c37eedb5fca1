"""The deepearth command: one thin module per subcommand (parse, call one library function, print)."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from rich.markup import escape

from deepearth import __version__
from deepearth.cli.console import CommandFailed, console
from deepearth.cli.logs import library_noise_to, quiet_environment
from deepearth.cli.messages import in_flag_names
from deepearth.cli.run import add_run_parsers
from deepearth.recipe import RecipeError
from deepearth.rundir import RunLocked

DESCRIPTION = ("deepearth: active-learned ML potentials, MD and error-barred properties of Earth's deep interior. "
               "Run a recipe (run, status), build structures (build), bring first-principles data (import, train, "
               "validate), analyse MD output from any code (analyze) and run the geophysical models (geo).")


def main(argv: list[str] | None = None) -> int:
    """The command line; ``argv`` ``None``: this process's own arguments (the ``deepearth`` command
    itself, which may then keep the libraries' noise out of the terminal until it exits)."""
    quiet_environment()
    parser = argparse.ArgumentParser(prog="deepearth", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"deepearth {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    add_run_parsers(sub)
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
    from deepearth.cli.build import add_build_parser

    add_build_parser(sub)
    args = parser.parse_args(argv)
    args.own_process = argv is None
    log = _library_log(args)
    try:
        if log is None:
            return args.func(args)
        with library_noise_to(log, keep=args.own_process):
            try:
                return args.func(args)
            except (RecipeError, FileNotFoundError, ValueError, CommandFailed, RunLocked, KeyboardInterrupt):
                raise
            except Exception as exc:  # Python's traceback would go to the log file: one line here, the rest there
                with open(log, "a") as fh:
                    fh.write(traceback.format_exc())
                raise CommandFailed(f"{exc} (traceback in {log})") from None
    except (RecipeError, FileNotFoundError, ValueError, CommandFailed, RunLocked) as exc:
        # one line, never wrapped, and the message is not read as rich markup (it may hold "[...]");
        # a library's Python argument names become the command's flags
        message = in_flag_names(str(exc), parser, args)
        console.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:  # Ctrl-C outside a run (a run handles its own: cli.interrupt)
        console.print("stopped", markup=False, highlight=False)
        return 130


def _library_log(args) -> Path | None:
    """Where the libraries' own output goes for the commands that load TensorFlow/DeePMD-kit outside a
    run (``deepearth run`` sends it to the run's log itself): ``OUT/deepearth.log``."""
    return Path(args.out) / "deepearth.log" if args.command in ("train", "validate") else None


if __name__ == "__main__":
    sys.exit(main())
