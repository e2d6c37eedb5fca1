"""The run directory: its layout and its typed records, in one place.

Nothing else in deepearth builds a path inside a run directory or globs one: the pipeline, the
report, ``deepearth status`` and ``deepearth import`` all go through :class:`RunDir`. Layout::

    RUN/
      recipe.toml            the effective recipe that made the run
      deepearth.db           labelled configurations + provenance (:class:`deepearth.store.LabelStore`)
      deepearth.log          the run's log (tracebacks of failed stages too)
      state.json             where the run stands (:class:`RunState`)
      data/iter-NNN/         training data exported from the store (rebuilt on demand)
      models/iter-NNN/       the committee of iteration NNN (member-k/) and its validation.json
      models/final           -> the converged iteration's folder
      explore/iter-NNN/      one folder per grid point [<system>/]P<p>-T<t>/ (traj.extxyz, deviation.csv,
                             result.json = :class:`ExplorationResult`) and candidates.json
      md/[<system>/]P<p>-T<t>/rep-<r>/  production replicas (traj.extxyz, done.json = :class:`ReplicaResult`)
                             (<system>/: a campaign's system; a single-[system] recipe has none)
      results/               one JSON per property (reference_eos.json, diffusion.json)
      report/index.html      figures and tables
      summary.json           the machine-readable outcome (:class:`RunSummary`, schema in the README)

Records are dataclasses with ``to_dict``/``from_dict``; their JSON keys are the files' keys.
"""

from __future__ import annotations

import fcntl
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import IO, Any

from deepearth.files import read_json, write_json_atomic


class Record:
    """Mixin: ``to_dict`` / ``from_dict`` for the record dataclasses (unknown keys are ignored)."""

    def to_dict(self) -> dict:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict):
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class ExplorationResult(Record):
    """One explored grid point: frame classes, candidate frames, deviations (``result.json``).

    ``fractions``: accurate/candidate/failed over ``n_frames`` planned frames (frames a blow-up
    did not reach count as failed); ``deviation_used``: the classified deviation of every frame
    (eV/Å if absolute, else dimensionless) after the calibration factor ``deviation_scale``;
    ``max_force_std``: ε_F = max_i σ_F,i in eV/Å; ``mean_volume_A3``: Å³; ``mean_T_K``,
    ``mean_P_GPa``: where the exploration went (means over its frames; K, GPa); ``outside_envelope``:
    how many frames left the driving model's training envelope (``explore.campaign``'s envelope rule).
    """

    P_GPa: float
    T_K: float
    n_frames: int
    fractions: dict[str, float]
    deviation_scale: float = 1.0
    candidate_frames: list[int] = field(default_factory=list)
    deviation_used: list[float] = field(default_factory=list)
    max_force_std: list[float] = field(default_factory=list)
    blow_up: str = ""
    mean_volume_A3: float | None = None
    mean_T_K: float | None = None  # mean instantaneous temperature of the explored frames, K
    mean_P_GPa: float | None = None  # mean instantaneous pressure (virial + kinetic), GPa
    system: str = ""  # the campaign system ("" for a single-[system] recipe)
    outside_envelope: int = 0  # frames outside the training envelope (made candidates if accurate)


@dataclass
class ReplicaResult(Record):
    """One production replica (``done.json``): state-point averages (K, GPa, Å³) and its trajectory.

    ``blow_up``: empty, or why the replica's MD stopped (what, step, time; the averages then cover the
    frames before it, null if none): not a production trajectory, to be skipped and flagged.
    """

    P_GPa_target: float
    T_K_target: float
    volume_A3: float
    T_mean_K: float
    P_mean_GPa: float
    P_std_GPa: float
    n_frames: int
    trajectory: str
    blow_up: str = ""
    system: str = ""  # the campaign system ("" for a single-[system] recipe)


@dataclass
class Candidate(Record):
    """A frame chosen for labelling: its trajectory, index in it and origin (P GPa, T K). ``split``:
    "valid" for a calibration frame (held out whatever the id's hash says), "" for the usual split."""

    parent: str
    frame: int
    P_GPa: float
    T_K: float
    system: str = ""
    split: str = ""


