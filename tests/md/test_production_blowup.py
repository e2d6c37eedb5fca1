"""A production replica that blows up is recorded (ReplicaResult.blow_up, done.json), not raised:
the frames before are kept, and a resume returns the record instead of rerunning the replica."""

import json

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.io import read

import deepearth.md.production as production
from deepearth.md.engine import ASEEngine
from deepearth.md.production import ReplicaTask, run_replica
from deepearth.recipe import ProductionSpec
from deepearth.rundir import ReplicaResult

pytestmark = pytest.mark.reliability("fault")


class NaNAfter(EMT):
    """EMT whose forces (or stress) are NaN from the ``n``-th calculation on."""

    def __init__(self, n, prop="forces"):
        super().__init__()
        self.n, self.prop, self.calls = n, prop, 0

    def calculate(self, atoms=None, properties=("energy",), system_changes=()):
        super().calculate(atoms, properties, system_changes)
        self.calls += 1
        if self.calls >= self.n and self.prop in self.results:
            self.results[self.prop] = self.results[self.prop] * np.nan


def replica(tmp_path, monkeypatch, calculator, equilibration_steps=20):
    monkeypatch.setattr(production, "load_potential", lambda path: calculator())
    spec = ProductionSpec(equilibration_steps=equilibration_steps, steps=100, sample_interval=10)
    start = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 2, 2))
    return ReplicaTask(str(tmp_path / "rep-0"), "model.pod", start, 0.0, 600.0, spec, ASEEngine(), 3)


def test_blow_up_in_production_is_recorded_with_the_frames_before(tmp_path, monkeypatch):
    task = replica(tmp_path, monkeypatch, lambda: NaNAfter(20 + 1 + 45))  # NPT: 21 evaluations, then NVT
    res = run_replica(task)
    assert res.blow_up == "NVT production: non-finite forces on 32 atom(s) (first: Cu 0) at step 44 (0.044 ps)"
    frames = read(res.trajectory, index=":")
    assert res.n_frames == len(frames) == 5 and [f.info["step"] for f in frames] == [0, 10, 20, 30, 40]
    assert np.isfinite(res.T_mean_K) and np.isfinite(res.P_mean_GPa)
    on_disk = json.loads((tmp_path / "rep-0" / "done.json").read_text())
    assert on_disk["blow_up"] == res.blow_up and ReplicaResult.from_dict(on_disk) == res

    def must_not_run(path):
        raise AssertionError("a resume reran the replica")

    monkeypatch.setattr(production, "load_potential", must_not_run)
    assert run_replica(task) == res  # recorded: a resume does not rerun it


def test_blow_up_in_equilibration_leaves_no_trajectory(tmp_path, monkeypatch):
    res = run_replica(replica(tmp_path, monkeypatch, lambda: NaNAfter(8, "stress")))
    assert res.blow_up == "NPT equilibration: non-finite stress ([nan nan nan nan nan nan]) at step 7 (0.007 ps)"
    assert res.trajectory == "" and res.n_frames == 0 and np.isnan(res.T_mean_K)
    assert np.isfinite(res.volume_A3)  # the last volume recorded before the blow-up
    on_disk = json.loads((tmp_path / "rep-0" / "done.json").read_text())
    assert on_disk["T_mean_K"] is None and on_disk["blow_up"] == res.blow_up


def test_a_healthy_replica_has_no_blow_up(tmp_path, monkeypatch):
    res = run_replica(replica(tmp_path, monkeypatch, EMT))
    assert res.blow_up == "" and res.n_frames == 11 and abs(res.T_mean_K - 600) < 300
    assert json.loads((tmp_path / "rep-0" / "done.json").read_text())["blow_up"] == ""


def test_nan_pressure_seen_by_the_production_observer_is_a_blow_up(tmp_path, monkeypatch):
    """A calculator that computes the stress only when asked: NVT does not ask, the sampler does."""

    class StressOnRequest(NaNAfter):
        def calculate(self, atoms=None, properties=("energy",), system_changes=()):
            super().calculate(atoms, properties, system_changes)
            if "stress" not in properties:
                self.results.pop("stress", None)

    res = run_replica(replica(tmp_path, monkeypatch, lambda: StressOnRequest(1, "stress"), equilibration_steps=0))
    assert res.blow_up.startswith("NVT production: non-finite pressure nan at step 0 (0 ps)")
    assert res.n_frames == 0 and res.trajectory == ""


def test_flags_name_the_system_the_point_and_the_replica():
    """One phrase for a (system, P, T) point in logs and flags; a replica that stopped before writing a
    trajectory is still named by its point (no empty name)."""
    from deepearth.pipeline.learning import exploration_flags
    from deepearth.pipeline.systems import state_point
    from deepearth.pipeline.transport import replica_flags
    from deepearth.rundir import IterationRecord

    assert state_point("melt", 50.0, 5000.0) == "melt P=50 GPa, T=5000 K"
    assert state_point("", 140.0, 4000.5) == "P=140 GPa, T=4000.5 K"
    stopped = ReplicaResult(50.0, 5000.0, float("nan"), float("nan"), float("nan"), float("nan"), 0, "", "lost atoms")
    ran = ReplicaResult(50.0, 5000.0, 1.0, 5000.0, 50.0, 1.0, 10, "md/melt/P50-T5000/rep-1/traj.extxyz", "T > 25000 K")
    assert replica_flags({("melt", 50.0, 5000.0): [stopped, ran]}) == [
        "production replica at melt P=50 GPa, T=5000 K stopped: lost atoms",
        "production replica rep-1 at melt P=50 GPa, T=5000 K stopped: T > 25000 K"]
    record = IterationRecord.from_dict({"iteration": 3, "n_labelled_total": 1, "n_new_labels": 0, "n_failed_labels_total": 0,
                                        "accurate_fraction": 0.0, "candidate_fraction": 0.0, "failed_fraction": 1.0,
                                        "grid": [{"system": "gb", "P_GPa": 140.0, "T_K": 4000.0, "blow_up": "deviation"},
                                                 {"P_GPa": 140.0, "T_K": 5000.0, "blow_up": ""}]})
    assert exploration_flags([record]) == ["exploration of the final model (iteration 3) stopped at gb P=140 GPa, "
                                           "T=4000 K: deviation"]
