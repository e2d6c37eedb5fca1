"""Point defects: substitution, vacancies (plain and Schottky), charge-compensated impurities.

Formal charges
--------------
Each atom has a formal charge (oxidation state). Where it comes from, first match wins:

1. the per-atom array ``atoms.arrays["formal_charge"]`` (carried through every builder here, so a
   Fe³⁺ put in by ``substitute(..., valence=3)`` stays Fe³⁺);
2. the ``charges`` argument, ``{symbol: charge}``;
3. :data:`DEFAULT_OXIDATION_STATES` (Mg +2, Fe +2, Ca +2, Si +4, Al +3, H +1, O −2, ...) when the
   cell is *ionic*, i.e. holds at least one anion former of :data:`ANION_FORMERS` (O, N, F, S, Cl,
   Se, Br, Te, I). A cell without any of them is *metallic* and every element defaults to 0.

An ionic cell with an element in none of the three raises a ``ValueError`` asking for ``charges=``.

Builders
--------
Every builder returns a new :class:`ase.Atoms` (the input is not modified), writes the per-atom
``arrays["formal_charge"]`` and records what it did in ``atoms.info["charge_balance"]``::

    {"builder", "before", "after", "added", "replaced", "removed",
     "site_indices", "removed_indices", "groups", "rule"}

``before``/``after`` are the summed formal charges, ``added``/``replaced``/``removed`` count by
element, ``site_indices`` (substituted sites) and ``removed_indices`` are indices into the *input*
atoms; ``groups`` lists each defect as input indices in the order it was built (an impurity site
then the atoms removed for it; a Schottky unit's cation then the rest). Deletions use
``del atoms[idx]``, so every per-atom array (``region``, ``gb_distance_A``, ``tags``,
``formal_charge``...) survives, and so do ``FixAtoms`` constraints (other constraints make ASE
refuse deletions). Random choices draw from ``numpy.random.default_rng(seed)``.

``region=`` selects candidate sites through ``atoms.arrays["region"]`` (0 grain interior, 1 grain
boundary slab, as the grain-boundary builder writes it): ``"gb"`` → 1, ``"grain"`` → 0, an int code,
a string label where the array holds strings, or a boolean mask of length ``len(atoms)``. The region
restricts where defects are *placed*; atoms removed to keep a cell neutral are the nearest ones
wherever they lie (the nearest Mg to a W at the edge of a grain boundary may sit just outside it).

"Nearest" is the minimum-image distance; ties (exact in a perfect crystal) are broken at random
with the same generator, so no lattice direction is favoured.
"""

from __future__ import annotations

from collections import Counter
from math import floor

import numpy as np
from ase import Atoms
from ase.data import atomic_masses, atomic_numbers, chemical_symbols
from ase.geometry import get_distances

__all__ = ["ANION_FORMERS", "DEFAULT_OXIDATION_STATES", "REGION_CODES", "add_impurity", "add_vacancies",
           "formal_charge", "formal_charges", "region_mask", "substitute"]

#: Oxidation states used in ionic cells (oxides, silicates, halides...) when nothing else is given.
DEFAULT_OXIDATION_STATES: dict[str, float] = {
    "H": 1, "Li": 1, "Na": 1, "K": 1, "Rb": 1, "Cs": 1,
    "Be": 2, "Mg": 2, "Ca": 2, "Sr": 2, "Ba": 2,
    "Mn": 2, "Fe": 2, "Co": 2, "Ni": 2, "Cu": 2, "Zn": 2,
    "B": 3, "Al": 3, "Ga": 3, "Sc": 3, "Y": 3, "La": 3, "Cr": 3,
    "C": 4, "Si": 4, "Ge": 4, "Ti": 4, "Zr": 4, "Hf": 4, "Th": 4, "U": 4,
    "P": 5, "Nb": 5, "Ta": 5, "Mo": 6, "W": 6,
    "N": -3, "O": -2, "S": -2, "Se": -2, "Te": -2, "F": -1, "Cl": -1, "Br": -1, "I": -1,
}

#: A cell holding any of these is ionic; a cell with none is metallic (all formal charges 0).
ANION_FORMERS = frozenset({"N", "O", "F", "S", "Cl", "Se", "Br", "Te", "I"})

#: Names accepted by ``region=`` for the codes of ``atoms.arrays["region"]``.
REGION_CODES: dict[str, int] = {"grain": 0, "gb": 1}

_TIE_DECIMALS = 6  # distances equal to 1e-6 Å are ties


# --------------------------------------------------------------------------------------------------
# formal charges

