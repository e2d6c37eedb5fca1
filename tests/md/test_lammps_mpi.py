"""The LAMMPS engine on two MPI ranks (a child under mpirun, frames streamed back): the same trajectory
as in process, observers at the same steps, restarts that resume, a failing observer or a dying child
that stops the run with no process left behind, one-line errors for bad input."""

import multiprocessing as mp
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from deepearth.lammps.errors import LammpsError
from deepearth.lammps.pair import LammpsPair
from deepearth.md.engine import MDBlowUp, MDGuard, MDSettings
from deepearth.md.lammps_engine import LammpsEngine, restart_step
from deepearth.md.lammps_mpi import cores, find_mpirun
from deepearth.md.lammps_runner import LammpsBlowUp
from deepearth.potentials.pod import PODCalculator

from cu3al import TYPE_MAP, assert_same_replica, cu3al_cell as _cell, kill_replica_during_nvt  # noqa: F401


def _has_mpirun():
    try:
        find_mpirun()
        return True
    except LammpsError:
        return False


two_ranks = pytest.mark.skipif(not _has_mpirun() or cores() < 2,
                               reason="no mpirun beside the Python executable or on PATH" if not _has_mpirun()
                               else "fewer than 2 cores")


@pytest.fixture(scope="module")
def model(pod_committee):
    return pod_committee[0]


def _record(every, rows=None):
    rows = [] if rows is None else rows

    def obs(atoms, step):
        rows.append(dict(step=step, pos=atoms.positions.copy(), vel=atoms.get_velocities().copy(),
                         etot=atoms.get_potential_energy() + atoms.get_kinetic_energy(),
                         stress=atoms.get_stress().copy(), cell=atoms.cell.array.copy(),
                         committee="committee_forces" in atoms.calc.results))
    return rows, (obs, every)


def _descendants():
    return psutil.Process().children(recursive=True)


def _survivors(procs, within_s=10.0):
    """Those of ``procs`` still running after ``within_s``."""
    _, alive = psutil.wait_procs(procs, timeout=within_s)
    return [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]


@two_ranks
def test_two_ranks_follow_the_in_process_engine(model, tmp_path):
    """NVE, 203 steps (the last not an observer step), a tilted and rotated cell; the committee asked
    for is ignored on two ranks."""
    runs, finals = {}, {}
    for ranks in (1, 2):
        atoms = _cell()
        atoms.set_cell(atoms.cell.array + [[0, 0, 0], [0.4, 0, 0], [0.2, -0.3, 0]], scale_atoms=True)
        atoms.rotate(20, "z", rotate_cell=True)
        rows, obs = _record(25)
        LammpsEngine(ranks=ranks).run(atoms, PODCalculator(model), MDSettings(
            "nve", 600.0, 203, 2.0, seed=5, observers=[obs], committee=[str(model)] * 2,
            log_file=str(tmp_path / f"log.{ranks}.lammps")))
        runs[ranks], finals[ranks] = rows, atoms
    assert " on 2 procs " in (tmp_path / "log.2.lammps").read_text()
    assert [r["step"] for r in runs[2]] == [r["step"] for r in runs[1]] == list(range(0, 201, 25))
    assert runs[1][-1]["committee"] and not runs[2][-1]["committee"]
    for a, b in zip(runs[1], runs[2]):
        assert np.abs(a["pos"] - b["pos"]).max() < 1e-6
        assert np.abs(a["vel"] - b["vel"]).max() < 1e-8
        assert np.abs(a["cell"] - b["cell"]).max() < 1e-9
        assert a["etot"] == pytest.approx(b["etot"], abs=1e-6)
        assert np.abs(a["stress"] - b["stress"]).max() < 1e-8
    assert np.abs(finals[1].positions - finals[2].positions).max() < 1e-6  # the state at step 203
    assert finals[2].get_potential_energy() == pytest.approx(finals[1].get_potential_energy(), abs=1e-6)
    assert not [p for p in tmp_path.iterdir() if p.is_dir()]  # the child's folder is gone


@two_ranks
def test_observers_at_their_steps_in_npt(model):
    steps = {20: [], 30: []}

    def obs(k):
        return lambda atoms, step: steps[k].append(step), k

    rows, volume = _record(50)
    atoms = _cell()
    LammpsEngine(ranks=2).run(atoms, PODCalculator(model), MDSettings(
        "npt", 800.0, 120, 2.0, pressure_GPa=5.0, barostat="aniso", seed=3, observers=[obs(20), obs(30), volume],
        guard=MDGuard(contact_interval=40)))
    assert steps[20] == list(range(0, 121, 20)) and steps[30] == list(range(0, 121, 30))
    assert [r["step"] for r in rows] == [0, 50, 100]
    assert np.abs(rows[-1]["cell"] - rows[0]["cell"]).max() > 1e-4  # the barostat moved the cell
    assert np.abs(atoms.cell.array - rows[-1]["cell"]).max() > 1e-6  # atoms hold step 120, not 100


