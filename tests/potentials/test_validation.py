"""Held-out and k-fold validation: bootstrap bars, bins, out-of-fold bookkeeping; per-frame percentiles,
worst frames and training-envelope flags (synthetic frames, and a POD model on the real PBE CaSiO3 melt)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

from datafiles import data_path
from deepearth import load_potential
from deepearth.potentials.envelope import TrainingEnvelope
from deepearth.potentials.registry import load_evaluator, make_potential
from deepearth.potentials.validation import frame_condition, kfold_assignment, kfold_errors, validation_errors
from deepearth.reference import read_frames
from deepearth.store import export_frames_deepmd

MU = {"Mg": -1.5, "O": -4.0}  # eV/atom, the "true" reference energies of the synthetic data
SIGMA = 0.02  # eV/atom noise on the energy per atom


def synthetic_frames(n: int, seed: int = 0) -> list[Atoms]:
    """Frames with E = Σ n_s μ_s + N·ε (ε ~ N(0, SIGMA)), random forces and stress, varying composition."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n):
        n_mg = int(rng.integers(2, 7))
        n_o = 8 - n_mg
        atoms = Atoms(["Mg"] * n_mg + ["O"] * n_o, positions=rng.uniform(0, 4, (8, 3)), cell=[4, 4, 4], pbc=True)
        energy = n_mg * MU["Mg"] + n_o * MU["O"] + 8 * rng.normal(0, SIGMA)
        atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=rng.normal(0, 0.5, (8, 3)),
                                           stress=rng.normal(0, 0.01, 6))
        atoms.info["origin_T_K"] = [2000.0, 4000.0][i % 2]
        atoms.info["parent"] = f"traj-{i // 4}"
        frames.append(atoms)
    return frames


class Truth:
    """The generating model: exact μ, zero forces and virial."""

    def evaluate(self, positions, cell, symbols):
        return sum(MU[s] for s in symbols), np.zeros((len(symbols), 3)), np.zeros((3, 3))


class CompositionBaseline:
    """A real (if crude) model: E = Σ_s n_s μ_s fitted by least squares, F = 0, virial = 0.

    Follows the ``Potential`` protocol on DeePMD npy data, so ``kfold_errors`` exercises the same
    write-train-evaluate path as a real backend."""

    name = "composition-baseline"

    def train(self, workdir, train_systems, valid_systems, seed, log_file=None):
        model = Path(workdir) / "model.json"
        if model.is_file():  # idempotent, as the protocol requires
            return model
        rows, energies = [], []
        for system in train_systems:
            type_map = (Path(system) / "type_map.raw").read_text().split()
            types = np.loadtxt(Path(system) / "type.raw", dtype=int, ndmin=1)
            counts = [int(np.sum(types == t)) for t in range(len(type_map))]
            for e in np.load(Path(system) / "set.000" / "energy.npy"):
                rows.append(counts)
                energies.append(e)
        mu, *_ = np.linalg.lstsq(np.array(rows, float), np.array(energies), rcond=None)
        Path(workdir).mkdir(parents=True, exist_ok=True)
        model.write_text(json.dumps(dict(zip(type_map, mu.tolist()))))
        return model

    def evaluator(self, model):
        mu = json.loads(Path(model).read_text())

        class Evaluator:
            def evaluate(self, positions, cell, symbols):
                return sum(mu[s] for s in symbols), np.zeros((len(symbols), 3)), np.zeros((3, 3))

        return Evaluator()


def test_held_out_errors_exact_and_bootstrap_bar():
    """Against the true μ the energy RMSE is the noise σ; F and σ RMSE are the rms labels; the
    bootstrap bar matches σ/√(2n) of a Gaussian RMSE."""
    frames = synthetic_frames(400)
    res = validation_errors(Truth(), frames)
    assert res.rmse_energy_meV_per_atom == pytest.approx(1000 * SIGMA, rel=0.1)
    forces = np.concatenate([a.get_forces().ravel() for a in frames])
    assert res.rmse_force_eV_per_A == pytest.approx(np.sqrt(np.mean(forces**2)), rel=1e-12)
    assert res.rmse_energy_stderr == pytest.approx(1000 * SIGMA / np.sqrt(2 * len(frames)), rel=0.25)
    assert "bootstrap" in res.method


