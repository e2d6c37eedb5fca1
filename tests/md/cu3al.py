"""A Cu3Al test system for the LAMMPS engine tests (the POD committee fixture is in conftest.py)."""

from ase.build import bulk

TYPE_MAP = ["Al", "Cu"]


def cu3al_cell(a0: float = 3.61, rep=(2, 2, 2)):
    """An fcc Cu cell (lattice constant ``a0`` Å) with every fourth atom Al, repeated ``rep``."""
    a = bulk("Cu", "fcc", a=a0, cubic=True).repeat(rep)
    symbols = a.get_chemical_symbols()
    for j in range(0, len(a), 4):
        symbols[j] = "Al"
    a.set_chemical_symbols(symbols)
    return a


def kill_replica_during_nvt(task, min_step: int, timeout_s: float = 120.0) -> tuple[int, list]:
    """Run ``run_replica(task)`` in a spawned process and SIGKILL it once its NVT restart marker has
    reached ``min_step``; returns the restart step it was killed after and the processes it had started
    (psutil, taken just before the kill: MPI ranks must not outlive it)."""
    import multiprocessing as mp
    import os
    import signal
    import time
    from pathlib import Path

    import psutil

    from deepearth.md.production import run_replica

    proc = mp.get_context("spawn").Process(target=run_replica, args=(task,))
    proc.start()
    marker = Path(task.outdir) / "nvt.restart.step"
    deadline = time.time() + timeout_s
    while time.time() < deadline and proc.is_alive():
        if marker.is_file() and int(marker.read_text() or 0) >= min_step:
            break
        time.sleep(0.02)
    assert proc.is_alive(), "the replica finished before it could be killed"
    children = psutil.Process(proc.pid).children(recursive=True)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    assert not (Path(task.outdir) / "done.json").exists()
    return int(marker.read_text()), children


def assert_same_replica(resumed, whole, n_frames: int) -> None:
    """A resumed replica ended with the samples and frames of one never killed."""
    import numpy as np
    import pytest
    from ase.io import read

    assert not resumed.blow_up and resumed.n_frames == whole.n_frames == n_frames
    assert resumed.T_mean_K == pytest.approx(whole.T_mean_K, rel=1e-9)
    assert resumed.P_mean_GPa == pytest.approx(whole.P_mean_GPa, rel=1e-9)
    a, b = read(resumed.trajectory, ":"), read(whole.trajectory, ":")
    assert [f.info["step"] for f in a] == [f.info["step"] for f in b]
    assert np.abs(a[-1].positions - b[-1].positions).max() < 1e-6
