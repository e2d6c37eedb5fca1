"""A short-range repulsive baseline for ML potentials that have none: ZBL with a smooth switch (issue 17).

Why. A linear POD model (or any ML potential) knows nothing about distances closer than its
training data: on the shared CaSiO3 melt a POD 2+3+4 model trained at 2500–4000 K gives +2.5 eV/atom
and 6000 eV/Å on 5000 K frames whose O–O pairs close to 1.17 Å (training minimum 1.52 Å), and MD
that reaches such a contact runs away instead of bouncing back. Nuclear repulsion at short range is
universal physics, so it is added under the model, the way DeePMD-kit's ``use_srtab`` and LAMMPS's
``pair_style hybrid/overlay ... zbl`` do.

What. The Ziegler–Biersack–Littmark universal screened nuclear repulsion (J. F. Ziegler, J. P.
Biersack, U. Littmark, *The Stopping and Range of Ions in Solids*, Pergamon 1985, ch. 2)::

    E_ZBL(r) = Z_i Z_j e²/(4πε₀ r) · φ(r/a),   a = 0.46850 Å / (Z_i^0.23 + Z_j^0.23)
    φ(x) = 0.18175 e^(−3.19980x) + 0.50986 e^(−0.94229x) + 0.28022 e^(−0.40290x) + 0.02817 e^(−0.20162x)

switched off between ``inner_A`` and ``outer_A`` exactly as LAMMPS ``pair_style zbl`` does (the
``lj/gromacs`` switch): ``E(r) = E_ZBL(r) + C + [r > inner] (A/3 t³ + B/4 t⁴)``, t = r − inner, with
A, B, C chosen so that E, dE/dr and d²E/dr² vanish at ``outer``. Inside ``inner`` the force is the
bare ZBL force; beyond ``outer`` the baseline is exactly zero.

How it sits under the model. Per species pair the switch lies *below* the closest distance of that
pair in the training data (:meth:`ZBLRepulsion.from_envelope`: ``outer`` = 0.9 × the training
minimum, the envelope's own tolerance, ``inner`` = 0.6 × it). Then no training frame feels the
baseline, so subtracting it from the labels before the fit (the DeePMD ``use_srtab`` way) would
subtract zero: the fit is unchanged and the model is simply evaluated as model + baseline — in
LAMMPS as ``pair_style hybrid/overlay pod zbl in out zbl in out ...`` (one ``zbl`` instance per
species pair, since ``pair zbl``'s radii are global to an instance; :meth:`ZBLRepulsion.lammps_pair_style`),
in Python by :meth:`ZBLRepulsion.evaluate` (the same formula, used by tests and any backend that is
not evaluated through LAMMPS). A frame whose pairs reach the baseline is, by construction, outside
the training envelope (:mod:`deepearth.potentials.envelope`).

A scale per pair, because ZBL alone is not enough. The baseline bounds a close contact only if the
model under it does not dive faster than ZBL rises, and a fitted model does dive: ML-POD's radial
basis holds inverse powers ``f_cut/r^k`` (k ≤ ``inverse_degree``, 8 by default) whose fitted
coefficients, unconstrained below the data, pull a CaSiO3 melt model into a spurious well of
−200 eV when one O–O pair closes from 1.5 to 1.05 Å (measured; ZBL adds +20 eV there). So after the
fit :meth:`ZBLRepulsion.calibrate` probes the model on training frames: for each species pair it
closes the nearest pair of that kind in up to 8 frames from 0.9 to 0.5 × the training minimum
(:data:`PROBE_FRACTIONS`) and raises that pair's scale ``s ≥ 1`` until model + s·ZBL rises at every
step and pushes the two atoms apart at every probe point (times a safety factor 1.5). ``s = 1`` is
bare ZBL; a large ``s`` says the model's extrapolation is wild (the manifest's notes say by how
much). The sum is then repulsive on the probes — not a proof for every configuration, which is why
MD also checks the envelope (:class:`deepearth.md.engine.MDGuard`) and stops there.

In LAMMPS the scales are ``pair_style hybrid/scaled 1.0 pod s₁ zbl in₁ out₁ s₂ zbl ...``.
The parameters are numbers only (``to_dict``/``from_dict``, validated: sorted element pairs,
0 < inner < outer ≤ 10 Å, 1 ≤ scale ≤ 10⁶), stored in the model's manifest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers, covalent_radii
from ase.neighborlist import neighbor_list

from deepearth.potentials.envelope import split_pair_key
from deepearth.units import COULOMB_EV_A

__all__ = ["PROBE_FRACTIONS", "REPULSION_KIND", "ZBLRepulsion", "compress_pair", "zbl", "zbl_switched"]

REPULSION_KIND = "zbl"
#: ZBL screening length prefactor 0.8854 a₀, Å (the universal screening length).
ZBL_A0_A = 0.46850
#: φ(x) coefficients and exponents (ZBL 1985).
ZBL_C = (0.18175, 0.50986, 0.28022, 0.02817)
ZBL_D = (3.19980, 0.94229, 0.40290, 0.20162)
#: Defaults of :meth:`ZBLRepulsion.from_envelope`: fractions of the training minimum of each pair.
OUTER_FRACTION = 0.9
INNER_FRACTION = 0.6
#: Largest switching radius accepted in a manifest, Å; largest scale.
MAX_OUTER_A = 10.0
MAX_SCALE = 1e6
#: Probe distances of :meth:`ZBLRepulsion.calibrate`, as fractions of the pair's training minimum.
PROBE_FRACTIONS = (0.9, 0.8, 0.7, 0.6, 0.5)
#: Factor on the smallest scale that makes the probes repulsive.
SAFETY = 1.5


def zbl(r: np.ndarray, z1: int, z2: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bare ZBL energy (eV) and its first and second derivatives (eV/Å, eV/Å²) at distances ``r`` (Å)."""
    r = np.asarray(r, dtype=float)
    a = ZBL_A0_A / (z1 ** 0.23 + z2 ** 0.23)
    k = COULOMB_EV_A * z1 * z2
    phi = sum(c * np.exp(-d * r / a) for c, d in zip(ZBL_C, ZBL_D))
    dphi = sum(-c * d / a * np.exp(-d * r / a) for c, d in zip(ZBL_C, ZBL_D))
    d2phi = sum(c * (d / a) ** 2 * np.exp(-d * r / a) for c, d in zip(ZBL_C, ZBL_D))
    e = k * phi / r
    de = k * (dphi / r - phi / r**2)
    d2e = k * (d2phi / r - 2.0 * dphi / r**2 + 2.0 * phi / r**3)
    return e, de, d2e


