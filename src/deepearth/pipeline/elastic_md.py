"""Elastic constants at (P, T) by stress–strain MD: NPT cell, ± strains, NVT stresses, Cij with errors.

1. **NPT** at (P, T) (``settings.barostat``: ``aniso``/``tri`` on the LAMMPS engine, ``iso`` on the
   ASE engine): after ``npt_equilibration_steps`` the cell matrix is averaged over ``npt_steps``; the
   last configuration is scaled onto that average cell (the reference).
2. **NVT** on each strained reference ``cell · (1 + ε)`` for ``±strain`` along each Voigt direction in
   ``components`` (:func:`~deepearth.properties.elastic.strain_set`): each run starts from the
   reference's positions (scaled) and velocities, equilibrates ``nvt_equilibration_steps`` and samples
   the full stress (virial + kinetic, ``atoms.get_stress(include_ideal_gas=True)``; ASE sign, positive
   in tension) every ``sample_interval`` steps for ``nvt_steps``. Mean and standard error per
   component by block averaging (:func:`~deepearth.properties.elastic.block_average`).
3. **Fit**: ``C_IJ = Δσ_I/Δe_J`` by weighted least squares with those errors, checks (C_IJ = C_JI,
   the crystal system's form, Born stability under pressure) and moduli/velocities with Monte Carlo
   errors (:func:`~deepearth.properties.elastic.from_stress_strain`). NVT gives **isothermal**
   stress–strain coefficients (Wallace 1972); seismic velocities need adiabatic ones
   (:func:`~deepearth.properties.elastic.isothermal_to_adiabatic`).

The method: Karki, Stixrude & Wentzcovitch 2001 (Rev. Geophys. 39, 507) and Zhang et al. 2016 for
AIMD; the same ± strains at 0 K are :mod:`deepearth.pipeline.elastic_static`, which checks this path
at very low T. With ``out_dir`` each strained run's stress series is written in the layout that
``deepearth analyze elastic --stress-strain`` reads (:func:`write_stress_series`).

A pure function over an engine and a calculator: no recipe, no run directory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator

from deepearth.md.engine import Engine, MDGuard, MDSettings
from deepearth.pipeline.elastic_static import density_kg_m3
from deepearth.properties.elastic import (ElasticResult, block_average, from_stress_strain, stiffness_from_stress_strain,
                                         strain_set, strained_cell)
from deepearth.units import EV_PER_A3_TO_GPA

__all__ = ["ElasticMDSettings", "STRESS_COLUMNS", "elastic_constants_md", "write_stress_series"]

log = logging.getLogger(__name__)

#: Column names of the stress series files (GPa, Voigt order, positive in tension).
STRESS_COLUMNS: tuple[str, ...] = ("sxx", "syy", "szz", "syz", "sxz", "sxy")


@dataclass
class ElasticMDSettings:
    """Stress–strain MD settings. Units: fs, steps; ``strain`` dimensionless (≤ 0.02).

    ``barostat``: ``None`` picks ``aniso`` on the LAMMPS engine, ``iso`` on the ASE engine (which has
    no other). ``components``: the Voigt directions strained (0-based; all six for a general crystal,
    fewer with a ``symmetry`` that they determine). ``n_blocks``: blocks for the stress error bars.
    """

    strain: float = 0.01
    timestep_fs: float = 1.0
    npt_equilibration_steps: int = 1000
    npt_steps: int = 2000
    nvt_equilibration_steps: int = 500
    nvt_steps: int = 2000
    sample_interval: int = 5
    n_blocks: int = 8
    barostat: str | None = None
    thermostat: str = "nose-hoover"
    tdamp_fs: float = 100.0
    pdamp_fs: float = 1000.0
    seed: int = 0
    symmetry: str | None = None
    components: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
    guard: MDGuard = field(default_factory=MDGuard)

    def check(self) -> None:
        """One ``ValueError`` line for an impossible setting."""
        for key in ("npt_steps", "nvt_steps", "sample_interval"):
            if int(getattr(self, key)) < 1:
                raise ValueError(f"{key}: {getattr(self, key)!r}; must be ≥ 1")
        for key in ("npt_equilibration_steps", "nvt_equilibration_steps"):
            if int(getattr(self, key)) < 0:
                raise ValueError(f"{key}: {getattr(self, key)!r}; must be ≥ 0")
        if self.nvt_steps // self.sample_interval < 2 * self.n_blocks:
            raise ValueError(f"nvt_steps: {self.nvt_steps} steps sampled every {self.sample_interval} give "
                             f"{self.nvt_steps // self.sample_interval} stresses; {2 * self.n_blocks} needed for "
                             f"{self.n_blocks} blocks (n_blocks) of ≥ 2")
        bad = [c for c in self.components if c not in range(6)]
        if bad or not self.components:
            raise ValueError(f"components: {self.components!r}; Voigt directions 0..5")


def _engine_name(engine: Engine, calculator: Calculator) -> str:
    choose = getattr(engine, "choose", None)
    return choose(calculator).name if callable(choose) else getattr(engine, "name", "?")


def _stress_GPa(atoms: Atoms) -> np.ndarray:
    """Full stress (virial + kinetic), Voigt, GPa, positive in tension (ASE)."""
    return np.asarray(atoms.get_stress(voigt=True, include_ideal_gas=True)) * EV_PER_A3_TO_GPA


def _md(engine: Engine, atoms: Atoms, calculator: Calculator, s: ElasticMDSettings, ensemble: str, T: float,
        P: float, equil: int, steps: int, barostat: str, seed: int, init: bool, record) -> None:
    def observe(a: Atoms, step: int) -> None:
        if step > equil:
            record(a, step)

    engine.run(atoms, calculator, MDSettings(
        ensemble=ensemble, temperature_K=T, steps=equil + steps, timestep_fs=s.timestep_fs, pressure_GPa=P,
        thermostat=s.thermostat, seed=seed, init_velocities=init, tdamp_fs=s.tdamp_fs, pdamp_fs=s.pdamp_fs,
        guard=s.guard, observers=[(observe, s.sample_interval)], barostat=barostat))


def write_stress_series(path: Path, voigt_strain, stresses_GPa: np.ndarray, steps, temperature_K: float,
                        density: float, cell_A, reference_pressure_GPa: float | None = None) -> Path:
    """One strained run's stress series in the layout ``deepearth analyze elastic --stress-strain`` reads:

    ``# voigt_strain: e1 e2 e3 e4 e5 e6`` (engineering), ``# temperature_K: T``,
    ``# density_kg_m3: ρ`` (of the unstrained reference), ``# reference_cell_A: 9 numbers`` (rows),
    ``# reference_pressure_GPa: P`` (the unstrained reference's mean pressure, if known),
    then a header ``step sxx syy szz syz sxz sxy`` and one row per sample (GPa, positive in tension).
    """
    e = " ".join(f"{v:.10g}" for v in np.asarray(voigt_strain, dtype=float))
    cell = " ".join(f"{v:.10g}" for v in np.asarray(cell_A, dtype=float).ravel())
    lines = [f"# voigt_strain: {e}", f"# temperature_K: {temperature_K:.10g}", f"# density_kg_m3: {density:.10g}",
             f"# reference_cell_A: {cell}"]
    if reference_pressure_GPa is not None:
        lines.append(f"# reference_pressure_GPa: {reference_pressure_GPa:.10g}")
    lines.append("# step " + " ".join(STRESS_COLUMNS))
    lines += [f"{int(t)} " + " ".join(f"{v:.8g}" for v in row) for t, row in zip(steps, stresses_GPa)]
    path.write_text("\n".join(lines) + "\n")
    return path


def elastic_constants_md(atoms: Atoms, calculator: Calculator, pressure_GPa: float, temperature_K: float,
                         engine: Engine, settings: ElasticMDSettings | None = None,
                         out_dir: str | Path | None = None) -> ElasticResult:
    """Isothermal elastic constants of ``atoms`` at ``pressure_GPa`` (GPa) and ``temperature_K`` (K) by
    stress–strain MD with ``engine`` (:func:`deepearth.md.engines.make_engine`) and ``calculator``
    (module docstring: the three steps, conventions, references). ``out_dir``: write each strained
    run's stress series there (:func:`write_stress_series`) and the NPT cell series ``npt_cells.txt``.

    Returns an :class:`~deepearth.properties.elastic.ElasticResult` whose ``fit`` also holds the NPT
    average cell and pressure and every strained run's mean stress ± error. One ``ValueError`` line for
    bad settings or too-small/too-noisy strains (:func:`~deepearth.properties.elastic.stiffness_from_stress_strain`);
    :class:`~deepearth.md.engine.MDBlowUp` from a run that goes wrong.
    """
    s = settings or ElasticMDSettings()
    s.check()
    strains = strain_set(s.strain, s.components)
    stiffness_from_stress_strain(strains, np.zeros_like(strains), symmetry=s.symmetry)  # the set determines C: before any MD
    name = _engine_name(engine, calculator)
    barostat = s.barostat or ("iso" if name == "ase" else "aniso")
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)

    work = atoms.copy()
    cells, npt_stress = [], []
    _md(engine, work, calculator, s, "npt", temperature_K, pressure_GPa, s.npt_equilibration_steps, s.npt_steps,
        barostat, s.seed, True, lambda a, _: (cells.append(a.cell.array.copy()), npt_stress.append(_stress_GPa(a))))
    if len(cells) < 2:
        raise ValueError(f"npt_steps: {s.npt_steps} steps sampled every {s.sample_interval} give {len(cells)} cells; "
                         "at least 2 needed for an average cell")
    cell = np.mean(cells, axis=0)
    work.set_cell(cell, scale_atoms=True)
    work.wrap()
    rho = density_kg_m3(work)
    npt_p = block_average(-np.mean(np.array(npt_stress)[:, :3], axis=1), min(s.n_blocks, len(cells) // 2),
                          "NPT pressure") if len(cells) >= 8 else None
    if out is not None:
        np.savetxt(out / "npt_cells.txt", np.array(cells).reshape(len(cells), 9),
                   header="NPT cells after equilibration, rows a b c (Å): ax ay az bx by bz cx cy cz")
    log.info("elastic MD: NPT cell at %g GPa, %g K: %s Å", pressure_GPa, temperature_K, np.round(cell, 4).tolist())

    means, errors, runs = [], [], []
    for k, e in enumerate(strains):
        run = work.copy()  # positions and momenta of the reference
        run.set_cell(strained_cell(cell, e), scale_atoms=True)
        series, steps = [], []
        _md(engine, run, calculator, s, "nvt", temperature_K, pressure_GPa, s.nvt_equilibration_steps, s.nvt_steps,
            barostat, s.seed + 1 + k, False, lambda a, t: (series.append(_stress_GPa(a)), steps.append(t)))
        blocks = block_average(np.array(series), s.n_blocks, f"stresses of strain {k} ({np.round(e, 6).tolist()})")
        means.append(blocks.mean)
        errors.append(blocks.stderr)
        runs.append({"voigt_strain": e.tolist(), "stress_GPa": blocks.mean, "stress_stderr_GPa": blocks.stderr,
                     "n_samples": blocks.n_samples, "n_blocks": blocks.n_blocks})
        if out is not None:
            write_stress_series(out / f"strain_{k:02d}.dat", e, np.array(series), steps, temperature_K, rho, cell,
                                None if npt_p is None else npt_p.mean[0])
    n = len(atoms)
    method = (f"stress-strain MD ({name} engine, {n} atoms, {s.timestep_fs:g} fs; NPT {barostat} "
              f"{s.npt_equilibration_steps}+{s.npt_steps} steps, NVT {s.nvt_equilibration_steps}+{s.nvt_steps} "
              f"steps per strain, ±{s.strain:g}, stresses every {s.sample_interval} steps in {s.n_blocks} blocks)")
    p_ref = float(pressure_GPa) if npt_p is None else npt_p.mean[0]  # the reference state's (the offsets hold O(δ²))
    result = from_stress_strain(strains, np.array(means), rho, np.array(errors), s.symmetry, pressure_GPa=p_ref,
                                temperature_K=temperature_K, cell_A=cell, method=method, thermodynamic="isothermal",
                                seed=s.seed)
    result.fit.update({"target_pressure_GPa": float(pressure_GPa), "npt_mean_cell_A": cell.tolist(),
                       "npt_pressure_GPa": None if npt_p is None else [npt_p.mean[0], npt_p.stderr[0]],
                       "runs": runs, "engine": name})
    return result
