"""A LAMMPS run that blows up raises LammpsBlowUp: an MDBlowUp (what, step, time) that is also a
LammpsError (command, log). LJ in reduced units, 108 atoms: each run fails within a few steps."""

import os

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

from deepearth.lammps import LammpsError
from deepearth.md.engine import MDBlowUp
from deepearth.md.lammps_runner import LammpsBlowUp, run_lammps

pytestmark = pytest.mark.reliability("fault")

TINY = """
atom_style atomic
lattice fcc 0.8442
region box block 0 3 0 3 0 3
create_box 1 box
create_atoms 1 box
mass 1 1.0
velocity all create 1.44 87287 loop geom
pair_style lj/cut 2.5
pair_coeff 1 1 1.0 1.0 2.5
neighbor 0.3 bin
neigh_modify every 1 delay 0 check yes
thermo_style custom step temp pe etotal press
thermo 10
"""


def test_nan_pressure_in_npt_is_a_blow_up(tmp_path):
    """An atom on top of another: infinite LJ force, NaN pressure; fix npt stops the run."""
    cmds = TINY + "create_atoms 1 single 0 0 0\nfix 1 all npt temp 1.44 1.44 0.5 iso 1 1 5\nrun 100\n"
    with pytest.raises(MDBlowUp) as info:
        run_lammps(cmds, tmp_path / "npt", units="lj")
    exc = info.value
    assert isinstance(exc, LammpsError) and isinstance(exc, LammpsBlowUp)
    assert exc.reason == "Non-numeric pressure - simulation unstable" and exc.step == 0
    assert str(exc).startswith("LAMMPS blew up: Non-numeric pressure - simulation unstable at or after step 0 (t = 0 τ)")
    assert exc.command == "run 100" and exc.log_file == tmp_path / "npt" / "log.lammps"
    assert "log.lammps" in str(exc)


def test_lost_atoms_is_a_blow_up_with_the_last_thermo_step(tmp_path):
    """A huge timestep (0.5 τ) in NVE: atoms fly out of the box; the step is the last thermo line."""
    cmds = TINY + "fix 1 all nve\nrun 20\ntimestep 0.5\nrun 1000\n"
    with pytest.raises(LammpsBlowUp) as info:
        run_lammps(cmds, tmp_path / "nve", units="lj")
    exc = info.value
    assert exc.reason.startswith("Lost atoms: original 108 current")
    assert exc.step == 20 and exc.time_ps is None  # lj units: no ps
    # the time is step × the timestep in force: approximate, as the first 20 steps ran with 0.005 τ
    assert "after step 20 (t ≈ 10 τ; the last thermo output before the error)" in str(exc)
    assert exc.command == "run 1000"


def test_metal_units_give_the_time_in_ps(tmp_path):
    cmds = TINY.replace("mass 1 1.0", "mass 1 39.95").replace("velocity all create 1.44", "velocity all create 100") \
        .replace("lattice fcc 0.8442", "lattice fcc 5.26").replace("pair_coeff 1 1 1.0 1.0 2.5", "pair_coeff 1 1 0.0103 3.405 8.5") \
        .replace("pair_style lj/cut 2.5", "pair_style lj/cut 8.5").replace("neighbor 0.3 bin", "neighbor 1.0 bin")
    cmds += "fix 1 all nve\ntimestep 0.002\nrun 30\ntimestep 2.0\nrun 1000\n"
    with pytest.raises(LammpsBlowUp) as info:
        run_lammps(cmds, tmp_path / "metal", units="metal")
    exc = info.value
    assert exc.step >= 30 and exc.time_ps == pytest.approx(exc.step * 2.0)
    # with the simulated time in the thermo output, the time is exact
    with pytest.raises(LammpsBlowUp) as info:
        run_lammps(cmds.replace("thermo_style custom step", "thermo_style custom step time"),
                   tmp_path / "metal-time", units="metal")
    exc = info.value
    assert exc.step == 30 and exc.time_ps == pytest.approx(30 * 0.002) and "(t = 0.06 ps;" in str(exc)


def test_an_input_error_is_not_a_blow_up(tmp_path):
    with pytest.raises(LammpsError) as info:
        run_lammps(TINY + "fix 2 all nvx\nrun 10\n", tmp_path / "bad", units="lj")
    assert not isinstance(info.value, MDBlowUp)
