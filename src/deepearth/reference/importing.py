"""First-principles frames into a run's label store (``deepearth import``), with provenance checks.

Every frame that :func:`deepearth.reference.io.read_frames` reads (VASP OUTCAR/vasprun.xml, Quantum
ESPRESSO pw.x, CP2K, ABACUS, DeePMD npy, extxyz incl. GPUMD/NEP) becomes one labelled row (iteration
0, ``labeller = import``, ``parent`` = source file, ``frame`` = index in it, the provenance as
columns). The ``candidate_id`` hashes the source path, the frame index and the frame's content, so
importing the same file again adds nothing. All paths are read and checked before anything is
written: an unreadable file or a second reference leaves the store as it was.

One store holds labels of one reference: one code and one functional (``code_name`` and ``method``;
versions, cutoffs, k-meshes and electronic temperatures may differ frame to frame). Mixing is refused
unless ``allow_mixed=True``; labels of a labeller (xTB, GPAW) and imported ones are never mixed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms

from deepearth.reference.io import frame_id, read_frames
from deepearth.reference.labeller import Label
from deepearth.reference.provenance import code_name
from deepearth.rundir import RunDir
from deepearth.store import LabelStore, assign_split


@dataclass
class ImportedFile:
    """What one source gave: frames read and added, and what they are (elements, T_el in K, settings)."""

    path: str
    source_format: str
    n_read: int
    n_added: int
    elements: list[str]
    T_el_K: list[float]
    settings: dict = field(default_factory=dict)
    n_without_stress: int = 0
    rejected: list[str] = field(default_factory=list)  # "frame k: why" for frames stored as failed labels

    @property
    def n_skipped(self) -> int:
        return self.n_read - self.n_added - len(self.rejected)


def apply_electronic_temperature(frames: list[Atoms], path: str | Path, T_el_K: float | None) -> None:
    """Give frames whose source records no electronic temperature ``T_el_K`` (K); a frame that
    records another value is an error naming ``path`` and the frame."""
    if T_el_K is None:
        return
    for atoms in frames:
        have = atoms.info.get("electronic_temperature_K")
        if have is None:
            atoms.info["electronic_temperature_K"] = float(T_el_K)
            atoms.info["provenance"]["T_el_K"] = float(T_el_K)
            atoms.info["provenance"]["T_el_source"] = "deepearth import --T-el-K"
        elif abs(have - T_el_K) > 1e-6 * max(abs(T_el_K), 1.0):
            frame = atoms.info["provenance"].get("source_frame", "?")
            raise ValueError(f"{path}: frame {frame} records T_el = {have:g} K but --T-el-K says {T_el_K:g} K")


def import_provenance(atoms: Atoms) -> dict:
    """The provenance stored with an imported frame: the source's, with ``labeller = import``, the
    functional as ``method`` and the code's name without its version as ``code_name``."""
    prov = dict(atoms.info["provenance"])
    prov.pop("source_file", None)
    prov.pop("source_frame", None)
    prov["labeller"] = "import"
    if "functional" in prov:
        prov.setdefault("method", prov["functional"])
    if prov.get("code"):
        prov["code_name"] = code_name(prov["code"])
    return prov


def frame_label(atoms: Atoms) -> Label:
    """A frame read by ``read_frames`` as a successful :class:`Label` (energy eV, forces eV/Å, stress
    eV/Å³ where the source has one)."""
    stress = atoms.calc.results.get("stress")
    work = atoms.copy()
    work.calc = None
    work.info = {}
    return Label(atoms=work, ok=True, energy_eV=float(atoms.get_potential_energy()),
                 forces_eV_per_A=np.array(atoms.get_forces()),
                 stress_eV_per_A3=None if stress is None else np.array(stress), provenance=import_provenance(atoms))


def reference_of(prov: dict) -> dict:
    """The identity of a reference as the store compares it (:attr:`LabelStore.IMPORT_KEYS`)."""
    return {k: prov.get(k) for k in LabelStore.IMPORT_KEYS}


