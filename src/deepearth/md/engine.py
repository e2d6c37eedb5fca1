"""The ``Engine`` protocol and the embedded ASE engine (NVE, NVT Nosé–Hoover chain or Langevin, NPT MTK).

Positions are never wrapped by the ASE integrators used here, so a trajectory written from the
engine holds unwrapped coordinates (continuous paths across periodic boundaries).

An MD run never goes wrong silently: :class:`MDGuard` (``MDSettings.guard``) checks every step and
stops the run with :class:`MDBlowUp`, whose message names what went wrong, the step and the time.
The guard runs before the caller's observers, so no observer sees the frame that failed it. An
exception inside a step (the calculator or integrator choking on NaN) becomes an ``MDBlowUp`` too
when the state it leaves fails the guard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Literal, Protocol

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.data import covalent_radii
from ase.md.velocitydistribution import Stationary, thermalize_momenta
from ase.neighborlist import neighbor_list

from deepearth.units import FS_TO_ASE_TIME, GPA_TO_EV_PER_A3

if TYPE_CHECKING:  # the guard only calls the envelope's methods
    from deepearth.potentials.envelope import TrainingEnvelope

Ensemble = Literal["nve", "nvt", "npt"]
Observer = Callable[[Atoms, int], None]  # called as observer(atoms, step)


class MDBlowUp(RuntimeError):
    """The dynamics became unphysical: lost atoms, non-finite energy/forces/stress, a close contact,
    runaway temperature or volume (or, from :mod:`deepearth.explore.campaign`, far extrapolation).

    The message names what went wrong, the step and the time; ``reason`` (the what), ``step`` (of the
    run that raised, from 0) and ``time_ps`` are attributes too (``None`` where not known).
    """

    def __init__(self, message: str, *, reason: str | None = None, step: int | None = None,
                 time_ps: float | None = None) -> None:
        super().__init__(message)
        self.reason = reason if reason is not None else message
        self.step = step
        self.time_ps = time_ps


def blow_up(reason: str, step: int, timestep_fs: float, cls: type[MDBlowUp] = MDBlowUp) -> MDBlowUp:
    """The :class:`MDBlowUp` (or subclass ``cls``) for ``reason`` at ``step``: "<reason> at step N (t ps)"."""
    time_ps = step * timestep_fs / 1000.0
    return cls(f"{reason} at step {step} ({time_ps:.4g} ps)", reason=reason, step=step, time_ps=time_ps)


def _atom(atoms: Atoms, i: int) -> str:
    return f"{atoms[int(i)].symbol} {int(i)}"


def close_contact(atoms: Atoms, factor: float = 0.5, min_distance_A: float | None = None
                  ) -> tuple[int, int, float, float] | None:
    """The worst pair closer than its limit, as ``(i, j, distance Å, limit Å)``, or ``None``.

    The limit of a pair is ``min_distance_A`` if given, else ``factor`` × the sum of the two covalent
    radii (``ase.data.covalent_radii``, Å). Periodic images count. Up to 512 atoms in a fully periodic
    cell whose every width exceeds twice the largest limit: all pairs at once by the minimum-image
    convention, which is exact there (a pair closer than half the smallest width has fractional
    separations within ±½, so rounding finds its nearest image); ≈ 0.1 ms for 64 atoms. Otherwise one
    cell-list pass (``ase.neighborlist``) with the short cutoff: ≈ ms for 1000 atoms.
    """
    n = len(atoms)
    if min_distance_A is not None:
        radii = np.full(n, 0.5 * float(min_distance_A))
    else:
        radii = factor * covalent_radii[atoms.numbers]
    if n == 0 or not np.any(radii > 0):
        return None
    if n <= 512 and all(atoms.pbc) and atoms.cell.rank == 3:
        widths = 1.0 / np.linalg.norm(np.linalg.inv(atoms.cell.array), axis=0)  # perpendicular widths, Å
        if 2.0 * radii.max() < 0.5 * widths.min():
            frac = atoms.positions @ np.linalg.inv(atoms.cell.array)
            diff = frac[None, :, :] - frac[:, None, :]
            diff -= np.round(diff)
            d = np.linalg.norm(diff @ atoms.cell.array, axis=2)
            ratio = d / (radii[:, None] + radii[None, :])
            np.fill_diagonal(ratio, np.inf)
            i, j = np.unravel_index(int(np.argmin(ratio)), ratio.shape)
            if ratio[i, j] >= 1.0:
                return None
            return int(min(i, j)), int(max(i, j)), float(d[i, j]), float(radii[i] + radii[j])
    i, j, d = neighbor_list("ijd", atoms, radii)  # pairs with d < r_i + r_j
    if not len(i):
        return None
    limit = radii[i] + radii[j]
    k = int(np.argmin(d / limit))
    return int(min(i[k], j[k])), int(max(i[k], j[k])), float(d[k]), float(limit[k])


def nonfinite_results(atoms: Atoms) -> str | None:
    """What is non-finite among the calculator's current results (energy, forces, stress, ...), or ``None``."""
    results = getattr(atoms.calc, "results", None) or {}
    for key, value in results.items():
        arr = np.asarray(value)
        if arr.dtype.kind not in "fc" or np.all(np.isfinite(arr)):
            continue
        if arr.ndim == 2 and arr.shape[0] == len(atoms):  # per-atom: name the atoms
            bad = np.flatnonzero(~np.all(np.isfinite(arr), axis=1))
            return f"non-finite {key} on {len(bad)} atom(s) (first: {_atom(atoms, bad[0])})"
        return f"non-finite {key} ({np.array2string(arr.ravel()[:6], precision=3)})"
    return None


