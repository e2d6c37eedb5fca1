"""Symmetric tilt grain boundaries of cubic crystals: CSL geometry, a periodic bicrystal, repair, tags.

Geometry (coincidence-site lattice, cubic lattices P, I and F alike):

* A symmetric tilt boundary on the plane (hkl) about the axis [uvw] (hu + kv + lw = 0) misorients the
  two grains by 180° about the plane normal [hkl]; its Σ is N = h² + k² + l² for odd N and N/2 for even
  N (Miller indices coprime). The tilt angle θ about [uvw] is twice the angle between [hkl] and the
  nearest lowest-index direction perpendicular to the axis (the usual convention: [100] for [001]
  tilts, [001] for [110] tilts): Σ5 (310)/[001] 36.87°, Σ13 (510)/[001] 22.62°, Σ13 (320)/[001] 67.38°,
  Σ3 (111)/[1-10] 109.47°. That 180° twist is a tilt about [uvw] only when a cubic rotation turns
  [uvw] into its opposite, i.e. a 2-fold axis of the cube (<100>, <110>) is ⟂ to it: [001], [110],
  [111], [112], [210]... qualify, [123] does not (a ValueError naming the axis).
* Laboratory frame: z along the plane normal [hkl] (the stacking direction), y along the axis [uvw],
  x = y × z. Each grain is an orthogonal periodic block whose edges are the shortest lattice vectors
  along x, y and z (found from the crystal's own lattice translations, so an F or I centring halves
  them where it can: Σ5 (310)/[001] in rock salt has period a·√10/2 = 6.66 Å along x, not a·√10).
  These edges are periods of the CSL too: grain 2 only turns them into their negatives.
* Grain 2 is grain 1 turned 180° about z. For a centrosymmetric crystal (rock salt, fluorite, CsCl)
  that is grain 1's mirror image in the boundary plane (mirror = inversion ∘ 2-fold rotation), up to a
  rigid translation; for a non-centrosymmetric one (zinc blende) it keeps the handedness of the phase.
  Grain 1 fills z ∈ [0, L1), grain 2 z ∈ [L1 + dz, 2 L1 + dz), the cell is 2 (L1 + dz) long along z
  and the in-plane translation (tx, ty) moves grain 2. The two boundaries are then related by
  symmetry (the 2-fold axis plus half a cell along z) for any translation.
* A boundary plane lies half-way between the last atomic plane of one grain and the first of the
  next: ``info["boundary_positions_A"]`` (z, Å), the two half a cell apart.

Repair: every pair closer than ``min_distance_factor`` × the bulk nearest-neighbour distance loses the
atom on the upper side of its boundary (the one in the grain above it; pairs in order of distance,
a pair whose atom is already gone is skipped); this rule keeps the two boundaries alike. Then, per
boundary, whole formula units are restored: with c_s atoms of species s removed and f_s atoms of s per
formula unit, n = max_s ceil(c_s / f_s) formula units go, and the n·f_s − c_s extra atoms of each
species are those of that species in the same (upper) grain closest to the atoms already removed
there (the same overlap region), ties by index.

Translation scan: with a calculator, grain 2 is tried at the in-plane translations of a
``scan_grid`` over one CSL cell (and at each gap of ``scan_gaps_A``), each trial repaired and
optionally relaxed (a seeded rattle, then L-BFGS for at most ``relax_steps``); the lowest boundary
energy γ = (E − N_fu e_fu) / (2A) wins (e_fu from the same calculator on the bulk input; first in
grid order on a tie; under a pressure P the excess enthalpy, adding P (V − N_fu v_fu)). The result is
deterministic: the same arguments give the same structure.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass
from functools import reduce

import numpy as np
from ase import Atoms
from ase.neighborlist import neighbor_list

from deepearth import units



# ------------------------------------------------------------------------------ CSL geometry
def _coprime(v, name: str) -> tuple[int, int, int]:
    try:
        arr = np.asarray(v, dtype=float).reshape(3)
    except Exception:
        raise ValueError(f"{name}: need three integers, got {v!r}") from None
    if not np.all(np.isfinite(arr)) or np.any(np.abs(arr - np.round(arr)) > 1e-9):
        raise ValueError(f"{name}: need three integers, got {v!r}")
    ints = [int(round(x)) for x in arr]
    g = reduce(math.gcd, (abs(x) for x in ints))
    if g == 0:
        raise ValueError(f"{name}: the zero vector is no direction")
    return tuple(x // g for x in ints)


def sigma_of_plane(plane) -> int:
    """Σ of the symmetric tilt boundary on ``plane`` (any axis ⟂ to it): N or N/2, N = h²+k²+l²."""
    h = _coprime(plane, "plane")
    n = sum(x * x for x in h)
    return n if n % 2 else n // 2


def _reference_directions(axis) -> np.ndarray:
    """The lowest-index integer directions ⟂ ``axis`` (both signs): the zero of the tilt angle."""
    ax = np.asarray(axis)
    bound = max(2, int(np.abs(ax).max()) + 1)
    rng = range(-bound, bound + 1)
    cand = np.array([v for v in itertools.product(rng, rng, rng) if any(v) and np.dot(v, ax) == 0])
    norms = (cand ** 2).sum(axis=1)
    return cand[norms == norms.min()]


def _proper_cubic_rotations() -> np.ndarray:
    """The 24 rotations of the cubic group O (signed permutation matrices, det +1)."""
    mats = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1, -1), repeat=3):
            m = np.zeros((3, 3), int)
            m[range(3), perm] = signs
            if round(np.linalg.det(m)) == 1:
                mats.append(m)
    return np.array(mats)


def _tilt_angles(axis, plane) -> list[float] | None:
    """All angles θ ∈ [0°, 180°] with R_axis(θ) = C2(plane normal)·S, S a cubic rotation.

    None when no cubic rotation turns the axis into its opposite: the mirror boundary on the plane
    is then a 180° twist about the normal but no tilt about ``axis``.
    """
    t = np.asarray(axis, float) / np.linalg.norm(axis)
    n = np.asarray(plane, float) / np.linalg.norm(plane)
    c2 = 2.0 * np.outer(n, n) - np.eye(3)
    angles = []
    for s in _proper_cubic_rotations():
        if not np.allclose(s @ t, -t):
            continue
        g = c2 @ s                                  # a rotation about t
        cos = np.clip((np.trace(g) - 1.0) / 2.0, -1.0, 1.0)
        u = np.cross(t, n)                          # ⟂ t: the sign of the angle about +t
        sin = np.dot(np.cross(u, g @ u), t)
        angles.append(round(float(np.degrees(np.arctan2(sin, cos))) % 360.0, 9))
    if not angles:
        return None
    return sorted({0.0 if min(a, 360.0 - a) < 1e-6 else (a if a <= 180.0 else 360.0 - a) for a in angles})


def tilt_angle_deg(axis, plane) -> float:
    """Tilt angle (degrees) of the symmetric tilt boundary on ``plane`` about ``axis`` (see module doc).

    ValueError (naming the axis) when the mirror boundary on ``plane`` is no tilt about ``axis``
    (no 2-fold axis of the cube is ⟂ to it, e.g. [123]).
    """
    ax, pl = _coprime(axis, "axis"), _coprime(plane, "plane")
    if np.dot(ax, pl) != 0:
        raise ValueError(f"plane: {list(pl)} is not perpendicular to the axis {list(ax)}")
    allowed = _tilt_angles(ax, pl)
    if allowed is None:
        raise ValueError(f"axis: no 2-fold axis of the cube is perpendicular to {list(ax)}, so the mirror "
                         f"boundary on {list(pl)} is not a tilt boundary about it")
    refs = _reference_directions(ax).astype(float)
    n = np.asarray(pl, float) / np.linalg.norm(pl)
    cosines = refs @ n / np.linalg.norm(refs, axis=1)
    theta = float(2.0 * np.degrees(np.arccos(np.clip(cosines.max(), -1.0, 1.0))))
    # the convention's angle is one of the misorientation's angles about the axis; else the smallest
    return theta if min(abs(theta - a) for a in allowed) < 1e-6 else allowed[0]


def symmetric_tilt_planes(axis, sigma: int) -> list[tuple[tuple[int, int, int], float]]:
    """All symmetric tilt planes with this Σ about ``axis``: ``[(plane, tilt_angle_deg), ...]``.

    One plane per distinct tilt angle (a representative: the lexicographically largest), sorted by
    angle; :func:`grain_boundary` with ``sigma=`` takes the first (the smallest tilt angle).
    """
    ax = _coprime(axis, "axis")
    if int(sigma) != sigma or sigma < 3 or sigma % 2 == 0:
        raise ValueError(f"sigma: Σ of a cubic boundary is an odd integer ≥ 3, got {sigma!r}")
    bound = int(math.isqrt(2 * int(sigma))) + 1
    rng = range(-bound, bound + 1)
    by_angle: dict[float, tuple[int, int, int]] = {}
    for v in itertools.product(rng, rng, rng):
        if not any(v) or np.dot(v, ax) != 0 or math.gcd(math.gcd(abs(v[0]), abs(v[1])), abs(v[2])) != 1:
            continue
        if sigma_of_plane(v) != sigma:
            continue
        try:
            angle = round(tilt_angle_deg(ax, v), 6)
        except ValueError:
            return []                               # the axis admits no symmetric tilt boundary

        if angle not in by_angle or v > by_angle[angle]:
            by_angle[angle] = v
    return [(p, a) for a, p in sorted((a, p) for a, p in by_angle.items())]


# ------------------------------------------------------------------------------ the crystal
@dataclass(frozen=True)
class CSLBlock:
    """One orthogonal CSL block of grain 1 in the laboratory frame."""

    atoms: Atoms                      # grain 1 block, cell diag(Lx, Ly, Lz), input arrays kept
    axis: tuple[int, int, int]
    plane: tuple[int, int, int]
    x_dir: tuple[int, int, int]
    sigma: int
    tilt_deg: float
    nn_distance_A: float
    formula: dict[str, int]           # atoms per formula unit


def _check_cubic(atoms: Atoms) -> np.ndarray:
    """The pure lattice translations of the cell (fractional, first row 0); ValueError if not cubic."""
    import spglib

    if len(atoms) == 0 or not np.all(atoms.pbc):
        raise ValueError("atoms: need a periodic conventional cubic cell")
    cell = atoms.cell.array
    lengths = np.linalg.norm(cell, axis=1)
    gram = cell @ cell.T / np.outer(lengths, lengths)
    if np.ptp(lengths) > 1e-4 * lengths.mean() or np.abs(gram - np.eye(3)).max() > 1e-4:
        raise ValueError(f"atoms: need the conventional cubic cell (e.g. ase.build.bulk(..., cubic=True)); "
                         f"cell lengths {np.round(atoms.cell.cellpar(), 4).tolist()}")
    spg = (cell, atoms.get_scaled_positions(), atoms.numbers)
    with warnings.catch_warnings():  # spglib 2.x: a DeprecationWarning about its error handling
        warnings.simplefilter("ignore", DeprecationWarning)
        data = spglib.get_symmetry_dataset(spg, symprec=1e-3)
        sym = spglib.get_symmetry(spg, symprec=1e-3)
    if data is None or sym is None or not 195 <= data.number <= 230:
        got = "none found" if data is None else f"{data.international} (No. {data.number})"
        raise ValueError(f"atoms: the crystal is not cubic (space group {got})")
    pure = [t for r, t in zip(sym["rotations"], sym["translations"]) if np.array_equal(r, np.eye(3, dtype=int))]
    pure = np.array([t - np.round(t) for t in pure])
    pure = pure[np.argsort(np.abs(pure).sum(axis=1), kind="stable")]
    return pure


def _shortest_period(direction, translations: np.ndarray) -> float:
    """Largest n such that direction/n is a lattice vector (``translations``: the cell's centrings)."""
    d = np.asarray(direction, float)
    best = 1
    for n in range(2, len(translations) + 1):
        frac = d / n
        if any(np.allclose(frac - t - np.round(frac - t), 0.0, atol=1e-6) for t in translations):
            best = n
    return best


def _nn_distance(atoms: Atoms) -> float:
    cut = 0.75 * atoms.cell.lengths().min()
    while True:
        d = neighbor_list("d", atoms, cut)
        if len(d):
            return float(d.min())
        cut *= 1.5


def _formula_unit(atoms: Atoms) -> dict[str, int]:
    symbols, counts = np.unique(atoms.get_chemical_symbols(), return_counts=True)
    g = reduce(math.gcd, (int(c) for c in counts))
    return {str(s): int(c) // g for s, c in zip(symbols, counts)}


def csl_block(atoms: Atoms, axis=(0, 0, 1), plane=None, sigma: int | None = None) -> CSLBlock:
    """Grain 1's orthogonal CSL block (laboratory frame) and the boundary's geometry; validates inputs."""
    translations = _check_cubic(atoms)
    ax = _coprime(axis, "axis")
    if not any(np.array_equal(r @ ax, -np.asarray(ax)) for r in _proper_cubic_rotations()):
        raise ValueError(f"axis: no 2-fold axis of the cube is perpendicular to {list(ax)}: no symmetric "
                         f"boundary is a tilt boundary about it (use e.g. [001], [110], [111], [112], [210])")
    if plane is None:
        if sigma is None:
            raise ValueError("plane: give the boundary plane (plane=) or its Σ (sigma=)")
        planes = symmetric_tilt_planes(ax, sigma)
        if not planes:
            raise ValueError(f"sigma: no symmetric tilt boundary with Σ{sigma} about the axis {list(ax)}")
        pl = planes[0][0]
    else:
        pl = _coprime(plane, "plane")
        if np.dot(ax, pl) != 0:
            raise ValueError(f"plane: {list(pl)} is not perpendicular to the axis {list(ax)}")
        if sigma is not None and sigma_of_plane(pl) != sigma:
            raise ValueError(f"sigma: the plane {list(pl)} gives Σ{sigma_of_plane(pl)}, not Σ{sigma}")
    sig = sigma_of_plane(pl)
    if sig == 1:
        raise ValueError(f"plane: {list(pl)} about {list(ax)} is Σ1, a single crystal, not a boundary")
    xd = _coprime(np.cross(ax, pl), "axis × plane")
    # rows: the block's edges in the input cell's fractional coordinates (right-handed: x = y × z)
    m = np.array([np.array(d, float) / _shortest_period(d, translations) for d in (xd, ax, pl)])
    n_expected = len(atoms) * abs(np.linalg.det(m))
    corners = np.array([c @ m for c in itertools.product((0, 1), repeat=3)])
    lo, hi = np.floor(corners.min(axis=0)).astype(int) - 1, np.ceil(corners.max(axis=0)).astype(int) + 1
    shifts = np.array(list(itertools.product(*(range(a, b + 1) for a, b in zip(lo, hi)))), float)
    frac_in = atoms.get_scaled_positions()
    tiled = (frac_in[None, :, :] + shifts[:, None, :]).reshape(-1, 3)
    source = np.tile(np.arange(len(atoms)), len(shifts))
    f = tiled @ np.linalg.inv(m)
    f = np.where(np.abs(f - np.round(f)) < 1e-8, np.round(f), f)
    keep = np.all((f >= 0.0) & (f < 1.0), axis=1)
    if keep.sum() != round(n_expected):
        raise RuntimeError(f"CSL block: {keep.sum()} atoms, expected {n_expected:g}")
    cart_edges = m @ atoms.cell.array
    lengths = np.linalg.norm(cart_edges, axis=1)
    block = atoms[source[keep]]
    block.set_constraint()
    block.set_cell(np.diag(lengths))
    block.positions = f[keep] * lengths
    block.pbc = True
    if block.has("momenta"):
        rot = cart_edges / lengths[:, None]
        block.set_momenta(atoms.get_momenta()[source[keep]] @ rot.T)
    return CSLBlock(block, ax, pl, xd, sig, tilt_angle_deg(ax, pl), _nn_distance(atoms), _formula_unit(atoms))


# ------------------------------------------------------------------------------ the bicrystal
def _wrap(d: np.ndarray, length: float) -> np.ndarray:
    """Minimum-image signed offsets in [-L/2, L/2)."""
    return (d + 0.5 * length) % length - 0.5 * length


def _assemble(block: CSLBlock, repeats: tuple[int, int, int], translation, min_distance_factor: float) -> Atoms:
    """Stack, repair and tag one bicrystal for a rigid translation (tx, ty, dz) of grain 2 (Å)."""
    tx, ty, dz = (float(t) for t in translation)
    g1 = block.atoms.repeat(repeats)
    lx, ly, l1 = np.diag(g1.cell.array)
    length = 2.0 * (l1 + dz)
    if length <= 0 or l1 + dz <= 0:
        raise ValueError(f"translation: gap {dz} Å collapses the grains")
    g2 = g1.copy()
    p = g2.positions
    g2.positions = np.column_stack([(-p[:, 0] + tx) % lx, (-p[:, 1] + ty) % ly, p[:, 2] + l1 + dz])
    if g2.has("momenta"):
        g2.set_momenta(g2.get_momenta() * np.array([-1.0, -1.0, 1.0]))
    gb = g1 + g2
    gb.set_cell(np.diag([lx, ly, length]))
    gb.pbc = True
    grain = np.repeat([1, 2], len(g1))
    zlo, zhi = g1.positions[:, 2].min(), g1.positions[:, 2].max()
    z_b = np.array([0.5 * (zhi + zlo + l1 + dz), 0.5 * (zhi + zlo + l1 + dz) + l1 + dz]) % length
    upper_grain = np.array([2, 1])                  # the grain above each boundary

    z = gb.positions[:, 2]
    offsets = _wrap(z[:, None] - z_b[None, :], length)          # (N, 2)
    nearest = np.argmin(np.abs(offsets), axis=1)
    removed = np.zeros(len(gb), bool)
    # close pairs straddle a boundary: search only the slabs within reach of one (O(N) either way)
    cutoff = min_distance_factor * block.nn_distance_A
    window = cutoff + abs(dz) + (zlo + l1 - zhi) + 1e-6
    near = np.flatnonzero(np.abs(offsets).min(axis=1) < window)
    slab = Atoms(positions=gb.positions[near], cell=gb.cell, pbc=True)
    i, j, d = neighbor_list("ijd", slab, cutoff)
    pairs = i < j
    i, j, d = near[i[pairs]], near[j[pairs]], d[pairs]
    order = np.lexsort((j, i, d))
    at_boundary: list[list[int]] = [[], []]
    n_pairs = 0
    for a, b in zip(i[order], j[order]):
        if removed[a] or removed[b]:
            continue
        mid = z[a] + 0.5 * _wrap(z[b] - z[a], length)
        k = int(np.argmin(np.abs(_wrap(mid - z_b, length))))
        if grain[a] != grain[b]:
            up = a if grain[a] == upper_grain[k] else b
        else:
            up = a if (offsets[a, k], a) > (offsets[b, k], b) else b
        removed[up] = True
        at_boundary[k].append(int(up))
        n_pairs += 1

    symbols = np.array(gb.get_chemical_symbols())
    extra_total: dict[str, int] = {}
    for k in (0, 1):
        gone = np.array(at_boundary[k], int)
        if not len(gone):
            continue
        counts = {s: int((symbols[gone] == s).sum()) for s in block.formula}
        n_fu = max(math.ceil(counts[s] / f) for s, f in block.formula.items())
        for s, f in block.formula.items():
            need = n_fu * f - counts[s]
            if need <= 0:
                continue
            cand = np.flatnonzero((symbols == s) & ~removed & (grain == upper_grain[k]) & (nearest == k))
            delta = gb.positions[cand][:, None, :] - gb.positions[gone][None, :, :]
            delta -= np.round(delta / gb.cell.lengths()) * gb.cell.lengths()
            dist = np.sqrt((delta ** 2).sum(axis=2)).min(axis=1)
            pick = cand[np.lexsort((cand, np.round(dist, 6)))[:need]]
            removed[pick] = True
            extra_total[s] = extra_total.get(s, 0) + len(pick)

    removed_by_species = {s: int((symbols[removed] == s).sum()) for s in block.formula}
    gb = gb[~removed]
    gb.arrays["grain"] = grain[~removed]
    gb.info.update(
        sigma=block.sigma, tilt_angle_deg=block.tilt_deg, axis=block.axis, plane=block.plane,
        x_direction=block.x_dir, csl_period_A=tuple(float(v) for v in np.diag(block.atoms.cell.array)),
        gb_area_A2=float(lx * ly), boundary_positions_A=tuple(float(v) for v in np.sort(z_b)),
        removed_pairs=n_pairs, removed=removed_by_species, removed_for_stoichiometry=extra_total,
        translation=(tx, ty, dz), nn_distance_A=block.nn_distance_A, min_distance_factor=min_distance_factor,
    )
    return gb


def _tag(gb: Atoms, gb_width_A: float) -> Atoms:
    z_b = np.asarray(gb.info["boundary_positions_A"])
    length = gb.cell.lengths()[2]
    dist = np.abs(_wrap(gb.positions[:, 2][:, None] - z_b[None, :], length)).min(axis=1)
    gb.arrays["gb_distance_A"] = dist
    gb.arrays["region"] = (dist < 0.5 * gb_width_A).astype(int)
    gb.info["gb_width_A"] = float(gb_width_A)
    return gb


def formula_units(atoms: Atoms, formula: dict[str, int]) -> int:
    """Number of whole formula units in ``atoms``; ValueError if it is not stoichiometric."""
    symbols = np.array(atoms.get_chemical_symbols())
    n = {s: int((symbols == s).sum()) / f for s, f in formula.items()}
    values = set(n.values())
    if len(values) != 1 or sum(int((symbols == s).sum()) for s in formula) != len(atoms):
        raise ValueError(f"atoms: not stoichiometric in {formula}: {n}")
    value = values.pop()
    if value != int(value):
        raise ValueError(f"atoms: not whole formula units of {formula}: {n}")
    return int(value)


def bulk_energy_per_formula_unit(bulk: Atoms, calculator, min_length_A: float = 8.0) -> float:
    """e_fu (eV): the calculator's energy of the bulk crystal per formula unit (repeated ≥ min_length_A)."""
    reps = tuple(max(1, math.ceil(min_length_A / L)) for L in bulk.cell.lengths())
    crystal = bulk.repeat(reps)
    crystal.calc = calculator
    return float(crystal.get_potential_energy()) / formula_units(crystal, _formula_unit(bulk))


def gb_energy_J_m2(gb: Atoms, calculator, e_bulk_per_fu_eV: float, formula: dict[str, int],
                   pressure_GPa: float = 0.0, v_bulk_per_fu_A3: float | None = None) -> float:
    """γ = (E − N_fu e_fu) / (2A) in J/m² for a periodic bicrystal with two boundaries of area A.

    At a pressure P ≠ 0 the excess enthalpy, γ = (E + P V − N_fu (e_fu + P v_fu)) / (2A), with v_fu
    the bulk volume per formula unit (``v_bulk_per_fu_A3``, Å³) at which e_fu was computed: to first
    order the same as comparing with bulk squeezed into the bicrystal's volume, and the quantity to
    minimise over translations, gaps and removals under pressure.
    """
    a = gb.copy()
    a.calc = calculator
    e = float(a.get_potential_energy())
    area = float(np.linalg.norm(np.cross(gb.cell[0], gb.cell[1])))
    n_fu = formula_units(gb, formula)
    excess = e - n_fu * e_bulk_per_fu_eV
    if pressure_GPa:
        if v_bulk_per_fu_A3 is None:
            raise ValueError("v_bulk_per_fu_A3: needed with a pressure")
        excess += pressure_GPa * units.GPA_TO_EV_PER_A3 * (gb.get_volume() - n_fu * v_bulk_per_fu_A3)
    return excess / (2.0 * area) * units.EV_PER_A2_TO_J_PER_M2


def grain_boundary(atoms: Atoms, axis=(0, 0, 1), plane=None, *, sigma: int | None = None,
                   min_length_A: float = 40.0, min_inplane_A: float = 10.0, gb_width_A: float = 10.0,
                   min_distance_factor: float = 0.75, translation=None, translation_scan=None,
                   scan_grid: tuple[int, int] = (4, 4), scan_gaps_A=(0.0,), relax_steps: int = 0,
                   relax_fmax: float = 0.05, rattle_A: float = 0.02, pressure_GPa: float = 0.0,
                   seed: int = 0) -> Atoms:
    """A periodic bicrystal with two symmetric tilt boundaries ⟂ z (see the module doc for the rules).

    ``atoms``: the conventional cubic cell (e.g. ``ase.build.bulk("MgO", "rocksalt", a=4.212,
    cubic=True)``); its per-atom arrays are kept. ``axis`` [uvw] and ``plane`` (hkl) ⟂ to it, or
    ``sigma`` instead of ``plane`` (the plane with the smallest tilt angle, :func:`symmetric_tilt_planes`).
    ``min_length_A``: the cell is at least this long along the normal z, i.e. each grain is ≥
    min_length_A/2 thick and the two boundaries are ≥ min_length_A/2 apart. ``min_inplane_A``: the
    CSL block is repeated along x and y until the cell is at least this wide.
    ``gb_width_A``: ``arrays["region"]`` = 1 within gb_width_A/2 of a boundary plane along z, else 0;
    ``arrays["gb_distance_A"]`` that distance (minimum image), ``arrays["grain"]`` 1 or 2.
    ``translation``: a fixed rigid translation (tx, ty, dz) of grain 2 in Å (default none);
    ``translation_scan``: an ASE calculator to pick the translation on a ``scan_grid`` over one CSL
    cell × ``scan_gaps_A`` (then ``info["gb_energy_J_m2"]``, ``info["e_bulk_eV_per_fu"]`` and
    ``info["scan"]``: γ of every trial); ``relax_steps`` > 0 relaxes each trial (L-BFGS, positions
    only, after a ``rattle_A`` rattle drawn from ``seed``). ``pressure_GPa``: minimise the excess
    enthalpy at this pressure instead (:func:`gb_energy_J_m2`; the input cell is taken as the bulk at
    that pressure).
    """
    if not min_length_A > 0 or not min_inplane_A >= 0 or not gb_width_A >= 0:
        raise ValueError("min_length_A: lengths must be positive")
    if not 0 < min_distance_factor < 1:
        raise ValueError(f"min_distance_factor: {min_distance_factor} is outside (0, 1)")
    block = csl_block(atoms, axis, plane, sigma)
    lx, ly, lz = np.diag(block.atoms.cell.array)
    repeats = (max(1, math.ceil(min_inplane_A / lx - 1e-9)), max(1, math.ceil(min_inplane_A / ly - 1e-9)),
               max(1, math.ceil(0.5 * min_length_A / lz - 1e-9)))
    if translation_scan is None:
        t = (0.0, 0.0, 0.0) if translation is None else tuple(float(v) for v in translation)
        if len(t) != 3:
            raise ValueError(f"translation: need (tx, ty, dz) in Å, got {translation!r}")
        return _tag(_assemble(block, repeats, t, min_distance_factor), gb_width_A)
    if translation is not None:
        raise ValueError("translation: give translation= or translation_scan=, not both")
    nx, ny = (int(v) for v in scan_grid)
    if nx < 1 or ny < 1:
        raise ValueError(f"scan_grid: need two positive integers, got {scan_grid!r}")
    e_fu = bulk_energy_per_formula_unit(atoms, translation_scan)
    v_fu = atoms.get_volume() / formula_units(atoms, block.formula)
    rng = np.random.default_rng(seed)
    best, scan = None, []
    for dz in scan_gaps_A:
        for ix, iy in itertools.product(range(nx), range(ny)):
            trial = _assemble(block, repeats, (ix * lx / nx, iy * ly / ny, float(dz)), min_distance_factor)
            if relax_steps > 0:
                from ase.optimize import LBFGS

                trial.positions += rng.normal(0.0, rattle_A, trial.positions.shape)
                trial.calc = translation_scan
                LBFGS(trial, logfile=None).run(fmax=relax_fmax, steps=int(relax_steps))
                trial.calc = None
            gamma = gb_energy_J_m2(trial, translation_scan, e_fu, block.formula, pressure_GPa, v_fu)
            scan.append((*trial.info["translation"], gamma))
            if best is None or gamma < best[0] - 1e-12:
                best = (gamma, trial)
    gamma, gb = best
    gb.info.update(gb_energy_J_m2=gamma, e_bulk_eV_per_fu=e_fu, v_bulk_A3_per_fu=v_fu,
                   pressure_GPa=float(pressure_GPa), scan=np.array(scan))
    return _tag(gb, gb_width_A)
