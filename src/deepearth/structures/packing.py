"""Random packings: the start of a liquid without a potential (the quench of an infinitely hot melt).

:func:`random_packing` places a crystal's atoms at random in its cell scaled to a target volume, one
after the other (random sequential addition), keeping every pair of elements a and b at least
``factor`` × their closest distance in the crystal apart (periodic images included). With the
crystal's own pair distances, like ions keep their larger separation (Mg–Mg 2.98 Å vs Mg–O 2.1 Å in
periclase), so the packing holds no cation pair a reference would refuse to converge on. Random
sequential addition jams (hard spheres near 38 % packing fraction) before dense cells are full, so
atoms are first placed at a lower factor (down to ``min_factor``, steps of 0.05) and then pushed
apart (each overlapping pair moved apart symmetrically, repeated) until every pair reaches
``factor``; the factor reached is ``atoms.info["packing_factor"]``. When no placement fits even at
``min_factor``, ``RuntimeError``.

The packing is not a liquid: the exploration's MD at the target (P, T) melts and equilibrates it, and
the liquid check (:func:`deepearth.structures.liquid.assess_liquid`) or a diffusive D says whether
what it sampled is one. Units: Å, Å³.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.neighborlist import neighbor_list

#: Tries per atom before the placement factor is lowered.
TRIES_PER_ATOM = 2000
#: Atoms are placed at most this × the closest distances apart (random sequential addition stays far
#: from jamming), then pushed apart to the asked factor.
PLACEMENT_FACTOR = 0.6
#: Pushing apart stops when the closest pair has not improved for this many sweeps (jammed).
STALL_SWEEPS = 20


def closest_pair_distances(crystal: Atoms) -> dict[tuple[str, str], float]:
    """The closest distance (Å) between atoms of elements a and b in ``crystal`` (periodic), for every
    pair of its elements (keys sorted); a pair with no neighbour within 3 × the mean atomic spacing
    gets that cutoff."""
    cutoff = 3.0 * (crystal.get_volume() / len(crystal)) ** (1 / 3)
    i, j, d = neighbor_list("ijd", crystal, cutoff)
    sym = np.array(crystal.get_chemical_symbols(), dtype=object)
    elements = sorted(set(sym))
    out = {}
    for a in elements:
        for b in elements:
            if a > b:
                continue
            m = ((sym[i] == a) & (sym[j] == b)) | ((sym[i] == b) & (sym[j] == a))
            out[(a, b)] = float(d[m].min()) if m.any() else cutoff
    return out


def random_packing(crystal: Atoms, volume_A3: float, seed: int, factor: float = 0.85,
                   min_factor: float = 0.5) -> Atoms:
    """The atoms of ``crystal`` at random positions in its cell scaled to ``volume_A3`` (Å³), each
    pair at least ``factor`` × the crystal's closest distance of its two elements apart (scaled with
    the cell) where pushing apart gets there (``atoms.info["packing_factor"]``: what every pair
    reaches). Per-atom arrays that describe the crystal (``region``, ``gb_distance_A``) are dropped;
    ``formal_charge`` is kept. Deterministic in ``seed``."""
    if not volume_A3 > 0:
        raise ValueError(f"random_packing: volume_A3 must be > 0 Å³, got {volume_A3}")
    scale = (volume_A3 / crystal.get_volume()) ** (1 / 3)
    cell = crystal.cell.array * scale
    symbols = crystal.get_chemical_symbols()
    elements = sorted(set(symbols))
    kinds = np.array([elements.index(x) for x in symbols])
    pairs = closest_pair_distances(crystal)
    dmin = np.array([[pairs[tuple(sorted((a, b)))] * scale for b in elements] for a in elements])
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(symbols))
    inv = np.linalg.inv(cell)
    f = min(factor, PLACEMENT_FACTOR)  # place loosely (no jamming), then push apart to ``factor``
    while f >= min_factor - 1e-9:
        pos = _place(order, kinds, cell, inv, f * dmin, rng)
        if pos is not None:
            out = Atoms(symbols=symbols, positions=pos, cell=cell, pbc=True)
            reached = _push_apart(out, kinds, dmin, factor, f)
            if "formal_charge" in crystal.arrays:
                out.arrays["formal_charge"] = crystal.arrays["formal_charge"].copy()
            out.info["packing_factor"] = float(np.floor(reached * 1000) / 1000)  # every pair reaches it
            return out
        f -= 0.05
    raise RuntimeError(f"random_packing: {len(symbols)} atoms do not fit in {volume_A3:.1f} Å³ at {min_factor:g} × "
                       "the crystal's closest distances (raise the volume)")


def _place(order, kinds, cell, inv, dmin, rng) -> np.ndarray | None:
    pos = np.zeros((len(kinds), 3))
    placed: list[int] = []
    for idx in order:
        need = dmin[kinds[idx], kinds[placed]] if placed else None
        for _ in range(TRIES_PER_ATOM):
            trial = rng.random(3) @ cell
            if placed:
                d = pos[placed] - trial
                d -= np.round(d @ inv) @ cell  # minimum image (exact for cells wider than 2 × dmin)
                if np.any(np.einsum("ij,ij->i", d, d) < need**2):
                    continue
            pos[idx] = trial
            placed.append(idx)
            break
        else:
            return None
    return pos


def _push_apart(atoms: Atoms, kinds: np.ndarray, dmin: np.ndarray, factor: float, placed_at: float,
                sweeps: int = 150) -> float:
    """Move overlapping pairs apart (in place) until every pair is ≥ ``factor`` × its distance, or
    ``sweeps`` are done; returns the factor every pair reaches."""
    cutoff = factor * dmin.max()
    best, since = 0.0, 0
    for _ in range(sweeps):
        i, j, d, v = _pairs(atoms, cutoff)
        need = factor * dmin[kinds[i], kinds[j]]
        bad = d < need - 1e-6
        if not bad.any():
            return factor
        reached = float((d / dmin[kinds[i], kinds[j]]).min())
        best, since = (reached, 0) if reached > best + 1e-3 else (best, since + 1)
        if since >= STALL_SWEEPS:  # jammed: this is as far apart as they get
            break
        shift = np.zeros((len(atoms), 3))
        push = 0.5 * 1.05 * (need[bad] - d[bad])[:, None] * v[bad] / d[bad][:, None]
        np.add.at(shift, i[bad], -0.5 * push)  # each pair appears twice, (i, j) and (j, i)
        np.add.at(shift, j[bad], 0.5 * push)
        atoms.positions += shift
        atoms.wrap()
    i, j, d, _ = _pairs(atoms, cutoff)
    reached = (d / dmin[kinds[i], kinds[j]]).min() if len(i) else factor
    return float(max(placed_at, min(factor, reached)))


def _pairs(atoms: Atoms, cutoff: float):
    """Pairs (i, j, distance, vector j − i) closer than ``cutoff``, both orders: all pairs by minimum
    image when that is exact (cutoff below half the cell's smallest width, ≤ 1000 atoms), else ASE's
    neighbour list."""
    cell = atoms.cell.array
    widths = atoms.cell.volume / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
    if cutoff >= 0.5 * widths.min() or len(atoms) > 1000:
        return neighbor_list("ijdD", atoms, cutoff)
    pos = atoms.positions
    v = pos[None, :, :] - pos[:, None, :]
    v -= np.round(v @ np.linalg.inv(cell)) @ cell
    d = np.linalg.norm(v, axis=2)
    np.fill_diagonal(d, np.inf)
    i, j = np.nonzero(d < cutoff)
    return i, j, d[i, j], v[i, j]
