"""The context every stage works on: built once from the recipe, each part replaceable.

A test (or a cluster user) passes its own labeller, potential backend, engines or executor to
:func:`build_context`; the stages never build parts themselves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms

from deepearth.md.engine import Engine
from deepearth.md.engines import make_engine
from deepearth.parallel import Executor, make_executor
from deepearth.pipeline.systems import CampaignSystem, campaign_systems
from deepearth.potentials.base import Potential
from deepearth.potentials.registry import make_potential, potential_entry
from deepearth.properties.eos import BirchMurnaghan3
from deepearth.recipe import Recipe, check_recipe
from deepearth.reference.labeller import Labeller
from deepearth.reference.registry import make_labeller
from deepearth.rundir import RunDir, RunState
from deepearth.store import LabelStore, assign_split

log = logging.getLogger("deepearth")


class ProgressHook:
    """Where the stages report how far their tasks are (labels, committee members, grid points,
    replicas): :meth:`start` with the stage's task count, :meth:`advance` per finished task,
    :meth:`finish` at its end. This default reports nothing (the log lines say the same); the command
    line passes progress bars (:class:`deepearth.cli.progress.RunProgress`)."""

    def start(self, what: str, total: int, done: int = 0) -> None:
        """A stage of ``total`` tasks begins, ``done`` of them finished before (a resumed run)."""

    def advance(self, n: int = 1) -> None:
        """``n`` more tasks finished."""

    def finish(self) -> None:
        """The stage is over (every task finished, or the rest was skipped)."""


@dataclass
class RunContext:
    """The recipe and the parts its stages use.

    ``labeller`` is ``None`` for ``reference.kind = "imported"`` (train on the store, label nothing);
    ``calibrate_spread``: scale the committee spread to the held-out error (bootstrap committees).
    """

    recipe: Recipe
    rundir: RunDir
    store: LabelStore
    systems: list[CampaignSystem]
    type_map: list[str]
    labeller: Labeller | None
    potential: Potential
    exploration_engine: Engine
    production_engine: Engine
    executor: Executor
    calibrate_spread: bool
    state: RunState = field(default_factory=RunState)
    eos: dict[str, BirchMurnaghan3] = field(default_factory=dict)  # each system's reference static EOS, once fitted
    progress: ProgressHook = field(default_factory=ProgressHook)

    @property
    def structures(self) -> dict[str, Atoms]:
        """Each system's built structure by name."""
        return {s.name: s.atoms for s in self.systems}

    def system(self, name: str) -> CampaignSystem:
        return next(s for s in self.systems if s.name == name)

    def system_of(self, record) -> CampaignSystem:
        """The system a record (exploration or replica result, candidate) belongs to, by its folder."""
        return next(s for s in self.systems if s.folder == record.system)

    def seed(self, *parts: int) -> int:
        """A derived seed: deterministic in the master seed and the stage indices."""
        return int(np.random.default_rng([self.recipe.seed, *parts]).integers(0, 2**31 - 1))

    def split_of(self, candidate_id: str) -> str:
        return assign_split(candidate_id, self.recipe.seed, self.recipe.reference.validation_fraction)

    def set_stage(self, stage: str, **extra) -> None:
        for key, value in extra.items():
            setattr(self.state, key, value)
        self.state.stage = stage
        self.rundir.write_state(self.state)
        log.info("stage: %s", stage)


def build_context(recipe: Recipe, *, labeller: Labeller | None = None, potential: Potential | None = None,
                  exploration_engine: Engine | None = None, production_engine: Engine | None = None,
                  executor: Executor | None = None, progress: ProgressHook | None = None) -> RunContext:
    """The run directory, store and parts of ``recipe``; any part given here replaces the recipe's
    (``progress``: where the stages report their tasks, :class:`ProgressHook`).

    Raises ``ValueError`` when the store holds labels of another reference than the labeller's (or,
    for an imported store, of more than one reference).
    """
    rundir = RunDir(recipe.run_dir)
    store = LabelStore(recipe.store_url or rundir.store_file)
    built = check_recipe(recipe)  # built and checked (a recipe made in code skipped load_recipe's checks)
    if labeller is None:
        labeller = make_labeller(recipe.reference)
    if labeller is not None:
        store.check_provenance(labeller.provenance)
    else:
        store.check_single_reference()
        if store.count(ok=True) == 0:
            raise ValueError(f"{store.path}: reference.kind = 'imported' but the store holds no labels "
                             "(add them with: deepearth import PATH... --run RUN_DIR)")
    type_map = sorted({x for a in built.values() for x in a.get_chemical_symbols()} | set(store.elements()))
    p = recipe.potential
    if potential is None:
        potential = make_potential(p.backend, type_map, **p.backend_settings())
    return RunContext(recipe=recipe, rundir=rundir, store=store, systems=campaign_systems(recipe, built),
                      type_map=type_map,
                      labeller=labeller, potential=potential,
                      exploration_engine=exploration_engine or make_engine(recipe.exploration.engine,
                                                                           ranks=recipe.exploration.mpi_ranks),
                      production_engine=production_engine or make_engine(recipe.production.engine,
                                                                         ranks=recipe.production.mpi_ranks),
                      executor=executor or make_executor(recipe.workers, cluster=recipe.cluster),
                      calibrate_spread=potential_entry(p.backend).calibrate_spread, state=rundir.read_state(),
                      progress=progress or ProgressHook())
