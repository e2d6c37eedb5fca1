"""The ``Potential`` protocol: a backend trains a model from DeePMD-npy data and loads it.

A backend module implements :class:`Potential`; ``load_potential`` picks it by file suffix.
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


#: Backends by name, as recipes and the CLI spell them.
BACKENDS = ("deepmd", "pod")


def make_potential(name: str, type_map: list[str], **settings) -> "Potential":
    """A :class:`Potential` backend by name (``deepmd``: DeePMD-kit se_e2_a network; ``pod``: LAMMPS
    ML-POD linear model), built with ``settings`` (the backend class's keyword arguments)."""
    if name == "deepmd":
        from deepearth.potentials.deepmd import DeepMDPotential

        return DeepMDPotential(type_map=type_map, **settings)
    if name == "pod":
        from deepearth.potentials.pod import PODPotential

        return PODPotential(type_map=type_map, **settings)
    raise ValueError(f"unknown potential backend {name!r} (one of {', '.join(BACKENDS)})")


def backend_for_model(path: str | Path) -> "Potential":
    """The backend that reads a trained model file, by suffix (``.pb``: DeePMD-kit TensorFlow backend;
    ``.pod``: LAMMPS ML-POD manifest written by ``PODPotential``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    if path.suffix == ".pb":
        from deepearth.potentials.deepmd import DeepMDPotential

        return DeepMDPotential()
    if path.suffix == ".pod":
        from deepearth.potentials.pod import PODPotential

        return PODPotential()
    raise ValueError(f"{path}: unknown model format '{path.suffix}' (supported: .pb, DeePMD-kit; .pod, LAMMPS ML-POD)")


def load_potential(path: str | Path) -> Calculator:
    """An ASE calculator (energy eV, forces eV/Å, stress eV/Å³) for a trained model file (.pb, .pod)."""
    return backend_for_model(path).calculator(Path(path))


def load_evaluator(path: str | Path) -> "ForceEvaluator":
    """The batch evaluator (committees, validation) of a trained model file (.pb, .pod)."""
    return backend_for_model(path).evaluator(Path(path))
