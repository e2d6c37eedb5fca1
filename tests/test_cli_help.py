"""Every ``deepearth ... --help`` exits 0 and prints a usage line; ``--version`` names the version."""

import pytest
from cli_walk import command_parsers

from deepearth import __version__
from deepearth.cli import main

COMMANDS = [list(path) for path in command_parsers()]


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
