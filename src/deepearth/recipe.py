"""The recipe: one TOML file that describes a whole deepearth run, validated with pydantic.

Every key is declared once here with its type, default, unit and meaning. A wrong key, type or
value raises :class:`RecipeError` whose message is one line naming the file and the dotted key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from deepearth.files import read_toml


class RecipeError(ValueError):
    """A recipe that cannot be used; the message names the file and the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SystemSpec(_Section):
    """What is simulated: a structure, one fixed supercell (xTB is Γ-only: keep ≥ 64 atoms)."""

    structure: str = Field("rocksalt", description="'rocksalt' | 'fluorite' | 'perovskite' or a structure file ASE reads")
    formula: str = Field("MgO", description="chemical formula of the primitive unit, e.g. 'MgO'")
    lattice_constant_A: float = Field(4.21, gt=0, description="ambient conventional lattice constant, Å")
    supercell: tuple[int, int, int] = Field((2, 2, 2), description="repetitions of the conventional cell")
    bulk_modulus_GPa: float = Field(160.0, gt=0, description="K0 guess: sets the volume range of the reference EOS scan")
    bulk_modulus_derivative: float = Field(4.0, gt=0, description="K0' guess for the same")


class InitialDataSpec(_Section):
    """Strained and rattled copies of the structure at the target densities (labelled first)."""

    n_eos_volumes: int = Field(6, ge=4, description="ideal-cell volumes for the reference's static EOS (BM3 fit)")
    n_configs: int = Field(16, ge=2, description="number of initial configurations")
    strain: float = Field(0.03, ge=0, lt=0.3, description="max random linear strain (each component)")
    rattle_A: float = Field(0.1, ge=0, description="std of Gaussian atomic displacements, Å")


class GPAWSpec(_Section):
    """GPAW plane-wave DFT settings (used when ``reference.kind = "gpaw"``; install GPAW with
    ``scripts/install-gpaw.sh``). One k-mesh for every cell of the run: keep the supercell fixed."""

    xc: str = Field("PBE", description="exchange-correlation functional (GPAW/libxc name)")
    cutoff_eV: float = Field(800.0, gt=0, description="plane-wave cutoff, eV (MgO: 800 eV converged to < 1 meV/atom)")
    kpts: tuple[int, int, int] = Field((2, 2, 2), description="Monkhorst-Pack mesh of the supercell")
    gamma_centered: bool = Field(False, description="shift the mesh to contain Gamma (matters at high T_el)")
    max_scf_iterations: int = Field(333, ge=10)

    @model_validator(mode="after")
    def _mesh(self) -> "GPAWSpec":
        if min(self.kpts) < 1:
            raise ValueError(f"kpts must be positive integers, got {list(self.kpts)}")
        return self


class ReferenceSpec(_Section):
    """The reference (labeller): ``xtb`` (GFN1-xTB through tblite, a laptop stand-in for DFT, not an
    accurate reference) or ``gpaw`` (PBE plane-wave DFT; the label energy is the Mermin free energy)."""

    kind: Literal["xtb", "gpaw"] = "xtb"
    method: Literal["GFN1-xTB", "IPEA1-xTB"] = Field(
        "GFN1-xTB", description="xTB Hamiltonian; GFN2-xTB is not offered: it does not converge on displaced oxide cells"
    )
    electronic_temperature_K: float = Field(3000.0, gt=0, description="Fermi smearing temperature, K")
    max_scf_iterations: int = Field(250, ge=10, description="xTB SCF iterations")
    validation_fraction: float = Field(0.15, ge=0.0, lt=0.9, description="labels held out of training")
    gpaw: GPAWSpec = Field(default_factory=GPAWSpec)


