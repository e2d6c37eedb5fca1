"""P–V–T equation of state by NPT MD over a grid of pressures and temperatures.

At every (P, T) each replica runs NPT (``settings.equilibration_steps``, then ``settings.steps``
sampled every ``sample_interval`` steps): volume, pressure (virial + kinetic,
``atoms.get_stress(include_ideal_gas=True)``), total energy (potential + kinetic) and temperature.
Per replica the mean and its block-averaging standard error (:func:`~deepearth.properties.elastic.
block_average`, Flyvbjerg & Petersen 1989); replicas are independent, so the point's value is the mean
of the replica means and its error ``sqrt(Σ σ_i²)/R``. Every point starts from the given crystal
(rescaled to ``volume_guess(P, T)`` when given), so a melt or defects formed at one point are not
carried to the next; with ``settings.chain`` each replica instead continues from its state at the
previous pressure of the isotherm. The atoms' mean-squared displacement over the sampled part
(``msd_A2``) flags points where atoms diffuse (``notes``): a melted or defective cell's volume is not
the crystal's, so such points are left out of the fits (``settings.drop_mobile``).

Then per isotherm an EOS fit with the volume errors as effective pressure errors
(:func:`~deepearth.properties.eos.isotherms.fit_isotherm`) and, with two or more isotherms, the thermal
EOS (:func:`~deepearth.properties.eos.pvt_analysis`: thermal pressure, α, K_T, γ, adiabat). Volumes
and energies are per simulation cell (``n_atoms`` says how many atoms).

A pure function over an engine and a calculator: no recipe, no run directory. A replica that blows up
(:class:`~deepearth.md.engine.MDBlowUp`) leaves its point without that replica (``blow_ups`` says why);
a point with no replica left is kept with ``blow_up`` set and left out of the fits.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator

from deepearth.files import json_ready
from deepearth.md.engine import Engine, MDBlowUp, MDGuard, MDSettings
from deepearth.properties.elastic import block_average
from deepearth.properties.eos import pvt_analysis
from deepearth.properties.eos.isotherms import fit_isotherm, group_temperatures
from deepearth.units import stress_to_pressure_gpa

__all__ = ["EOSScanPoint", "EOSScanResult", "EOSScanSettings", "TABLE_COLUMNS", "eos_scan"]

log = logging.getLogger(__name__)

#: Columns of :meth:`EOSScanResult.write_table` (what ``deepearth analyze eos`` reads back).
TABLE_COLUMNS: tuple[str, ...] = ("P_target_GPa", "T_K", "V_A3", "V_stderr_A3", "P_GPa", "P_stderr_GPa", "E_eV",
                                  "E_stderr_eV", "T_mean_K", "T_stderr_K", "msd_A2")


@dataclass
class EOSScanSettings:
    """NPT settings of an EOS scan. Units: fs, steps. ``n_blocks``: blocks per replica's error bar."""

    steps: int = 2000
    equilibration_steps: int = 1000
    timestep_fs: float = 1.0
    sample_interval: int = 10
    replicas: int = 1
    n_blocks: int = 8
    tdamp_fs: float = 100.0
    pdamp_fs: float = 1000.0
    seed: int = 0
    form: str = "vinet"
    prior: dict | None = None  # e.g. {"K0_prime": (4.0, 2.0)} for every isotherm's fit (eos.fit)
    chain: bool = False  # True: each replica continues from its state at the previous pressure
    mobile_msd_A2: float = 1.0  # a point whose atoms move farther than this (Å², sampled part) is flagged
    drop_mobile: bool = True  # and left out of the fits (the crystal's EOS)
    guard: MDGuard = field(default_factory=MDGuard)

    def check(self) -> None:
        """One ``ValueError`` line for an impossible setting."""
        for key in ("steps", "sample_interval", "replicas", "timestep_fs"):
            if not getattr(self, key) > 0:
                raise ValueError(f"{key}: {getattr(self, key)!r}; must be > 0")
        if self.equilibration_steps < 0:
            raise ValueError(f"equilibration_steps: {self.equilibration_steps!r}; must be >= 0")
        samples = self.steps // self.sample_interval
        if samples < 2 * self.n_blocks:
            raise ValueError(f"steps/sample_interval = {samples} samples per replica; at least {2 * self.n_blocks} "
                             f"needed for {self.n_blocks} blocks (raise steps or sample more often)")


@dataclass
class EOSScanPoint:
    """One state point: set (P, T) and the NPT averages ± block standard errors (Å³, GPa, eV, K; per cell)."""

    P_target_GPa: float
    T_K: float
    V_A3: float
    V_stderr_A3: float
    P_GPa: float
    P_stderr_GPa: float
    E_eV: float
    E_stderr_eV: float
    T_mean_K: float
    T_stderr_K: float
    n_samples: int
    replicas: int
    replica_V_A3: list[float]
    blow_ups: list[str] = field(default_factory=list)
    msd_A2: float = float("nan")  # mean-squared displacement over the sampled part (COM removed), max over replicas

    @property
    def ok(self) -> bool:
        """True when at least one replica finished (the point has averages)."""
        return self.replicas > 0


