"""Held-out and k-fold validation: bootstrap bars, bins, out-of-fold bookkeeping."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

from deepearth.potentials.validation import frame_condition, kfold_assignment, kfold_errors, validation_errors

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
