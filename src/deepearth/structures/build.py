"""Build the fixed supercell of a run and the strained, rattled initial configurations."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from ase import Atoms
from ase.build import bulk
from scipy.optimize import brentq

from deepearth.structures.checks import InputError, read_structure, structure_problem
from deepearth.structures.defects import add_impurity, add_vacancies, substitute
from deepearth.structures.minerals import is_mineral, mineral, mineral_names

_PROTOTYPES = ("rocksalt", "fluorite", "zincblende", "cesiumchloride")
#: Most repetitions of the unit cell along one axis.
MAX_REPEAT = 100


def check_supercell(supercell) -> tuple[int, int, int]:
    """``supercell`` as three integers 1 ≤ n ≤ :data:`MAX_REPEAT`, or an :class:`InputError` naming
    ``system.supercell``."""
    try:
        reps = tuple(supercell)
    except TypeError:
        reps = ()
    if len(reps) != 3 or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool)
                                 and 1 <= n <= MAX_REPEAT for n in reps):
        raise InputError("system.supercell", f"expected three integers from 1 to {MAX_REPEAT}, got {supercell!r}")
    return tuple(int(n) for n in reps)  # type: ignore[return-value]


def build_supercell(structure: str, formula: str, lattice_constant_A: float,
                    supercell: tuple[int, int, int], base_dir: Path | None = None) -> Atoms:
    """The run's fixed supercell.

    ``structure`` is an ASE crystal prototype (``rocksalt``...) built from ``formula`` with the
    conventional cubic lattice constant ``lattice_constant_A`` (Å), a mineral of the library
    (:func:`deepearth.structures.minerals.mineral`: its cited conventional cell) or a structure file
    that ``ase.io.read`` understands (then ``formula`` and the lattice constant are ignored).
    """
    reps = check_supercell(supercell)
    unit = unit_cell(structure, formula, lattice_constant_A, base_dir)
    atoms = unit.repeat(reps)
    atoms.pbc = True
    return atoms


def unit_cell(structure: str, formula: str, lattice_constant_A: float, base_dir: Path | None = None) -> Atoms:
    """The conventional cell a run's structure names: an ASE prototype built from ``formula`` and
    ``lattice_constant_A`` (Å), a structure file (relative to ``base_dir``), or a mineral of the
    library (see :func:`build_supercell`).

    Checked (:func:`deepearth.structures.checks.structure_problem`: atoms, a 3-D cell, density, closest
    pair); every failure is an :class:`~deepearth.structures.checks.InputError` naming the recipe key:
    ``system.formula``, ``system.lattice_constant_A`` (a prototype) or ``system.structure`` (a file that
    is missing, unreadable or impossible: the message names the file)."""
    if structure in _PROTOTYPES:
        try:
            atoms = bulk(formula, structure, a=lattice_constant_A, cubic=True)
        except Exception as exc:  # ASE raises several types for a bad formula
            raise InputError("system.formula", f"cannot build {structure} {formula!r}: {exc}") from None
        problem = structure_problem(atoms)
        if problem:
            raise InputError("system.lattice_constant_A",
                             f"{lattice_constant_A:g} Å ({structure} {formula}): {problem}")
        return atoms
    path = Path(structure)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if path.is_file():
        try:
            return read_structure(path)
        except ValueError as exc:
            raise InputError("system.structure", str(exc)) from None
    if is_mineral(structure):
        return mineral(structure)
    if path.suffix or len(path.parts) > 1:
        raise InputError("system.structure", f"{path}: no such structure file")
    raise InputError("system.structure", f"{structure!r} is neither a mineral ({', '.join(mineral_names())}), "
                                         f"a prototype {_PROTOTYPES} nor a file")


def volume_at_pressure(pressure_GPa: float, v0: float, k0_GPa: float, k0_prime: float) -> float:
    """Volume (same unit as ``v0``) at which the 3rd-order Birch–Murnaghan EOS gives ``pressure_GPa``.

    ``P = 3K0/2 [x^{-7/3} − x^{-5/3}] {1 + 3/4 (K0' − 4)(x^{-2/3} − 1)}``, x = V/V0.
    Used only to place the initial configurations near the target densities.
    """

    def bm3(x: float) -> float:
        return 1.5 * k0_GPa * (x ** (-7 / 3) - x ** (-5 / 3)) * (1 + 0.75 * (k0_prime - 4) * (x ** (-2 / 3) - 1))

    if pressure_GPa <= 0:
        return v0
    x = brentq(lambda x: bm3(x) - pressure_GPa, 0.2, 1.0)
    return x * v0


def initial_configurations(reference: Atoms, pressures_GPa: list[float], n_configs: int, strain: float,
                           rattle_A: float, volume_of_pressure: Callable[[float], float], seed: int) -> list[Atoms]:
    """Strained and rattled copies of ``reference`` spread over the target pressures.

    Each copy is isotropically scaled to ``volume_of_pressure(P)`` (Å³, for the whole cell) of one
    target pressure (cycled), then given a random symmetric strain with components in
    ``[-strain, strain]`` and Gaussian displacements of std ``rattle_A`` (Å).
    ``atoms.info['origin_P_GPa']`` records the target pressure.
    """
    rng = np.random.default_rng(seed)
    v_ref = reference.get_volume()
    out = []
    for i in range(n_configs):
        p = pressures_GPa[i % len(pressures_GPa)]
        scale = (volume_of_pressure(p) / v_ref) ** (1 / 3)
        eps = rng.uniform(-strain, strain, size=(3, 3))
        deform = scale * (np.eye(3) + 0.5 * (eps + eps.T))
        atoms = reference.copy()
        atoms.set_cell(reference.cell.array @ deform, scale_atoms=True)
        atoms.positions += rng.normal(0.0, rattle_A, size=atoms.positions.shape)
        atoms.info["origin_P_GPa"] = float(p)
        out.append(atoms)
    return out


def build_system(structure: str, formula: str, lattice_constant_A: float, supercell: tuple[int, int, int],
                 base_dir: Path | None = None, grain_boundary: dict | None = None,
                 defects: list[dict] | tuple = (), seed: int = 0) -> Atoms:
    """A run's system: the unit cell (:func:`unit_cell`), optionally turned into a symmetric tilt
    bicrystal (``grain_boundary``: keyword arguments of
    :func:`~deepearth.structures.grain_boundary.grain_boundary`), repeated ``supercell`` times, then
    the ``defects`` applied in order (each a dict with ``kind`` = substitute | vacancies | schottky |
    impurity and the builder's arguments; seeds derived from ``seed``). Per-atom arrays (``region``,
    ``gb_distance_A``, ``formal_charge``) travel with the atoms into every trajectory.

    The unit cell and the result are checked (:func:`unit_cell`,
    :func:`~deepearth.structures.checks.structure_problem`); every failure is an
    :class:`~deepearth.structures.checks.InputError` (a ``ValueError``) naming the recipe key:
    ``system.supercell``, ``system.grain_boundary``, ``system.defects.K`` or one of :func:`unit_cell`'s."""
    from deepearth.structures.grain_boundary import grain_boundary as make_bicrystal

    reps = check_supercell(supercell)
    atoms = unit_cell(structure, formula, lattice_constant_A, base_dir)
    if grain_boundary is not None:
        gb = {k: v for k, v in grain_boundary.items() if v is not None}
        try:
            atoms = make_bicrystal(atoms, seed=seed, **gb)
        except (ValueError, TypeError) as exc:
            raise InputError("system.grain_boundary", str(exc)) from None
        _check_step(atoms, "system.grain_boundary")
    atoms = atoms.repeat(reps)
    atoms.pbc = True
    for k, d in enumerate(defects):
        d = {key: v for key, v in d.items() if v is not None}
        kind, step_seed = d.pop("kind"), seed + 1 + k
        try:
            atoms = apply_defect(atoms, kind, d, step_seed)
        except (ValueError, KeyError) as exc:
            raise InputError(f"system.defects.{k}", f"{kind}: {exc}") from None
    if defects:
        _check_step(atoms, "system.defects")
    return atoms


def _check_step(atoms: Atoms, key: str) -> None:
    problem = structure_problem(atoms)
    if problem:
        raise InputError(key, f"the structure it gives: {problem}")


def apply_defect(atoms: Atoms, kind: str, d: dict, seed: int) -> Atoms:
    """One defect step (``kind``: substitute | vacancies | schottky | impurity; ``d``: the builder's
    arguments) of :func:`build_system` and ``deepearth build defects``."""
    if kind == "substitute":
        return substitute(atoms, d["host"], d["element"], d["fraction"], seed=seed, region=d.get("region"),
                          valence=d.get("valence"))
    if kind == "vacancies":
        return add_vacancies(atoms, d["element"], d.get("n", 1), region=d.get("region"), seed=seed)
    if kind == "schottky":
        return add_vacancies(atoms, schottky=(d["cation"], d["anion"]), n=d.get("n", 1), region=d.get("region"),
                             seed=seed)
    if kind == "impurity":
        return add_impurity(atoms, d["element"], d["valence"], d["host"], d.get("n", 1), region=d.get("region"),
                            seed=seed)
    raise ValueError(f"unknown defect kind {kind!r}")
