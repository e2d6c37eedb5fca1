"""Every (sub)command parser that ``deepearth.cli.main`` builds, by command path (for the help tests)."""

import argparse

import pytest

from deepearth.cli import main


def command_parsers() -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """``(command, subcommand, ...) → parser`` for every parser under ``deepearth`` (``()``: the top)."""
    found: dict[tuple[str, ...], argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, prefix: tuple[str, ...]) -> None:
        found[prefix] = parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, (*prefix, name))

    def capture(self, args=None, namespace=None):
        walk(self, ())
        raise SystemExit(0)

    real = argparse.ArgumentParser.parse_args
    argparse.ArgumentParser.parse_args = capture
    try:
        with pytest.raises(SystemExit):
            main([])
    finally:
        argparse.ArgumentParser.parse_args = real
    return found
