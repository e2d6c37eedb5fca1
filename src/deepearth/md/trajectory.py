"""Trajectory output of the engines: extxyz frames with unwrapped positions and their time."""

from __future__ import annotations

from pathlib import Path

from ase import Atoms
from ase.io import write


def append_frame(path: str | Path, atoms: Atoms, step: int | None = None, timestep_fs: float | None = None) -> None:
    """Append ``atoms`` (positions as integrated, i.e. unwrapped) to an extxyz file.

    With ``step`` and ``timestep_fs`` the frame's info carries ``step`` and ``time_ps`` (what
    :func:`deepearth.properties.trajectory.read_trajectory` uses for the time axis).
    """
    frame = atoms.copy()
    frame.calc = None
    if step is not None:
        frame.info["step"] = int(step)
        if timestep_fs is not None:
            frame.info["time_ps"] = step * timestep_fs / 1000.0
    write(path, frame, format="extxyz", append=True)
