"""What a run may reuse and where it may write: a resumed run continues only work made under the
same settings, and a recipe cannot send its output anywhere the user did not name.

``settings.json`` in the run directory holds the recipe's values (flattened to dotted keys) and the
content hash of the structure they built. On a resume the new recipe is compared with it:

- a change that affects labels, models or exploration (any key of :data:`LEARNING` outside
  :data:`FREE`, or the built structure — a structure file edited in place counts) is refused while
  the run holds labels or models, naming what changed;
- a change of ``[production]`` is refused while finished production replicas exist (delete ``md/``
  to redo production with the new settings: the models are kept);
- keys in :data:`FREE` (workers, retry policy, the iteration cap, properties...) never invalidate work.

Labels are protected a second time, per configuration, by their content hash in the store
(:meth:`~deepearth.store.LabelStore.check_configuration`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ase import Atoms

from deepearth.files import read_json, read_toml, write_json_atomic
from deepearth.lammps.safe import LAMMPS_SPECIAL
from deepearth.recipe import Recipe
from deepearth.rundir import RunDir
from deepearth.store import LabelStore, StaleWork, configuration_hash

#: Sections whose values shape the labels, the models and the exploration.
LEARNING = ("seed", "store_url", "system", "systems", "initial", "reference", "potential", "exploration")
#: Section whose values shape the production MD.
PRODUCTION = ("production",)
#: Keys that may change between runs of one directory without invalidating anything.
FREE = {"name", "run_dir", "workers", "cluster", "properties", "geophysics", "reference.max_attempts", "reference.retry_backoff_s",
        "reference.timeout_s", "exploration.max_iterations", "production.allow_unconverged",
        "production.restart_interval", "exploration.mpi_ranks", "production.mpi_ranks"}
STRUCTURE_KEY = "system (built structure)"

#: Characters a run directory's path may not contain: its paths reach LAMMPS input lines (the
#: LAMMPS layer's own set, plus line breaks).
UNSAFE_PATH_CHARACTERS = LAMMPS_SPECIAL | {"\n", "\r"}


def flatten(data: dict, prefix: str = "") -> dict:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}`` (lists stay values)."""
    out = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def structures_hash(structures: dict[str, Atoms]) -> str:
    """The content hash of the built systems: the structure's own for one system (as runs made before
    campaigns recorded it), else a hash over ``name:hash`` of every system."""
    if len(structures) == 1:
        return configuration_hash(next(iter(structures.values())))
    joined = ";".join(f"{name}:{configuration_hash(a)}" for name, a in structures.items())
    return hashlib.sha256(joined.encode()).hexdigest()


def recipe_settings(recipe: Recipe, structures: dict[str, Atoms]) -> dict:
    """The recipe's values as dotted keys, plus the content hash of the structures it built."""
    values = flatten(recipe.model_dump(mode="json", exclude={"source"}))
    values[STRUCTURE_KEY] = structures_hash(structures)
    return values


#: Every key's default value (dotted keys): a key a run's settings lack (made by an older deepearth)
#: counts as unchanged while the new recipe keeps its default.
DEFAULTS = flatten(Recipe().model_dump(mode="json", exclude={"source"}))
#: What runs made before a key existed did, where that differs from its default: such a run resumes
#: only with these values (its iterations were made that way).
BEFORE_KEY_EXISTED = {"exploration.ramp": "none", "exploration.continue_from_last": False,
                      "exploration.min_calibration_frames": 1}


def _section(key: str) -> str:
    return key.split(".", 1)[0].split(" ", 1)[0]


def _free(key: str) -> bool:
    return key in FREE or _section(key) in FREE


def changed_keys(old: dict, new: dict, sections: tuple[str, ...]) -> list[str]:
    """``"key: old → new"`` for every key of ``sections`` whose value differs (free keys excepted)."""
    out = []
    for key in sorted(set(old) | set(new)):
        before = old.get(key, BEFORE_KEY_EXISTED.get(key, DEFAULTS.get(key, "(unset)")))
        if _section(key) in sections and not _free(key) and before != new.get(key, "(unset)"):
            out.append(f"{key}: {old.get(key, '(unset)')!r} -> {new.get(key, '(unset)')!r}")
    return out


def previous_settings(rundir: RunDir) -> dict | None:
    """The settings the directory's work was made with: ``settings.json``, or for a run made before
    it existed the ``recipe.toml`` copy (without the structure hash); ``None`` for a new directory."""
    if rundir.settings_file.is_file():
        return read_json(rundir.settings_file)
    if rundir.recipe_file.is_file():
        try:
            old = Recipe.model_validate(read_toml(rundir.recipe_file, "recipe copy"))
        except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
            raise StaleWork(f"{rundir.recipe_file}: the settings this run was made with cannot be read by this "
                            f"deepearth ({str(exc).splitlines()[0]}); use a new run_dir") from None
        return flatten(old.model_dump(mode="json", exclude={"source"}))
    return None


def check_resume(recipe: Recipe, structures: dict[str, Atoms], rundir: RunDir, store: LabelStore) -> None:
    """Refuse (:class:`~deepearth.store.StaleWork`, naming the changed keys) to reuse work made under
    other settings; otherwise record the settings in ``settings.json``."""
    new = recipe_settings(recipe, structures)
    old = previous_settings(rundir)
    if old is not None:
        if STRUCTURE_KEY not in old:
            old = {**old, STRUCTURE_KEY: new[STRUCTURE_KEY]}  # an old run: compare the recipe only
        learned = store.count() > 0 or bool(rundir.iterations_with_models())
        changes = changed_keys(old, new, LEARNING)
        if learned and changes:
            raise StaleWork(f"{rundir.root}: holds labels and models made with other settings ("
                            + "; ".join(changes[:6]) + (f"; +{len(changes) - 6} more" if len(changes) > 6 else "")
                            + "); use a new run_dir, or restore the old values to continue")
        changes = changed_keys(old, new, PRODUCTION)
        if rundir.finished_replicas() and changes:
            raise StaleWork(f"{rundir.md_dir}: production MD was run with other settings (" + "; ".join(changes)
                            + f"); delete {rundir.md_dir} to redo it with the new ones (labels and models are "
                            "kept), or restore the old values")
    write_json_atomic(rundir.settings_file, new)


def check_run_dir(run_dir: str | Path, recipe_file: str | Path | None, explicit: bool = False) -> Path:
    """The run directory, resolved; ``ValueError`` when its path holds characters that cannot reach a
    LAMMPS input line safely, or when a recipe (not the user's command line: ``explicit``) puts it
    outside both the recipe's folder and the current directory."""
    path = Path(run_dir).expanduser().resolve()
    bad = sorted(UNSAFE_PATH_CHARACTERS & set(str(path)))
    where = "--run-dir" if explicit else f"{recipe_file}: key 'run_dir'"
    if bad:
        raise ValueError(f"{where}: the path {str(path)!r} contains {' '.join(repr(c) for c in bad)}; "
                         "choose a directory name without quotes, newlines, $, &, #, ; or backslashes")
    if not explicit:
        homes = [Path.cwd().resolve()] + ([Path(recipe_file).resolve().parent] if recipe_file else [])
        if not any(path == h or h in path.parents for h in homes):
            raise ValueError(f"{where}: {path} is outside the recipe's folder and the current directory; "
                             "pass it on the command line (deepearth run RECIPE --run-dir DIR) to write there")
    return path
