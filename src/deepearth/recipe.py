"""The recipe: one TOML file that describes a whole deepearth run, validated with pydantic.

Every key is declared once with its type, default, unit and meaning: the sections here, each
backend's settings beside its registry line (:mod:`deepearth.reference.registry`,
:mod:`deepearth.potentials.registry`), assembled here as discriminated unions. A wrong key, type or
value raises :class:`RecipeError` whose message is one line naming the file and the dotted key.

Validation at the door, before any work (:func:`load_recipe`):

1. a recipe must name what it simulates: ``[system] structure = ...`` (a mineral, a prototype with
   ``formula`` and ``lattice_constant_A``, or a structure file). An empty file, or one without that
   key, is an error — it would otherwise start a full default run on rock-salt MgO;
2. every key: type, finiteness (no ``nan``/``inf`` anywhere) and range (temperatures, pressures,
   timesteps: :mod:`deepearth.settings`; the rest beside each key);
3. :func:`check_recipe`: the system is built (every structure file read and checked:
   :mod:`deepearth.structures.checks`), each timestep checked against the lightest element of the
   built system, the diffusion species against its elements, and the K0 guess against the pressures.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal, Union

import numpy as np
from ase import Atoms

from pydantic import AfterValidator, Field, ValidationError, model_validator

from deepearth.files import read_toml
from deepearth.md.engines import engine_name
from deepearth.parallel.cluster import ClusterSpec
from deepearth.potentials.registry import POTENTIALS, PODSettings
from deepearth.recipe_campaign import DiffusionCase, GeophysicsSpec, SystemOverrides, check_campaign
from deepearth.recipe_thermo import (EOSProperty, ElasticProperty, MeltingProperty, PhaseProperty, check_thermo,
                                    thermo_timesteps)
from deepearth.reference.registry import LABELLERS, XTBReference
from deepearth.settings import PressureGPa, Section, TemperatureK, TimestepFs
from deepearth.structures.build import MAX_REPEAT, build_system, volume_at_pressure
from deepearth.structures.checks import InputError, check_timestep


class RecipeError(ValueError):
    """A recipe that cannot be used; the message names the file and the key."""


ReferenceSpec = Annotated[Union[tuple(e.settings for e in LABELLERS.values())],  # type: ignore[misc]
                          Field(discriminator="kind")]
# The reference (labeller), by ``kind``, and the potential, by ``backend``: one settings model per
# entry of the registries (deepearth.reference.registry.LABELLERS, deepearth.potentials.registry.POTENTIALS).

PotentialSpec = Annotated[Union[tuple(e.settings for e in POTENTIALS.values())],  # type: ignore[misc]
                          Field(discriminator="backend")]


class DefectSpec(Section):
    """One defect step of ``[[system.defects]]`` (applied in order, after the supercell and the grain
    boundary; see :mod:`deepearth.structures.defects`): ``substitute`` (host → element, fraction),
    ``vacancies`` (element, n), ``schottky`` (cation, anion, n neutral units), ``impurity`` (element of
    formal ``valence`` on ``host`` sites, n, charge kept by removing the nearest hosts)."""

    kind: Literal["substitute", "vacancies", "schottky", "impurity"]
    element: str | None = Field(None, description="the new element (substitute, impurity) or the one removed (vacancies)")
    host: str | None = Field(None, description="the sites' element (substitute, impurity)")
    fraction: float | None = Field(None, ge=0, le=1, description="substitute: fraction of the host sites")
    n: int = Field(1, ge=1, description="vacancies, Schottky units or impurities")
    valence: float | None = Field(None, ge=-8, le=8, description="formal charge of the new element (e)")
    cation: str | None = Field(None, description="schottky: the cation")
    anion: str | None = Field(None, description="schottky: the anion")
    region: str | int | None = Field(None, description="'gb', 'grain' or an integer region code")

    @model_validator(mode="after")
    def _needs(self) -> "DefectSpec":
        need = {"substitute": ("host", "element", "fraction"), "vacancies": ("element",),
                "schottky": ("cation", "anion"), "impurity": ("element", "valence", "host")}[self.kind]
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {self.kind} defect needs {', '.join(missing)}")
        return self


class GrainBoundarySpec(Section):
    """A symmetric tilt bicrystal built from the (cubic) structure: ``plane`` or ``sigma`` with the
    tilt ``axis`` (:func:`deepearth.structures.grain_boundary`)."""

    axis: tuple[int, int, int] = (0, 0, 1)
    plane: tuple[int, int, int] | None = None
    sigma: int | None = Field(None, ge=3)
    min_length_A: float = Field(40.0, gt=0, le=500, description="bicrystal length along the boundary normal, Å")
    min_inplane_A: float = Field(10.0, gt=0, le=500, description="the CSL block is repeated in the boundary plane until "
                                 "the cell is at least this wide, Å")
    gb_width_A: float = Field(10.0, gt=0, le=500, description="width of the GB region, Å")

    @model_validator(mode="after")
    def _one(self) -> "GrainBoundarySpec":
        if (self.plane is None) == (self.sigma is None):
            raise ValueError("give exactly one of plane and sigma")
        return self


Repeat = Annotated[int, Field(ge=1, le=MAX_REPEAT)]


class SystemSpec(Section):
    """What is simulated: a structure, one fixed supercell (xTB is Γ-only: keep ≥ 64 atoms). A recipe
    file must give ``structure`` (:func:`load_recipe`); the other keys have defaults."""

    structure: str = Field("rocksalt", min_length=1,
                           description="(required in a recipe file) a mineral of the library (periclase, "
                                       "bridgmanite...), a prototype ('rocksalt' | 'fluorite' | 'zincblende' | "
                                       "'cesiumchloride') or a structure file ASE reads")
    formula: str = Field("MgO", min_length=1, description="chemical formula of the prototype's unit, e.g. 'MgO'")
    lattice_constant_A: float = Field(4.21, gt=0, le=100, description="ambient conventional lattice constant of a "
                                      "prototype, Å (the built cell's density and closest pair are checked)")
    supercell: tuple[Repeat, Repeat, Repeat] = Field(
        (2, 2, 2), description="repetitions of the conventional cell (of the bicrystal, with a grain boundary: then 1 "
                               "along its normal)")
    grain_boundary: GrainBoundarySpec | None = None
    defects: list[DefectSpec] = Field(default_factory=list)
    bulk_modulus_GPa: float = Field(160.0, ge=1, le=1000, description="K0 guess, GPa: sets the volume range of the "
                                    "reference EOS scan")
    bulk_modulus_derivative: float = Field(4.0, ge=1, le=20, description="K0' guess for the same")

    @model_validator(mode="after")
    def _gb_supercell(self) -> "SystemSpec":
        if self.grain_boundary is not None and self.supercell[2] != 1:
            raise ValueError("with a grain_boundary the supercell must be 1 along the boundary normal (z): "
                             f"got {list(self.supercell)}")
        return self


class SystemEntry(SystemOverrides, SystemSpec):
    """One ``[[systems]]`` entry of a campaign: a ``[system]`` (structure, supercell, grain boundary,
    defects, EOS guess) plus its name, builder, P–T grid, exploration length, weight and trust levels
    (:class:`deepearth.recipe_campaign.SystemOverrides`)."""


#: The name of the one system of a recipe with a ``[system]`` section (production cases name it).
SINGLE_SYSTEM = "system"


class InitialDataSpec(Section):
    """Strained and rattled copies of the structure at the target densities (labelled first)."""

    n_eos_volumes: int = Field(6, ge=4, description="ideal-cell volumes for the reference's static EOS (BM3 fit)")
    n_configs: int = Field(16, ge=2, description="number of initial configurations")
    strain: float = Field(0.03, ge=0, lt=0.3, description="max random linear strain (each component)")
    rattle_A: float = Field(0.1, ge=0, le=0.5, description="std of Gaussian atomic displacements, Å (more "
                            "brings atoms closer than a reference converges on)")


EngineName = Annotated[str, AfterValidator(engine_name)]


class ExplorationSpec(Section):
    """Active learning: MD with one member over a P–T grid, model deviation with all members."""

    pressures_GPa: list[PressureGPa] = Field([100.0, 140.0], min_length=1, description="−50 to 1000 GPa")
    temperatures_K: list[TemperatureK] = Field([3000.0, 5000.0], min_length=1, description="0 to 20000 K")
    ensemble: Literal["npt", "nvt"] = "npt"
    engine: EngineName = Field("auto", description="MD engine of the exploration: auto (LAMMPS for POD/DeePMD, with the "
                               "POD committee inside the engine; ASE otherwise), lammps or ase")
    mpi_ranks: int = Field(1, ge=1, description="MPI ranks of each LAMMPS run (engine lammps or auto with POD or "
                           "DeePMD): > 1 runs LAMMPS under mpirun in a child process, frames streamed back; at most the "
                           "cores of the machine that runs it (workers × mpi_ranks should not exceed them)")
    steps: int = Field(600, ge=10, description="MD steps per grid point per iteration")
    timestep_fs: TimestepFs = Field(1.0, description="fs; at most what the lightest element allows "
                                    "(deepearth.structures.checks.max_timestep_fs)")
    deviation_interval: int = Field(10, ge=1, description="evaluate the committee every k steps")
    criterion: Literal["absolute", "relative"] = Field(
        "relative", description="absolute: max_i σ_F,i in eV/Å; relative: max_i σ_F,i/(|<F_i>| + f0)"
    )
    trust_lo: float = Field(0.15, gt=0, description="below: accurate (eV/Å if absolute, else dimensionless)")
    trust_hi: float = Field(0.50, gt=0, description="above: failed")
    relative_f0_eV_per_A: float = Field(1.0, gt=0, description="f0 in the relative deviation, eV/Å")
    deviation_stop_factor: float = Field(3.0, gt=1, le=1000, description=(
        "stop a grid point's MD when the deviation exceeds this × trust_hi: the model is extrapolating and the "
        "frames after are garbage (the frames before stay candidates)"))
    max_candidates_per_iteration: int = Field(16, ge=1, description="label budget per iteration, shared by the "
                                              "systems by weight")
    max_iterations: int = Field(4, ge=1)
    converged_accurate_fraction: float = Field(0.9, gt=0, le=1)
    ramp: Literal["temperature", "none"] = Field(
        "temperature", description="temperature: explore each system's lowest temperature first and add the next one "
                                   "when every active point is accurate (deepearth.pipeline.systems); none: every point "
                                   "from the start")
    continue_from_last: bool = Field(True, description="start each point's MD from its last trusted frame of the "
                                     "previous iteration (or the next lower temperature's), not from the ideal start")
    min_calibration_frames: int = Field(10, ge=2, description="held-out labelled frames needed before the committee "
                                        "spread is scaled to the held-out error (fewer: used unscaled, said so)")

    @model_validator(mode="after")
    def _trust(self) -> "ExplorationSpec":
        _ranks_need_lammps(self.engine, self.mpi_ranks)
        if self.trust_hi <= self.trust_lo:
            raise ValueError("trust_hi must be larger than trust_lo")
        if self.steps < self.deviation_interval:
            raise ValueError("steps must be at least deviation_interval")
        return self


def _ranks_need_lammps(engine: str, mpi_ranks: int) -> None:
    if engine == "ase" and mpi_ranks > 1:
        raise ValueError(f"mpi_ranks = {mpi_ranks} needs the LAMMPS engine (engine = \"auto\" or \"lammps\"), "
                         "not engine = \"ase\"")


class ProductionPoint(Section):
    """One state point of production MD: pressure (GPa) and temperature (K)."""

    P_GPa: PressureGPa
    T_K: TemperatureK


class ProductionSpec(Section):
    """Production MD with the final model: NPT equilibration, then NVT at the mean volume."""

    points: list[ProductionPoint] = Field(default_factory=lambda: [ProductionPoint(P_GPa=140.0, T_K=5000.0)], min_length=1)
    equilibration_steps: int = Field(1000, ge=0, description="NPT steps to find the volume")
    steps: int = Field(4000, ge=10, description="NVT production steps")
    timestep_fs: TimestepFs = Field(1.0, description="fs; at most what the lightest element allows")
    sample_interval: int = Field(10, ge=1, description="save a frame every n steps")
    replicas: int = Field(3, ge=1, description="independent replicas (different velocity seeds)")
    thermostat: Literal["nose-hoover", "langevin"] = "nose-hoover"
    engine: EngineName = Field("auto", description="MD engine of production: auto (LAMMPS for POD/DeePMD, ASE otherwise), "
                               "lammps or ase")
    mpi_ranks: int = Field(1, ge=1, description="MPI ranks of each LAMMPS run (engine lammps or auto with POD or "
                           "DeePMD): > 1 runs LAMMPS under mpirun in a child process, frames streamed back; at most the "
                           "cores of the machine that runs it (workers × mpi_ranks should not exceed them)")
    restart_interval: int = Field(1000, ge=10, description="steps between LAMMPS restart files: a killed replica "
                                  "resumes from its last one")
    envelope_tolerance: float = Field(0.2, ge=0, le=0.9, description=(
        "stop a replica whose configuration leaves the final model's training envelope by more than this "
        "fraction (a pair closer than (1 - x) × the closest in training, a density off by more than x); loose "
        "on purpose: long runs sample closer pairs than a few hundred labels hold"))
    allow_unconverged: bool = Field(False, description="run production with the last model even when active "
                                                       "learning did not converge (every result is flagged)")
    cases: list[DiffusionCase] = Field(default_factory=list, description=(
        "[[production.cases]]: per system, species, pressures, temperatures and regions (replaces points; "
        "deepearth.recipe_campaign.DiffusionCase)"))

    @model_validator(mode="after")
    def _ranks(self) -> "ProductionSpec":
        _ranks_need_lammps(self.engine, self.mpi_ranks)
        if self.cases and "points" in self.model_fields_set:
            raise ValueError("give points or [[production.cases]], not both")
        return self


class DiffusionSpec(Section):
    species: list[str] = Field(default_factory=list, description="empty: every species")
    min_fit_start_ps: float = Field(0.1, ge=0, description="never fit before this lag (ballistic regime), ps")


class PropertiesSpec(Section):
    diffusion: DiffusionSpec | None = Field(default_factory=DiffusionSpec)
    eos: EOSProperty | None = Field(None, description="P-V-T EOS by NPT MD (deepearth.recipe_thermo); unset: not run")
    elastic: ElasticProperty | None = Field(None, description="Cij at (P, T) by stress-strain MD; unset: not run")
    melting: MeltingProperty | None = Field(None, description="T_m bracket by two-phase coexistence; unset: not run")
    phase: PhaseProperty | None = Field(None, description="phase of every production point; unset: not judged")


class Recipe(Section):
    """A whole run. ``run_dir`` is relative to the working directory; a structure file named in
    ``system.structure`` is relative to the recipe file's folder."""

    name: str = Field("deepearth-run", min_length=1)
    run_dir: str = Field("runs/deepearth-run", min_length=1, description="where everything is written")
    store_url: str | None = Field(None, pattern=r"^postgres(ql)?://\S+$",
                                  description="PostgreSQL URL of the label store (keep the password in ~/.pgpass, "
                                              "not here); default: run_dir/deepearth.db (SQLite)")
    seed: int = Field(2026, ge=0, description="master seed; every stochastic step derives from it")
    workers: int = Field(2, ge=1, description="parallel worker processes (one thread each)")
    cluster: ClusterSpec | None = Field(None, description="run the tasks on Dask: a LocalCluster ('local') or SLURM/PBS "
                                        "batch jobs (deepearth.parallel.cluster.ClusterSpec; docs/cluster.md)")
    system: SystemSpec = Field(default_factory=SystemSpec)
    systems: list[SystemEntry] = Field(default_factory=list, description="[[systems]]: a campaign over several "
                                       "systems trained into one potential (replaces [system])")
    initial: InitialDataSpec = Field(default_factory=InitialDataSpec)
    reference: ReferenceSpec = Field(default_factory=XTBReference)
    potential: PotentialSpec = Field(default_factory=PODSettings)
    exploration: ExplorationSpec = Field(default_factory=ExplorationSpec)
    production: ProductionSpec = Field(default_factory=ProductionSpec)
    properties: PropertiesSpec = Field(default_factory=PropertiesSpec)
    geophysics: GeophysicsSpec = Field(default_factory=GeophysicsSpec)

    source: str | None = Field(None, description="(set by the loader) the recipe file path")

    @model_validator(mode="after")
    def _campaign(self) -> "Recipe":
        if self.systems and "system" in self.model_fields_set:
            raise ValueError("give [system] (one system) or [[systems]] (a campaign), not both")
        ex = self.exploration
        for k, e in enumerate(self.systems):
            lo, hi = e.trust_lo or ex.trust_lo, e.trust_hi or ex.trust_hi
            if hi <= lo:
                raise ValueError(f"systems.{k}: trust_hi ({hi:g}) must be larger than trust_lo ({lo:g})")
            if (e.steps or ex.steps) < ex.deviation_interval:
                raise ValueError(f"systems.{k}.steps: at least exploration.deviation_interval ({ex.deviation_interval})")
        check_campaign(self.system_names, self.production.cases, self.geophysics)
        check_thermo(self.properties, dict(zip(self.system_names, self.systems or [self.system])))
        return self

    @property
    def system_names(self) -> list[str]:
        """The campaign's system names (``[SINGLE_SYSTEM]`` for a recipe with one ``[system]``)."""
        return [e.name for e in self.systems] or [SINGLE_SYSTEM]

    @model_validator(mode="before")
    @classmethod
    def _default_backends(cls, data):
        """``[reference]`` without ``kind`` is xTB, ``[potential]`` without ``backend`` is POD."""
        if isinstance(data, dict):
            for section, tag, default in (("reference", "kind", "xtb"), ("potential", "backend", "pod")):
                if isinstance(data.get(section), dict) and tag not in data[section]:
                    data = {**data, section: {**data[section], tag: default}}
        return data