def _check_element(value, name: str) -> str:
    if not isinstance(value, str) or value not in chemical_symbols or value == "X":
        raise ValueError(f"{name}: {value!r} is not a chemical element symbol")
    return value


def _check_charges(charges) -> dict[str, float]:
    if charges is None:
        return {}
    if not isinstance(charges, dict):
        raise ValueError(f"charges: expected a dict {{symbol: formal charge}}, got {type(charges).__name__}")
    for sym, q in charges.items():
        _check_element(sym, f"charges[{sym!r}]")
        if isinstance(q, bool) or not isinstance(q, (int, float, np.integer, np.floating)) or not np.isfinite(q):
            raise ValueError(f"charges[{sym!r}]: {q!r} is not a finite number")
    return {sym: float(q) for sym, q in charges.items()}


def is_metallic(atoms: Atoms) -> bool:
    """True when the cell holds no anion former (:data:`ANION_FORMERS`): default charges are all 0."""
    return not (set(atoms.get_chemical_symbols()) & ANION_FORMERS)


def formal_charges(atoms: Atoms, charges: dict | None = None) -> np.ndarray:
    """Per-atom formal charges (float array), by the precedence of the module docstring."""
    table = _check_charges(charges)
    if "formal_charge" in atoms.arrays:
        q = np.asarray(atoms.arrays["formal_charge"], dtype=float).reshape(len(atoms))
        if not np.all(np.isfinite(q)):
            raise ValueError("atoms.arrays['formal_charge']: holds non-finite values")
        return q.copy()
    metallic = is_metallic(atoms)
    out = np.empty(len(atoms))
    for i, sym in enumerate(atoms.get_chemical_symbols()):
        if sym in table:
            out[i] = table[sym]
        elif metallic:
            out[i] = 0.0
        elif sym in DEFAULT_OXIDATION_STATES:
            out[i] = DEFAULT_OXIDATION_STATES[sym]
        else:
            raise ValueError(f"charges: no formal charge for {sym} in an ionic cell; pass charges={{{sym!r}: ...}} "
                             "or set atoms.arrays['formal_charge']")
    return out


def formal_charge(atoms: Atoms, charges: dict | None = None) -> float:
    """Sum of the formal charges of ``atoms`` (0 for a neutral cell)."""
    return float(formal_charges(atoms, charges).sum())


def _charge_of(element: str, atoms: Atoms, charges: dict[str, float], name: str) -> float:
    """The formal charge an ``element`` put into ``atoms`` gets when no valence is given."""
    if element in charges:
        return charges[element]
    if is_metallic(atoms) and element not in ANION_FORMERS:
        return 0.0
    if element in DEFAULT_OXIDATION_STATES:
        return float(DEFAULT_OXIDATION_STATES[element])
    raise ValueError(f"{name}: no default formal charge for {element} in an ionic cell; give {name}=")


# --------------------------------------------------------------------------------------------------
# regions and argument checks

def region_mask(atoms: Atoms, region) -> np.ndarray:
    """Boolean mask of the atoms in ``region`` (None: all atoms). See the module docstring."""
    n = len(atoms)
    if region is None:
        return np.ones(n, bool)
    if isinstance(region, (np.ndarray, list, tuple)):
        mask = np.asarray(region)
        if mask.dtype != bool or mask.shape != (n,):
            raise ValueError(f"region: a mask must be a boolean array of length {n} (len(atoms)), "
                             f"got dtype {mask.dtype} shape {mask.shape}")
        return mask.copy()
    if "region" not in atoms.arrays:
        raise ValueError(f"region={region!r}: atoms has no per-atom array 'region' "
                         "(the grain-boundary builder writes it; or pass a boolean mask)")
    labels = atoms.arrays["region"]
    if isinstance(region, str):
        if labels.dtype.kind in "US":
            return labels == region
        if region not in REGION_CODES:
            raise ValueError(f"region={region!r}: unknown name; known {sorted(REGION_CODES)}, an int code "
                             "or a boolean mask")
        return labels == REGION_CODES[region]
    if isinstance(region, (int, np.integer)) and not isinstance(region, bool):
        return labels == int(region)
    raise ValueError(f"region: expected None, a name {sorted(REGION_CODES)}, an int code or a boolean mask, "
                     f"got {region!r}")


def _check_count(n, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"{name}: expected a non-negative integer, got {n!r}")
    return int(n)


def _host_sites(atoms: Atoms, host: str, region, name: str = "host") -> np.ndarray:
    """Indices of ``host`` atoms in ``region``; ValueError if ``host`` is absent from ``atoms``."""
    symbols = np.array(atoms.get_chemical_symbols())
    is_host = symbols == host
    if not is_host.any():
        raise ValueError(f"{name}: no {host} in the cell ({atoms.get_chemical_formula()})")
    return np.flatnonzero(is_host & region_mask(atoms, region))


