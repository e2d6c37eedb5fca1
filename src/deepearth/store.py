"""The labelled-configuration store: an ase.db (SQLite) database with provenance.

Every row is one configuration sent to the reference, successful or not:

- ``ok`` (bool): labelled successfully; failed rows keep ``error`` and carry no calculator results
  (one failed row per failed attempt: a configuration is retried up to the reference's ``max_attempts``);
- ``candidate_id`` (str): name of the configuration (resume key: never labelled twice);
- ``config_hash`` (str): content hash of the configuration (:func:`configuration_hash`): a resumed run
  whose configuration of the same name differs (the recipe changed) is refused, never given the old label;
- ``labeller``, ``method``, ``T_el_K``, ``code``, ``kpoints``: the reference and its settings;
- ``iteration`` (int), ``origin_P_GPa``, ``origin_T_K``: where in the workflow/P–T grid it came from;
- ``parent`` (str) and ``frame`` (int): the trajectory it was cut from (``initial`` for seeds);
- ``split``: ``train`` or ``valid`` (held out of training, used for the reported RMSE).

Energies are eV, forces eV/Å, stresses eV/Å³ in the ASE sign (positive = tensile).
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
import zlib
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.db import connect
from ase.db.core import reserved_keys

from deepearth.units import EV_PER_A3_TO_GPA

if TYPE_CHECKING:  # the store keeps what a labeller returns; reference/ depends on the store, not back
    from deepearth.reference.labeller import Label


def assign_split(candidate_id: str, seed: int, validation_fraction: float) -> str:
    """Deterministic train/valid split of one configuration from its id and the run seed."""
    u = np.random.default_rng([seed, zlib.crc32(candidate_id.encode())]).random()
    return "valid" if u < validation_fraction else "train"


#: Sanity bounds of a good label (a label outside them is stored as failed, with the reason): far
#: beyond any physical configuration a potential should learn (|F| ≈ 10–50 eV/Å at 5000 K; 10⁴ GPa is
#: thirty times the centre of the Earth), while catching unit mix-ups (Hartree/Bohr, kbar) and
#: numerical garbage from a broken calculation.
MAX_FORCE_EV_PER_A = 1.0e3
MAX_STRESS_GPA = 1.0e4
MAX_ENERGY_EV_PER_ATOM = 1.0e6  # all-electron total energies of heavy elements reach ~10⁵ eV/atom


def configuration_hash(atoms: Atoms) -> str:
    """Content hash of a configuration: species, positions and cell rounded to 10⁻⁵ Å, periodicity.

    Two configurations with the same hash are the same input to a reference calculation; rounding
    keeps the hash stable through the store's float round trip.
    """
    h = hashlib.sha256()
    h.update(np.asarray(atoms.numbers, dtype=np.int64).tobytes())
    for arr in (atoms.positions, atoms.cell.array):
        h.update(np.round(np.asarray(arr, dtype=float), 5).astype(np.float64).tobytes())
    h.update(np.asarray(atoms.pbc, dtype=bool).tobytes())
    return h.hexdigest()[:20]


def label_problem(label: "Label") -> str:
    """Why a successful ``label`` cannot be trusted ('' when it can): non-finite or wrongly shaped
    energy (eV), forces (eV/Å, shape (N, 3)) or stress (eV/Å³, Voigt 6 or 3×3), or magnitudes beyond
    :data:`MAX_FORCE_EV_PER_A`, :data:`MAX_STRESS_GPA`, :data:`MAX_ENERGY_EV_PER_ATOM`."""
    n = len(label.atoms)
    try:
        energy = float(label.energy_eV)  # type: ignore[arg-type]
        forces = np.asarray(label.forces_eV_per_A, dtype=float)
        stress = None if label.stress_eV_per_A3 is None else np.asarray(label.stress_eV_per_A3, dtype=float)
    except (TypeError, ValueError) as exc:
        return f"energy, forces or stress not numeric ({exc})"
    if not np.isfinite(energy):
        return f"energy is {energy}"
    if forces.shape != (n, 3):
        return f"forces have shape {forces.shape} for {n} atoms (expected ({n}, 3))"
    bad = np.flatnonzero(~np.isfinite(forces).all(axis=1))
    if bad.size:
        return f"non-finite force on atom {bad[0]} ({label.atoms[bad[0]].symbol}) and {bad.size - 1} more"
    if stress is not None:
        if stress.shape not in ((6,), (3, 3)):
            return f"stress has shape {stress.shape} (expected (6,) or (3, 3))"
        if not np.isfinite(stress).all():
            return "stress is not finite"
        if np.abs(stress).max() * EV_PER_A3_TO_GPA > MAX_STRESS_GPA:
            return (f"stress component {np.abs(stress).max() * EV_PER_A3_TO_GPA:.3g} GPa beyond "
                    f"{MAX_STRESS_GPA:g} GPa (units?)")
    if n and abs(energy) / n > MAX_ENERGY_EV_PER_ATOM:
        return f"energy {energy / n:.3g} eV/atom beyond {MAX_ENERGY_EV_PER_ATOM:g} eV/atom (units?)"
    fmax = np.linalg.norm(forces, axis=1)
    if n and fmax.max() > MAX_FORCE_EV_PER_A:
        i = int(fmax.argmax())
        return (f"force {fmax[i]:.3g} eV/Å on atom {i} ({label.atoms[i].symbol}) beyond {MAX_FORCE_EV_PER_A:g} eV/Å "
                "(close contact or units?)")
    return ""


class StaleWork(ValueError):
    """Work in a run directory was made for other inputs than the ones now asked for."""


def is_database_url(location: str | Path) -> bool:
    """True for a ``postgresql://`` (or ``postgres://``) URL, False for a file path."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def display_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)))