def zbl_switched(r: np.ndarray, z1: int, z2: int, inner: float, outer: float) -> tuple[np.ndarray, np.ndarray]:
    """ZBL with LAMMPS's ``pair zbl`` switch between ``inner`` and ``outer`` (Å): (energy eV, dE/dr eV/Å);
    zero at and beyond ``outer``."""
    r = np.asarray(r, dtype=float)
    tc = outer - inner
    fc, fcp, fcpp = (float(v) for v in zbl(np.array(outer), z1, z2))
    sa = (-3.0 * fcp + tc * fcpp) / tc**2
    sb = (2.0 * fcp - tc * fcpp) / tc**3
    sc = -fc + tc / 2.0 * fcp - tc**2 / 12.0 * fcpp
    e, de, _ = zbl(r, z1, z2)
    t = np.clip(r - inner, 0.0, None)
    e = e + sc + t**3 * (sa / 3.0 + sb / 4.0 * t)
    de = de + t**2 * (sa + sb * t)
    beyond = r >= outer
    return np.where(beyond, 0.0, e), np.where(beyond, 0.0, de)


def _pair(key: str) -> tuple[str, str]:
    a, _, b = key.partition("-")
    return a, b


#: (energy eV, forces (N,3) eV/Å, virial (3,3) eV) of one configuration (a ``ForceEvaluator.evaluate``).
Evaluate = Callable[[np.ndarray, np.ndarray, list[str]], tuple[float, np.ndarray, np.ndarray]]


def compress_pair(atoms: Atoms, i: int, j: int, distance_A: float) -> tuple[Atoms, np.ndarray]:
    """A copy of ``atoms`` with atoms ``i`` and ``j`` moved symmetrically along their (minimum-image)
    bond to ``distance_A``; also the unit vector from ``i`` to ``j``."""
    out = atoms.copy()
    out.calc = None
    v = atoms.get_distance(i, j, mic=True, vector=True)
    u = v / np.linalg.norm(v)
    mid = atoms.positions[i] + v / 2.0
    out.positions[i] = mid - u * distance_A / 2.0
    out.positions[j] = mid + u * distance_A / 2.0
    return out, u


