"""A model (or a calibrated committee) from labelled first-principles frames, without a recipe.

:func:`train_from_frames` is what ``deepearth train DATA... --backend pod|deepmd --committee N --out DIR``
does (``dp train`` for users who already have DFT frames): it

1. refuses frames of mixed references (all must share one ``code`` and one ``functional``, read
   from ``info["provenance"]`` as :func:`deepearth.reference.read_frames` fills it; a key a source
   does not record counts as its own value, "not recorded") unless ``allow_mixed``;
2. splits the frames train/valid deterministically, frame by frame, with
   :func:`deepearth.store.assign_split` on the candidate id of
   :func:`deepearth.reference.io.frame_id` (source file, index in it, content) — the split
   ``deepearth import`` makes with the same seed and fraction;
3. writes both parts as DeePMD npy systems (``DIR/data/train``, ``DIR/data/valid``);
4. trains the members in ``DIR/member-k/`` (POD: one full fit for a single model, bootstrap
   resamples for a committee; DeePMD: members differ by the network seed) — members already trained
   are returned as they are (``Potential.train`` is idempotent);
5. measures member 0's held-out errors and, for a committee with at least
   :data:`MIN_CALIBRATION_FRAMES` held-out frames, the calibration of its force spread
   (:func:`deepearth.potentials.committee.committee_calibration`);
6. writes ``DIR/training.json``: the result, the data sources and their provenance, the settings
   and the split seed.

``DIR/training.json`` is written first (``"complete": false``) with a fingerprint of the data, the
split and the settings; a later call into the same ``DIR`` with other data or settings is refused
rather than handed the old members. Adding members (a larger ``committee``) is allowed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms

from deepearth.files import json_ready, write_json_atomic
from deepearth.parallel import Executor
from deepearth.potentials.committee import Committee, committee_calibration
from deepearth.potentials.ensemble import train_committee
from deepearth.potentials.registry import POTENTIALS, default_settings, load_evaluator, make_potential
from deepearth.potentials.validation import validation_errors
from deepearth.reference.io import frame_id
from deepearth.reference.provenance import code_name
from deepearth.store import assign_split, export_frames_deepmd

log = logging.getLogger("deepearth.train")

#: Fewest held-out frames a committee's spread is calibrated on (a factor from fewer is noise).
MIN_CALIBRATION_FRAMES = 10

#: Provenance keys that must agree between all frames of one training set.
REFERENCE_KEYS = ("code", "functional")

#: Provenance keys that describe a frame, not its source (left out of the per-source summary).
PER_FRAME_KEYS = ("source_frame", "config_type")

NOT_RECORDED = "not recorded"


@dataclass
class TrainResult:
    """What :func:`train_from_frames` made: the model files (member 0 first), the split, member 0's
    held-out errors (``held_out``: :meth:`ValidationErrors.summary`, RMSEs of energy meV/atom, force
    components eV/Å, stress components GPa with bootstrap standard errors) and the committee's
    calibration (``calibration``: :meth:`CommitteeCalibration.to_dict`, or ``None`` with the reason
    in ``calibration_note``)."""

    out_dir: str
    backend: str
    type_map: list[str]
    models: list[str]
    member_seeds: list[int]
    n_train: int
    n_valid: int
    held_out: dict
    calibration: dict | None
    calibration_note: str
    seed: int
    validation_fraction: float
    settings: dict
    sources: list[dict] = field(default_factory=list)
    n_duplicates: int = 0
    allow_mixed: bool = False
    wall_time_s: float = 0.0

    def to_dict(self) -> dict:
        return json_ready(asdict(self))


# ------------------------------------------------------------------------------ frames and sources
def _provenance(atoms: Atoms) -> dict:
    return atoms.info.get("provenance") or {}


def _source(atoms: Atoms, index: int) -> tuple[str, int]:
    """(source file, index in it) of a frame; frames built in memory count as one source, ``frames``."""
    prov = _provenance(atoms)
    if "source_file" in prov:
        return str(prov["source_file"]), int(prov.get("source_frame", index))
    return "frames", index


def reference_of(atoms: Atoms) -> dict[str, str]:
    """The reference a frame was labelled with: ``code`` (its name without the version, as
    :func:`~deepearth.reference.provenance.code_name` and ``deepearth import`` compare it) and
    ``functional`` (``method`` where no functional is recorded, as labellers write it),
    :data:`NOT_RECORDED` for a key the source lacks."""
    prov = _provenance(atoms) or atoms.info
    functional = prov.get("functional", prov.get("method"))
    return {"code": code_name(prov["code"]) if prov.get("code") else NOT_RECORDED,
            "functional": NOT_RECORDED if functional is None else str(functional)}


def check_single_reference(frames: list[Atoms]) -> None:
    """``ValueError`` naming the values and the files when ``frames`` come from more than one
    reference (``code`` or ``functional`` differ): a model must not fit two potential-energy surfaces."""
    problems = []
    for key in REFERENCE_KEYS:
        by_value: dict[str, Counter] = defaultdict(Counter)
        for i, atoms in enumerate(frames):
            by_value[reference_of(atoms)[key]][_source(atoms, i)[0]] += 1
        if len(by_value) > 1:
            parts = []
            for value, files in sorted(by_value.items()):
                where = ", ".join(f"{f} ({n} frames)" for f, n in sorted(files.items()))
                parts.append(f"{value!r} in {where}")
            problems.append(f"{key} " + "; ".join(parts))
    if problems:
        raise ValueError("mixed references: " + " | ".join(problems) + ". Train on one reference at a time, "
                         "or allow it explicitly (allow_mixed=True, --allow-mixed)")


def _sources(frames: list[Atoms], splits: list[str]) -> list[dict]:
    """One summary per source file: frame counts and the provenance its frames share."""
    by_file: dict[str, list[int]] = defaultdict(list)
    for i, atoms in enumerate(frames):
        by_file[_source(atoms, i)[0]].append(i)
    out = []
    for name, idx in sorted(by_file.items()):
        provs = [_provenance(frames[i]) for i in idx]
        common = {k: v for k, v in provs[0].items() if k not in PER_FRAME_KEYS and k != "source_file"
                  and all(p.get(k) == v for p in provs[1:])}
        out.append({"file": name, "n_frames": len(idx), "n_train": sum(splits[i] == "train" for i in idx),
                    "n_valid": sum(splits[i] == "valid" for i in idx), "provenance": common})
    return out


# ------------------------------------------------------------------------------ settings
def backend_settings(backend: str, committee: int, settings: dict | None = None) -> dict:
    """The keyword arguments of ``backend``'s class: the recipe defaults
    (:func:`deepearth.potentials.registry.default_settings`) with ``settings`` over them, validated
    (an unknown key or a bad value is one ``ValueError`` line). POD: ``bootstrap`` is on for a
    committee (members fitted on bootstrap resamples) and off for one model (one fit on all frames)."""
    if backend not in POTENTIALS:
        raise ValueError(f"unknown backend {backend!r} (one of {', '.join(POTENTIALS)})")
    settings = dict(settings or {})
    if "bootstrap" in settings and backend != "pod":
        raise ValueError(f"{backend} settings: bootstrap is a POD setting")
    bootstrap = settings.pop("bootstrap", committee > 1)
    try:
        resolved = default_settings(backend, **settings).backend_settings()
    except ValueError as exc:  # pydantic's ValidationError: several lines -> one
        errors = getattr(exc, "errors", None)
        text = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in errors()) if errors else str(exc)
        raise ValueError(f"{backend} settings: {text}") from None
    if backend == "pod":
        resolved["bootstrap"] = bool(bootstrap)
    return json_ready(resolved)


def member_seed(seed: int, k: int) -> int:
    """Seed of committee member ``k`` (POD: its bootstrap resample; DeePMD: its network), derived from ``seed``."""
    return int(np.random.default_rng([int(seed), 1, int(k)]).integers(0, 2**31 - 1))


def _fingerprint(ids: list[str], splits: list[str]) -> str:
    """Hash of the frames (candidate ids) and their split."""
    h = hashlib.sha1()
    for cid, split in sorted(zip(ids, splits)):
        h.update(f"{cid}:{split}\n".encode())
    return h.hexdigest()


#: What must match between the call that trained the members of a folder and a later one.
IDENTITY_KEYS = ("backend", "type_map", "settings", "seed", "data_fingerprint")


def _check_out_dir(out_dir: Path, identity: dict) -> None:
    """``ValueError`` when ``out_dir/training.json`` records members of another backend, type map,
    settings, seed or data/split than ``identity`` (reusing them would hand back the wrong models)."""
    record = out_dir / "training.json"
    if not record.is_file():
        return
    try:
        old = json.loads(record.read_text())
    except (OSError, json.JSONDecodeError):
        old = {}
    old = old if isinstance(old, dict) else {}
    differ = []
    for key in IDENTITY_KEYS:
        if old.get(key) == identity[key]:
            continue
        if key == "settings" and isinstance(old.get(key), dict):
            changed = sorted(k for k in set(old[key]) | set(identity[key]) if old[key].get(k) != identity[key].get(k))
            differ.append("settings " + ", ".join(f"{k} {old[key].get(k)!r} -> {identity[key].get(k)!r}"
                                                   for k in changed))
        elif key == "data_fingerprint":
            differ.append("the frames or their train/valid split")
        else:
            differ.append(f"{key} {old.get(key)!r} -> {identity[key]!r}")
    if differ:
        raise ValueError(f"{out_dir}: its members were trained with other {'; '.join(differ)} ({record}); "
                         "train into a new --out folder (or delete this one)")


def _calibrate(models: list[Path], backend, valid: list[Atoms]) -> tuple[dict | None, str]:
    if len(models) < 2:
        return None, "one model: no committee spread to calibrate"
    if len(valid) < MIN_CALIBRATION_FRAMES:
        return None, (f"not calibrated: {len(valid)} held-out frames, fewer than {MIN_CALIBRATION_FRAMES} "
                      "(hold out more with a larger validation fraction, or add data)")
    try:
        cal = committee_calibration(Committee(models, backend), valid).to_dict()
    except ValueError as exc:
        return None, f"not calibrated: {exc}"
    return cal, (f"force spread x{cal['factor']:.3g} = held-out force error of the committee mean "
                 f"({cal['n_frames']} frames)")


# ------------------------------------------------------------------------------ training
def train_from_frames(frames: list[Atoms], backend: str, out_dir: str | Path, *, committee: int = 1,
                      validation_fraction: float = 0.15, seed: int = 2026, settings: dict | None = None,
                      type_map: list[str] | None = None, allow_mixed: bool = False,
                      executor: Executor | None = None) -> TrainResult:
    """Train ``committee`` models of ``backend`` (``pod`` or ``deepmd``) on labelled ``frames`` into
    ``out_dir/member-k/`` and measure them on the frames held out (see the module docstring).

    ``frames``: ASE atoms with energy and forces (a calculator, e.g. from
    :func:`deepearth.reference.read_frames`) and, where known, ``info["provenance"]``.
    ``settings``: backend keyword arguments over the recipe defaults (e.g. ``{"four_body": (0, 0)}``
    for POD, ``{"training_steps": 20000}`` for DeePMD). ``type_map``: species order of the models
    (default: the sorted species of the frames). ``executor``: where members train (default: in
    this process; :func:`deepearth.parallel.make_executor` for workers).

    Raises ``ValueError`` for mixed references, no training frames, unknown species or settings,
    or an ``out_dir`` holding models of other data or settings.
    """
    start = time.perf_counter()
    if committee < 1:
        raise ValueError(f"committee must be at least 1, got {committee}")
    if not 0.0 <= validation_fraction < 1.0:
        raise ValueError(f"validation fraction must be in [0, 1), got {validation_fraction}")
    if not frames:
        raise ValueError("no frames to train on")
    for i, atoms in enumerate(frames):
        if atoms.calc is None or "energy" not in atoms.calc.results or "forces" not in atoms.calc.results:
            src, j = _source(atoms, i)
            raise ValueError(f"{src}: frame {j} has no reference energy and forces")
    if not allow_mixed:
        check_single_reference(frames)
    species = sorted({s for a in frames for s in a.get_chemical_symbols()})
    type_map = list(type_map) if type_map else species
    missing = sorted(set(species) - set(type_map))
    if missing:
        raise ValueError(f"species {missing} of the frames are not in the type map {type_map}")
    resolved = backend_settings(backend, committee, settings)

    # deterministic split, duplicates (the same frame given twice) kept once
    kept, ids, seen = [], [], set()
    for i, atoms in enumerate(frames):
        src, j = _source(atoms, i)
        cid = atoms.info.get("candidate_id") or frame_id(atoms, src, j)
        if cid in seen:
            continue
        seen.add(cid)
        kept.append(atoms)
        ids.append(cid)
    splits = [assign_split(cid, seed, validation_fraction) for cid in ids]
    order = np.argsort(ids, kind="stable")  # frame order independent of the order of the inputs
    train = [kept[i] for i in order if splits[i] == "train"]
    valid = [kept[i] for i in order if splits[i] == "valid"]
    if not train:
        raise ValueError(f"all {len(kept)} frames were held out for validation (fraction {validation_fraction}); "
                         "give more frames or a smaller validation fraction")

    out_dir = Path(out_dir).resolve()  # the records name absolute model paths
    identity = {"backend": backend, "type_map": type_map, "settings": resolved, "seed": int(seed),
                "data_fingerprint": _fingerprint(ids, splits)}
    _check_out_dir(out_dir, identity)
    sources = _sources(kept, splits)
    seeds = [member_seed(seed, k) for k in range(committee)]
    header = {"complete": False, **identity, "validation_fraction": validation_fraction, "sources": sources}
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out_dir / "training.json", header)

    data = out_dir / "data"
    shutil.rmtree(data, ignore_errors=True)  # cheap to rebuild from the frames
    train_systems = export_frames_deepmd(train, data / "train", type_map)
    valid_systems = export_frames_deepmd(valid, data / "valid", type_map) if valid else []
    potential = make_potential(backend, type_map, **resolved)
    log.info("training %d %s model(s) on %d frames (%d held out) in %s", committee, backend, len(train), len(valid),
             out_dir)
    models = train_committee(potential, out_dir, train_systems, valid_systems, seeds, executor=executor,
                             on_done=lambda k, p: log.info("member %d: %s", k, p))

    errors = validation_errors(load_evaluator(models[0]), valid)
    calibration, note = _calibrate(models, potential, valid)
    result = TrainResult(out_dir=str(out_dir), backend=backend, type_map=type_map, models=[str(m) for m in models],
                         member_seeds=seeds, n_train=len(train), n_valid=len(valid), held_out=errors.summary(),
                         calibration=calibration, calibration_note=note, seed=seed,
                         validation_fraction=validation_fraction, settings=resolved, sources=sources,
                         n_duplicates=len(frames) - len(kept), allow_mixed=allow_mixed,
                         wall_time_s=time.perf_counter() - start)
    write_json_atomic(out_dir / "training.json",
                      {"complete": True, "data_fingerprint": identity["data_fingerprint"], **result.to_dict()})
    return result
