"""The envelope of a model's training data, and where a frame leaves it (issue 17).

An ML potential is an interpolator: inside the configurations it was trained on it is as good as its
held-out errors; outside them it can be arbitrarily wrong (a POD or DeePMD model has no physics that
makes two atoms repel at short range). A :class:`TrainingEnvelope` records what the training data
covered, so that a calculator, an MD guard or ``deepearth validate`` can say *why* a frame is not to
be trusted, in words:

- ``min_pair_distance_A``: per species pair (``"Mg-O"``, symbols sorted alphabetically), the shortest
  distance in any training frame (minimum-image convention, :func:`ase.neighborlist.neighbor_list`,
  pairs within ``pair_cutoff_A``; a pair that never came closer than the cutoff has no entry);
- ``density_g_per_cm3``: (min, max) mass density of the periodic training frames;
- ``temperature_K``: (min, max) of the frames' ``origin_T_K`` (or ``temperature_K``/``T_K``) in
  ``atoms.info``, None when no frame carries one;
- ``pressure_GPa``: (min, max) static pressure of the labels, P = −tr(σ)/3 from the stress of the
  frame's (SinglePoint) calculator, or tr(W)/(3V) from an extxyz ``virial``/``Virial`` in
  ``atoms.info`` (W = −σV, eV); None when no frame carries one;
- ``elements``: the chemical symbols seen; ``n_frames``: how many frames.

Tolerances (:meth:`TrainingEnvelope.violations`, one fraction ``tolerance``, default 0.1): a frame
leaves the envelope when a species pair is closer than (1 − tolerance) × its training minimum, or
closer than ``pair_cutoff_A`` for a pair never seen within the cutoff in training; when its density
is outside [(1 − tolerance)·min, (1 + tolerance)·max]; its temperature (if in ``atoms.info``) outside
[(1 − tolerance)·min, (1 + tolerance)·max]; its pressure (only if a stress is already cached on its
calculator: nothing is computed) outside the range widened by tolerance × max(span, 10 GPa) each
side; or when it has an element not in training.

The envelope of a model is the file ``envelope.json`` in the model's folder (:func:`save_envelope`,
:func:`load_envelope`); the folder is a closed world: a plain file name in it, numbers only,
validated when read. A model trained before envelopes existed has none (``load_envelope`` → None).
Backends trained from DeePMD npy systems build it with :func:`envelope_from_systems` (the systems
carry no temperature, so ``temperature_K`` is None there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.data import atomic_numbers
from ase.neighborlist import neighbor_list

from deepearth.files import read_json, write_json_atomic
from deepearth.units import AMU_PER_A3_TO_G_PER_CM3, EV_PER_A3_TO_GPA, stress_to_pressure_gpa

__all__ = ["ENVELOPE_FILE", "DEFAULT_TOLERANCE", "TrainingEnvelope", "envelope_from_systems",
           "frame_density_g_per_cm3", "frame_pressure_GPa", "frame_temperature_K", "load_envelope", "npy_frames_as_atoms",
           "pair_key", "pair_minima", "read_npy_system", "save_envelope"]

#: The envelope's file name inside a model's folder.
ENVELOPE_FILE = "envelope.json"
#: Default fractional tolerance of :meth:`TrainingEnvelope.violations`.
DEFAULT_TOLERANCE = 0.1
#: Default cutoff (Å) within which pair minima are recorded.
DEFAULT_PAIR_CUTOFF_A = 4.0
#: ``atoms.info`` keys read as a frame's temperature (K), in order of preference.
TEMPERATURE_KEYS = ("origin_T_K", "temperature_K", "T_K")
#: Smallest pressure window (GPa) that the pressure tolerance scales.
MIN_PRESSURE_SPAN_GPA = 10.0


def pair_key(a: str, b: str) -> str:
    """``"A-B"`` with the two symbols sorted alphabetically (``pair_key("O", "Mg") == "Mg-O"``)."""
    return "-".join(sorted((a, b)))


def split_pair_key(key: Any) -> tuple[str, str] | None:
    """The two element symbols of a key written by :func:`pair_key` (``"Mg-O"`` → ``("Mg", "O")``);
    ``None`` for anything else (not a string, not two element symbols, not sorted)."""
    parts = key.split("-") if isinstance(key, str) else []
    if len(parts) != 2 or not all(p in atomic_numbers for p in parts) or pair_key(*parts) != key:
        return None
    return parts[0], parts[1]


def pair_minima(atoms: Atoms, cutoff_A: float = DEFAULT_PAIR_CUTOFF_A) -> dict[str, float]:
    """Shortest distance (Å) per species pair within ``cutoff_A`` (minimum image; periodic images of
    an atom itself count as a pair of its own species)."""
    if len(atoms) < 1:
        return {}
    i, j, d = neighbor_list("ijd", atoms, float(cutoff_A))
    if len(d) == 0:
        return {}
    species, index = np.unique(atoms.get_chemical_symbols(), return_inverse=True)  # sorted symbols
    a, b = np.minimum(index[i], index[j]), np.maximum(index[i], index[j])
    code = a * len(species) + b
    out: dict[str, float] = {}
    for c in np.unique(code):
        out[f"{species[c // len(species)]}-{species[c % len(species)]}"] = float(d[code == c].min())
    return out


def frame_density_g_per_cm3(atoms: Atoms) -> float | None:
    """Mass density (g/cm³) of a fully periodic frame; None for a non-periodic one or a zero volume."""
    if not all(atoms.pbc):
        return None
    volume = abs(float(atoms.cell.volume))
    if volume <= 0.0:
        return None
    return float(atoms.get_masses().sum() / volume * AMU_PER_A3_TO_G_PER_CM3)


def frame_temperature_K(atoms: Atoms) -> float | None:
    """The frame's label temperature (K) from ``atoms.info`` (:data:`TEMPERATURE_KEYS`), or None."""
    for key in TEMPERATURE_KEYS:
        value = atoms.info.get(key)
        if isinstance(value, (int, float, np.integer, np.floating)) and math.isfinite(float(value)):
            return float(value)
    return None