def _error_line(path: Path, err: ValidationError) -> str:
    first = err.errors()[0]
    loc = list(first["loc"])
    if len(loc) > 1 and loc[0] in ("reference", "potential") and loc[1] in {**LABELLERS, **POTENTIALS}:
        del loc[1]  # the union member's tag: the user wrote no such key
    key = ".".join(str(p) for p in loc) or "(top level)"
    msg = first["msg"].removeprefix("Value error, ")
    named = re.match(r"^([A-Za-z_][\w.]*): (.*)$", msg)
    if named and first["type"] == "value_error":  # a cross-key check names its own key
        key = f"{key}.{named.group(1)}" if loc else named.group(1)
        msg = named.group(2)
    elif first["type"] == "extra_forbidden":
        msg = "unknown key"
    elif "input" in first and first["type"] not in ("missing",) and loc:
        msg = f"{msg} (got {first['input']!r})"
    more = f" [+{len(err.errors()) - 1} more]" if len(err.errors()) > 1 else ""
    return f"{path}: key '{key}': {msg}{more}"


_NAME_THE_SYSTEM = ("a recipe must name what it simulates: [system] structure = a mineral (e.g. 'periclase'), "
                    "a prototype ('rocksalt' with formula and lattice_constant_A) or a structure file")


def load_recipe(path: str | Path) -> Recipe:
    """Read and validate a recipe file, before any work: keys, ranges, then :func:`check_recipe`
    (structure files read, every system built and checked). Relative ``run_dir`` resolves against the
    working directory. An empty recipe, or a system without ``structure``, is an error."""
    path = Path(path)
    data = read_toml(path, "recipe file", error=RecipeError, missing=RecipeError)
    if not data:
        raise RecipeError(f"{path}: empty recipe: {_NAME_THE_SYSTEM}")
    try:
        recipe = Recipe.model_validate({**data, "source": str(path)})
    except ValidationError as exc:
        raise RecipeError(_error_line(path, exc)) from None
    for key, spec in system_specs(recipe):
        if "structure" not in spec.model_fields_set:
            raise RecipeError(f"{path}: key '{key}.structure': required: {_NAME_THE_SYSTEM}")
    check_recipe(recipe)
    return recipe