def _too_few(what: str, need: int, have: int, host: str, region) -> ValueError:
    where = "" if region is None else f" in region={region!r}" if not isinstance(region, np.ndarray) \
        else " in the region mask"
    return ValueError(f"{what}: needs {need} {host} sites{where}, the cell has {have}")


# --------------------------------------------------------------------------------------------------
# nearest available atoms

def _ordered_by_distance(atoms: Atoms, centres: list[int], candidates: np.ndarray,
                         rng: np.random.Generator) -> np.ndarray:
    """``candidates`` sorted by their minimum-image distance to the nearest of ``centres``.

    Ties (to 1e-6 Å) are broken at random.
    """
    if len(candidates) == 0:
        return candidates
    _, d = get_distances(atoms.positions[centres], atoms.positions[candidates], cell=atoms.cell, pbc=atoms.pbc)
    dmin = np.round(d.min(axis=0), _TIE_DECIMALS)
    return candidates[np.lexsort((rng.random(len(candidates)), dmin))]


def _compensate(atoms: Atoms, q: np.ndarray, centres: list[int], excess: float, pool: np.ndarray,
                unavailable: set[int], rng: np.random.Generator, what: str) -> list[int]:
    """Indices from ``pool`` nearest to ``centres`` whose charges sum to ``excess`` (nearest first)."""
    free = np.array([i for i in pool if i not in unavailable], dtype=int)
    removed: list[int] = []
    left = excess
    for i in _ordered_by_distance(atoms, centres, free, rng):
        if abs(left) < 1e-9:
            break
        if q[i] == 0 or np.sign(q[i]) != np.sign(left):
            continue
        removed.append(int(i))
        left -= q[i]
        if np.sign(left) == -np.sign(q[i]) and abs(left) > 1e-9:
            raise ValueError(f"{what}: removing whole atoms overshoots the charge excess {excess:+g} "
                             f"(left {left:+g})")
    if abs(left) > 1e-9:
        raise ValueError(f"{what}: not enough atoms left to compensate the charge excess {excess:+g}")
    return removed


# --------------------------------------------------------------------------------------------------
# the builders

def _finish(out: Atoms, q: np.ndarray, removed: list[int], info: dict) -> Atoms:
    out.arrays["formal_charge"] = q.astype(float)
    if removed:
        del out[sorted(removed)]
    info["after"] = float(out.arrays["formal_charge"].sum())
    out.info["charge_balance"] = info
    return out


def _set_element(out: Atoms, sites: np.ndarray, element: str) -> None:
    numbers = out.get_atomic_numbers()
    numbers[sites] = atomic_numbers[element]
    out.set_atomic_numbers(numbers)
    if "masses" in out.arrays:  # explicit masses would otherwise keep the host's
        out.arrays["masses"][sites] = atomic_masses[atomic_numbers[element]]


def _check_valence(valence, name: str = "valence") -> float:
    if isinstance(valence, bool) or not isinstance(valence, (int, float, np.integer, np.floating)) \
            or not np.isfinite(valence):
        raise ValueError(f"{name}: expected a finite number, got {valence!r}")
    return float(valence)


def substitute(atoms: Atoms, host: str, element: str, fraction: float, *, seed: int = 0, region=None,
               valence: float | None = None, charges: dict | None = None) -> Atoms:
    """Replace ``round(fraction × N_host)`` random ``host`` atoms (in ``region``) by ``element``.

    N_host counts the host atoms in the region; the rounding is to the nearest integer with halves
    rounded up (``floor(x + 0.5)``). The new atoms get formal charge ``valence`` (default: the
    charge ``element`` has by ``charges``/the default table; 0 in a metallic cell). No atom is removed:
    an aliovalent substitution changes the total charge, which ``info["charge_balance"]`` reports
    (use :func:`add_impurity` for a compensated cell).
    """
    _check_element(host, "host")
    _check_element(element, "element")
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float, np.integer, np.floating)) \
            or not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction: expected a number in [0, 1], got {fraction!r}")
    table = _check_charges(charges)
    q = formal_charges(atoms, table)
    new_q = _check_valence(valence) if valence is not None else _charge_of(element, atoms, table, "valence")
    sites_all = _host_sites(atoms, host, region)
    count = int(floor(fraction * len(sites_all) + 0.5 + 1e-9))
    rng = np.random.default_rng(seed)
    sites = np.sort(rng.choice(sites_all, size=count, replace=False)) if count else np.array([], int)
    out = atoms.copy()
    info = {"builder": "substitute", "before": float(q.sum()), "added": {element: count},
            "replaced": {host: count}, "removed": {}, "site_indices": sites.tolist(), "removed_indices": [],
            "groups": [[int(i)] for i in sites],
            "rule": f"round-half-up({fraction:g} x {len(sites_all)} {host}) = {count} {host} -> {element} "
                    f"(formal charge {new_q:+g}); no compensation"}
    _set_element(out, sites, element)
    q[sites] = new_q
    return _finish(out, q, [], info)


