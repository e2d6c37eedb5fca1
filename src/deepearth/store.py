"""The labelled-configuration store: an ase.db (SQLite) database with provenance.

Every row is one configuration sent to the reference, successful or not:

- ``ok`` (bool): labelled successfully; failed rows keep ``error`` and carry no calculator results;
- ``candidate_id`` (str): unique name of the configuration (resume key: never labelled twice);
- ``labeller``, ``method``, ``T_el_K``, ``code``, ``kpoints``: the reference and its settings;
- ``iteration`` (int), ``origin_P_GPa``, ``origin_T_K``: where in the workflow/P–T grid it came from;
- ``parent`` (str) and ``frame`` (int): the trajectory it was cut from (``initial`` for seeds);
- ``split``: ``train`` or ``valid`` (held out of training, used for the reported RMSE).

Energies are eV, forces eV/Å, stresses eV/Å³ in the ASE sign (positive = tensile).
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.db import connect
from ase.db.core import reserved_keys

if TYPE_CHECKING:  # the store keeps what a labeller returns; reference/ depends on the store, not back
    from deepearth.reference.labeller import Label


def assign_split(candidate_id: str, seed: int, validation_fraction: float) -> str:
    """Deterministic train/valid split of one configuration from its id and the run seed."""
    u = np.random.default_rng([seed, zlib.crc32(candidate_id.encode())]).random()
    return "valid" if u < validation_fraction else "train"


class LabelStore:
    """Labelled configurations of one run, in ``path`` (an ase.db SQLite file)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = connect(str(self.path), type="db")

    def has(self, candidate_id: str) -> bool:
        """True when this configuration was already sent to the reference (ok or failed)."""
        return self._db.count(candidate_id=candidate_id) > 0

    def add(self, label: "Label", candidate_id: str, iteration: int, split: str,
            origin_P_GPa: float | None = None, origin_T_K: float | None = None,
            parent: str = "initial", frame: int = -1) -> int:
        """Write one label (each write is its own SQLite transaction: a kill loses nothing written)."""
        atoms = label.atoms.copy()
        atoms.calc = None
        if label.ok:
            atoms.calc = SinglePointCalculator(atoms, energy=label.energy_eV, forces=label.forces_eV_per_A,
                                               stress=label.stress_eV_per_A3)
        kv = {k: v for k, v in label.provenance.items() if isinstance(v, (str, int, float, bool))}
        clash = sorted(set(kv) & reserved_keys)
        if clash:
            raise ValueError(f"{self.path}: provenance keys {clash} of labeller {label.provenance.get('labeller')!r} "
                             "are reserved by ase.db; rename them")
        kv.update(ok=bool(label.ok), candidate_id=candidate_id, iteration=int(iteration), split=split,
                  parent=str(parent), frame=int(frame))
        if origin_P_GPa is not None:
            kv["origin_P_GPa"] = float(origin_P_GPa)
        if origin_T_K is not None:
            kv["origin_T_K"] = float(origin_T_K)
        if not label.ok:
            kv["error"] = label.error or "unknown error"
        return self._db.write(atoms, key_value_pairs=kv)

    #: Provenance keys that must agree between every label of one store made by a labeller.
    REFERENCE_KEYS = ("labeller", "method", "code", "T_el_K", "kpoints", "cutoff_eV", "smearing", "setups")
    #: ... and between imported labels (their T_el, k-mesh or cutoff may differ frame to frame).
    IMPORT_KEYS = ("code_name", "method")

    def references(self, keys: tuple[str, ...] = REFERENCE_KEYS) -> list[dict]:
        """The distinct values of the provenance ``keys`` over every successful label."""
        seen = {tuple(row.key_value_pairs.get(k) for k in keys) for row in self._db.select(ok=True)}
        return [dict(zip(keys, values)) for values in sorted(seen, key=repr)]

    def check_provenance(self, provenance: dict, keys: tuple[str, ...] = REFERENCE_KEYS) -> None:
        """Raise ``ValueError`` if any label in the store has another reference or setting than
        ``provenance`` (labels of different references must never be mixed in one training set)."""
        for ref in self.references(keys):
            for key in keys:
                old, new = ref[key], provenance.get(key)
                if old != new:
                    raise ValueError(f"{self.path}: labelled with {key} = {old!r}, the reference now has "
                                     f"{key} = {new!r}; labels of different references must not be mixed "
                                     "(use a new run_dir)")

    def check_single_reference(self, keys: tuple[str, ...] = IMPORT_KEYS) -> None:
        """Raise ``ValueError`` if the labels in the store come from more than one reference."""
        refs = self.references(keys)
        if len(refs) > 1:
            raise ValueError(f"{self.path}: holds labels of {len(refs)} references "
                             f"({'; '.join(', '.join(f'{k} {v}' for k, v in r.items()) for r in refs)}); "
                             "a training set must come from one")

    def elements(self) -> list[str]:
        """The chemical symbols present in the successful labels, sorted."""
        return sorted({s for row in self._db.select(ok=True) for s in row.symbols})

    def rows(self, query: str | None = None, **selection):
        """Raw ase.db rows matching an ase.db ``query`` string and ``selection`` (``ok=True, split='valid'``)."""
        return list(self._db.select(query, **selection))

    def configurations(self, query: str | None = None, **selection) -> list[Atoms]:
        """Labelled configurations (with a SinglePointCalculator) and their key-value pairs in ``info``."""
        out = []
        for row in self._db.select(query, ok=True, **selection):
            atoms = row.toatoms()
            atoms.info.update(row.key_value_pairs)
            out.append(atoms)
        return out

    def count(self, query: str | None = None, **selection) -> int:
        return self._db.count(query, **selection)

    def export_deepmd(self, out_dir: str | Path, type_map: list[str], query: str | None = None,
                      fparam: str | None = None, **selection) -> list[Path]:
        """Write the selected labels as DeePMD ``npy`` systems; returns the system folders.

        Frames are grouped by their sequence of species (a DeePMD system has one atom order) and
        ordered by ``candidate_id``.
        ``virial = −stress × V`` (eV), the DeePMD convention.
        ``fparam``: a key of the rows (e.g. ``"T_el_K"``) written per frame as ``fparam.npy``
        (every selected row must have it); ``None`` (default) writes no ``fparam.npy``.
        """
        # sorted by id, not by insertion: parallel labelling finishes in any order, and the frame
        # order of the training data must not depend on it (same seed -> same models)
        frames = sorted(self.configurations(query, **selection), key=lambda a: a.info["candidate_id"])
        return export_frames_deepmd(frames, out_dir, type_map, fparam=fparam, origin=self.path)


