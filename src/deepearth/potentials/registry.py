"""The potential-backend registry: one name → (settings model, backend class, model suffix) line each.

The recipe's ``[potential]`` table is the discriminated union of the settings models below (key
``backend``); a trained model file is read by the backend whose suffix it has. Adding a backend
touches its module and one line of :data:`POTENTIALS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

from ase.calculators.calculator import Calculator
from pydantic import Field, model_validator

from deepearth.potentials.base import ForceEvaluator, Potential
from deepearth.settings import Section


class PotentialSettings(Section):
    """Settings every backend has: the committee size and the cutoff."""

    ensemble_size: int = Field(4, ge=2, le=64, description="committee members")
    rcut_A: float = Field(5.0, gt=1.0, le=15.0, description="cutoff radius, Å (1-15 Å)")

    def backend_settings(self) -> dict:
        """Keyword arguments of the backend class (everything but ``backend`` and ``ensemble_size``)."""
        return self.model_dump(exclude={"backend", "ensemble_size"})


class PODSettings(PotentialSettings):
    """LAMMPS ML-POD: a linear model on proper orthogonal descriptors (Nguyen & Rohskopf, J. Comput.
    Phys. 480, 112030 (2023)), fitted by LAMMPS' ``fitpod`` in seconds. Members are fitted on
    bootstrap resamples of the labels; their spread is calibrated on the held-out labels."""

    backend: Literal["pod"] = "pod"
    rin_A: float = Field(0.5, ge=0.0, description="inner cutoff of the radial basis, Å")
    two_body: int = Field(8, ge=1, le=64, description="two-body radial basis functions")
    three_body: tuple[int, int] = Field((6, 4), description="three-body (radial functions, angular degree); [0, 0] = off")
    four_body: tuple[int, int] = Field((4, 2), description="four-body (radial functions, angular degree); [0, 0] = off")
    bessel_degree: int = Field(4, ge=1, le=64, description="degree of the Bessel snapshot functions")
    inverse_degree: int = Field(8, ge=1, le=64, description="degree of the inverse-power snapshot functions")
    energy_weight: float = Field(100.0, gt=0, description="fit weight of per-atom energies")
    force_weight: float = Field(1.0, gt=0, description="fit weight of force components")
    regularization: float = Field(1e-10, ge=0, description="ridge parameter of the least-squares fit")

    @model_validator(mode="after")
    def _body_orders(self) -> "PODSettings":
        (r3, a3), (r4, a4) = self.three_body, self.four_body
        if min(r3, a3, r4, a4) < 0:
            raise ValueError("three_body and four_body entries must be non-negative")
        if r3 > self.two_body or r4 > r3 or a4 > a3:
            raise ValueError("radial functions and angular degrees must not increase with body order "
                             f"(two_body {self.two_body}, three_body {list(self.three_body)}, four_body {list(self.four_body)})")
        if self.rin_A >= self.rcut_A:
            raise ValueError("rin_A must be smaller than rcut_A")
        return self

    def backend_settings(self) -> dict:
        return {**super().backend_settings(), "bootstrap": True}


class DeepMDSettings(PotentialSettings):
    """DeePMD-kit se_e2_a networks (the method of Peng et al. 2025, TensorFlow backend); members differ by seed,
    their spread is used as is (DP-GEN trust levels are defined on the raw spread)."""

    backend: Literal["deepmd"] = "deepmd"
    rcut_smooth_A: float = Field(0.5, ge=0.0, description="start of the smooth cutoff, Å")
    descriptor_neurons: list[int] = Field([8, 16], min_length=1)
    axis_neurons: int = Field(4, ge=1)
    fitting_neurons: list[int] = Field([32, 32], min_length=1)
    training_steps: int = Field(3000, ge=10)
    start_learning_rate: float = Field(1e-2, gt=0, le=1)
    stop_learning_rate: float = Field(1e-4, gt=0, le=1)
    batch_size: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _cutoffs(self) -> "DeepMDSettings":
        if self.rcut_smooth_A >= self.rcut_A:
            raise ValueError("rcut_smooth_A must be smaller than rcut_A")
        if self.stop_learning_rate > self.start_learning_rate:
            raise ValueError("stop_learning_rate must not exceed start_learning_rate")
        return self


def _pod_class():
    from deepearth.potentials.pod import PODPotential

    return PODPotential


def _deepmd_class():
    from deepearth.potentials.deepmd import DeepMDPotential

    return DeepMDPotential


@dataclass(frozen=True)
class PotentialEntry:
    settings: type[PotentialSettings]
    backend_class: Callable[[], type]  # imported on use: TensorFlow and LAMMPS load only when needed
    suffix: str  # of the trained model file
    calibrate_spread: bool  # a bootstrap committee: scale its spread to the held-out error
    description: str


#: Backends by name, as recipes and the CLI spell them.
POTENTIALS: dict[str, PotentialEntry] = {
    "pod": PotentialEntry(PODSettings, _pod_class, ".pod", True, "LAMMPS ML-POD manifest"),
    "deepmd": PotentialEntry(DeepMDSettings, _deepmd_class, ".pb", False, "DeePMD-kit TensorFlow frozen graph"),
}


def potential_entry(name: str) -> PotentialEntry:
    if name not in POTENTIALS:
        raise ValueError(f"unknown potential backend {name!r} (one of {', '.join(POTENTIALS)})")
    return POTENTIALS[name]


def make_potential(name: str, type_map: list[str], **settings) -> Potential:
    """A :class:`Potential` backend by name, built with ``settings`` (the backend class's keyword
    arguments, e.g. ``PODSettings(...).backend_settings()``)."""
    return potential_entry(name).backend_class()(type_map=type_map, **settings)


def default_settings(name: str, **overrides) -> PotentialSettings:
    """The validated default settings of backend ``name`` with ``overrides``."""
    return potential_entry(name).settings(**overrides)


def backend_for_model(path: str | Path) -> Potential:
    """The backend that reads a trained model file, by its suffix."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    for entry in POTENTIALS.values():
        if path.suffix == entry.suffix:
            return entry.backend_class()()
    known = ", ".join(f"{e.suffix} ({e.description})" for e in POTENTIALS.values())
    raise ValueError(f"{path}: unknown model format '{path.suffix}' (supported: {known})")


def load_potential(path: str | Path) -> Calculator:
    """An ASE calculator (energy eV, forces eV/Å, stress eV/Å³) for a trained model file.

    A ``.pod`` model is checked whole before LAMMPS sees it (its manifest names only files in its
    folder, whose contents are parsed; :func:`deepearth.potentials.pod_files.read_model`). A ``.pb``
    DeePMD-kit TensorFlow graph can hold arbitrary operations: loading one trusts its author
    (:func:`deepearth.potentials.deepmd.frozen_graph`). Any fault is one ``ValueError`` (or
    ``FileNotFoundError``) naming the file.
    """
    return backend_for_model(path).calculator(Path(path))


def load_evaluator(path: str | Path) -> ForceEvaluator:
    """The batch evaluator (committees, validation) of a trained model file (checked as in
    :func:`load_potential`)."""
    return backend_for_model(path).evaluator(Path(path))