@dataclass
class MDGuard:
    """When the engine stops a run with :class:`MDBlowUp`. Units: K, Å; intervals in steps.

    Every step, in this order:

    - non-finite calculator results (energy, forces, stress — whatever the integrator asked for;
      in NPT the stress every step);
    - lost atoms: non-finite positions; non-finite velocities or cell;
    - temperature above ``max_temperature_factor`` × max(target, 300 K);
    - volume outside ``volume_range`` × the volume at step 0.

    At step 0 and every ``contact_interval`` steps: close contacts, a pair closer than
    ``min_distance_A`` if that is set, else than ``contact_factor`` × the sum of the two covalent radii
    (:func:`close_contact`); ``contact_factor = 0`` (with no ``min_distance_A``) switches it off.
    Then, if ``envelope`` (the model's :class:`~deepearth.potentials.envelope.TrainingEnvelope`) is
    set: the configuration inside it — elements, per-species-pair closest distances and density, with
    ``envelope_tolerance`` (:meth:`TrainingEnvelope.configuration_violations`); a frame outside stops
    the run with "left the training envelope: O-O pair at 1.31 Å, closest in training 1.52 Å at step N
    (t ps)". Temperature and pressure are not checked here (the kinetic temperature and the
    instantaneous pressure of a small cell fluctuate; a run is judged by its configurations).
    """

    max_temperature_factor: float = 5.0
    volume_range: tuple[float, float] = (0.3, 3.0)
    contact_factor: float = 0.5
    min_distance_A: float | None = None
    contact_interval: int = 10
    envelope: "TrainingEnvelope | None" = None
    envelope_tolerance: float = 0.1

    def check(self, atoms: Atoms, step: int, timestep_fs: float, T_target_K: float, V0_A3: float) -> None:
        """Raise :class:`MDBlowUp` (message: what, which atoms, step, time) if ``atoms`` fails a check."""
        reason = self.diagnose(atoms, step, T_target_K, V0_A3)
        if reason:
            raise blow_up(reason, step, timestep_fs)

    def diagnose(self, atoms: Atoms, step: int, T_target_K: float, V0_A3: float) -> str | None:
        """What is wrong with ``atoms`` at ``step`` (``None``: nothing)."""
        bad_result = nonfinite_results(atoms)  # first: the cause of non-finite positions or velocities
        if bad_result:
            return bad_result
        for what, arr in (("lost atoms: non-finite positions", atoms.positions),
                          ("non-finite velocities", atoms.get_momenta())):
            bad = np.flatnonzero(~np.all(np.isfinite(arr), axis=1))
            if len(bad):
                return f"{what} of {len(bad)} atom(s) (first: {_atom(atoms, bad[0])})"
        if not np.all(np.isfinite(atoms.cell.array)):
            return "non-finite cell"
        if self.contact_interval > 0 and step % self.contact_interval == 0:
            pair = close_contact(atoms, self.contact_factor, self.min_distance_A)
            if pair:
                i, j, d, limit = pair
                rule = (f"min_distance_A {limit:.2f} Å" if self.min_distance_A is not None
                        else f"{self.contact_factor:g} × covalent radii {limit:.2f} Å")
                return f"close contact: {_atom(atoms, i)} and {_atom(atoms, j)} at {d:.2f} Å (< {rule})"
            if self.envelope is not None:
                outside = self.envelope.configuration_violations(atoms, self.envelope_tolerance)
                if outside:
                    return "left the training envelope: " + "; ".join(outside)
        t = atoms.get_temperature()
        t_max = self.max_temperature_factor * max(T_target_K, 300.0)
        if not np.isfinite(t) or t > t_max:
            return f"temperature {t:.0f} K > {t_max:.0f} K (target {T_target_K:g} K)"
        ratio = atoms.get_volume() / V0_A3 if atoms.cell.rank == 3 else 1.0
        lo, hi = self.volume_range
        if not lo < ratio < hi:
            return f"volume changed by a factor {ratio:.2f} (allowed {lo:g}-{hi:g})"
        return None


