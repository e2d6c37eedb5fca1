"""The one console of the command line (stderr; never wraps when piped)."""

from rich.console import Console

console = Console(stderr=True)
if not console.is_terminal:  # logs piped to a file or CI: do not wrap at 80 columns
    console.width = 200


class CommandFailed(RuntimeError):
    """A command could not do what was asked; the message says why (printed as one line, exit 2)."""
