"""The ``Engine`` protocol and the embedded ASE engine (NVE, NVT Nosé–Hoover chain or Langevin, NPT MTK).

Positions are never wrapped by the ASE integrators used here, so a trajectory written from the
engine holds unwrapped coordinates (continuous paths across periodic boundaries).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal, Protocol

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.md.velocitydistribution import Stationary, thermalize_momenta

from deepearth.units import FS_TO_ASE_TIME, GPA_TO_EV_PER_A3

Ensemble = Literal["nve", "nvt", "npt"]
Observer = Callable[[Atoms, int], None]  # called as observer(atoms, step)


class MDBlowUp(RuntimeError):
    """The dynamics became unphysical (non-finite forces, runaway temperature or volume)."""


@dataclass
class MDSettings:
    """One MD run. Units: K, GPa, fs."""

    ensemble: Ensemble
    temperature_K: float
    steps: int
    timestep_fs: float = 1.0
    pressure_GPa: float = 0.0
    thermostat: Literal["nose-hoover", "langevin"] = "nose-hoover"
    seed: int = 0
    init_velocities: bool = True
    tdamp_fs: float = 100.0
    pdamp_fs: float = 1000.0
    langevin_friction_per_fs: float = 0.01
    max_temperature_factor: float = 5.0  # stop when T > factor × target (blow-up guard)
    observers: list[tuple[Observer, int]] = field(default_factory=list)


class Engine(Protocol):
    """Runs MD on ``atoms`` with ``calculator``; observers are called every n steps."""

    name: str

    def run(self, atoms: Atoms, calculator: Calculator, settings: MDSettings) -> Atoms: ...


class ASEEngine:
    """MD with ASE integrators in this process (the embedded engine; LAMMPS is for production scale)."""

    name = "ase"

    def _integrator(self, atoms: Atoms, s: MDSettings):
        dt = s.timestep_fs * FS_TO_ASE_TIME
        if s.ensemble == "nve":
            from ase.md.verlet import VelocityVerlet

            return VelocityVerlet(atoms, timestep=dt)
        if s.ensemble == "npt":
            from ase.md.nose_hoover_chain import IsotropicMTKNPT

            return IsotropicMTKNPT(atoms, timestep=dt, temperature_K=s.temperature_K,
                                   pressure_au=s.pressure_GPa * GPA_TO_EV_PER_A3,
                                   tdamp=s.tdamp_fs * FS_TO_ASE_TIME, pdamp=s.pdamp_fs * FS_TO_ASE_TIME)
        if s.thermostat == "langevin":
            from ase.md.langevin import Langevin

            return Langevin(atoms, timestep=dt, temperature_K=s.temperature_K, fixcm=False,  # fixcm=True is biased
                            friction=s.langevin_friction_per_fs / FS_TO_ASE_TIME,
                            rng=np.random.default_rng(s.seed + 1))
        from ase.md.nose_hoover_chain import NoseHooverChainNVT

        return NoseHooverChainNVT(atoms, timestep=dt, temperature_K=s.temperature_K,
                                  tdamp=s.tdamp_fs * FS_TO_ASE_TIME)

    def run(self, atoms: Atoms, calculator: Calculator, settings: MDSettings) -> Atoms:
        """Integrate ``settings.steps`` steps in place; raises :class:`MDBlowUp` on unphysical dynamics."""
        s = settings
        atoms.calc = calculator
        if s.init_velocities:
            thermalize_momenta(atoms, temperature_K=s.temperature_K, rng=np.random.default_rng(s.seed))
            Stationary(atoms)
        dyn = self._integrator(atoms, s)
        v_start = atoms.get_volume()

        def guard():
            t = atoms.get_temperature()
            if not np.isfinite(t) or t > s.max_temperature_factor * max(s.temperature_K, 300.0):
                raise MDBlowUp(f"temperature {t:.0f} K at step {dyn.nsteps} (target {s.temperature_K} K)")
            if not 0.3 < atoms.get_volume() / v_start < 3.0:
                raise MDBlowUp(f"volume changed by a factor {atoms.get_volume() / v_start:.2f} at step {dyn.nsteps}")

        dyn.attach(guard, interval=1)
        for fn, interval in s.observers:
            dyn.attach(lambda fn=fn: fn(atoms, dyn.nsteps), interval=interval)  # ASE also calls at step 0
        dyn.run(s.steps)
        return atoms


#: Engines by name, as recipes spell them (``exploration.engine``, ``production.engine``). The
#: LAMMPS engine (production scale, MPI) joins this table.
ENGINES: dict[str, Callable[[], Engine]] = {"ase": ASEEngine}


def engine_name(name: str) -> str:
    """``name`` if it is a registered engine, else ``ValueError`` naming the known ones."""
    if name not in ENGINES:
        raise ValueError(f"unknown MD engine {name!r} (one of {', '.join(ENGINES)})")
    return name


def make_engine(name: str) -> Engine:
    """An :class:`Engine` by name."""
    return ENGINES[engine_name(name)]()
