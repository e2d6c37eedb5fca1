"""The deepearth command: one thin module per subcommand (parse, call one library function, print)."""

from __future__ import annotations

import argparse
import sys

from rich.markup import escape

from deepearth import __version__
from deepearth.cli.console import CommandFailed, console
from deepearth.cli.run import add_run_parsers
from deepearth.recipe import RecipeError
from deepearth.rundir import RunLocked

DESCRIPTION = ("deepearth: active-learned ML potentials, MD and error-barred properties of Earth's deep interior. "
               "Run a recipe (run, status), build structures (build), bring first-principles data (import, train, "
               "validate), analyse MD output from any code (analyze) and run the geophysical models (geo).")


def main(argv: list[str] | None = None) -> int:
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
    try:
        return args.func(args)
    except (RecipeError, FileNotFoundError, ValueError, CommandFailed, RunLocked) as exc:
        # one line, never wrapped, and the message is not read as rich markup (it may hold "[...]")
        console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
