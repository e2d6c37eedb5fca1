"""Every shell command of README.md runs as written (issue 18: a README that stands alone).

The commands are taken from the README's ```bash blocks (continuation lines joined, comments
dropped) and run in README order, in one temporary working directory that holds a copy of
``examples/`` — exactly as a user would from the repository root, so that a later command may read
what an earlier one wrote (``build defects`` reads ``build gb``'s cell, ``validate`` the model
``train`` made, ``geo w-isotopes`` the Arrhenius fit). Each must exit 0. The shell (bash) expands the
globs and quotes, then the ``deepearth`` command runs in this process (``deepearth.cli.main``) to save
the start-up of a new interpreter per command.

A command is either exercised or skipped by one of ``SKIPPED`` (a pattern and the reason); a command
that is neither — a new kind of command in the README — fails the test, so nothing is left out
silently. Run with ``-rs`` to see the skipped commands and why. ≈ 1.5–2 min on 2 cores.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

#: Commands the test does not run, by pattern, with the reason.
SKIPPED: list[tuple[str, str]] = [
    (r"^pip install -e \. ",
     "installs the package and runs the 4-minute quickstart (the CI installs exactly this way)"),
    (r"^pip install -e '\.\[test",
     "installs the package with its optional parts and runs this test suite (≈ 25 min): it is the CI"),
    (r"^deepearth train .*--backend deepmd",
     "DeePMD training, 20,000 steps × 4 members: tens of minutes (tests/potentials/test_deepmd.py trains small ones)"),
]

#: Subcommands whose README examples must run here.
EXERCISED = ("analyze", "geo", "build", "validate", "import", "status", "train")


def readme_commands(text: str) -> list[str]:
    """The shell commands of the ```bash blocks of ``text``, in order: lines ending in a backslash
    joined with the next, comment lines and trailing comments dropped (bash decides what a comment is)."""
    commands = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, flags=re.S | re.M):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = _strip_comment(line).strip()
            if line:
                commands.append(line)
    return commands


def _strip_comment(line: str) -> str:
    """``line`` without a trailing ``# ...`` comment (a ``#`` outside quotes that starts a word)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def skip_reason(command: str) -> str | None:
    for pattern, reason in SKIPPED:
        if re.search(pattern, command):
            return reason
    return None


COMMANDS = readme_commands(README.read_text())


def test_the_readme_has_the_commands_this_test_expects():
    """The extraction sees every block (a broken fence would silently drop commands), every command
    is exercised or skipped with a reason, and each skip pattern still matches a README command."""
    assert len(COMMANDS) >= 20, COMMANDS
    unknown = [c for c in COMMANDS if skip_reason(c) is None
               and not (c.split()[0] == "deepearth" and c.split()[1] in EXERCISED)]
    assert not unknown, f"README commands neither exercised nor skipped: {unknown}"
    unused = [p for p, _ in SKIPPED if not any(re.search(p, c) for c in COMMANDS)]
    assert not unused, f"skip patterns that match no README command: {unused}"
    assert not any(re.search(r"(^| )(\.\./|/)", c.split("#")[0]) for c in COMMANDS if skip_reason(c) is None), \
        "an exercised command names a path outside the repository"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A working directory like the repository root: a copy of ``examples/`` (the commands only read it)."""
    wd = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "examples", wd / "examples")
    return wd


def argv_of(command: str, cwd: Path) -> list[str]:
    """The words bash makes of ``command`` in ``cwd`` (quotes removed, globs expanded; an unmatched
    glob is an error, not a literal)."""
    out = subprocess.run(["bash", "-O", "failglob", "-c", f"printf '%s\\0' {command}"], cwd=cwd,
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, f"{command}: bash could not expand it: {out.stderr.strip()}"
    return out.stdout.split("\0")[:-1]


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS, ids=[f"{i:02d}-{' '.join(c.split()[:3])}" for i, c in enumerate(COMMANDS)])
def test_readme_command(command, workdir, monkeypatch, capsys):
    reason = skip_reason(command)
    if reason:
        pytest.skip(f"README command not run: {reason}")
    from deepearth.cli import main

    argv = argv_of(command, workdir)
    assert argv[0] == "deepearth"
    monkeypatch.chdir(workdir)
    try:
        rc = main(argv[1:])
    except SystemExit as exc:  # argparse: a flag the README names that the command does not have
        rc = exc.code
    captured = capsys.readouterr()
    assert rc == 0, f"{command}\nexit {rc}\n{captured.err[-2000:]}"
