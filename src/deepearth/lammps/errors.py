"""The one exception of :mod:`deepearth.lammps`: LAMMPS could not be loaded or an input failed."""

from __future__ import annotations

from pathlib import Path

__all__ = ["LammpsError"]


class LammpsError(RuntimeError):
    """LAMMPS could not be loaded, or an input failed (in-process or in a child process).

    The message is self-contained: it names the failing command (and its index) where one is
    known and the log file to read. The same facts are attributes for callers that handle them.
    """

    def __init__(self, message: str, command: str | None = None, index: int | None = None,
                 log_file: Path | None = None) -> None:
        super().__init__(message)
        self.command = command
        self.index = index
        self.log_file = log_file