def _separation_force(forces: np.ndarray, i: int, j: int, u: np.ndarray) -> float:
    """Force (eV/Å) pushing ``i`` and ``j`` apart along ``u`` (i → j); negative when it pulls them together."""
    return float((forces[j] @ u - forces[i] @ u) / 2.0)


@dataclass
class ZBLRepulsion:
    """ZBL switched off between ``inner`` and ``outer`` (Å) and multiplied by ``scale`` for each species
    pair: ``pairs["A-B"] = (inner_A, outer_A, scale)`` (sorted symbols); pairs not listed get none."""

    pairs: dict[str, tuple[float, float, float]]
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pairs = {k: (float(v[0]), float(v[1]), float(v[2]) if len(v) > 2 else 1.0)
                      for k, v in sorted(self.pairs.items())}

    @classmethod
    def from_envelope(cls, envelope, elements: list[str], outer_fraction: float = OUTER_FRACTION,
                      inner_fraction: float = INNER_FRACTION) -> "ZBLRepulsion":
        """Radii below each pair's closest training distance (``envelope``: a
        :class:`~deepearth.potentials.envelope.TrainingEnvelope`): ``outer = outer_fraction × min``,
        ``inner = inner_fraction × min``, scale 1. A pair of ``elements`` never seen within the
        envelope's cutoff uses the sum of the covalent radii (ASE's, Cordero et al. 2008) as its minimum."""
        if not 0.0 < inner_fraction < outer_fraction <= 1.0:
            raise ValueError(f"need 0 < inner_fraction ({inner_fraction}) < outer_fraction ({outer_fraction}) <= 1")
        pairs, notes = {}, []
        elements = sorted(set(elements))
        for i, a in enumerate(elements):
            for b in elements[i:]:
                key = f"{a}-{b}"
                r_min = envelope.min_pair_distance_A.get(key)
                if r_min is None:
                    r_min = float(covalent_radii[atomic_numbers[a]] + covalent_radii[atomic_numbers[b]])
                    notes.append(f"{key}: not in the training data within {envelope.pair_cutoff_A} Å; "
                                 f"switch placed below the covalent distance {r_min:.2f} Å")
                pairs[key] = (round(inner_fraction * r_min, 4), round(outer_fraction * r_min, 4), 1.0)
        return cls(pairs, notes)

    # ----------------------------------------------------------------- evaluation

    def evaluate(self, positions: np.ndarray, cell: np.ndarray, symbols: list[str],
                 pbc: tuple[bool, bool, bool] = (True, True, True)) -> tuple[float, np.ndarray, np.ndarray]:
        """(energy eV, forces (N,3) eV/Å, virial (3,3) eV = Σ r⊗f, the DeePMD convention) of the baseline."""
        n = len(np.asarray(positions).reshape(-1, 3))
        energy, forces, virial = 0.0, np.zeros((n, 3)), np.zeros((3, 3))
        for key, (e, f, w) in self.evaluate_pairs(positions, cell, symbols, pbc).items():
            scale = self.pairs[key][2]
            energy, forces, virial = energy + scale * e, forces + scale * f, virial + scale * w
        return energy, forces, virial

    def evaluate_pairs(self, positions: np.ndarray, cell: np.ndarray, symbols: list[str],
                       pbc: tuple[bool, bool, bool] = (True, True, True)
                       ) -> dict[str, tuple[float, np.ndarray, np.ndarray]]:
        """Per species pair with a contact, the *unscaled* switched ZBL (energy eV, forces (N,3) eV/Å,
        virial (3,3) eV): one neighbour list for all pairs; members that differ only in their scales
        (a bootstrap committee) share it."""
        positions = np.asarray(positions, float).reshape(-1, 3)
        n = len(positions)
        out: dict[str, tuple[float, np.ndarray, np.ndarray]] = {}
        if not self.pairs or n < 2:
            return out
        atoms = Atoms(symbols=list(symbols), positions=positions, cell=np.asarray(cell, float).reshape(3, 3), pbc=pbc)
        i, j, d, vec = neighbor_list("ijdD", atoms, max(v[1] for v in self.pairs.values()))
        sym = np.asarray(list(symbols))
        for key, (inner, outer, _scale) in self.pairs.items():
            a, b = _pair(key)
            sel = (((sym[i] == a) & (sym[j] == b)) | ((sym[i] == b) & (sym[j] == a))) & (d < outer)
            if not sel.any():
                continue
            e, de = zbl_switched(d[sel], atomic_numbers[a], atomic_numbers[b], inner, outer)
            forces = np.zeros((n, 3))
            fvec = (de / d[sel])[:, None] * vec[sel]  # force on i: dE/dr · D/r, D = r_j − r_i
            np.add.at(forces, i[sel], fvec)
            virial = -0.5 * np.einsum("p,pa,pb->ab", de / d[sel], vec[sel], vec[sel])
            out[key] = (0.5 * float(e.sum()), forces, virial)  # every pair is listed as (i, j) and (j, i)
        return out

    # ----------------------------------------------------------------- calibration

    def calibrate(self, evaluate: Evaluate, frames: list[Atoms], min_pair_distance_A: dict[str, float],
                  frames_per_pair: int = 8, safety: float = SAFETY) -> "ZBLRepulsion":
        """A copy whose per-pair scales make ``model + baseline`` repulsive on probes of ``frames``
        (module docstring). ``evaluate``: the bare model; ``min_pair_distance_A``: the training minima
        (the envelope's). Pairs without a minimum, or absent from every frame, keep their scale."""
        pairs, notes = dict(self.pairs), list(self.notes)
        for key, (inner, outer, _) in self.pairs.items():
            r_min = min_pair_distance_A.get(key)
            if r_min is None:
                continue
            single = ZBLRepulsion({key: (inner, outer, 1.0)})
            needed, dive, n_probed = 1.0, 0.0, 0
            for atoms in _spread([f for f in frames if _has_pair(f, key)], frames_per_pair):
                i, j = _closest_pair(atoms, key)
                e_mod, e_rep, f_mod, f_rep = [], [], [], []
                for frac in PROBE_FRACTIONS:
                    probe, u = compress_pair(atoms, i, j, frac * r_min)
                    args = (probe.positions, probe.cell.array, probe.get_chemical_symbols())
                    e, f, _ = evaluate(*args)
                    er, fr, _ = single.evaluate(*args)
                    e_mod.append(e), e_rep.append(er)
                    f_mod.append(_separation_force(f, i, j, u)), f_rep.append(_separation_force(fr, i, j, u))
                n_probed += 1
                dive = min(dive, min(e_mod) - e_mod[0])
                for k in range(1, len(PROBE_FRACTIONS)):
                    rise_mod, rise_rep = e_mod[k] - e_mod[k - 1], e_rep[k] - e_rep[k - 1]
                    if rise_mod <= 0.0 and rise_rep > 0.0:
                        needed = max(needed, -rise_mod / rise_rep)
                    if f_mod[k] <= 0.0 and f_rep[k] > 0.0:
                        needed = max(needed, -f_mod[k] / f_rep[k])
            if n_probed == 0:
                continue
            scale = float(min(MAX_SCALE, max(1.0, safety * needed) if needed > 1.0 else 1.0))
            pairs[key] = (inner, outer, round(scale, 3))
            notes.append(f"{key}: probed on {n_probed} frames from {PROBE_FRACTIONS[0]} to {PROBE_FRACTIONS[-1]} "
                         f"x {r_min:.2f} A; the bare model falls by up to {-dive:.1f} eV; ZBL scale {scale:.3g}")
        return ZBLRepulsion(pairs, notes)

    # ----------------------------------------------------------------- LAMMPS

    def lammps_commands(self, type_map: list[str], base_style: str, base_coeff: str) -> list[str]:
        """``pair_style hybrid/scaled 1.0 BASE s zbl inner outer ...`` and its ``pair_coeff`` lines for LAMMPS
        types in ``type_map`` order: ``base_style``/``base_coeff`` are the model's own style and
        ``pair_coeff * *`` arguments (e.g. ``"pod"``, ``"param coeff Ca Si O"``); one ``zbl`` instance per
        listed pair whose species are both in ``type_map``. Without such pairs: the model alone."""
        style, coeffs = [f"1.0 {base_style}"], []
        for key, (inner, outer, scale) in self.pairs.items():
            a, b = _pair(key)
            if a not in type_map or b not in type_map:
                continue
            style.append(f"{scale!r} zbl {inner!r} {outer!r}")
            ti, tj = sorted((type_map.index(a) + 1, type_map.index(b) + 1))
            coeffs.append((ti, tj, atomic_numbers[type_map[ti - 1]], atomic_numbers[type_map[tj - 1]]))
        if not coeffs:
            return [f"pair_style {base_style}", f"pair_coeff * * {base_coeff}"]
        lines = [f"pair_style hybrid/scaled {' '.join(style)}", f"pair_coeff * * {base_style} {base_coeff}"]
        for k, (ti, tj, zi, zj) in enumerate(coeffs, 1):
            index = f" {k}" if len(coeffs) > 1 else ""  # a single instance takes no index
            lines.append(f"pair_coeff {ti} {tj} zbl{index} {zi} {zj}")
        return lines

    # ----------------------------------------------------------------- records

    def to_dict(self) -> dict:
        return {"kind": REPULSION_KIND, "pairs": {k: list(v) for k, v in self.pairs.items()},
                "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, data: Any, origin: str = "repulsion") -> "ZBLRepulsion":
        """Parse and validate (``ValueError`` naming ``origin`` and the key): kind ``"zbl"``, pair keys
        of two element symbols sorted, ``[inner, outer, scale]`` finite with 0 < inner < outer ≤ 10 Å
        and 1 ≤ scale ≤ 10⁶ (``[inner, outer]``: scale 1)."""
        if not isinstance(data, dict):
            raise ValueError(f"{origin}: expected an object, got {type(data).__name__}")
        if data.get("kind") != REPULSION_KIND:
            raise ValueError(f"{origin}: key 'kind': {data.get('kind')!r} is not {REPULSION_KIND!r}")
        pairs = data.get("pairs")
        if not isinstance(pairs, dict):
            raise ValueError(f"{origin}: key 'pairs': expected an object, got {pairs!r}")
        clean = {}
        for key, value in pairs.items():
            if split_pair_key(key) is None:
                raise ValueError(f"{origin}: key 'pairs': {key!r} is not a sorted element pair 'A-B'")
            ok = (isinstance(value, list) and len(value) in (2, 3)
                  and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
                  and 0.0 < value[0] < value[1] <= MAX_OUTER_A and (len(value) == 2 or 1.0 <= value[2] <= MAX_SCALE))
            if not ok:
                raise ValueError(f"{origin}: key 'pairs.{key}': expected [inner, outer, scale] (Å, Å, 1) with "
                                 f"0 < inner < outer <= {MAX_OUTER_A} and 1 <= scale <= {MAX_SCALE:g}, got {value!r}")
            clean[key] = tuple(float(v) for v in value)
        notes = data.get("notes", [])
        if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
            raise ValueError(f"{origin}: key 'notes': expected a list of strings")
        return cls(clean, list(notes))


def _has_pair(atoms: Atoms, key: str) -> bool:
    a, b = _pair(key)
    symbols = atoms.get_chemical_symbols()
    return a in symbols and b in symbols and (a != b or symbols.count(a) > 1)


def _closest_pair(atoms: Atoms, key: str) -> tuple[int, int]:
    """Indices of the closest (minimum-image) pair of species ``key`` in ``atoms``."""
    a, b = _pair(key)
    sym = np.asarray(atoms.get_chemical_symbols())
    best = (math.inf, -1, -1)
    for i in np.where(sym == a)[0]:
        others = np.where(sym == b)[0]
        others = others[others != i]
        d = atoms.get_distances(int(i), others, mic=True)
        k = int(np.argmin(d))
        if d[k] < best[0]:
            best = (float(d[k]), int(i), int(others[k]))
    return best[1], best[2]


def _spread(items: list, n: int) -> list:
    """Up to ``n`` items evenly spread over ``items`` (deterministic)."""
    if len(items) <= n:
        return list(items)
    return [items[int(k)] for k in np.linspace(0, len(items) - 1, n).round().astype(int)]
