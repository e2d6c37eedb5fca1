"""Smoke test of the LAMMPS-at-scale benchmarks (issue 14): ``benchmarks/lammps_scaling.py`` and
``benchmarks/seeds_bicrystal.py`` in ``--quick`` mode, ``benchmarks/gpu_scaling.py`` without a GPU.

The quickstart model is not needed: ``--quickstart`` points at an empty folder, so the quick runs fit
their tiny POD model on Lennard-Jones labels (plumbing only) and time it on 64–1000 atoms, 1 and 2 MPI
ranks; without ``--quick`` the scripts say how to make the model and exit 2. ≈ 10 s in all.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"


def _run(script: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=ROOT)


def _table(stdout: str) -> list[list[str]]:
    rows = [line.strip("|").split("|") for line in stdout.splitlines() if line.startswith("| ")]
    return [[c.strip() for c in row] for row in rows]


def test_scaling_quick_runs_without_the_quickstart_and_prints_its_table(tmp_path):
    out = _run("lammps_scaling.py", "--quick", "--quickstart", str(tmp_path / "none"), "--workdir", str(tmp_path))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "tiny POD model" in out.stdout and "Lennard-Jones" in out.stdout
    header, *rows = _table(out.stdout)
    assert header[:3] == ["model", "N atoms", "ranks"]
    assert [(int(r[1]), int(r[2])) for r in rows] == [(64, 1), (512, 1), (512, 2)]
    for r in rows:
        speed, rss = float(r[header.index("katom-step/s")]), float(r[header.index("peak RSS MB (rank 0)")])
        assert speed > 0 and 10 < rss < 2000
    assert "time per step ∝ N^" in out.stdout and "speed-up" in out.stdout


def test_scaling_without_a_model_says_how_to_make_one(tmp_path):
    out = _run("lammps_scaling.py", "--quickstart", str(tmp_path / "none"), "--workdir", str(tmp_path))
    assert out.returncode == 2
    assert out.stdout.strip() == ("no MgO POD model: run `deepearth run examples/mgo-quickstart.toml` first "
                                  "(or pass --model PATH)")


def test_bicrystal_quick_builds_seeds_and_says_w_is_treated_as_mg(tmp_path):
    out = _run("seeds_bicrystal.py", "--quick", "--quickstart", str(tmp_path / "none"), "--workdir", str(tmp_path))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SPEED ONLY, W TREATED AS Mg BY THE POTENTIAL" in out.stdout
    assert "W⁶⁺ on 2 Mg sites" in out.stdout and "{'Mg': 4} removed" in out.stdout
    header, *rows = _table(out.stdout)
    assert [int(r[header.index("ranks")]) for r in rows] == [1, 2]
    n = {int(r[header.index("N atoms")]) for r in rows}
    assert len(n) == 1 and n.pop() >= 900 - 4
    # the data file holds the three types, W with its own mass set in the input
    data = (tmp_path / "bicrystal.data").read_text()
    assert "3 atom types" in data
    assert "mass 3 183.8400" in (tmp_path / "pod-r1" / "lammps_input.py").read_text()


def test_gpu_scaling_without_a_gpu_measures_nothing_and_exits_0():
    sys.path.insert(0, str(BENCH))
    try:
        import gpu_scaling
    finally:
        sys.path.remove(str(BENCH))
    if gpu_scaling.gpus():
        pytest.skip("this machine has a GPU: the no-GPU path is not taken here")
    out = _run("gpu_scaling.py", "--quick")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "no GPU: nothing measured"