@dataclass
class IterationRecord(Record):
    """The committee trained at one iteration: its labels, held-out errors and exploration outcome
    (the ``iterations`` entries of ``summary.json``; see the README)."""

    iteration: int
    n_labelled_total: int = 0
    n_new_labels: int = 0
    n_failed_labels_total: int = 0
    accurate_fraction: float = 0.0
    candidate_fraction: float = 0.0
    failed_fraction: float = 0.0
    rmse_energy_meV_per_atom: float | None = None
    rmse_force_eV_per_A: float | None = None
    rmse_stress_GPa: float | None = None
    n_validation_frames: int = 0
    deviation_scale: float = 1.0
    grid: list[dict] = field(default_factory=list)


@dataclass
class RunState(Record):
    """Where a run stands (``state.json``)."""

    stage: str = "created"
    updated: str = ""
    iteration: int = 0
    iterations: list[dict] = field(default_factory=list)
    converged: bool | None = None
    final_iteration: int | None = None
    #: one entry per ``deepearth run`` of this directory: ``started`` (ISO), ``t0`` (epoch s) and
    #: ``wall_time_s`` (updated with every state write, so a killed invocation counts to its last stage)
    invocations: list[dict] = field(default_factory=list)

    def iteration_records(self) -> list[IterationRecord]:
        return [IterationRecord.from_dict(r) for r in self.iterations]


@dataclass
class RunSummary(Record):
    """The outcome of a run (``summary.json``; the schema is in the README)."""

    deepearth_version: str
    recipe: str
    name: str
    converged: bool
    iterations: list[dict]
    final_model: str
    potential: dict
    labeller: dict
    diffusion: list[dict]
    wall_time_s: float  # this invocation
    flags: list[str] = field(default_factory=list)  # what a reader must know: unconverged model, blow-ups
    wall_time_total_s: float | None = None  # every invocation of the run directory (a resumed run's parts)
    n_invocations: int = 0


class RunLocked(RuntimeError):
    """The run directory is in use by another deepearth process."""


def point_name(P_GPa: float, T_K: float) -> str:
    """The folder name of a state point, ``P<p>-T<t>`` (GPa, K)."""
    return f"P{P_GPa:g}-T{T_K:g}"