@two_ranks
def test_a_failing_observer_stops_the_run_and_leaves_no_process(model):
    rows, record = _record(10)
    children, before = [], {p.pid for p in _descendants()}

    def fail(atoms, step):
        children.extend(p for p in _descendants() if p.pid not in before)
        if step == 60:
            raise RuntimeError("observer failed at 60")

    with pytest.raises(RuntimeError, match="observer failed at 60"):
        LammpsEngine(ranks=2).run(_cell(), PODCalculator(model), MDSettings(
            "nvt", 900.0, 100000, 2.0, seed=1, observers=[record, (fail, 20)]))
    assert [r["step"] for r in rows] == list(range(0, 61, 10))  # nothing after the failing frame
    assert len({p.pid for p in children}) >= 4  # mpirun, its proxy, 2 ranks
    assert not _survivors(children), "a child process outlived the run"
    # a blow-up found by the guard: an MDBlowUp, the child gone too
    atoms = _cell()
    atoms.positions[1] = atoms.positions[0] + [0.3, 0, 0]
    before = _descendants()
    with pytest.raises(MDBlowUp, match="close contact: .* at step 0"):
        LammpsEngine(ranks=2).run(atoms, PODCalculator(model), MDSettings("nve", 300.0, 100000))
    assert not [p for p in _descendants() if p not in before]


@two_ranks
@pytest.mark.reliability("fault")
def test_a_child_that_dies_is_one_error_and_the_run_resumes(model, tmp_path):
    """A rank killed mid-run: one LammpsError naming the logs; the run then continues from the last
    restart whose frames were seen and ends on the uninterrupted trajectory (the run length does not
    change the dynamics: the killed run was asked for more steps so that it is still running)."""
    calc = PODCalculator(model)
    whole, obs = _record(20)
    LammpsEngine().run(_cell(), calc, MDSettings("nvt", 900.0, 300, 2.0, seed=6, observers=[obs]))
    restart = tmp_path / "nvt.restart"
    settings = dict(restart_file=str(restart), restart_interval=100, log_file=str(tmp_path / "log.lammps"))
    first, obs = _record(20)

    def kill_a_rank(atoms, step):
        if step == 160:
            rank = next(p for p in _descendants() if p.name() == "python" and p.ppid() != os.getpid())
            rank.send_signal(signal.SIGKILL)

    with pytest.raises(LammpsError, match=r"LAMMPS on 2 MPI ranks failed before step 1[789]0 \(exit 9\): an MPI rank "
                       r"ended: Killed \(signal 9\); see .*log.lammps") as err:
        LammpsEngine(ranks=2).run(_cell(), calc, MDSettings("nvt", 900.0, 10**6, 2.0, seed=6,  # still running at 160
                                                            observers=[obs, (kill_a_rank, 20)], **settings))
    assert "\n" not in str(err.value)
    assert restart_step(restart) == 100  # the restart at 100 was published, not one past the failure
    second, obs = _record(20)
    LammpsEngine(ranks=2).run(_cell(), calc, MDSettings("nvt", 900.0, 300, 2.0, seed=6, observers=[obs], **settings))
    assert [r["step"] for r in second] == list(range(120, 301, 20))  # observers only after the restart
    assert restart_step(restart) == 300
    assert not [p for p in tmp_path.iterdir() if ".mpi" in p.name and p.suffix != ".out"]
    resumed = [r for r in first if r["step"] <= 100] + second
    assert [r["step"] for r in resumed] == [r["step"] for r in whole]
    for a, b in zip(resumed, whole):
        assert np.abs(a["pos"] - b["pos"]).max() < 1e-6
    # a restart written by the in-process engine resumes on two ranks too (and back)
    restart1 = tmp_path / "one.restart"
    settings1 = dict(restart_file=str(restart1), restart_interval=100)
    LammpsEngine().run(_cell(), calc, MDSettings("nvt", 900.0, 100, 2.0, seed=6, **settings1))
    third, obs = _record(20)
    LammpsEngine(ranks=2).run(_cell(), calc, MDSettings("nvt", 900.0, 200, 2.0, seed=6, observers=[obs], **settings1))
    assert [r["step"] for r in third] == list(range(120, 201, 20))
    assert np.abs(third[-1]["pos"] - whole[10]["pos"]).max() < 1e-6


def _run_forever(model, marker, log):
    LammpsEngine(ranks=2).run(_cell(), PODCalculator(model), MDSettings(
        "nvt", 900.0, 10**7, 2.0, observers=[(lambda a, s: Path(marker).write_text(str(s)), 100)], log_file=log))