def system_specs(recipe: Recipe) -> list[tuple[str, SystemSpec]]:
    """``(recipe key, spec)`` of every system: ``("system", [system])`` or ``("systems.K", entry)``."""
    if recipe.systems:
        return [(f"systems.{k}", e) for k, e in enumerate(recipe.systems)]
    return [("system", recipe.system)]


def check_recipe(recipe: Recipe) -> dict[str, Atoms]:
    """The checks of a valid recipe that need its systems; returns each system's built structure by
    name (``ase.Atoms``; a liquid's is its crystal, packed at random when the run starts).

    Every system is built (:func:`deepearth.structures.build.build_system`: structure files read, cell,
    density and closest pair checked); the reference must treat every element of the campaign (their
    union); a reference with one k-mesh (GPAW) needs every system's cell to be the same (the fixed-cell
    rule: labels of one run share a mesh; xTB is Γ-only and takes any cell); ``exploration.timestep_fs`` and ``production.timestep_fs`` are
    within what the lightest element allows (:func:`deepearth.structures.checks.check_timestep`); the
    species of ``properties.diffusion`` and of each production case are elements of their system, and
    a case's regions hold atoms of its species; each system's BM3 guess (``bulk_modulus_GPa``,
    ``bulk_modulus_derivative``) has a volume at every target pressure and at the top of the
    reference's EOS scan (1.5 × the highest exploration pressure), which needs an exploration
    pressure above 0 GPa unless the labels are imported.

    Raises :class:`RecipeError` naming the recipe file and the key."""
    where = recipe.source or "recipe"
    base = Path(recipe.source).parent if recipe.source else Path.cwd()
    built: dict[str, Atoms] = {}
    try:
        for (key, s), name in zip(system_specs(recipe), recipe.system_names):
            built[name] = _build(recipe, key, s, base)
        symbols = [x for atoms in built.values() for x in atoms.get_chemical_symbols()]
        bad = recipe.reference.untreatable(set(symbols))
        if bad:
            key = next(k for (k, _), a in zip(system_specs(recipe), built.values())
                       if set(bad) & set(a.get_chemical_symbols()))
            raise InputError(f"{key}.structure", f"reference.kind = {recipe.reference.kind!r} cannot treat "
                                                 f"{', '.join(bad)}")
        cells = {tuple(np.round(a.cell.cellpar(), 3)) for a in built.values()}
        if recipe.reference.kind == "gpaw" and len(cells) > 1:
            raise InputError("reference.kpts", "one k-mesh cannot serve the systems' different cells: run GPAW campaigns "
                                               "on systems of one supercell, or one system per run")
        check_timestep(recipe.exploration.timestep_fs, symbols, "exploration.timestep_fs")
        check_timestep(recipe.production.timestep_fs, symbols, "production.timestep_fs")
        for key, dt, name in thermo_timesteps(recipe.properties):  # [properties.eos|elastic|melting]
            check_timestep(dt, built[name].get_chemical_symbols(), key)
        _check_species(recipe, built)
    except InputError as exc:
        raise RecipeError(f"{where}: key '{exc.key}': {exc.reason}") from None
    return built


