"""The systems of a campaign at run time, and how their exploration learns.

A recipe's ``[[systems]]`` (or its one ``[system]``) become :class:`CampaignSystem` objects: the built
structure, the system's own ``[exploration]`` (its P–T grid, MD length and trust levels folded into a
copy of the section, so one grid point's task sees one settings object) and its share of the label
budget. A single-``[system]`` recipe is a campaign of one system named ``system`` whose folders and
label ids are those of runs made before campaigns existed (no system prefix), so they resume.

**Exploration that learns** (DP-GEN's practice of raising the temperature as the model is trusted):

- *ramp* (``exploration.ramp = "temperature"``): each system starts at its lowest temperature; when
  every active point of a system reaches ``converged_accurate_fraction``, its next temperature joins
  (:func:`next_level`). The campaign converges only when every system explores every grid point
  and all of them are accurate: a model is never called converged on a grid it has not seen.
- *continuation* (``exploration.continue_from_last``): a point's MD starts from the last trusted frame
  (the last one classified accurate) of the same point in the most recent iteration that explored
  it, else of the next lower temperature at the same pressure (the ramp's previous step), else from
  the ideal start: the crystal at the reference's static volume for P, or for a liquid a random
  packing at that volume (:func:`deepearth.structures.packing.random_packing`).
- *budget*: each iteration's ``max_candidates_per_iteration`` is shared by weight (at least one each).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ase import Atoms
from ase.io import read

from deepearth.recipe import SINGLE_SYSTEM, ExplorationSpec, Recipe, SystemSpec, system_specs
from deepearth.rundir import ExplorationResult

#: Per-atom arrays a continued start keeps from the frame it continues (the rest is the engine's).
KEPT_ARRAYS = ("region", "gb_distance_A", "formal_charge")


@dataclass
class CampaignSystem:
    """One system of a campaign: its name, recipe key, spec, built structure (a liquid's: its crystal),
    builder, its own exploration settings and weight; ``folder`` is its sub-folder in ``explore/`` and
    ``md/`` ("" for a single-``[system]`` recipe)."""

    name: str
    key: str
    spec: SystemSpec
    atoms: Atoms
    builder: str
    exploration: ExplorationSpec
    weight: float
    folder: str

    @property
    def title(self) -> str:
        """How log lines name it: its name, or "the system" for a single-``[system]`` recipe."""
        return self.name if self.folder else "the system"

    @property
    def label_prefix(self) -> str:
        """Prefix of this system's label ids (``eos-``, ``init-``...): ``"<name>-"`` or ""."""
        return f"{self.folder}-" if self.folder else ""

    @property
    def temperatures(self) -> list[float]:
        return sorted(set(self.exploration.temperatures_K))

    def grid(self) -> list[tuple[float, float]]:
        """Every (P GPa, T K) of the system's exploration grid."""
        ex = self.exploration
        return [(p, t) for p in ex.pressures_GPa for t in ex.temperatures_K]

    def n_levels(self, ramp: str) -> int:
        return len(self.temperatures) if ramp == "temperature" else 1

    def active_grid(self, level: int, ramp: str) -> list[tuple[float, float]]:
        """The points explored at ramp ``level`` (0: the lowest temperature only)."""
        if ramp != "temperature":
            return self.grid()
        top = self.temperatures[min(level, len(self.temperatures) - 1)]
        return [(p, t) for p, t in self.grid() if t <= top]


def campaign_systems(recipe: Recipe, built: dict[str, Atoms]) -> list[CampaignSystem]:
    """The campaign's systems from the recipe and their built structures (:func:`deepearth.recipe.check_recipe`)."""
    ex = recipe.exploration
    out = []
    for (key, spec), name in zip(system_specs(recipe), recipe.system_names):
        own = {k: getattr(spec, k, None) for k in ("pressures_GPa", "temperatures_K", "steps", "trust_lo", "trust_hi")}
        settings = ex.model_copy(update={k: v for k, v in own.items() if v is not None})
        out.append(CampaignSystem(name=name, key=key, spec=spec, atoms=built[name],
                                  builder=getattr(spec, "builder", "crystal"), exploration=settings,
                                  weight=getattr(spec, "weight", 1.0),
                                  folder="" if name == SINGLE_SYSTEM and not recipe.systems else name))
    return out


def next_level(level: int, system: CampaignSystem, results: list[ExplorationResult], ramp: str) -> int:
    """The system's ramp level after an iteration whose results (its active points) are ``results``:
    one up when every one of them reached the converged fraction."""
    frac = system.exploration.converged_accurate_fraction
    if results and all(r.fractions["accurate"] >= frac for r in results):
        return min(level + 1, system.n_levels(ramp) - 1)
    return level


def state_point(system_folder: str, P_GPa: float, T_K: float) -> str:
    """How logs and flags name a (system, P, T) point: "melt P=50 GPa, T=5000 K" ("P=..." for a single
    [system] recipe, whose folder is "")."""
    return f"{system_folder + ' ' if system_folder else ''}P={P_GPa:g} GPa, T={T_K:g} K"


def candidate_caps(systems: list[CampaignSystem], total: int) -> dict[str, int]:
    """Each system's share of ``total`` candidates: ``round(total × w / Σw)``, at least 1."""
    wsum = sum(s.weight for s in systems)
    return {s.name: max(1, round(total * s.weight / wsum)) for s in systems}


def last_trusted_frame(point_dir: Path) -> Atoms | None:
    """The last frame of a finished exploration point classified accurate (``None``: no such frame,
    or the point did not finish), as a clean start: positions, cell and the kept per-atom arrays.
    Candidate frames are not trusted starts: a liquid MgO run continued from the candidate frame just
    before a blow-up lost atoms within 10 steps, the same model from a fresh packing ran 240."""
    if not (point_dir / "result.json").is_file() or not (point_dir / "deviation.csv").is_file():
        return None
    with open(point_dir / "deviation.csv") as fh:
        rows = list(csv.DictReader(fh))
    good = [int(r["frame"]) for r in rows if r.get("class") == "accurate"]
    if not good:
        return None
    frame = read(point_dir / "traj.extxyz", index=good[-1], format="extxyz")
    start = Atoms(frame.get_chemical_symbols(), positions=frame.get_positions(wrap=True), cell=frame.cell, pbc=True)
    for name in KEPT_ARRAYS:
        if name in frame.arrays:
            start.arrays[name] = frame.arrays[name].copy()
    start.info["continued_from"] = f"{point_dir}/traj.extxyz@{good[-1]}"
    return start


def continuation_start(point_dir_of, iteration: int, system: CampaignSystem, P_GPa: float, T_K: float) -> Atoms | None:
    """The start :func:`last_trusted_frame` gives for (P, T) at ``iteration``: the same point in the most
    recent earlier iteration, else the next lower temperature at P; ``point_dir_of(it, P, T)`` names
    the folders. ``None``: nothing to continue."""
    lower = sorted((t for t in system.temperatures if t < T_K), reverse=True)
    for t in [T_K, *lower]:
        for prev in range(iteration - 1, -1, -1):
            start = last_trusted_frame(point_dir_of(prev, P_GPa, t))
            if start is not None:
                return start
    return None
