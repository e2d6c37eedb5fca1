"""An exploration grid point stops when the committee extrapolates far past trust_hi or the MD
blows up; the frames before are kept, classified and selectable, and result.json says why."""

import json

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.io import read

import deepearth.explore.campaign as campaign
from deepearth.explore.campaign import GridPointTask, explore_point, select_candidates
from deepearth.md.engine import ASEEngine
from deepearth.recipe import ExplorationSpec
from deepearth.rundir import ExplorationResult

pytestmark = pytest.mark.reliability("fault")


class FakeEvaluator:
    """Member ``k`` of a two-model committee whose spread ε_F follows ``deviations``, one per call."""

    def __init__(self, k, deviations):
        self.k, self.deviations, self.calls = k, deviations, 0

    def evaluate(self, positions, cell, symbols):
        d = self.deviations[min(self.calls, len(self.deviations) - 1)]
        self.calls += 1
        forces = np.zeros((len(positions), 3))
        forces[:, 0] = 2 * d * self.k  # members 0 and 1: σ_i = d on every atom
        return 0.0, forces, np.zeros((3, 3))

    def descriptor(self, positions, cell, symbols):
        return np.asarray(positions)[:, :2] + self.calls


class FakeBackend:
    def __init__(self, deviations, calculator=EMT):
        self.deviations, self.make_calculator = deviations, calculator

    def evaluator(self, path):
        return FakeEvaluator(int(str(path)[-1]), self.deviations)

    def calculator(self, path):
        return self.make_calculator()


SPEC = ExplorationSpec(pressures_GPa=[0.0], temperatures_K=[300.0], ensemble="nvt", steps=100, deviation_interval=10,
                       criterion="absolute", trust_lo=0.2, trust_hi=0.5)


def explore(tmp_path, monkeypatch, deviations, calculator=EMT, **task):
    monkeypatch.setattr(campaign, "backend_for_model", lambda path: FakeBackend(deviations, calculator))
    start = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 2, 2))
    t = GridPointTask(str(tmp_path / "point"), ["m0", "m1"], start, 0.0, 300.0, SPEC, ASEEngine(), 5, **task)
    return explore_point(t)


def test_far_extrapolation_stops_the_point_and_keeps_the_frames_before(tmp_path, monkeypatch):
    res = explore(tmp_path, monkeypatch, [0.1, 0.3, 0.4, 1.0, 2.0, 0.1])  # 2.0 > 3 × 0.5 at frame 4
    assert res.blow_up == "deviation 2.00 > 3 × trust_hi (0.5) at step 40 (0.04 ps)"
    assert res.deviation_used == pytest.approx([0.1, 0.3, 0.4, 1.0, 2.0])
    # frame 3 (1.0: past trust_hi, below the stop) is the edge frame where the model broke: a candidate
    assert res.candidate_frames == [1, 2, 3]
    assert res.n_frames == 11 and res.fractions == pytest.approx(
        {"accurate": 1 / 11, "candidate": 3 / 11, "failed": 7 / 11})  # frames not reached count as failed
    frames = read(tmp_path / "point" / "traj.extxyz", index=":")
    assert [f.info["step"] for f in frames] == [0, 10, 20, 30, 40]
    assert ExplorationResult.from_dict(json.loads((tmp_path / "point" / "result.json").read_text())) == res
    picked = select_candidates([(tmp_path / "point", res)], 5)  # the kept candidates are selectable
    assert sorted(c.frame for c in picked) == [1, 2, 3]


def test_stop_factor_is_settable(tmp_path, monkeypatch):
    devs = [0.1, 0.3, 0.4, 1.0, 2.0, 0.1]
    res = explore(tmp_path / "a", monkeypatch, devs, deviation_stop_factor=1.5)  # 1.0 > 0.75
    assert res.blow_up.startswith("deviation 1.00 > 1.5 × trust_hi (0.5) at step 30") and len(res.deviation_used) == 4
    res = explore(tmp_path / "b", monkeypatch, devs, deviation_stop_factor=float("inf"))
    assert res.blow_up == "" and len(res.deviation_used) == 11


def test_nan_deviation_stops_too(tmp_path, monkeypatch):
    res = explore(tmp_path, monkeypatch, [0.1, float("nan")])
    assert res.blow_up.startswith("deviation nan > 3 × trust_hi") and len(res.deviation_used) == 2


class NaNForcesAfter(EMT):
    def __init__(self, n=25):
        super().__init__()
        self.n, self.calls = n, 0

    def calculate(self, atoms=None, properties=("energy",), system_changes=()):
        super().calculate(atoms, properties, system_changes)
        self.calls += 1
        if self.calls >= self.n:
            self.results["forces"] = self.results["forces"] * np.nan


def test_md_blow_up_keeps_the_frames_before(tmp_path, monkeypatch):
    res = explore(tmp_path, monkeypatch, [0.3], calculator=NaNForcesAfter)
    assert res.blow_up == "non-finite forces on 32 atom(s) (first: Cu 0) at step 24 (0.024 ps)"
    n = len(res.deviation_used)
    assert n == 3 and res.candidate_frames == [0, 1, 2]
    assert len(read(tmp_path / "point" / "traj.extxyz", index=":")) == n
    assert res.fractions["failed"] == pytest.approx(8 / 11)


def test_accurate_frames_outside_the_training_envelope_are_candidates(tmp_path, monkeypatch):
    """The envelope rule: the committee agrees (0.1 < trust_lo) but every Cu–Cu pair (2.55 Å at 300 K)
    is closer than 0.8 × the closest in training (3.3 Å): candidates, with the reason written down;
    with a training minimum of 2.4 Å the same frames are accurate; with no tolerance nothing is tested."""
    from deepearth.potentials.envelope import TrainingEnvelope, save_envelope

    def run(name, closest_A, tolerance):
        models = [tmp_path / name / "member-0" / "m0", tmp_path / name / "member-1" / "m1"]
        for m in models:
            m.parent.mkdir(parents=True)
        save_envelope(TrainingEnvelope({"Cu-Cu": closest_A}, (1.0, 20.0), None, None, ["Cu"], 10), models[0])
        monkeypatch.setattr(campaign, "backend_for_model", lambda path: FakeBackend([0.1]))
        start = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 2, 2))
        task = GridPointTask(str(tmp_path / name / "point"), [str(m) for m in models], start, 0.0, 300.0, SPEC,
                             ASEEngine(), 5, envelope_tolerance=tolerance)
        return explore_point(task), (tmp_path / name / "point" / "deviation.csv").read_text()

    res, csv = run("outside", 3.3, 0.2)
    assert res.fractions == pytest.approx({"accurate": 0.0, "candidate": 1.0, "failed": 0.0})
    assert res.candidate_frames == list(range(11)) and res.outside_envelope == 11
    assert "Cu-Cu pair at 2.5" in csv and "closest in training 3.30 Å" in csv
    res, _ = run("inside", 2.4, 0.2)
    assert res.fractions["accurate"] == 1.0 and res.outside_envelope == 0
    res, _ = run("untested", 3.3, None)
    assert res.fractions["accurate"] == 1.0 and res.outside_envelope == 0