class PODSpec(_Section):
    """LAMMPS ML-POD descriptors and fit (used when ``potential.backend = "pod"``).

    A linear model on proper orthogonal descriptors (Nguyen & Rohskopf, J. Comput. Phys. 480,
    112030 (2023)), fitted by LAMMPS' ``fitpod`` in seconds; see :mod:`deepearth.potentials.pod`.
    """

    rin_A: float = Field(0.5, ge=0.0, description="inner cutoff of the radial basis, Å")
    two_body: int = Field(8, ge=1, description="two-body radial basis functions")
    three_body: tuple[int, int] = Field((6, 4), description="three-body (radial functions, angular degree); [0, 0] = off")
    four_body: tuple[int, int] = Field((4, 2), description="four-body (radial functions, angular degree); [0, 0] = off")
    bessel_degree: int = Field(4, ge=1, description="degree of the Bessel snapshot functions")
    inverse_degree: int = Field(8, ge=1, description="degree of the inverse-power snapshot functions")
    energy_weight: float = Field(100.0, gt=0, description="fit weight of per-atom energies")
    force_weight: float = Field(1.0, gt=0, description="fit weight of force components")
    regularization: float = Field(1e-10, ge=0, description="ridge parameter of the least-squares fit")

    @model_validator(mode="after")
    def _body_orders(self) -> "PODSpec":
        (r3, a3), (r4, a4) = self.three_body, self.four_body
        if min(r3, a3, r4, a4) < 0:
            raise ValueError("three_body and four_body entries must be non-negative")
        if r3 > self.two_body or r4 > r3 or a4 > a3:
            raise ValueError("radial functions and angular degrees must not increase with body order "
                             f"(two_body {self.two_body}, three_body {list(self.three_body)}, four_body {list(self.four_body)})")
        return self


class PotentialSpec(_Section):
    """The ML potential committee. ``backend = "pod"`` (default): LAMMPS ML-POD, members fitted on
    bootstrap resamples of the labels, their spread calibrated on the held-out labels;
    ``"deepmd"``: DeePMD-kit se_e2_a networks (the seeds' method), members differ by seed, spread
    used as is. The network keys (neurons, steps, learning rates, batch size) are DeePMD's only."""

    backend: Literal["pod", "deepmd"] = "pod"
    ensemble_size: int = Field(4, ge=2, description="committee members (different seeds)")
    rcut_A: float = Field(5.0, gt=1.0, description="cutoff radius, Å")
    rcut_smooth_A: float = Field(0.5, ge=0.0, description="start of the smooth cutoff, Å (DeePMD)")
    descriptor_neurons: list[int] = Field([8, 16], min_length=1)
    axis_neurons: int = Field(4, ge=1)
    fitting_neurons: list[int] = Field([32, 32], min_length=1)
    training_steps: int = Field(3000, ge=10)
    start_learning_rate: float = Field(1e-2, gt=0)
    stop_learning_rate: float = Field(1e-4, gt=0)
    batch_size: int = Field(1, ge=1)
    pod: PODSpec = Field(default_factory=PODSpec)

    @model_validator(mode="after")
    def _cutoffs(self) -> "PotentialSpec":
        if self.rcut_smooth_A >= self.rcut_A:
            raise ValueError("rcut_smooth_A must be smaller than rcut_A")
        if self.backend == "pod" and self.pod.rin_A >= self.rcut_A:
            raise ValueError("pod.rin_A must be smaller than rcut_A")
        return self

    def backend_settings(self) -> dict:
        """Keyword arguments of the chosen backend's class (``DeepMDPotential`` or ``PODPotential``)."""
        if self.backend == "pod":
            return dict(rcut_A=self.rcut_A, **self.pod.model_dump(), bootstrap=True)
        return dict(rcut_A=self.rcut_A, rcut_smooth_A=self.rcut_smooth_A, descriptor_neurons=self.descriptor_neurons,
                    axis_neurons=self.axis_neurons, fitting_neurons=self.fitting_neurons,
                    training_steps=self.training_steps, start_learning_rate=self.start_learning_rate,
                    stop_learning_rate=self.stop_learning_rate, batch_size=self.batch_size)


class ExplorationSpec(_Section):
    """Active learning: MD with one member over a P–T grid, model deviation with all members."""

    pressures_GPa: list[float] = Field([100.0, 140.0], min_length=1)
    temperatures_K: list[float] = Field([3000.0, 5000.0], min_length=1)
    ensemble: Literal["npt", "nvt"] = "npt"
    steps: int = Field(600, ge=10, description="MD steps per grid point per iteration")
    timestep_fs: float = Field(1.0, gt=0)
    deviation_interval: int = Field(10, ge=1, description="evaluate the committee every k steps")
    criterion: Literal["absolute", "relative"] = Field(
        "relative", description="absolute: max_i σ_F,i in eV/Å; relative: max_i σ_F,i/(|<F_i>| + f0)"
    )
    trust_lo: float = Field(0.15, gt=0, description="below: accurate (eV/Å if absolute, else dimensionless)")
    trust_hi: float = Field(0.50, gt=0, description="above: failed")
    relative_f0_eV_per_A: float = Field(1.0, gt=0, description="f0 in the relative deviation, eV/Å")
    max_candidates_per_iteration: int = Field(16, ge=1)
    max_iterations: int = Field(4, ge=1)
    converged_accurate_fraction: float = Field(0.9, gt=0, le=1)

    @model_validator(mode="after")
    def _trust(self) -> "ExplorationSpec":
        if self.trust_hi <= self.trust_lo:
            raise ValueError("trust_hi must be larger than trust_lo")
        if self.steps < self.deviation_interval:
            raise ValueError("steps must be at least deviation_interval")
        return self


