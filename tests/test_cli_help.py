"""Every ``deepearth ... --help`` exits 0 and prints a usage line; ``--version`` names the version."""

import argparse

import pytest

from deepearth import __version__
from deepearth.cli import main


def _commands() -> list[list[str]]:
    """Every (sub)command path of the parser ``main`` builds."""
    paths: list[list[str]] = []

    def walk(parser: argparse.ArgumentParser, prefix: list[str]) -> None:
        paths.append(prefix)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, [*prefix, name])

    def capture(self, args=None, namespace=None):
        walk(self, [])
        raise SystemExit(0)

    real = argparse.ArgumentParser.parse_args
    argparse.ArgumentParser.parse_args = capture
    try:
        with pytest.raises(SystemExit):
            main([])
    finally:
        argparse.ArgumentParser.parse_args = real
    return paths


COMMANDS = _commands()


def test_the_walk_finds_the_subcommands():
    names = {" ".join(p) for p in COMMANDS}
    assert {"run", "analyze", "geo", "geo prem", "build"} <= names and len(names) > 15


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "deepearth")
def test_every_help_works(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("usage: deepearth")


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"deepearth {__version__}"
