"""The ``Potential`` protocol: a backend trains a model from DeePMD-npy data and loads it.

A backend module implements :class:`Potential`; :mod:`deepearth.potentials.registry` names them
and picks one by a model file's suffix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
from ase.calculators.calculator import Calculator


class Potential(Protocol):
    """A trainable ML potential backend (ASE-calculator style: one protocol, many backends)."""

    name: str

    def train(self, workdir: Path, train_systems: list[Path], valid_systems: list[Path],
              seed: int, log_file: Path | None = None) -> Path:
        """Train one model in ``workdir`` from npy systems; return the path of the usable model file.

        Must be idempotent: an existing finished model is returned without retraining, and an
        interrupted training continues from its last checkpoint where the backend allows it.
        Writes ``envelope.json`` (the envelope of ``train_systems``,
        :func:`deepearth.potentials.envelope.save_envelope`) next to the model file.
        """
        ...

    def calculator(self, model: Path) -> Calculator:
        """An ASE calculator (energy eV, forces eV/Å, stress eV/Å³) for a trained model."""
        ...

    def evaluator(self, model: Path) -> "ForceEvaluator":
        """A fast batch evaluator for committees and validation."""
        ...


class ForceEvaluator(Protocol):
    def evaluate(self, positions: np.ndarray, cell: np.ndarray, symbols: list[str]
                 ) -> tuple[float, np.ndarray, np.ndarray]:
        """(energy eV, forces (N,3) eV/Å, virial (3,3) eV) of one configuration."""
        ...

    def descriptor(self, positions: np.ndarray, cell: np.ndarray, symbols: list[str]) -> np.ndarray:
        """Per-atom descriptor (N, d) of one configuration."""
        ...