class ProductionPoint(_Section):
    P_GPa: float
    T_K: float = Field(gt=0)


class ProductionSpec(_Section):
    """Production MD with the final model: NPT equilibration, then NVT at the mean volume."""

    points: list[ProductionPoint] = Field(default_factory=lambda: [ProductionPoint(P_GPa=140.0, T_K=5000.0)], min_length=1)
    equilibration_steps: int = Field(1000, ge=0, description="NPT steps to find the volume")
    steps: int = Field(4000, ge=10, description="NVT production steps")
    timestep_fs: float = Field(1.0, gt=0)
    sample_interval: int = Field(10, ge=1, description="save a frame every n steps")
    replicas: int = Field(3, ge=1, description="independent replicas (different velocity seeds)")
    thermostat: Literal["nose-hoover", "langevin"] = "nose-hoover"


class DiffusionSpec(_Section):
    species: list[str] = Field(default_factory=list, description="empty: every species")
    min_fit_start_ps: float = Field(0.1, ge=0, description="never fit before this lag (ballistic regime)")


class PropertiesSpec(_Section):
    diffusion: DiffusionSpec | None = Field(default_factory=DiffusionSpec)


class Recipe(_Section):
    """A whole run. ``run_dir`` is relative to the working directory; a structure file named in
    ``system.structure`` is relative to the recipe file's folder."""

    name: str = "deepearth-run"
    run_dir: str = Field("runs/deepearth-run", description="where everything is written")
    seed: int = Field(2026, ge=0, description="master seed; every stochastic step derives from it")
    workers: int = Field(2, ge=1, description="parallel worker processes (one thread each)")
    system: SystemSpec = Field(default_factory=SystemSpec)
    initial: InitialDataSpec = Field(default_factory=InitialDataSpec)
    reference: ReferenceSpec = Field(default_factory=ReferenceSpec)
    potential: PotentialSpec = Field(default_factory=PotentialSpec)
    exploration: ExplorationSpec = Field(default_factory=ExplorationSpec)
    production: ProductionSpec = Field(default_factory=ProductionSpec)
    properties: PropertiesSpec = Field(default_factory=PropertiesSpec)

    source: str | None = Field(None, description="(set by the loader) the recipe file path")


def _error_line(path: Path, err: ValidationError) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    elif "input" in first and first["type"] not in ("missing",):
        msg = f"{msg} (got {first['input']!r})"
    more = f" [+{len(err.errors()) - 1} more]" if len(err.errors()) > 1 else ""
    return f"{path}: key '{key}': {msg}{more}"


def load_recipe(path: str | Path) -> Recipe:
    """Read and validate a recipe file; relative ``run_dir`` resolves against the working directory."""
    path = Path(path)
    data = read_toml(path, "recipe file", error=RecipeError, missing=RecipeError)
    try:
        recipe = Recipe.model_validate({**data, "source": str(path)})
    except ValidationError as exc:
        raise RecipeError(_error_line(path, exc)) from None
    return recipe


def recipe_to_toml(recipe: Recipe) -> str:
    """Serialise a recipe back to TOML (used to copy the effective recipe into the run directory)."""
    data = recipe.model_dump(mode="json", exclude={"source"}, exclude_none=True)
    return _dump_toml(data)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(x, dict) for x in v):
            return "[" + ", ".join("{" + ", ".join(f"{k} = {_toml_value(x[k])}" for k in x) + "}" for x in v) + "]"
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _dump_toml(data: dict, prefix: str = "") -> str:
    scalars = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    out = "\n".join(scalars) + ("\n" if scalars else "")
    for k, v in data.items():
        if isinstance(v, dict):
            name = f"{prefix}{k}"
            out += f"\n[{name}]\n" + _dump_toml(v, prefix=name + ".")
    return out