def add_vacancies(atoms: Atoms, element: str | None = None, n: int = 1, *, schottky: tuple[str, str] | None = None,
                  region=None, seed: int = 0, charges: dict | None = None) -> Atoms:
    """Remove ``n`` random ``element`` atoms, or ``n`` neutral Schottky units ``schottky=(cation, anion)``.

    A Schottky unit starts at a random cation (in ``region``) and removes the nearest available
    atoms that bring its charge back to zero: anions while the unit's charge is positive, further
    cations (nearest to the unit) while it is negative — Mg + its nearest O in MgO, Si + its two
    nearest O in SiO2, 2 Al + 3 O in Al2O3. Plain vacancies are not compensated; the change of
    the total formal charge is reported in ``info["charge_balance"]``.
    """
    n = _check_count(n)
    table = _check_charges(charges)
    q = formal_charges(atoms, table)
    rng = np.random.default_rng(seed)
    symbols = np.array(atoms.get_chemical_symbols())
    if (element is None) == (schottky is None):
        raise ValueError("element/schottky: give exactly one of element= (plain vacancies) or "
                         "schottky=(cation, anion)")
    if element is not None:
        _check_element(element, "element")
        sites_all = _host_sites(atoms, element, region, "element")
        if n > len(sites_all):
            raise _too_few("n", n, len(sites_all), element, region)
        removed = np.sort(rng.choice(sites_all, size=n, replace=False)).tolist() if n else []
        info = {"builder": "add_vacancies", "before": float(q.sum()), "added": {}, "replaced": {},
                "removed": {element: n} if n else {}, "site_indices": [], "removed_indices": removed,
                "groups": [[int(i)] for i in removed],
                "rule": f"{n} random {element} vacancies; no compensation"}
        return _finish(atoms.copy(), q, removed, info)

    if not isinstance(schottky, (tuple, list)) or len(schottky) != 2:
        raise ValueError(f"schottky: expected (cation, anion), got {schottky!r}")
    cation = _check_element(schottky[0], "schottky")
    anion = _check_element(schottky[1], "schottky")
    cations_all = _host_sites(atoms, cation, region, "schottky")
    anions = np.flatnonzero(symbols == anion)
    if len(anions) == 0:
        raise ValueError(f"schottky: no {anion} in the cell ({atoms.get_chemical_formula()})")
    if np.any(q[symbols == cation] <= 0) or np.any(q[anions] >= 0):
        raise ValueError(f"schottky={tuple(schottky)!r}: needs a cation of positive and an anion of negative "
                         "formal charge (metallic cell? pass charges=)")
    unavailable: set[int] = set()
    removed: list[int] = []
    groups: list[list[int]] = []
    for k in range(n):
        free = [i for i in cations_all if i not in unavailable]
        if not free:
            raise _too_few("n", n, len(cations_all), cation, region)
        unit = [int(rng.choice(free))]
        left = q[unit[0]]
        for _ in range(64):
            if abs(left) < 1e-9:
                break
            pool = anions if left > 0 else np.flatnonzero(symbols == cation)
            cand = np.array([i for i in pool if i not in unavailable and i not in unit], dtype=int)
            if len(cand) == 0:
                raise ValueError(f"n: not enough {anion if left > 0 else cation} left for Schottky unit {k + 1} of {n}")
            nxt = int(_ordered_by_distance(atoms, unit, cand, rng)[0])
            unit.append(nxt)
            left += q[nxt]
        else:
            raise ValueError(f"schottky={tuple(schottky)!r}: the formal charges {q[unit[0]]:+g}/{q[anions[0]]:+g} "
                             "make no small neutral unit")
        unavailable.update(unit)
        removed.extend(unit)
        groups.append(unit)
    counts = Counter(symbols[removed].tolist())
    info = {"builder": "add_vacancies", "before": float(q.sum()), "added": {}, "replaced": {},
            "removed": dict(counts), "site_indices": [], "removed_indices": sorted(removed), "groups": groups,
            "rule": f"{n} Schottky units: a random {cation}, then the nearest {anion} (and {cation}) "
                    "until the unit is neutral"}
    return _finish(atoms.copy(), q, removed, info)


