"""A committee (ensemble) of trained models evaluated on the same configuration."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms


@dataclass
class CommitteePrediction:
    """Predictions of all M members on one configuration."""

    energies_eV: np.ndarray  # (M,)
    forces_eV_per_A: np.ndarray  # (M, N, 3)
    virials_eV: np.ndarray  # (M, 3, 3)


class Committee:
    """M models of one backend; ``predict`` evaluates all of them on a configuration."""

    def __init__(self, models: list[Path], backend):
        if len(models) < 2:
            raise ValueError("a committee needs at least two models")
        self.models = [Path(m) for m in models]
        self.evaluators = [backend.evaluator(m) for m in self.models]

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