def _build(recipe: Recipe, key: str, s: SystemSpec, base: Path) -> Atoms:
    try:
        atoms = build_system(s.structure, s.formula, s.lattice_constant_A, s.supercell, base,
                             grain_boundary=None if s.grain_boundary is None else s.grain_boundary.model_dump(),
                             defects=[d.model_dump() for d in s.defects], seed=recipe.seed)
    except InputError as exc:
        raise InputError(key + exc.key.removeprefix("system"), exc.reason) from None
    if getattr(s, "builder", "crystal") == "liquid" and s.grain_boundary is not None:
        raise InputError(f"{key}.builder", "a liquid has no grain boundary: drop grain_boundary or use builder = "
                                           "'crystal'")
    _check_eos_guess(recipe, key, s)
    return atoms


def _check_species(recipe: Recipe, built: dict[str, Atoms]) -> None:
    diffusion = recipe.properties.diffusion
    elements = {x for a in built.values() for x in a.get_chemical_symbols()}
    missing = sorted(set(diffusion.species) - elements) if diffusion is not None else []
    if missing:
        raise InputError("properties.diffusion.species", f"{', '.join(missing)} not in the system "
                                                         f"(elements: {', '.join(sorted(elements))})")
    specs = dict(zip(recipe.system_names, (spec for _, spec in system_specs(recipe))))
    for k, case in enumerate(recipe.production.cases):
        atoms = built[case.system]
        symbols = np.array(atoms.get_chemical_symbols())
        missing = sorted(set(case.species) - set(symbols))
        if missing:
            raise InputError(f"production.cases.{k}.species", f"{', '.join(missing)} not in system {case.system!r} "
                                                              f"(elements: {', '.join(sorted(set(symbols)))})")
        chosen = np.isin(symbols, case.species) if case.species else np.ones(len(symbols), bool)
        gb = specs[case.system].grain_boundary
        for r in case.regions:
            if r == "all":
                continue
            if gb is None:
                raise InputError(f"production.cases.{k}.regions", f"system {case.system!r} has no grain boundary "
                                                                  f"(region {r!r})")
            # the regions of deepearth.pipeline.transport.region_of: 'gb' within gb_width_A/2 of a boundary
            # plane, 'grain' farther than gb_width_A from every one
            dist = atoms.arrays["gb_distance_A"]
            inside = dist < 0.5 * gb.gb_width_A if r == "gb" else dist > gb.gb_width_A
            if not np.any(chosen & inside):
                raise InputError(f"production.cases.{k}.regions", f"system {case.system!r} has no "
                                 f"{'/'.join(case.species) or 'atoms'} in region {r!r} (gb_width_A = {gb.gb_width_A:g}"
                                 f"{'; the grains are too thin: raise min_length_A' if r == 'grain' else ''})")