@dataclass
class MDSettings:
    """One MD run. Units: K, GPa, fs. ``guard``: the blow-up checks (:class:`MDGuard`).

    ``barostat`` (NPT): ``iso`` (both engines), ``aniso``, ``tri`` or one axis ``x``/``y``/``z`` (the
    LAMMPS engine). ``restart_file``/``restart_interval`` (steps), ``log_file``: the LAMMPS engine's
    restart and log (ignored by the ASE engine, which has no restarts). ``committee``: model files
    whose forces the LAMMPS engine evaluates inside the run at every observer step
    (``atoms.calc.results["committee_forces"]``, :mod:`deepearth.md.lammps_committee`). ``heat_flux``:
    the LAMMPS engine (one rank) adds J·V (eV·Å/ps, ``compute heat/flux`` with centroid per-atom virials,
    the convention of :mod:`deepearth.md.heat_flux`) to every observed frame's results
    (``"heat_flux"``); the ASE engine leaves it to :class:`~deepearth.md.heat_flux.HeatFluxRecorder`.
    """

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
    guard: MDGuard = field(default_factory=MDGuard)
    observers: list[tuple[Observer, int]] = field(default_factory=list)
    barostat: Literal["iso", "aniso", "tri", "x", "y", "z"] = "iso"
    restart_file: str | None = None
    restart_interval: int = 0
    log_file: str | None = None
    committee: list[str] | None = None
    heat_flux: bool = False


class Engine(Protocol):
    """Runs MD on ``atoms`` with ``calculator``; observers are called every n steps.

    ``run`` raises :class:`MDBlowUp` (with the step) when the dynamics go wrong; the observers have
    then seen every frame before the failing one and none after.
    """

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
        if s.ensemble == "npt" and s.barostat != "iso":
            raise ValueError(f"the ASE engine has an isotropic barostat only (barostat {s.barostat!r}): "
                             "use the LAMMPS engine")
        atoms.calc = calculator
        if s.init_velocities:
            thermalize_momenta(atoms, temperature_K=s.temperature_K, rng=np.random.default_rng(s.seed))
            Stationary(atoms)
        dyn = self._integrator(atoms, s)
        v_start = atoms.get_volume() if atoms.cell.rank == 3 else 1.0

        checked = [-1]  # the last step the guard passed

        def guard() -> None:
            s.guard.check(atoms, dyn.nsteps, s.timestep_fs, s.temperature_K, v_start)
            checked[0] = dyn.nsteps

        dyn.attach(guard, interval=1)  # first: observers never see a frame that fails it
        for fn, interval in s.observers:
            dyn.attach(lambda fn=fn: fn(atoms, dyn.nsteps), interval=interval)  # ASE also calls at step 0
        try:
            dyn.run(s.steps)
        except MDBlowUp:
            raise
        except Exception as exc:  # inside a step (calculator or integrator): a blow-up if the state says so
            step = dyn.nsteps + 1 if checked[0] == dyn.nsteps else dyn.nsteps
            reason = s.guard.diagnose(atoms, step, s.temperature_K, v_start)
            if reason is None and not isinstance(exc, (np.linalg.LinAlgError, FloatingPointError, OverflowError)):
                raise
            reason = reason or "the integrator failed"
            raise blow_up(f"{reason} ({type(exc).__name__}: {exc})", step, s.timestep_fs) from exc
        return atoms
