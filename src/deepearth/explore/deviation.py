"""Model deviation of a committee (DP-GEN's ε_F and its relative form) and trust classification."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepearth.potentials.committee import force_spread


@dataclass(frozen=True)
class ModelDeviation:
    """Deviation of one frame. Forces in eV/Å; the relative form is dimensionless."""

    max_force_std: float  # ε_F = max_i sqrt(<|F_i - <F_i>|^2>)  (eV/Å)
    mean_force_std: float  # mean_i of the same per-atom quantity (eV/Å)
    max_relative_force_std: float  # max_i σ_i / (|<F_i>| + f0)
    energy_std_per_atom: float  # std of the predicted energy / N (eV/atom)


def model_deviation(forces: np.ndarray, energies: np.ndarray | None = None, f0: float = 1.0,
                    scale: float = 1.0) -> ModelDeviation:
    """Committee deviation from member forces ``(M, N, 3)`` (eV/Å) and energies ``(M,)`` (eV).

    Per atom ``σ_i = sqrt(<‖F_i − <F_i>‖²>)`` over members (DP-GEN's model deviation); the relative form
    divides by ``‖<F_i>‖ + f0`` so that hot, dense frames with large forces are not all "failed".
    ``scale`` multiplies every spread (σ_i and the energy std): the calibration factor of a committee
    whose raw spread is not the error (bootstrap committees, :func:`committee_calibration`).
    """
    forces = np.asarray(forces, dtype=float)
    if forces.ndim != 3 or forces.shape[2] != 3 or forces.shape[0] < 2:
        raise ValueError(f"forces must have shape (M>=2, N, 3), got {forces.shape}")
    mean, sigma = force_spread(forces)
    sigma = scale * sigma
    rel = sigma / (np.linalg.norm(mean, axis=1) + f0)
    e_std = float(scale * np.std(energies) / forces.shape[1]) if energies is not None else float("nan")
    return ModelDeviation(float(sigma.max()), float(sigma.mean()), float(rel.max()), e_std)


ACCURATE, CANDIDATE, FAILED = "accurate", "candidate", "failed"
#: The classes of an exploration frame (DP-GEN): below trust_lo, between, above trust_hi.
FRAME_CLASSES = (ACCURATE, CANDIDATE, FAILED)


def classify(deviation: float, trust_lo: float, trust_hi: float) -> str:
    """``accurate`` below ``trust_lo``, ``failed`` above ``trust_hi``, else ``candidate``."""
    if not np.isfinite(deviation) or deviation > trust_hi:
        return FAILED
    return ACCURATE if deviation < trust_lo else CANDIDATE


def fractions(classes: list[str]) -> dict[str, float]:
    """Fractions of accurate / candidate / failed frames (0 for an empty list)."""
    n = max(len(classes), 1)
    return {c: sum(1 for x in classes if x == c) / n for c in FRAME_CLASSES}