def frame_pressure_GPa(atoms: Atoms) -> float | None:
    """Static pressure (GPa, positive when compressed) of a frame's label, without computing anything:
    the stress cached on its calculator (ASE sign: positive = tensile, P = −tr σ/3), else an extxyz
    virial in ``atoms.info`` (W = −σV in eV, P = tr W/(3V)); None when neither is there."""
    calc = atoms.calc
    results = getattr(calc, "results", None) if calc is not None else None
    if isinstance(results, dict) and results.get("stress") is not None:
        stress = np.asarray(results["stress"], dtype=float)
        if np.all(np.isfinite(stress)):
            return stress_to_pressure_gpa(stress)
    volume = abs(float(atoms.cell.volume)) if all(atoms.pbc) else 0.0
    for key in ("virial", "Virial"):
        virial = atoms.info.get(key)
        if virial is not None and volume > 0.0:
            w = np.asarray(virial, dtype=float).reshape(-1)
            if w.size == 9 and np.all(np.isfinite(w)):
                return float(w[[0, 4, 8]].sum() / (3.0 * volume) * EV_PER_A3_TO_GPA)
    return None


def _span(values: list[float]) -> tuple[float, float] | None:
    return (float(min(values)), float(max(values))) if values else None


@dataclass
class TrainingEnvelope:
    """The envelope of a model's training data (module docstring: fields, units and tolerances)."""

    min_pair_distance_A: dict[str, float]
    density_g_per_cm3: tuple[float, float] | None
    temperature_K: tuple[float, float] | None
    pressure_GPa: tuple[float, float] | None
    elements: list[str]
    n_frames: int
    pair_cutoff_A: float = DEFAULT_PAIR_CUTOFF_A
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_frames(cls, frames: list[Atoms], pair_cutoff_A: float = DEFAULT_PAIR_CUTOFF_A
                    ) -> "TrainingEnvelope":
        """The envelope of ``frames`` (labelled training configurations); ``ValueError`` if empty."""
        frames = list(frames)
        if not frames:
            raise ValueError("a training envelope needs at least one frame")
        pairs: dict[str, float] = {}
        densities, temps, pressures, elements = [], [], [], set()
        for atoms in frames:
            for key, d in pair_minima(atoms, pair_cutoff_A).items():
                pairs[key] = min(d, pairs.get(key, math.inf))
            if (rho := frame_density_g_per_cm3(atoms)) is not None:
                densities.append(rho)
            if (t := frame_temperature_K(atoms)) is not None:
                temps.append(t)
            if (p := frame_pressure_GPa(atoms)) is not None:
                pressures.append(p)
            elements.update(atoms.get_chemical_symbols())
        return cls(min_pair_distance_A=dict(sorted(pairs.items())), density_g_per_cm3=_span(densities),
                   temperature_K=_span(temps), pressure_GPa=_span(pressures), elements=sorted(elements),
                   n_frames=len(frames), pair_cutoff_A=float(pair_cutoff_A))

    def pair_violations(self, atoms: Atoms, tolerance: float = DEFAULT_TOLERANCE) -> list[str]:
        """Species pairs of ``atoms`` closer than the envelope allows, closest first."""
        present = sorted(set(atoms.get_chemical_symbols()))
        keys = {pair_key(a, b) for a in present for b in present}
        limits = {k: (1.0 - tolerance) * self.min_pair_distance_A[k] if k in self.min_pair_distance_A
                  else self.pair_cutoff_A for k in keys}
        if not limits:
            return []
        found = pair_minima(atoms, max(limits.values()))
        out = []
        for key, d in sorted(found.items(), key=lambda kv: kv[1]):
            if d < limits.get(key, 0.0):
                if key in self.min_pair_distance_A:
                    out.append(f"{key} pair at {d:.2f} Å, closest in training "
                               f"{self.min_pair_distance_A[key]:.2f} Å")
                else:
                    out.append(f"{key} pair at {d:.2f} Å, none closer than {self.pair_cutoff_A:.2f} Å "
                               "in training")
        return out

    def configuration_violations(self, atoms: Atoms, tolerance: float = DEFAULT_TOLERANCE) -> list[str]:
        """The geometric part of :meth:`violations`: elements, pairs (closest first), density."""
        if not 0.0 <= tolerance < 1.0:
            raise ValueError(f"tolerance must be in [0, 1), got {tolerance}")
        out = []
        unknown = sorted(set(atoms.get_chemical_symbols()) - set(self.elements))
        if unknown:
            out.append(f"element(s) {', '.join(unknown)} not in training ({', '.join(self.elements)})")
        out += self.pair_violations(atoms, tolerance)
        rho = frame_density_g_per_cm3(atoms)
        if rho is not None and self.density_g_per_cm3 is not None:
            lo, hi = self.density_g_per_cm3
            if not (1.0 - tolerance) * lo <= rho <= (1.0 + tolerance) * hi:
                out.append(f"density {rho:.2f} g/cm³, training {lo:.2f}–{hi:.2f} g/cm³")
        return out

    def violations(self, atoms: Atoms, tolerance: float = DEFAULT_TOLERANCE) -> list[str]:
        """Why ``atoms`` is outside the envelope, one human-readable line per reason (elements, pairs
        closest first, density, temperature, pressure); empty when inside. ``tolerance``: the
        fraction of the module docstring (0.1: pairs < 0.9 × training minimum, density ±10 %)."""
        out = self.configuration_violations(atoms, tolerance)
        t = frame_temperature_K(atoms)
        if t is not None and self.temperature_K is not None:
            lo, hi = self.temperature_K
            if not (1.0 - tolerance) * lo <= t <= (1.0 + tolerance) * hi:
                out.append(f"temperature {t:.0f} K, training {lo:.0f}–{hi:.0f} K")
        p = frame_pressure_GPa(atoms)
        if p is not None and self.pressure_GPa is not None:
            lo, hi = self.pressure_GPa
            margin = tolerance * max(hi - lo, MIN_PRESSURE_SPAN_GPA)
            if not lo - margin <= p <= hi + margin:
                out.append(f"pressure {p:.1f} GPa, training {lo:.1f}–{hi:.1f} GPa")
        return out

    def to_dict(self) -> dict:
        """JSON-ready dict (tuples as two-element lists)."""
        return {"format": ENVELOPE_FORMAT, "min_pair_distance_A": dict(self.min_pair_distance_A),
                "density_g_per_cm3": _list(self.density_g_per_cm3), "temperature_K": _list(self.temperature_K),
                "pressure_GPa": _list(self.pressure_GPa), "elements": list(self.elements),
                "n_frames": int(self.n_frames), "pair_cutoff_A": float(self.pair_cutoff_A),
                "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, data: Any, origin: str = "envelope") -> "TrainingEnvelope":
        """Parse and validate ``data`` (as written by :meth:`to_dict`): ``ValueError`` naming ``origin``
        and the key for anything that is not a finite number, a known element or a sorted pair key."""
        if not isinstance(data, dict):
            raise ValueError(f"{origin}: expected a JSON object, got {type(data).__name__}")
        if data.get("format", ENVELOPE_FORMAT) != ENVELOPE_FORMAT:
            raise ValueError(f"{origin}: key 'format': {data.get('format')!r} is not {ENVELOPE_FORMAT!r}")
        elements = data.get("elements")
        if not isinstance(elements, list) or not all(isinstance(e, str) and e in atomic_numbers for e in elements):
            raise ValueError(f"{origin}: key 'elements': expected a list of element symbols, got {elements!r}")
        pairs = data.get("min_pair_distance_A")
        if not isinstance(pairs, dict):
            raise ValueError(f"{origin}: key 'min_pair_distance_A': expected an object, got {pairs!r}")
        clean = {}
        for key, value in pairs.items():
            if split_pair_key(key) is None:
                raise ValueError(f"{origin}: key 'min_pair_distance_A': {key!r} is not a sorted pair 'A-B'")
            clean[key] = _positive(value, f"{origin}: key 'min_pair_distance_A.{key}'")
        n_frames = data.get("n_frames")
        if isinstance(n_frames, bool) or not isinstance(n_frames, int) or n_frames < 1:
            raise ValueError(f"{origin}: key 'n_frames': expected a positive integer, got {n_frames!r}")
        notes = data.get("notes", [])
        if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
            raise ValueError(f"{origin}: key 'notes': expected a list of strings")
        return cls(min_pair_distance_A=clean,
                   density_g_per_cm3=_range(data.get("density_g_per_cm3"), f"{origin}: key 'density_g_per_cm3'"),
                   temperature_K=_range(data.get("temperature_K"), f"{origin}: key 'temperature_K'"),
                   pressure_GPa=_range(data.get("pressure_GPa"), f"{origin}: key 'pressure_GPa'", signed=True),
                   elements=list(elements), n_frames=n_frames,
                   pair_cutoff_A=_positive(data.get("pair_cutoff_A", DEFAULT_PAIR_CUTOFF_A),
                                           f"{origin}: key 'pair_cutoff_A'"),
                   notes=list(notes))

    def summary(self) -> str:
        """One line for logs and reports."""
        pairs = ", ".join(f"{k} {v:.2f} Å" for k, v in self.min_pair_distance_A.items())
        parts = [f"{self.n_frames} frames of {'/'.join(self.elements)}", f"closest pairs {pairs}"]
        if self.density_g_per_cm3:
            parts.append("density {:.2f}–{:.2f} g/cm³".format(*self.density_g_per_cm3))
        if self.temperature_K:
            parts.append("T {:.0f}–{:.0f} K".format(*self.temperature_K))
        if self.pressure_GPa:
            parts.append("P {:.1f}–{:.1f} GPa".format(*self.pressure_GPa))
        return "; ".join(parts)


#: ``format`` key of ``envelope.json``.
ENVELOPE_FORMAT = "deepearth-envelope/1"


def _list(value: tuple[float, float] | None) -> list[float] | None:
    return None if value is None else [float(value[0]), float(value[1])]


def _positive(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{where}: expected a finite positive number, got {value!r}")
    return float(value)


def _range(value: Any, where: str, signed: bool = False) -> tuple[float, float] | None:
    if value is None:
        return None
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
            or value[0] > value[1] or (not signed and value[0] < 0)):
        raise ValueError(f"{where}: expected [min, max] of finite numbers, got {value!r}")
    return (float(value[0]), float(value[1]))


def _envelope_path(model_path: str | Path) -> Path:
    """``envelope.json`` in the model's folder: ``model_path`` itself if it is a folder, else its parent."""
    model_path = Path(model_path)
    folder = model_path if model_path.is_dir() else model_path.parent
    return folder / ENVELOPE_FILE


def save_envelope(envelope: TrainingEnvelope, model_path: str | Path) -> Path:
    """Write ``envelope.json`` next to the model file (in the model's folder, or in ``model_path`` if it
    is a folder), atomically; returns its path."""
    path = _envelope_path(model_path)
    write_json_atomic(path, envelope.to_dict())
    return path


def load_envelope(model_path: str | Path) -> TrainingEnvelope | None:
    """The envelope recorded with a model, or None for a model without one (trained before envelopes).

    The file must be a plain file in the model's folder (a link leading out of it is a ``ValueError``)
    and hold a valid envelope (:meth:`TrainingEnvelope.from_dict`)."""
    path = _envelope_path(model_path)
    if not path.exists() and not path.is_symlink():
        return None
    folder = path.parent.resolve()
    real = path.resolve()
    if real.parent != folder or not real.is_file():
        raise ValueError(f"{path}: not a plain file in the model's folder {folder}")
    if real.stat().st_size > 1 << 20:
        raise ValueError(f"{path}: larger than 1 MiB; not an envelope")
    return TrainingEnvelope.from_dict(read_json(real), origin=str(path))



# --------------------------------------------------------------------------- DeePMD npy systems

def read_npy_system(folder: Path) -> list[dict]:
    """Frames of one DeePMD npy system as dicts (symbols, positions, cell, energy, forces, virial).

    ``virial`` is ``None`` where the system has no ``virial.npy``. Arrays are read with
    ``allow_pickle=False`` (an ``.npy`` holding Python objects is refused, never unpickled).
    """
    folder = Path(folder)
    type_map = (folder / "type_map.raw").read_text().split()
    types = np.loadtxt(folder / "type.raw", dtype=int, ndmin=1)
    symbols = [type_map[t] for t in types]
    n = len(types)
    frames = []
    for sdir in sorted(folder.glob("set.*")):
        coord = np.load(sdir / "coord.npy", allow_pickle=False).reshape(-1, n, 3)
        box = np.load(sdir / "box.npy", allow_pickle=False).reshape(-1, 3, 3)
        energy = np.load(sdir / "energy.npy", allow_pickle=False).reshape(-1)
        force = np.load(sdir / "force.npy", allow_pickle=False).reshape(-1, n, 3)
        has_virial = (sdir / "virial.npy").is_file()
        virial = np.load(sdir / "virial.npy", allow_pickle=False).reshape(-1, 3, 3) if has_virial else None
        for i in range(len(energy)):
            frames.append(dict(symbols=symbols, positions=coord[i], cell=box[i], energy=float(energy[i]),
                               forces=force[i], virial=None if virial is None else virial[i]))
    if not frames:
        raise ValueError(f"{folder}: no set.* folders with frames")
    return frames


def npy_frames_as_atoms(frames: list[dict]) -> list[Atoms]:
    """Frames of :func:`read_npy_system` as periodic ``Atoms`` with their labels on a
    SinglePointCalculator (stress = −virial/V, eV/Å³, where the frame has a virial)."""
    out = []
    for fr in frames:
        atoms = Atoms(symbols=fr["symbols"], positions=fr["positions"], cell=fr["cell"], pbc=True)
        results = {"energy": fr["energy"], "forces": np.asarray(fr["forces"])}
        if fr.get("virial") is not None:
            s = -np.asarray(fr["virial"], float) / atoms.get_volume()
            results["stress"] = np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])
        atoms.calc = SinglePointCalculator(atoms, **results)
        out.append(atoms)
    return out


def envelope_from_systems(systems: list[Path]) -> TrainingEnvelope:
    """The envelope of the frames of DeePMD npy ``systems`` (a backend's training data)."""
    return TrainingEnvelope.from_frames(npy_frames_as_atoms([f for s in systems for f in read_npy_system(s)]))