def export_frames_deepmd(frames: list[Atoms], out_dir: str | Path, type_map: list[str],
                         fparam: str | None = None, origin: str | Path | None = None) -> list[Path]:
    """Write labelled ``frames`` as DeePMD ``npy`` systems in ``out_dir``; returns the system folders.

    Frames are grouped by their sequence of species (a DeePMD system has one atom order), in the
    order given within a group; a system is named ``sys-<formula>-<crc32 of the species sequence>``.
    ``fparam`` as in :func:`write_deepmd_npy`. Raises ``ValueError`` naming ``origin`` (default
    ``out_dir``) for a species not in ``type_map``; nothing is written then.
    """
    groups: dict[tuple[str, ...], list[Atoms]] = defaultdict(list)
    for atoms in frames:
        groups[tuple(atoms.get_chemical_symbols())].append(atoms)
    out_dir = Path(out_dir)
    unknown = {s for symbols in groups for s in symbols} - set(type_map)
    if unknown:
        raise ValueError(f"{origin or out_dir}: species {sorted(unknown)} not in the type map {type_map}")
    systems = []
    for symbols, group in sorted(groups.items()):
        name = "sys-" + group[0].get_chemical_formula() + f"-{zlib.crc32(''.join(symbols).encode()):08x}"
        write_deepmd_npy(out_dir / name, group, type_map, fparam=fparam)
        systems.append(out_dir / name)
    return systems


def _has_stress(atoms: Atoms) -> bool:
    return atoms.calc is not None and atoms.calc.results.get("stress") is not None


def write_deepmd_npy(folder: Path, frames: list[Atoms], type_map: list[str], fparam: str | None = None) -> None:
    """One DeePMD npy system (``type.raw``, ``type_map.raw``, ``set.000/*.npy``) from labelled frames.

    ``virial.npy`` is written when every frame has a stress (imported data may have none);
    ``fparam`` names an ``atoms.info`` key written as ``fparam.npy`` (shape ``(nframes, 1)``).
    """
    if fparam is not None:
        missing = [i for i, a in enumerate(frames) if fparam not in a.info]
        if missing:
            raise ValueError(f"{folder}: {len(missing)} of {len(frames)} frames have no '{fparam}' for fparam.npy")
    folder = Path(folder)
    (folder / "set.000").mkdir(parents=True, exist_ok=True)
    types = np.array([type_map.index(s) for s in frames[0].get_chemical_symbols()], dtype=int)
    np.savetxt(folder / "type.raw", types, fmt="%d")
    (folder / "type_map.raw").write_text("\n".join(type_map) + "\n")
    coord = np.array([a.get_positions().ravel() for a in frames])
    box = np.array([a.cell.array.ravel() for a in frames])
    energy = np.array([a.get_potential_energy() for a in frames])
    force = np.array([a.get_forces().ravel() for a in frames])
    arrays = dict(coord=coord, box=box, energy=energy, force=force)
    if all(_has_stress(a) for a in frames):
        arrays["virial"] = np.array([(-a.get_stress(voigt=False) * a.get_volume()).ravel() for a in frames])
    if fparam is not None:
        arrays["fparam"] = np.array([[float(a.info[fparam])] for a in frames])
    for key, arr in arrays.items():
        np.save(folder / "set.000" / f"{key}.npy", arr)
