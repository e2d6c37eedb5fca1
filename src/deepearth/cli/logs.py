"""The command line's log: ISO dates (``2026-12-06 23:45:01``, never ``12/06/26``) on the terminal and
in a run's log file, and the libraries' own noise kept out of the terminal.

TensorFlow, DeePMD-kit and MPI write to file descriptor 2 from C: DeePMD-kit's CUDA stub loader
prints ``implib-gen: libcudart.so.12: failed to load library`` on a machine without CUDA when its op
library loads *and again when the process exits* (its static destructors), TensorFlow its absl
banner, DeePMD-kit a threads hint. No environment variable turns the stub loader off (it dlopens
``libcudart.so.12`` by name and prints on failure), so :func:`library_noise_to` points descriptor 2
(and with it Python's ``sys.stderr``: the libraries' loggers and warnings) at the log file for the
whole command, while the console (log lines, progress bars, the one-line errors) writes to the
terminal. Nothing is lost: a real error of a library is in the log file, which the command's error
line names; worker processes inherit descriptor 2 and write there as well.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path

from rich.logging import RichHandler

from deepearth.cli.console import console

#: Dates of every log line, terminal and file: ISO 8601, unambiguous in every locale.
ISO_TIME = "%Y-%m-%d %H:%M:%S"

#: The environment that quiets TensorFlow's own logging before it is imported (errors still print).
QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3"}


def quiet_environment() -> None:
    """Set :data:`QUIET_ENV` where the user has not (call before TensorFlow is imported)."""
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)


def setup_logging(log_file: str | Path) -> None:
    """The ``deepearth`` logger to the console (rich, ISO times) and to ``log_file`` (ISO times)."""
    logger = logging.getLogger("deepearth")
    logger.setLevel(logging.INFO)
    for handler in logger.handlers:
        handler.close()
    logger.handlers.clear()
    logger.addHandler(RichHandler(console=console, show_path=False, markup=False, log_time_format=ISO_TIME))
    fh = logging.FileHandler(log_file)
    fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", datefmt=ISO_TIME))
    logger.addHandler(fh)


def log_to_file(log_file: str | Path, message: str, level: str = "INFO") -> None:
    """One line in ``log_file`` only (not on the terminal), in the log's format."""
    import time

    with open(log_file, "a") as fh:
        fh.write(f"{time.strftime(ISO_TIME)} {level} {message}\n")


@contextlib.contextmanager
def library_noise_to(log_file: str | Path, keep: bool = False):
    """File descriptor 2, and with it ``sys.stderr`` (the libraries' Python loggers and warnings), into
    ``log_file`` (appended) while the block runs; the console (log lines, progress bars, the one-line
    errors) keeps writing to the terminal.

    ``keep``: leave it so after the block, until the process exits (the command line's own process:
    DeePMD-kit prints again from its destructors at exit). A no-op when ``sys.stderr`` is not the
    process's own (a test capturing it, an embedding program)."""
    try:
        own = sys.stderr is sys.__stderr__ and sys.stderr is not None and sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        own = False
    if not own:
        yield
        return
    sys.stderr.flush()
    Path(log_file).parent.mkdir(parents=True, exist_ok=True)
    terminal_fd = os.dup(2)
    log_fd = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    console.file = open(terminal_fd, "w", buffering=1, encoding=sys.stderr.encoding, errors="backslashreplace",
                        closefd=not keep)
    try:
        yield
    finally:
        if not keep:
            sys.stderr.flush()
            terminal = console.file
            console.file = None  # back to following sys.stderr
            terminal.flush()
            os.dup2(terminal_fd, 2)
            terminal.close()  # closes terminal_fd