@dataclass
class EOSScanResult:
    """The grid's points, the per-isotherm fits (``EOSFit.to_dict()`` or ``{"T_K", "error"}``), the thermal
    EOS (``ThermalEOSResult.to_dict()``, ``None`` with fewer than two fitted isotherms) and provenance."""

    points: list[EOSScanPoint]
    n_atoms: int
    formula: str
    isotherms: list[dict]
    thermal: dict | None
    settings: dict
    engine: str
    wall_time_s: float
    notes: list[str]
    method: str

    def to_dict(self) -> dict:
        """JSON-safe dict of every field."""
        return json_ready(self)

    def write_table(self, path: str | Path) -> Path:
        """The points as a whitespace table with a header (:data:`TABLE_COLUMNS`; blown-up points left
        out): ``deepearth analyze eos TABLE --volume-column V_A3 --pressure-column P_GPa ...`` reads it."""
        rows = [[getattr(p, c) for c in TABLE_COLUMNS] for p in self.points if p.ok]
        np.savetxt(path, np.array(rows, float).reshape(-1, len(TABLE_COLUMNS)), header=" ".join(TABLE_COLUMNS),
                   fmt="%.10g")
        return Path(path)


def _run_replica(engine: Engine, atoms: Atoms, calc: Calculator, P: float, T: float, s: EOSScanSettings,
                 seed: int, first: bool) -> tuple[np.ndarray, float]:
    """NPT at (P, T) on ``atoms`` (in place); samples (V, P, E, T) after equilibration as an (n, 4) array,
    and the atoms' mean-squared displacement (Å², centre of mass removed) from the first sample to the last."""
    samples: list[tuple[float, float, float, float]] = []
    ends: list[np.ndarray] = []

    def record(a: Atoms, step: int) -> None:
        if step > s.equilibration_steps:
            p = stress_to_pressure_gpa(a.get_stress(include_ideal_gas=True))
            samples.append((a.get_volume(), p, a.get_potential_energy() + a.get_kinetic_energy(), a.get_temperature()))
            x = a.get_positions()  # unwrapped (both engines)
            x = x - x.mean(axis=0)
            if not ends:
                ends.append(x)
            ends[1:] = [x]

    engine.run(atoms, calc, MDSettings("npt", T, s.equilibration_steps + s.steps, s.timestep_fs, pressure_GPa=P,
                                       seed=seed, init_velocities=first, tdamp_fs=s.tdamp_fs, pdamp_fs=s.pdamp_fs,
                                       guard=s.guard, observers=[(record, s.sample_interval)]))
    msd = float(np.mean(np.sum((ends[-1] - ends[0]) ** 2, axis=1))) if len(ends) == 2 else float("nan")
    return np.array(samples, float), msd


def _point(P: float, T: float, series: list[np.ndarray], n_blocks: int, blow_ups: list[str],
           msds: list[float]) -> EOSScanPoint:
    if not series:
        nan = float("nan")
        return EOSScanPoint(P, T, nan, nan, nan, nan, nan, nan, nan, nan, 0, 0, [], blow_ups)
    stats = [block_average(x, n_blocks, name=f"NPT samples at {P:g} GPa, {T:g} K") for x in series]
    means = np.array([b.mean for b in stats])
    errs = np.array([b.stderr for b in stats])
    mean = means.mean(axis=0)
    err = np.sqrt(np.sum(errs**2, axis=0)) / len(stats)
    return EOSScanPoint(P, T, float(mean[0]), float(err[0]), float(mean[1]), float(err[1]), float(mean[2]),
                        float(err[2]), float(mean[3]), float(err[3]), int(sum(b.n_samples for b in stats)), len(stats),
                        means[:, 0].tolist(), blow_ups, float(np.max(msds)))


def _fits(points: list[EOSScanPoint], s: EOSScanSettings, notes: list[str]) -> tuple[list[dict], dict | None]:
    form, prior = s.form, s.prior
    ok = [p for p in points if p.ok and not (s.drop_mobile and p.msd_A2 > s.mobile_msd_A2)]
    if not ok:
        notes.append("no state point survived: no fit")
        return [], None
    V, Tset = np.array([p.V_A3 for p in ok]), np.array([p.T_K for p in ok])
    P, E = np.array([p.P_GPa for p in ok]), np.array([p.E_eV for p in ok])
    sV, sP, sE = (np.array([getattr(p, k) for p in ok]) for k in ("V_stderr_A3", "P_stderr_GPa", "E_stderr_eV"))
    labels = group_temperatures(Tset)
    fits, fitted = [], []
    for k in range(int(labels.max()) + 1):
        m = labels == k
        try:
            iso = fit_isotherm(float(Tset[m].mean()), V[m], P[m], None, sV[m], sP[m], None, form, prior=prior)
        except ValueError as exc:
            fits.append({"T_K": float(Tset[m].mean()), "error": str(exc)})
            notes.append(str(exc))
            continue
        fits.append({"T_K": iso.T_K, **iso.eos.to_dict()})
        fitted.append(m)
    if len(fitted) < 2:
        return fits, None
    keep = np.any(fitted, axis=0)
    try:
        thermal = pvt_analysis(V[keep], Tset[keep], P[keep], E[keep], volumes_stderr_A3=sV[keep],
                               pressures_stderr_GPa=sP[keep], energies_stderr_eV=sE[keep], form=form, prior=prior)
    except ValueError as exc:
        notes.append(f"thermal EOS: {exc}")
        return fits, None
    return fits, thermal.to_dict()