def test_bins_by_temperature_composition_and_pressure():
    frames = synthetic_frames(40)
    by_t = validation_errors(Truth(), frames, bin_by="temperature")
    assert set(by_t.bins) == {"2000", "4000"} and sum(b["n_frames"] for b in by_t.bins.values()) == 40
    by_x = validation_errors(Truth(), frames, bin_by="composition")
    assert all(b["n_frames"] >= 1 for b in by_x.bins.values()) and "MgO" in by_x.bins
    by_p = validation_errors(Truth(), frames, bin_by="pressure", bin_edges=[-10, 0, 10])
    assert set(by_p.bins) <= {"-10–0", "0–10"}
    assert len(by_p.parity["bin"]["force_eV_per_A"]) == len(by_p.parity["force_eV_per_A"][0])
    a = frames[0]
    assert frame_condition(a, "pressure") == pytest.approx(-np.trace(a.get_stress(voigt=False)) / 3 * 160.21766, rel=1e-6)
    del a.info["origin_T_K"]
    with pytest.raises(ValueError, match="no temperature"):
        frame_condition(a, "temperature")


def test_kfold_assignment_keeps_groups_together_and_rejects_bad_k():
    frames = synthetic_frames(40)
    folds = kfold_assignment(frames, 5, seed=1, group=lambda a: a.info["parent"])
    for parent in {a.info["parent"] for a in frames}:
        assert len({f for f, a in zip(folds, frames) if a.info["parent"] == parent}) == 1
    assert sorted(set(folds)) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="k ≥ 2"):
        kfold_assignment(frames, 1)
    with pytest.raises(ValueError, match="cannot make"):
        kfold_assignment(frames[:3], 5)


def test_kfold_out_of_fold_error_of_a_least_squares_model(tmp_path):
    """Out-of-fold RMSE of a p-parameter least-squares fit ≈ σ √(1 + p/n_train) (prediction error);
    every frame is predicted exactly once; resuming reuses the trained folds."""
    frames = synthetic_frames(200, seed=3)
    res = kfold_errors(CompositionBaseline(), frames, 5, tmp_path, ["Mg", "O"], bin_by="temperature")
    assert res.pooled.n_frames == 200 and sum(f["n_test"] for f in res.folds) == 200
    expected = 1000 * SIGMA * np.sqrt(1 + 2 / 160)
    assert abs(res.pooled.rmse_energy_meV_per_atom - expected) < 3 * res.pooled.rmse_energy_stderr
    assert res.fold_spread["rmse_energy_meV_per_atom"] > 0
    mtime = Path(res.models[0]).stat().st_mtime_ns
    again = kfold_errors(CompositionBaseline(), frames, 5, tmp_path, ["Mg", "O"])
    assert again.pooled.rmse_energy_meV_per_atom == pytest.approx(res.pooled.rmse_energy_meV_per_atom)
    assert Path(res.models[0]).stat().st_mtime_ns == mtime  # not retrained


def test_mae_percentiles_and_worst_frames_on_synthetic_frames():
    """Against the true μ: force MAE is the mean |F| of the labels; the per-frame percentiles are ordered
    and the maximum is the largest per-frame error; the worst list is sorted and its first frame has
    the largest error; bins carry the same statistics."""
    frames = synthetic_frames(60, seed=2)
    res = validation_errors(Truth(), frames, bin_by="temperature", n_worst=4, worst_by="energy")
    forces = np.concatenate([a.get_forces().ravel() for a in frames])
    assert res.mae_force_eV_per_A == pytest.approx(np.mean(np.abs(forces)), rel=1e-12)
    assert 0 < res.mae_energy_stderr < res.mae_energy_meV_per_atom
    de = np.array([1000 * abs(a.get_potential_energy() - Truth().evaluate(None, None, a.get_chemical_symbols())[0])
                   / len(a) for a in frames])
    for stats in res.per_frame.values():
        assert stats["median"] <= stats["p95"] <= stats["max"]
    assert res.per_frame["energy_meV_per_atom"]["max"] == pytest.approx(de.max())
    assert res.per_frame["energy_meV_per_atom"]["median"] == pytest.approx(np.median(de))
    worst = res.worst_frames
    assert [w["rank"] for w in worst] == [1, 2, 3, 4] and worst[0]["index"] == int(np.argmax(de))
    assert worst[0]["id"] == f"frame {np.argmax(de)}" and worst[0]["outside_envelope"] is None
    assert [w["energy_meV_per_atom"] for w in worst] == pytest.approx(sorted(de, reverse=True)[:4])
    assert worst[0]["bin"] in {"2000", "4000"}
    assert {len(b["worst_frames"]) for b in res.bins.values()} == {4}
    assert res.envelope["checked"] is False and "no training envelope given" in res.envelope["note"]
    assert res.n_bootstrap == 200 and "200 resamples, seed 0" in res.method
    assert len(res.parity["frames"]["id"]) == 60
    json.dumps(res.summary())  # JSON-ready
    with pytest.raises(ValueError, match="worst_by"):
        validation_errors(Truth(), frames, worst_by="virial")