@functools.cache
def postgresql_database_class():
    """ase-db-backends' PostgreSQL database, with the id of a row just written taken from this session
    (``currval``): upstream reads the sequence's ``last_value``, the last id given to *any* session, so
    two processes writing at once attached one's species/key rows to the other's id (a foreign-key
    error that lost the label, or keys filed under the wrong row)."""
    from ase_db_backends.postgresql import PostgreSQLDatabase

    class SessionIdPostgreSQLDatabase(PostgreSQLDatabase):
        def get_last_id(self, cur):
            cur.execute("SELECT currval('systems_id_seq')")
            return int(cur.fetchone()[0])

    return SessionIdPostgreSQLDatabase


def open_database(location: str | Path):
    """The ase.db database at ``location`` (SQLite file or PostgreSQL URL), checked and initialised.

    SQLite: the file is read through (``PRAGMA quick_check``, ≈ 1 ms per MB) so that garbage, a
    truncated copy or another program's database is one ``ValueError`` naming the file, before
    anything is written. ase.db's own lock file is not used (a writer killed while holding it blocked
    every later write forever): SQLite's locks order concurrent writers, each waiting up to ase.db's
    20 s busy timeout. PostgreSQL: a connection error is one ``ValueError`` (password masked).
    Both: the tables of a new store are created by one process while any other opening it waits
    (SQLite ``BEGIN IMMEDIATE``, PostgreSQL advisory lock), so two runs starting together cannot race.
    """
    if is_database_url(location):
        name = display_url(str(location))
        import psycopg2

        db = postgresql_database_class()(str(location))
        try:
            with db:  # one connection and transaction for the lock and the initialisation
                db.connection.cursor().execute("SELECT pg_advisory_xact_lock(7243916)")  # any fixed key
                db.count()
        except psycopg2.Error as exc:
            detail = " ".join(str(exc).split()).replace(str(location), name)
            raise ValueError(f"{name}: cannot open the label store: {detail}") from None
        return db
    path = Path(location)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = connect(str(path), type="db", use_lock_file=False)
    try:
        with db:  # one connection (and transaction) for the checks and the initialisation
            con = db.connection
            problem = con.execute("PRAGMA quick_check(1)").fetchone()[0]
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if problem != "ok":
                raise sqlite3.DatabaseError(problem)
            page, pages = (con.execute(f"PRAGMA {key}").fetchone()[0] for key in ("page_size", "page_count"))
            size = path.stat().st_size
            wal = Path(f"{path}-wal").exists()  # (not ase.db's mode) recent pages would live in the -wal file
            if not wal and (size % page or size < page * pages):  # a lost tail of the last page reads as zeros
                raise sqlite3.DatabaseError(f"truncated ({size} bytes, not the {pages} pages of {page} bytes "
                                            "its header says)")
            if tables and "systems" not in tables:
                raise sqlite3.DatabaseError(f"an SQLite database without ase.db's tables ({', '.join(sorted(tables))})")
            if not tables:
                con.execute("BEGIN IMMEDIATE")  # another process creating the tables now: wait for it
            db.count()  # ase.db creates the tables of a new store, or reads the version of an old one
    except sqlite3.DatabaseError as exc:
        if "locked" in str(exc):
            raise
        raise ValueError(f"{path}: not a readable label store: {exc}; nothing was changed") from None
    return db