class RunDir:
    """The layout of one run directory (``root``, made absolute: backends run in their own folders)."""

    def __init__(self, root: str | Path, create: bool = True):
        self.root = Path(root).resolve()
        if create:
            self.root.mkdir(parents=True, exist_ok=True)

    # -- files --------------------------------------------------------------------------------
    @property
    def recipe_file(self) -> Path:
        return self.root / "recipe.toml"

    @property
    def store_file(self) -> Path:
        return self.root / "deepearth.db"

    @property
    def store_location(self) -> str | Path:
        """Where the run's label store is: the ``store_url`` its settings name (PostgreSQL), else
        :attr:`store_file` (SQLite)."""
        if self.settings_file.is_file():
            url = read_json(self.settings_file).get("store_url")
            if url:
                return url
        return self.store_file

    @property
    def settings_file(self) -> Path:
        """``settings.json``: the recipe values (flattened) and the built structure's hash the work
        in this directory was made with (:mod:`deepearth.pipeline.resume`)."""
        return self.root / "settings.json"

    @property
    def log_file(self) -> Path:
        return self.root / "deepearth.log"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def summary_file(self) -> Path:
        return self.root / "summary.json"

    @property
    def report_dir(self) -> Path:
        return self.root / "report"

    def result_file(self, name: str) -> Path:
        """``results/<name>.json`` (a property's results)."""
        return self.root / "results" / f"{name}.json"

    def is_run(self) -> bool:
        return self.state_file.is_file()

    # -- training and models --------------------------------------------------------------------
    def data_dir(self, iteration: int) -> Path:
        return self.root / "data" / f"iter-{iteration:03d}"

    def model_dir(self, iteration: int) -> Path:
        return self.root / "models" / f"iter-{iteration:03d}"

    def validation_file(self, iteration: int) -> Path:
        return self.model_dir(iteration) / "validation.json"

    @property
    def final_model_dir(self) -> Path:
        return self.root / "models" / "final"

    def mark_final(self, iteration: int) -> None:
        """Point ``models/final`` at iteration ``iteration``'s committee."""
        final = self.final_model_dir
        if final.is_symlink() or final.exists():
            final.unlink()
        final.symlink_to(self.model_dir(iteration).name)

    def final_model(self, model_name: str) -> str:
        """The production model (member 0 of ``models/final``) relative to the run directory."""
        return str(self.final_model_dir.relative_to(self.root) / "member-0" / model_name)

    def member_file(self, iteration: int, name: str, member: int = 0) -> Path | None:
        """``models/iter-NNN/member-<member>/<name>`` (e.g. DeePMD's ``lcurve.out``) if it exists."""
        path = self.model_dir(iteration) / f"member-{member}" / name
        return path if path.is_file() else None

    def iterations_with_models(self) -> list[int]:
        return sorted(int(p.name[5:]) for p in (self.root / "models").glob("iter-[0-9][0-9][0-9]"))

    # -- exploration -------------------------------------------------------------------------
    def explore_dir(self, iteration: int) -> Path:
        return self.root / "explore" / f"iter-{iteration:03d}"

    def point_dir(self, iteration: int, P_GPa: float, T_K: float, system: str = "") -> Path:
        """``explore/iter-NNN/[<system>/]P<p>-T<t>`` (a campaign system's points in its own folder)."""
        return self.explore_dir(iteration) / system / point_name(P_GPa, T_K)

    def candidates_file(self, iteration: int) -> Path:
        return self.explore_dir(iteration) / "candidates.json"

    def exploration_results(self, iteration: int) -> list[ExplorationResult]:
        """The finished grid points of exploration ``iteration`` (in folder order)."""
        d = self.explore_dir(iteration)
        return [ExplorationResult.from_dict(read_json(p))
                for p in sorted([*d.glob("*/result.json"), *d.glob("*/*/result.json")])]

    def explored_iterations(self) -> list[int]:
        return sorted(int(p.name[5:]) for p in (self.root / "explore").glob("iter-[0-9][0-9][0-9]"))

    def read_candidates(self, iteration: int) -> list[Candidate] | None:
        f = self.candidates_file(iteration)
        return [Candidate.from_dict(c) for c in read_json(f)] if f.is_file() else None

    def write_candidates(self, iteration: int, candidates: list[Candidate]) -> None:
        write_json_atomic(self.candidates_file(iteration), [c.to_dict() for c in candidates])

    # -- production --------------------------------------------------------------------------
    @property
    def md_dir(self) -> Path:
        return self.root / "md"

    def replica_dir(self, P_GPa: float, T_K: float, replica: int, system: str = "") -> Path:
        """``md/[<system>/]P<p>-T<t>/rep-<r>``."""
        return self.md_dir / system / point_name(P_GPa, T_K) / f"rep-{replica}"

    def finished_replicas(self) -> list[Path]:
        """The ``done.json`` of every finished production replica."""
        return sorted([*self.md_dir.glob("*/rep-*/done.json"), *self.md_dir.glob("*/*/rep-*/done.json")])

    # -- state, summary, lock ------------------------------------------------------------------
    def read_state(self) -> RunState:
        """Where the run stands; ``ValueError`` naming the file when ``state.json`` is damaged (it is
        a progress record only: deleting it loses no work, the next run rewrites it)."""
        if not self.state_file.is_file():
            return RunState()
        try:
            return RunState.from_dict(read_json(self.state_file))
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"{exc if isinstance(exc, ValueError) else f'{self.state_file}: unreadable ({exc})'} "
                             "- it records progress only: delete it and run again, no work is lost") from None

    def write_state(self, state: RunState) -> None:
        state.updated = time.strftime("%Y-%m-%d %H:%M:%S")
        if state.invocations and "t0" in state.invocations[-1]:
            state.invocations[-1]["wall_time_s"] = round(time.time() - float(state.invocations[-1]["t0"]), 3)
        write_json_atomic(self.state_file, state.to_dict())

    def read_summary(self) -> RunSummary | None:
        return RunSummary.from_dict(read_json(self.summary_file)) if self.summary_file.is_file() else None

    def write_summary(self, summary: RunSummary) -> None:
        write_json_atomic(self.summary_file, summary.to_dict())

    def write_result(self, name: str, data: Any) -> Path:
        path = self.result_file(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, data)
        return path

    def read_result(self, name: str) -> Any | None:
        path = self.result_file(name)
        return read_json(path) if path.is_file() else None

    def lock(self, wait_s: float = 0.0) -> IO:
        """Take the run's lock (held until the handle is closed or the process ends, even by
        ``kill -9``), waiting up to ``wait_s`` seconds for another process to release it; then
        :class:`RunLocked`, one clear error."""
        handle = open(self.root / ".lock", "w")
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return handle
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.close()
                    raise RunLocked(f"{self.root}: another deepearth process is using this run directory"
                                    + (f" (waited {wait_s:g} s)" if wait_s else "")) from None
                time.sleep(min(1.0, max(deadline - time.monotonic(), 0.01)))
