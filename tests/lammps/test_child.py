"""Inputs run in a child process: success, a bad input (one error line naming the LAMMPS error and
the logs), a crash before LAMMPS starts, the time limit, and two MPI ranks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

from deepearth.lammps import LammpsError, read_thermo, run_child

LJ = """
units lj
atom_style atomic
lattice fcc 0.8442
region box block 0 4 0 4 0 4
create_box 1 box
create_atoms 1 box
mass 1 1.0
velocity all create 1.44 87287 loop geom
pair_style lj/cut 2.5
pair_coeff 1 1 1.0 1.0 2.5
fix 1 all nve
thermo 50
run 100
"""


def test_success_writes_script_and_logs(tmp_path):
    run = run_child(LJ, tmp_path / "ok", timeout_s=120, env={"OMP_NUM_THREADS": "1"})
    assert run.script == tmp_path / "ok" / "lammps_input.py" and run.script.is_file()
    assert run.lammps_log == tmp_path / "ok" / "log.lammps" and run.log_file == tmp_path / "ok" / "child.log"
    thermo = read_thermo(run.lammps_log)
    assert len(thermo) == 1 and list(thermo[0]["Step"]) == [0, 50, 100]
    # the script is self-contained: it reruns by hand
    out = subprocess.run([sys.executable, run.script.name], cwd=run.workdir, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]


def test_bad_input_is_one_error_line_naming_the_logs(tmp_path):
    wd = tmp_path / "bad"
    with pytest.raises(LammpsError) as info:
        run_child(LJ.replace("fix 1 all nve", "fix 1 all nvx"), wd, log_file="my.log", timeout_s=120,
                  label="the LJ test")
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith("the LJ test failed (exit 3)")
    assert "Unrecognized fix style 'nvx'" in msg
    assert str(wd / "my.log") in msg and str(wd / "log.lammps") in msg
    assert info.value.log_file == wd / "my.log"
    assert "LAMMPS failed at command 11/13 'fix 1 all nvx'" in (wd / "my.log").read_text()


def test_a_crash_outside_lammps_is_reported_from_the_child_log(tmp_path):
    with pytest.raises(LammpsError, match=r"exit 1\): .*LAMMPS refused the command-line arguments .*-no-such-flag.*child\.log"):
        run_child(LJ, tmp_path / "args", cmdargs=["-no-such-flag"], timeout_s=120)


def test_time_limit(tmp_path):
    with pytest.raises(LammpsError, match=r"timed out after 2 s; see .*child\.log"):
        run_child(LJ.replace("run 100", "run 100000000"), tmp_path / "slow", timeout_s=2)


@pytest.mark.skipif(not (Path(sys.executable).parent / "mpirun").is_file(), reason="no mpirun beside Python")
def test_two_mpi_ranks(tmp_path):
    run = run_child(LJ, tmp_path / "mpi", ranks=2, timeout_s=120)
    assert "on 2 procs for 100 steps with 256 atoms" in run.lammps_log.read_text()
