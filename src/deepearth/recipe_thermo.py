"""The recipe keys of the thermodynamic properties ``deepearth run`` measures with the final model:
``[properties.eos]``, ``[properties.elastic]``, ``[properties.melting]`` and ``[properties.phase]``
(assembled into :class:`deepearth.recipe.PropertiesSpec`; run by :mod:`deepearth.pipeline.thermo`).

Each of the first three names the ``system`` it runs on (a ``[[systems]]`` name, or ``"system"`` for
a recipe with one ``[system]``), its pressures and temperatures and its MD lengths; the defaults of
the MD lengths are small enough for a laptop (minutes with a POD model in LAMMPS on a few hundred
atoms), not for a paper: raise them for production numbers. ``[properties.phase]`` judges every
production state point (crystal, liquid, superionic) from the production replicas.

Every key: type, range, unit and description; a bad key or a cross-key mistake is one line naming
the key (:func:`check_thermo` for the keys that need the systems). Units: GPa, K, fs, steps, Å, m²/s.
References: the EOS grid (:mod:`deepearth.pipeline.eos_scan`), stress–strain MD (Karki, Stixrude &
Wentzcovitch 2001, :mod:`deepearth.pipeline.elastic_md`), two-phase coexistence
(:mod:`deepearth.pipeline.melting`), phase identity (:mod:`deepearth.properties.phase`).
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from deepearth.properties.elastic import SYSTEMS, stiffness_from_stress_strain, strain_set
from deepearth.settings import PressureGPa, Section, TemperatureK, TimestepFs

#: The name of the one system of a recipe with a ``[system]`` section (as :data:`deepearth.recipe.SINGLE_SYSTEM`).
SYSTEM = "system"
SYSTEM_FIELD = Field(SYSTEM, description="the [[systems]] name it runs on (a single-[system] recipe: 'system')")
Steps = Annotated[int, Field(ge=0, le=10_000_000)]
Repeat = Annotated[int, Field(ge=1, le=20)]
Voigt = Annotated[int, Field(ge=0, le=5)]


def _samples(key: str, steps: int, every: int, n_blocks: int) -> None:
    n = steps // every
    if n < 2 * n_blocks:
        raise ValueError(f"{key}: {steps} steps sampled every {every} give {n} samples; at least {2 * n_blocks} "
                         f"needed for {n_blocks} blocks (n_blocks) of 2 (raise {key} or sample more often)")


class EOSProperty(Section):
    """``[properties.eos]``: NPT MD over a (P, T) grid with member 0 of the final model, block-averaged
    ⟨V⟩, ⟨P⟩, ⟨E⟩ per point, an EOS fit per isotherm and, with two or more isotherms, the thermal EOS
    (thermal pressure, α, K_T, γ, adiabat). Every point starts from the crystal at the reference's
    static volume for P."""

    system: str = SYSTEM_FIELD
    pressures_GPa: list[PressureGPa] = Field(..., min_length=4, description="target pressures, GPa (≥ 4: an "
                                             "isotherm's fit has 3 parameters and one spare point for their errors)")
    temperatures_K: list[TemperatureK] = Field(..., min_length=1, description="temperatures, K (≥ 2 for thermal "
                                               "pressure, α, K_T and γ)")
    equilibration_steps: Steps = Field(500, description="NPT steps before sampling, per point")
    steps: int = Field(1000, ge=10, le=10_000_000, description="NPT steps sampled, per point and replica")
    timestep_fs: TimestepFs = Field(1.0, description="fs; at most what the lightest element allows")
    sample_interval: int = Field(10, ge=1, description="steps between samples of V, P, E, T")
    replicas: int = Field(1, ge=1, le=100, description="independent replicas per point (different velocity seeds)")
    n_blocks: int = Field(5, ge=2, le=100, description="blocks of a replica's samples for its error bars")
    form: Literal["vinet", "bm3"] = Field("vinet", description="EOS form of the isotherm fits (Vinet 1987; "
                                          "Birch-Murnaghan 3rd order, Birch 1947)")
    K0_prime_prior: tuple[Annotated[float, Field(ge=1, le=20)], Annotated[float, Field(gt=0, le=20)]] | None = Field(
        None, description="[mean, sigma]: a Gaussian prior on K0' of every isotherm's fit (for isotherms spanning too "
                          "narrow a pressure range to fix it); unset: none")

    @model_validator(mode="after")
    def _enough(self) -> "EOSProperty":
        _samples("steps", self.steps, self.sample_interval, self.n_blocks)
        if len(set(self.pressures_GPa)) < 4:
            raise ValueError(f"pressures_GPa: {len(set(self.pressures_GPa))} distinct pressures; at least 4 needed")
        return self


class ElasticProperty(Section):
    """``[properties.elastic]``: elastic constants at every (P, T) by stress–strain MD with member 0 of
    the final model (NPT cell, ± strains, NVT stresses, Cij with block-averaging errors, moduli and
    velocities), and with ``static_check`` the 0 K constants at each P beside them."""

    system: str = SYSTEM_FIELD
    P_GPa: list[PressureGPa] = Field(..., min_length=1, description="pressures, GPa")
    temperatures_K: list[TemperatureK] = Field(..., min_length=1, description="temperatures, K (every P × T is run)")
    strain: float = Field(0.01, gt=0, le=0.02, description="± strain along each Voigt direction (dimensionless; "
                          "small enough for the linear regime)")
    components: list[Voigt] = Field([0, 1, 2, 3, 4, 5], min_length=1, description="Voigt directions strained, "
                                    "0-based (xx yy zz yz xz xy); fewer with a symmetry they determine")
    symmetry: Literal[tuple(SYSTEMS)] | None = Field(  # type: ignore[valid-type]
        None, description=f"crystal system imposed on the fit ({', '.join(SYSTEMS)}); unset: a general C")
    timestep_fs: TimestepFs = Field(1.0, description="fs; at most what the lightest element allows")
    npt_equilibration_steps: Steps = Field(500, description="NPT steps before the cell is averaged")
    npt_steps: int = Field(1000, ge=10, le=10_000_000, description="NPT steps over which the cell is averaged")
    nvt_equilibration_steps: Steps = Field(200, description="NVT steps of each strained cell before sampling")
    nvt_steps: int = Field(1000, ge=10, le=10_000_000, description="NVT steps sampled per strained cell")
    sample_interval: int = Field(5, ge=1, description="steps between stress samples")
    n_blocks: int = Field(5, ge=2, le=100, description="blocks of the stress series for its error bars")
    static_check: bool = Field(True, description="also the 0 K stress-strain constants at each P (relaxed cell and "
                               "ions, pipeline.elastic_static): the MD path's low-T check")

    @model_validator(mode="after")
    def _enough(self) -> "ElasticProperty":
        _samples("nvt_steps", self.nvt_steps, self.sample_interval, self.n_blocks)
        if self.npt_steps // self.sample_interval < 2:
            raise ValueError(f"npt_steps: {self.npt_steps} steps sampled every {self.sample_interval} give fewer than "
                             "2 cells to average")
        if len(set(self.components)) != len(self.components):
            raise ValueError(f"components: {self.components} repeats a direction")
        e = strain_set(self.strain, self.components)
        try:
            stiffness_from_stress_strain(e, np.zeros_like(e), symmetry=self.symmetry)
        except ValueError as exc:
            raise ValueError(f"components: {self.components} do not determine the constants"
                             f"{' of a ' + self.symmetry + ' crystal' if self.symmetry else ''} ({exc})") from None
        return self


class MeltingProperty(Section):
    """``[properties.melting]``: T_m at one pressure bracketed by two-phase coexistence runs at several
    temperatures (a crystal and its liquid side by side, NPT along the interface normal; solid fraction
    vs time by q̄6), with member 0 of the final model or every committee member."""

    system: str = SYSTEM_FIELD
    P_GPa: PressureGPa = Field(..., description="pressure, GPa")
    temperatures_K: list[TemperatureK] = Field(..., min_length=2, description="temperatures, K (≥ 2: one where the "
                                               "crystal grows and one where it melts make the bracket)")
    replicas: int = Field(1, ge=1, le=20, description="independent coexistence runs per temperature")
    committee: bool = Field(False, description="run every committee member at every T: their spread of T_m enters "
                            "the error budget (costs ensemble_size × member 0)")
    layer: tuple[Repeat, Repeat] = Field((2, 2), description="in-plane repeats of the system's unit cell (a mineral's "
                                         "or prototype's conventional cell; a structure file's own cell): one layer "
                                         "of the coexistence cell, whose x-y section is the interface's")
    n_layers: int = Field(8, ge=4, le=40, description="layers along z, half crystal, half liquid (even)")
    timestep_fs: TimestepFs = Field(1.0, description="fs; at most what the lightest element allows")
    lattice_steps: int = Field(400, ge=10, description="NPT steps of the crystal block for its lattice at (P, T)")
    T_melt_K: TemperatureK | None = Field(None, description="where the liquid half is melted, K (keep it inside the "
                                          "model's training range); unset: T_melt_factor × T")
    T_melt_factor: float = Field(1.6, gt=1, le=3, description="melting temperature of the liquid half / T "
                                 "(when T_melt_K is unset)")
    melt_steps: Steps = Field(1000, description="NVT steps melting the liquid half")
    quench_steps: Steps = Field(300, description="steps quenching it to T")
    equilibrate_steps: Steps = Field(300, description="NPT steps equilibrating it at (P, T)")
    check_steps: int = Field(400, ge=10, description="steps of its liquid check (it must diffuse)")
    crystal_steps: Steps = Field(100, description="steps thermalising the crystal half in the joined cell")
    join_steps: Steps = Field(100, description="steps relaxing the join")
    run_steps: int = Field(2000, ge=10, description="NPT steps of each coexistence run")
    sample_every: int = Field(50, ge=1, description="steps between frames of the coexistence run")
    n_blocks: int = Field(5, ge=2, le=100, description="blocks of the solid-fraction statistics")
    liquid_start: Literal["crystal", "random"] = Field(
        "crystal", description="what the liquid half is melted from: the crystal, or a random packing (for a model "
                               "that cannot be run hot enough to melt a superheated crystal)")

    @model_validator(mode="after")
    def _enough(self) -> "MeltingProperty":
        if self.n_layers % 2:
            raise ValueError(f"n_layers: {self.n_layers}; must be even (half crystal, half liquid)")
        _samples("run_steps", self.run_steps, self.sample_every, self.n_blocks)
        if len(set(self.temperatures_K)) < 2:
            raise ValueError("temperatures_K: at least 2 distinct temperatures make a bracket")
        return self


class PhaseProperty(Section):
    """``[properties.phase]``: crystal, liquid, superionic (one sublattice diffusing) or amorphous at
    every production state point, from per-species diffusion and sublattice q̄6 of its replicas
    (:func:`deepearth.properties.phase.identify_phase`)."""

    D_threshold_m2_per_s: float = Field(1e-9, gt=0, le=1e-6, description="a species diffuses above this D, m²/s")
    q6_threshold: float = Field(0.25, gt=0, lt=1, description="a sublattice is ordered at or above this mean q̄6 "
                                "(dimensionless; crystals near melting 0.3-0.5, liquids 0.1-0.2)")
    min_fit_start_ps: float = Field(0.1, ge=0, description="never fit D before this lag (ballistic regime), ps")


#: The sections that name a system, by key.
SYSTEM_SECTIONS = ("eos", "elastic", "melting")


def check_thermo(properties, systems: dict) -> None:
    """Cross-key checks of the property sections: each names a system that exists (``systems``: name →
    its ``[system]``/``[[systems]]`` spec); elastic constants and melting need a crystal, melting a
    perfect one (no grain boundary, no defects: its coexistence cell is built from the conventional
    cell). ``ValueError`` naming the key."""
    for key in SYSTEM_SECTIONS:
        spec = getattr(properties, key, None)
        if spec is None:
            continue
        where = f"properties.{key}.system"
        if spec.system not in systems:
            raise ValueError(f"{where}: no system {spec.system!r} (systems: {', '.join(systems)})")
        s = systems[spec.system]
        if key != "eos" and getattr(s, "builder", "crystal") == "liquid":
            raise ValueError(f"{where}: {spec.system!r} is a liquid (builder = 'liquid'); {key} needs a crystal")
        if key == "melting" and (s.grain_boundary is not None or s.defects):
            raise ValueError(f"{where}: {spec.system!r} has a grain boundary or defects; the coexistence cell is "
                             "built from its perfect conventional cell: name a perfect crystal")


def thermo_timesteps(properties) -> list[tuple[str, float, str]]:
    """(recipe key, timestep fs, system name) of every MD section given: each timestep is checked
    against the lightest element of its system (:func:`deepearth.structures.checks.check_timestep`)."""
    return [(f"properties.{k}.timestep_fs", s.timestep_fs, s.system) for k in SYSTEM_SECTIONS
            if (s := getattr(properties, k, None)) is not None]
