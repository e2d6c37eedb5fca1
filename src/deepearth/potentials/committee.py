"""A committee (ensemble) of trained models evaluated on the same configuration."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms

from deepearth.potentials.envelope import TrainingEnvelope, load_envelope


@dataclass
class CommitteePrediction:
    """Predictions of all M members on one configuration."""

    energies_eV: np.ndarray  # (M,)
    forces_eV_per_A: np.ndarray  # (M, N, 3)
    virials_eV: np.ndarray | None  # (M, 3, 3); None where the engine gave forces only


class Committee:
    """M models of one backend; ``predict`` evaluates all of them on a configuration."""

    def __init__(self, models: list[Path], backend):
        if len(models) < 2:
            raise ValueError("a committee needs at least two models")
        self.models = [Path(m) for m in models]
        self.evaluators = [backend.evaluator(m) for m in self.models]

    @property
    def envelope(self) -> TrainingEnvelope | None:
        """The envelope of the committee's training data (``envelope.json`` of its first member; the
        members share one data set), or None for models trained before envelopes were recorded."""
        return load_envelope(self.models[0])

    def predict(self, atoms: Atoms) -> CommitteePrediction:
        pos, cell, sym = atoms.get_positions(), atoms.cell.array, atoms.get_chemical_symbols()
        out = [ev.evaluate(pos, cell, sym) for ev in self.evaluators]
        return CommitteePrediction(np.array([o[0] for o in out]), np.array([o[1] for o in out]),
                                   np.array([o[2] for o in out]))

    def descriptor(self, atoms: Atoms) -> np.ndarray:
        """Frame descriptor: the first member's per-atom descriptor averaged per species (1-D)."""
        d = self.evaluators[0].descriptor(atoms.get_positions(), atoms.cell.array, atoms.get_chemical_symbols())
        symbols = np.array(atoms.get_chemical_symbols())
        return np.concatenate([d[symbols == s].mean(axis=0) for s in sorted(set(symbols))])


def force_spread(forces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Committee mean force ``<F_i>`` (N, 3) and per-atom spread ``σ_i = sqrt(<‖F_i − <F_i>‖²>)`` (N,)
    over the members of ``forces`` (M, N, 3), all in eV/Å (the DP-GEN model deviation; Wan & Li 2026, §2.1)."""
    mean = forces.mean(axis=0)
    return mean, np.sqrt(((forces - mean) ** 2).sum(axis=2).mean(axis=0))


def calibration_factor(committee_std: np.ndarray, true_err: np.ndarray) -> float:
    """Factor ``s`` such that ``s * committee_std`` matches ``true_err`` in RMS on a validation set.

    ``committee_std``: committee standard deviations (e.g. per force component or per frame);
    ``true_err``: the matching errors of the committee mean against the reference. For a Gaussian
    error model, ``s² = mean(err²) / mean(std²)``. ``s ≈ 1`` means the bootstrap spread is
    calibrated; ``s > 1`` (typical) measures the model (misspecification) error it misses.
    """
    std = np.asarray(committee_std, float).ravel()
    err = np.asarray(true_err, float).ravel()
    if std.shape != err.shape or std.size == 0:
        raise ValueError("calibration_factor: committee_std and true_err must have the same non-zero size")
    den = float(np.mean(std ** 2))
    if not den > 1e-24:  # below 1e-12 (eV/Å): identical members up to rounding
        raise ValueError("calibration_factor: the committee standard deviation is zero everywhere")
    return float(np.sqrt(np.mean(err ** 2) / den))


@dataclass
class CommitteeCalibration:
    """How far a committee's force spread is from its error on labelled frames.

    ``factor`` s: ``s² = <|<F_i> − F_i*|²> / <σ_i²>`` over all atoms i of the frames (σ_i and the
    committee mean ``<F_i>`` from :func:`force_spread`, ``F_i*`` the reference); ``s ≈ 1``: calibrated; ``s > 1``: the spread underestimates the error (typical of
    bootstrap committees of linear models, whose spread holds only the parameter uncertainty).
    """

    factor: float
    n_frames: int
    n_atoms: int
    rmse_force_eV_per_A: float  # RMS over atoms of |<F_i> − F_i*|
    rms_spread_eV_per_A: float  # RMS over atoms of σ_i

    def to_dict(self) -> dict:
        return {"factor": self.factor, "n_frames": self.n_frames, "n_atoms": self.n_atoms,
                "rmse_force_eV_per_A": self.rmse_force_eV_per_A, "rms_spread_eV_per_A": self.rms_spread_eV_per_A,
                "method": "s^2 = <|<F_i>-F_i*|^2> / <sigma_i^2> over held-out atoms"}


def committee_calibration(committee: Committee, frames: list[Atoms]) -> CommitteeCalibration:
    """Calibrate the committee's force spread on labelled ``frames`` (reference forces in eV/Å).

    Raises ``ValueError`` when there is nothing to calibrate on (no frames, or zero spread).
    """
    if not frames:
        raise ValueError("committee_calibration: no labelled frames")
    err, sig = [], []
    for atoms in frames:
        mean, sigma = force_spread(committee.predict(atoms).forces_eV_per_A)
        sig.append(sigma)
        err.append(np.linalg.norm(mean - atoms.get_forces(), axis=1))
    err, sig = np.concatenate(err), np.concatenate(sig)
    return CommitteeCalibration(calibration_factor(sig, err), len(frames), int(err.size),
                                float(np.sqrt(np.mean(err ** 2))), float(np.sqrt(np.mean(sig ** 2))))