def add_impurity(atoms: Atoms, element: str, valence: float, host: str, n: int = 1, region=None, seed: int = 0,
                 *, compensate_with: str | None = None, charges: dict | None = None) -> Atoms:
    """Put ``n`` ``element`` atoms of formal charge ``valence`` on random ``host`` sites and keep the charge.

    Each impurity brings an excess ``valence − q(site)``. It is removed, impurity by impurity (in
    the random order of placement), by deleting the nearest *available* atoms (not an impurity, not
    already removed, any region) of the compensating element: the ``host`` itself when the excess is
    positive (W⁶⁺ on Mg²⁺: +4 → the 2 nearest Mg), the cell's anion when it is negative (Pt⁰ on
    Mg²⁺: −2 → the nearest O; with several anion elements the most abundant), or ``compensate_with``.
    An excess that whole atoms cannot cancel (+3 with Mg²⁺) raises a ``ValueError``. The total
    formal charge is the input's (0 for a neutral cell).
    """
    _check_element(element, "element")
    _check_element(host, "host")
    valence = _check_valence(valence)
    n = _check_count(n)
    if compensate_with is not None:
        _check_element(compensate_with, "compensate_with")
    table = _check_charges(charges)
    q = formal_charges(atoms, table)
    symbols = np.array(atoms.get_chemical_symbols())
    sites_all = _host_sites(atoms, host, region)
    if n > len(sites_all):
        raise _too_few("n", n, len(sites_all), host, region)
    rng = np.random.default_rng(seed)
    sites = rng.choice(sites_all, size=n, replace=False) if n else np.array([], int)

    excesses = valence - q[sites]
    if compensate_with is not None:
        comp = compensate_with
    elif np.all(np.abs(excesses) < 1e-9):
        comp = None
    elif np.all(excesses > 0):
        comp = host
    elif np.all(excesses < 0):
        present = Counter(s for s, c in zip(symbols.tolist(), q) if c < 0)
        if not present:
            raise ValueError(f"valence={valence:g} on {host}: the excess is negative and the cell has no anion "
                             "to remove; pass compensate_with=")
        comp = sorted(present.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    else:
        raise ValueError(f"valence={valence:g} on {host}: host sites of mixed formal charge give excesses of both "
                         "signs; pass compensate_with=")
    pool = np.array([], int)
    if comp is not None:
        pool = np.flatnonzero(symbols == comp)
        if len(pool) == 0:
            raise ValueError(f"compensate_with: no {comp} in the cell")
        q_comp = q[pool]
        for ex in np.unique(excesses):
            if abs(ex) < 1e-9:
                continue
            ok = q_comp[np.sign(q_comp) == np.sign(ex)]
            unit = ok[0] if len(ok) and np.allclose(ok, ok[0]) else None
            if unit is None or abs(ex / unit - round(ex / unit)) > 1e-9:
                qs = sorted(set(np.round(q_comp, 6).tolist()))
                raise ValueError(f"add_impurity({element!r}, valence={valence:g}, host={host!r}): excess {ex:+g} per "
                                 f"impurity cannot be compensated by removing whole {comp} atoms of formal charge "
                                 f"{qs} (pass compensate_with= or another valence)")

    before = float(q.sum())
    out = atoms.copy()
    _set_element(out, np.asarray(sites, int), element)
    q[sites] = valence
    unavailable = set(int(s) for s in sites)
    removed: list[int] = []
    groups: list[list[int]] = []
    for s, ex in zip(sites, excesses):
        got = [] if abs(ex) < 1e-9 else _compensate(
            atoms, q, [int(s)], float(ex), pool, unavailable, rng,
            f"add_impurity({element!r}, valence={valence:g}, host={host!r}, n={n})")
        unavailable.update(got)
        removed.extend(got)
        groups.append([int(s), *got])
    info = {"builder": "add_impurity", "before": before,
            "added": {element: n} if n else {}, "replaced": {host: n} if n else {},
            "removed": dict(Counter(symbols[removed].tolist())), "site_indices": sorted(int(s) for s in sites),
            "removed_indices": sorted(removed), "groups": groups,
            "rule": f"{element} (formal charge {valence:+g}) on random {host} sites; each excess removed with the "
                    f"nearest available {comp} (minimum image)" if comp else
                    f"{element} (formal charge {valence:+g}) on random {host} sites; isovalent, nothing removed"}
    return _finish(out, q, removed, info)