def eos_scan(atoms: Atoms, calculator: Calculator | str | Path, pressures_GPa, temperatures_K,
             settings: EOSScanSettings | None = None, engine: Engine | None = None,
             volume_guess: Callable[[float, float], float] | None = None,
             progress: Callable[[int, int, str], None] | None = None) -> EOSScanResult:
    """NPT MD of ``atoms`` at every (P GPa, T K) of the grid, block-averaged ⟨V⟩, ⟨P⟩, ⟨E⟩ (per cell) with
    errors, per-isotherm EOS fits and the thermal EOS (module docstring).

    ``calculator``: an ASE calculator or a model file (:func:`deepearth.potentials.registry.load_potential`).
    ``engine``: default ``make_engine("auto")`` (LAMMPS for a pair-style potential, else ASE).
    ``volume_guess(P, T)`` (Å³ per cell): the start volume of each point (e.g. a static EOS plus a thermal
    guess); ``progress(done, total, label)`` is called after each point.
    """
    s = settings or EOSScanSettings()
    s.check()
    P_list = sorted(float(p) for p in np.atleast_1d(pressures_GPa))
    T_list = sorted(float(t) for t in np.atleast_1d(temperatures_K))
    if not P_list or not T_list or min(T_list) <= 0:
        raise ValueError(f"eos_scan: needs pressures and temperatures > 0 K, got {P_list} GPa, {T_list} K")
    if isinstance(calculator, (str, Path)):
        from deepearth.potentials.registry import load_potential

        calculator = load_potential(calculator)
    if engine is None:
        from deepearth.md.engines import make_engine

        engine = make_engine("auto")
    t0 = time.perf_counter()
    points: list[EOSScanPoint] = []
    total = len(P_list) * len(T_list)
    for it, T in enumerate(T_list):
        states = [atoms.copy() for _ in range(s.replicas)]
        fresh = [True] * s.replicas
        for ip, P in enumerate(P_list):
            series, blow_ups, msds = [], [], []
            for r in range(s.replicas):
                if not s.chain:  # every point from the crystal: no melt or defect carried up the isotherm
                    states[r], fresh[r] = atoms.copy(), True
                a = states[r]
                if volume_guess is not None:
                    a.set_cell(a.cell.array * (float(volume_guess(P, T)) / a.get_volume()) ** (1 / 3), scale_atoms=True)
                seed = s.seed + 1000 * it + 37 * ip + r
                try:
                    x, msd = _run_replica(engine, a, calculator, P, T, s, seed, fresh[r])
                    fresh[r] = False
                    series.append(x)
                    msds.append(msd)
                except MDBlowUp as exc:
                    blow_ups.append(f"replica {r}: {exc}")
                    states[r], fresh[r] = atoms.copy(), True
            points.append(_point(P, T, series, s.n_blocks, blow_ups, msds))
            log.info("EOS scan %g GPa %g K: V = %.4g ± %.2g A^3", P, T, points[-1].V_A3, points[-1].V_stderr_A3)
            if progress is not None:
                progress(len(points), total, f"{P:g} GPa, {T:g} K")
    notes: list[str] = [f"{p.P_target_GPa:g} GPa, {p.T_K:g} K: {b}" for p in points for b in p.blow_ups]
    notes += [f"{p.P_target_GPa:g} GPa, {p.T_K:g} K: atoms moved {p.msd_A2:.3g} A^2 (mean square) while sampled: "
              "diffusing (melted, or defects)? its volume may not be the crystal's"
              + ("; left out of the fits" if s.drop_mobile else "") for p in points
              if p.ok and p.msd_A2 > s.mobile_msd_A2]
    fits, thermal = _fits(points, s, notes)
    method = ("NPT (MTK) per (P, T); block-averaged V, P (virial + kinetic), E (potential + kinetic), T per replica "
              "(Flyvbjerg & Petersen 1989), replicas combined as independent; per-isotherm EOS fits and the thermal "
              "EOS by deepearth.properties.eos (pvt_analysis)")
    return EOSScanResult(points, len(atoms), atoms.get_chemical_formula(), fits, thermal,
                         {f.name: getattr(s, f.name) for f in fields(s) if f.name != "guard"}, getattr(engine, "name", "?"),
                         time.perf_counter() - t0, notes, method)