def _same_code_unknown_version(old, new) -> bool:
    """``"tblite ?"`` (a version not recorded, before it was read from the installed distribution)
    matches ``"tblite 0.8.0"``: the same code; anything else must match exactly."""
    return (isinstance(old, str) and isinstance(new, str) and old.endswith(" ?")
            and new.split(" ")[0] == old.split(" ")[0])


class LabelStore:
    """Labelled configurations of one run, at ``location``: an ase.db SQLite file (a path) or a
    PostgreSQL database (``postgresql://user[:password]@host:port/dbname``; needs the
    ``ase-db-backends`` and ``psycopg2`` packages). ``path`` names it in messages (the path, or the URL
    with its password masked). A store that cannot be read raises one ``ValueError``
    (:func:`open_database`)."""

    def __init__(self, location: str | Path):
        self.path: Path | str = display_url(str(location)) if is_database_url(location) else Path(location)
        self._db = open_database(location)

    def has(self, candidate_id: str) -> bool:
        """True when this configuration was already sent to the reference (ok or failed)."""
        return self._db.count(candidate_id=candidate_id) > 0

    def has_label(self, candidate_id: str) -> bool:
        """True when this configuration has a good label."""
        return self._db.count(candidate_id=candidate_id, ok=True) > 0

    def failed_attempts(self, candidate_id: str) -> int:
        """How many times labelling this configuration failed."""
        return self._db.count(candidate_id=candidate_id, ok=False)

    def check_configuration(self, candidate_id: str, atoms: Atoms) -> None:
        """Raise :class:`StaleWork` when the store holds ``candidate_id`` for another configuration
        than ``atoms`` (a resumed run whose recipe changed must not reuse the old label)."""
        want = configuration_hash(atoms)
        for row in self._db.select(candidate_id=candidate_id):
            have = row.key_value_pairs.get("config_hash") or configuration_hash(row.toatoms())
            if have != want:
                raise StaleWork(f"{self.path}: configuration {candidate_id!r} was labelled for other atoms or "
                                "another cell than the run now asks for (the recipe or a structure file changed); "
                                "use a new run_dir, or restore the old inputs to continue")

    def add(self, label: "Label", candidate_id: str, iteration: int, split: str,
            origin_P_GPa: float | None = None, origin_T_K: float | None = None,
            parent: str = "initial", frame: int = -1) -> "Label":
        """Write one label (each write is its own SQLite transaction: a kill loses nothing written);
        returns the label as stored (failed, with the reason, when it did not pass the checks).

        A label that claims success but fails :func:`label_problem` (NaN, wrong shapes, absurd
        magnitudes) is stored as failed with the reason: only validated labels reach training.
        """
        problem = label_problem(label) if label.ok else ""
        if problem:
            label = replace(label, ok=False, error=f"invalid label: {problem}")
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
                  parent=str(parent), frame=int(frame), config_hash=configuration_hash(label.atoms))
        if origin_P_GPa is not None:
            kv["origin_P_GPa"] = float(origin_P_GPa)
        if origin_T_K is not None:
            kv["origin_T_K"] = float(origin_T_K)
        if not label.ok:
            kv["error"] = label.error or "unknown error"
        self._db.write(atoms, key_value_pairs=kv)
        return label

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
                if old != new and not _same_code_unknown_version(old, new):
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