def check_one_reference(read: list[tuple[str, list[Atoms]]], store: LabelStore) -> None:
    """Raise ``ValueError`` naming the files when the frames (and the store) hold more than one reference."""
    seen: dict[tuple, str] = {}
    for path, frames in read:
        for atoms in frames:
            seen.setdefault(tuple(reference_of(import_provenance(atoms)).items()), str(path))
    if store.count(ok=True) and store.references(("labeller",)) != [{"labeller": "import"}]:
        raise ValueError(f"{store.path}: holds labels computed by a labeller "
                         f"({', '.join(str(r['labeller']) for r in store.references(('labeller',)))}); "
                         "imported labels go into a store of their own (use another --run directory)")
    for ref in store.references(LabelStore.IMPORT_KEYS):
        seen.setdefault(tuple(ref.items()), str(store.path))
    if len(seen) > 1:
        what = "; ".join(f"{src}: " + ", ".join(f"{k} {v}" for k, v in ref) for ref, src in seen.items())
        raise ValueError(f"{len(seen)} references in one store ({what}); a training set must come from one "
                         "code and one functional (pass --allow-mixed to import anyway)")


def import_frames(paths: list[str | Path], run_dir: str | Path, *, fmt: str | None = None,
                  type_map: list[str] | None = None, fparam_name: str = "T_el_K", T_el_K: float | None = None,
                  split_seed: int = 2026, validation_fraction: float = 0.15,
                  allow_mixed: bool = False, wait_s: float = 0.0,
                  store_url: str | None = None) -> list[ImportedFile]:
    """Import every frame of ``paths`` into ``run_dir``'s store (created if absent); idempotent.

    ``split_seed`` and ``validation_fraction`` assign each frame to ``train`` or ``valid`` as a run
    with that seed would (use the recipe's ``seed`` and ``reference.validation_fraction``).
    Takes the run directory's lock, waiting up to ``wait_s`` seconds for a run using the directory;
    then one clear error (:class:`~deepearth.rundir.RunLocked`). A frame whose label fails the
    store's checks (:func:`~deepearth.store.label_problem`: NaN, wrong shapes, absurd magnitudes) is
    stored as a failed label and listed in ``rejected``; it never reaches training.
    """
    if not 0.0 <= validation_fraction < 1.0:
        raise ValueError(f"validation fraction must be in [0, 1), got {validation_fraction}")
    read = []
    for path in paths:  # read everything first: a bad file leaves the store untouched
        frames = read_frames(path, fmt, type_map=type_map, fparam_name=fparam_name)
        apply_electronic_temperature(frames, path, T_el_K)
        read.append((str(path), frames))
    rundir = RunDir(run_dir)
    lock = rundir.lock(wait_s)
    try:
        store = LabelStore(store_url or rundir.store_location)
        if not allow_mixed:
            check_one_reference(read, store)
        return [store_frames(store, path, frames, split_seed, validation_fraction) for path, frames in read]
    finally:
        lock.close()


def store_frames(store: LabelStore, path: str, frames: list[Atoms], split_seed: int,
                 validation_fraction: float) -> ImportedFile:
    """Write the frames of one source not yet in ``store``; what was read and added."""
    added, rejected = 0, []
    for atoms in frames:
        prov = atoms.info["provenance"]
        source, frame = prov["source_file"], int(prov["source_frame"])
        cid = frame_id(atoms, source, frame)
        if store.has(cid):
            continue
        try:
            stored = store.add(frame_label(atoms), cid, iteration=0,
                               split=assign_split(cid, split_seed, validation_fraction), parent=source, frame=frame)
        except (ValueError, KeyError, TypeError) as exc:  # e.g. a provenance key ase.db refuses
            raise ValueError(f"{path}: frame {frame} not stored ({exc})") from None
        if stored.ok:
            added += 1
        else:
            rejected.append(f"frame {frame}: {stored.error}")
    prov = frames[0].info["provenance"]
    return ImportedFile(
        path=path, source_format=prov["source_format"], n_read=len(frames), n_added=added,
        elements=sorted({s for a in frames for s in a.get_chemical_symbols()}),
        T_el_K=sorted({round(a.info["electronic_temperature_K"], 3) for a in frames
                       if "electronic_temperature_K" in a.info}),
        settings={k: prov[k] for k in ("code", "functional", "cutoff_eV", "smearing") if k in prov},
        n_without_stress=sum(1 for a in frames if a.calc.results.get("stress") is None), rejected=rejected)