def test_frame_ids_and_kfold_worst_frames_name_the_original_frames(tmp_path):
    frames = synthetic_frames(20, seed=4)
    frames[3].info["provenance"] = {"source_file": "/data/run/OUTCAR", "source_frame": 7}
    frames[5].info.update(candidate_id="iter-001-abc", parent="/x/traj.xyz", frame=12)
    res = validation_errors(Truth(), frames, n_worst=20)
    ids = {w["index"]: w["id"] for w in res.worst_frames}
    assert ids[3] == "OUTCAR:7" and ids[5] == "iter-001-abc (traj.xyz:12)" and ids[0] == "frame 0"
    kf = kfold_errors(CompositionBaseline(), frames, 4, tmp_path, ["Mg", "O"], n_worst=20)
    per = kf.pooled.parity["frames"]
    for w in kf.pooled.worst_frames:  # the index is the frame's place in the caller's list, not in the pool
        assert w["id"] == ("OUTCAR:7" if w["index"] == 3 else ids[w["index"]])
        assert w["outside_envelope"] is not None  # checked against its fold's training frames
    assert kf.pooled.envelope["checked"] and len(per["id"]) == 20


SMALL_POD = {"two_body": 6, "three_body": (4, 2), "four_body": (0, 0)}  # a fit in seconds (test_training.py)


def compress_closest_pair(atoms: Atoms, a: str, b: str, distance: float) -> Atoms:
    """A copy of ``atoms`` (with its labels, now stale) whose closest ``a``–``b`` pair is moved to ``distance`` Å."""
    out = atoms.copy()
    d = out.get_all_distances(mic=True)
    sym = np.array(out.get_chemical_symbols())
    mask = np.outer(sym == a, sym == b) & ~np.eye(len(out), dtype=bool)
    i, j = np.unravel_index(np.argmin(np.where(mask, d, np.inf)), d.shape)
    vec = out.get_distance(i, j, mic=True, vector=True)
    out.positions[j] = out.positions[i] + vec * distance / np.linalg.norm(vec)
    out.calc = SinglePointCalculator(out, **atoms.calc.results)  # after the move: labels of the new positions
    return out


@pytest.fixture(scope="module")
def casio3_pod(tmp_path_factory):
    """A small POD model trained on all 80 frames of the 2500 K PBE melt, and those training frames."""
    train = read_frames(data_path("casio3-melt-pbe", "train_2500K.xyz"))
    work = tmp_path_factory.mktemp("pod")
    type_map = ["Ca", "O", "Si"]
    systems = export_frames_deepmd(train, work / "data", type_map)
    model = make_potential("pod", type_map, **SMALL_POD).train(work / "model", systems, [], seed=0)
    return model, train