@two_ranks
@pytest.mark.reliability("fault")
def test_kill_9_of_the_run_leaves_no_rank_behind(model, tmp_path):
    marker = tmp_path / "step"
    proc = mp.get_context("spawn").Process(target=_run_forever, args=(str(model), str(marker),
                                                                       str(tmp_path / "log.lammps")))
    proc.start()
    deadline = time.time() + 60
    while time.time() < deadline and not marker.is_file():
        time.sleep(0.05)
    assert marker.is_file(), "the run did not start"
    children = psutil.Process(proc.pid).children(recursive=True)
    assert len(children) >= 3
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    assert not _survivors(children), "a rank outlived its killed run"


@two_ranks
@pytest.mark.reliability("fault")
def test_timeout_and_lammps_errors_are_one_line(model, tmp_path):
    before = {p.pid for p in _descendants()}  # e.g. multiprocessing's resource tracker
    children = []
    watch = (lambda atoms, step: children.extend(p for p in _descendants() if p.pid not in before), 1000)
    with pytest.raises(LammpsError, match=r"LAMMPS on 2 MPI ranks timed out after 2 s .*see .*log.lammps") as err:
        LammpsEngine(ranks=2, timeout_s=2).run(_cell(), PODCalculator(model), MDSettings(
            "nvt", 900.0, 10**7, observers=[watch], log_file=str(tmp_path / "log.lammps")))
    assert "\n" not in str(err.value)
    assert len(children) >= 3 and not _survivors(children, 5)

    class PaceCalculator(PODCalculator):
        def lammps_pair(self):
            return LammpsPair(["pair_style pace", "pair_coeff * * model.yace Al Cu"], TYPE_MAP, model="model.yace")

    with pytest.raises(LammpsError, match=r"failed before step 0 \(exit \d+\): .*pair style.*see ") as err:
        LammpsEngine(ranks=2).run(_cell(), PaceCalculator(model), MDSettings("nve", 300.0, 20))
    assert "\n" not in str(err.value)
    assert (Path(err.value.log_file).parent / "log.lammps").is_file()  # kept: the message names it
    shutil.rmtree(Path(err.value.log_file).parent)
    # atoms flying out of their subdomains: LAMMPS' "Lost atoms" is a blow-up (an MDBlowUp)
    atoms = _cell()
    atoms.set_velocities(np.random.default_rng(0).normal(0, 3.0, (len(atoms), 3)))
    with pytest.raises(LammpsBlowUp, match=r"LAMMPS on 2 MPI ranks: (Lost atoms|Out of range atoms).* at step \d+"):
        LammpsEngine(ranks=2).run(atoms, PODCalculator(model), MDSettings(
            "nve", 300.0, 1000, 5.0, init_velocities=False, log_file=str(tmp_path / "lost.lammps"),
            guard=MDGuard(contact_factor=0, max_temperature_factor=1e12, volume_range=(0, 1e9))))


@pytest.mark.reliability("bad input")
def test_bad_ranks_are_one_line_errors(model, monkeypatch, tmp_path):
    with pytest.raises(ValueError, match=r"^MPI ranks must be an integer ≥ 1, got 0$"):
        LammpsEngine(ranks=0)
    k = cores() + 1
    with pytest.raises(ValueError, match=rf"more MPI ranks \({k}\) than cores \({cores()}\)"):
        LammpsEngine(ranks=k).run(_cell(), PODCalculator(model), MDSettings("nve", 300.0, 20))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("mpirun") is None
    if cores() >= 2:
        with pytest.raises(LammpsError, match=r"need 'mpirun'.*none found: use ranks = 1"):
            LammpsEngine(ranks=2).run(_cell(), PODCalculator(model), MDSettings("nve", 300.0, 20))


@two_ranks
@pytest.mark.reliability("fault")
def test_a_killed_production_replica_on_two_ranks_resumes(model, tmp_path):
    """kill -9 of a production replica in its NVT phase on two ranks: no rank left behind; the same
    call continues from the last restart and ends with the samples of a replica never killed."""
    from deepearth.md.production import ReplicaTask, run_replica
    from deepearth.recipe import ProductionSpec

    spec = ProductionSpec(points=[{"P_GPa": 2.0, "T_K": 900.0}], equilibration_steps=200, steps=1600,
                          timestep_fs=2.0, sample_interval=20, restart_interval=200, replicas=1)

    def task(folder):
        return ReplicaTask(str(tmp_path / folder), str(model), _cell(), 2.0, 900.0, spec, LammpsEngine(ranks=2),
                           seed=11)

    whole = run_replica(task("whole"))
    stopped_at, children = kill_replica_during_nvt(task("killed"), 600)
    assert not _survivors(children), "a rank outlived its killed replica"
    assert_same_replica(run_replica(task("killed")), whole, 1600 // 20 + 1)
    assert 600 <= stopped_at < 1600
    assert not [p for p in (tmp_path / "killed").iterdir() if ".mpi" in p.name and not p.name.endswith(".mpi.out")]