def _check_eos_guess(recipe: Recipe, key: str, s: SystemSpec) -> None:
    ex = recipe.exploration
    pressures = getattr(s, "pressures_GPa", None) or ex.pressures_GPa
    scan = recipe.reference.kind != "imported"
    if scan and max(pressures) <= 0:
        which = f"{key}.pressures_GPa" if getattr(s, "pressures_GPa", None) else "exploration.pressures_GPa"
        raise InputError(which, "the reference's EOS scan spans 0.4 × the lowest to 1.5 × the highest of these "
                                "pressures: one must be above 0 GPa")
    name = getattr(s, "name", SINGLE_SYSTEM)
    targets = [*pressures, *(p.P_GPa for p in recipe.production.points if not recipe.production.cases),
               *(p for c in recipe.production.cases if c.system == name for p in c.P_GPa)]
    for p in sorted(set(targets + ([1.5 * max(pressures)] if scan else [])), reverse=True):
        try:
            volume_at_pressure(p, 1.0, s.bulk_modulus_GPa, s.bulk_modulus_derivative)
        except ValueError:
            raise InputError(f"{key}.bulk_modulus_GPa", f"a BM3 guess with K0 = {s.bulk_modulus_GPa:g} GPa, K0' = "
                                                        f"{s.bulk_modulus_derivative:g} reaches no {p:g} GPa within "
                                                        "V/V0 ≥ 0.2: raise the guess") from None