def test_casio3_percentiles_worst_frame_and_a_compressed_pair_out_of_envelope(casio3_pod):
    """On 3000 K frames the model never saw, plus one with an O–O pair pushed to 1.20 Å: median ≤ p95 ≤ max
    for every per-frame error; the first worst frame is the one with the largest force RMSE computed
    independently through the model's ASE calculator; the compressed frame is outside the envelope of
    the training frames (the O–O pair named), and counted."""
    model, train = casio3_pod
    frames = read_frames(data_path("casio3-melt-pbe", "train_3000K.xyz"))[:30]
    frames.append(compress_closest_pair(frames[0], "O", "O", 1.2))
    res = validation_errors(load_evaluator(model), frames, bin_by="pressure",
                            envelope=TrainingEnvelope.from_frames(train), n_worst=len(frames))
    for name, stats in res.per_frame.items():
        assert stats["median"] <= stats["p95"] <= stats["max"], name
    calc = load_potential(model)
    f_rmse = []
    for atoms in frames:
        ref = atoms.get_forces()
        probe = atoms.copy()
        probe.calc = calc
        f_rmse.append(np.sqrt(np.mean((probe.get_forces() - ref) ** 2)))
    worst = res.worst_frames
    assert worst[0]["index"] == int(np.argmax(f_rmse))
    assert worst[0]["force_rmse_eV_per_A"] == pytest.approx(max(f_rmse), rel=1e-6)
    assert res.per_frame["force_rmse_eV_per_A"]["max"] == pytest.approx(max(f_rmse), rel=1e-6)
    assert all(a["force_rmse_eV_per_A"] >= b["force_rmse_eV_per_A"] for a, b in zip(worst, worst[1:]))
    squeezed = next(w for w in worst if w["index"] == len(frames) - 1)
    assert squeezed["id"] == "train_3000K.xyz:0"  # a copy of frame 0: same provenance
    assert any(r.startswith("O-O pair at 1.20 Å, closest in training") for r in squeezed["outside_envelope"])
    flagged = [w for w in worst if w["outside_envelope"]]
    assert res.n_outside_envelope == len(flagged) >= 1 and res.envelope["checked"]
    assert res.envelope["note"].startswith(f"{len(flagged)} of {len(frames)} frames outside the training envelope")
    assert "O-O pair at 1.20 Å" in res.envelope["note"]  # the closest pair is the example given
    assert sum(b["n_outside_envelope"] for b in res.bins.values()) == len(flagged)
    # the training frames themselves are inside their own envelope
    inside = validation_errors(load_evaluator(model), train[:10], envelope=TrainingEnvelope.from_frames(train))
    assert inside.n_outside_envelope == 0 and inside.envelope["note"] == "all 10 frames inside the training envelope"


def test_a_model_without_an_envelope_is_said_once(casio3_pod, tmp_path):
    import shutil

    model, train = casio3_pod
    old = tmp_path / "old-model"  # a model made before envelopes were recorded: its folder without one
    shutil.copytree(model.parent, old)
    (old / "envelope.json").unlink()
    model = old / model.name
    res = validation_errors(load_evaluator(model), train[:3], envelope=model)
    assert res.n_outside_envelope is None and not res.envelope["checked"]
    assert "has no training envelope (trained before envelopes were recorded)" in res.envelope["note"]
    assert all(w["outside_envelope"] is None for w in res.worst_frames)


def test_report_shows_percentiles_worst_frames_and_envelope(tmp_path):
    """The report's validation section (from ``summary()`` + ``parity``, as the pipeline writes
    ``validation.json``) has the MAE and percentile columns, a worst-frames table with ids and reasons,
    and the envelope count; the per-frame figure is drawn; an older record without them still renders."""
    from deepearth.report.figures import frame_errors
    from deepearth.report.html import validation_section

    frames = synthetic_frames(12, seed=5)

    class Outside:
        def violations(self, atoms):
            return ["O-O pair at 1.17 Å, closest in training 1.52 Å"] if atoms.info["origin_T_K"] > 3000 else []

    res = validation_errors(Truth(), frames, bin_by="temperature", envelope=Outside())
    record = json.loads(json.dumps({**res.summary(), "parity": res.parity}))
    page = "\n".join(validation_section(record))
    assert "F p95" in page and "E MAE" in page and "Worst held-out frames (by force RMSE)" in page
    assert page.count("O-O pair at 1.17 Å, closest in training 1.52 Å") >= 2  # a worst row + the count line
    assert "6 of 12 frames outside the training envelope" in page
    assert frame_errors(record, tmp_path / "f.png").stat().st_size > 1000
    old = {k: record[k] for k in ("n_frames", "rmse_energy_meV_per_atom", "rmse_force_eV_per_A", "rmse_stress_GPa",
                                  "method")}
    assert "Held-out errors" in "".join(validation_section(old)) and frame_errors(old, tmp_path / "g.png") is None
