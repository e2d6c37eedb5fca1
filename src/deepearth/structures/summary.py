"""One-line facts of a built structure: atoms, composition, formal charge, density, GB area."""

from __future__ import annotations

from ase import Atoms

from deepearth.structures.defects import formal_charge
from deepearth.units import AMU_PER_A3_TO_G_PER_CM3


def describe(atoms: Atoms) -> dict:
    """Atoms, composition (reduced formula and counts), formal charge (e; ``None`` when an element
    has no default oxidation state), density (g/cm³), cell lengths (Å) and, for a bicrystal, the
    boundary area (Å², one boundary) and the number of atoms in the GB region."""
    try:
        charge: float | None = formal_charge(atoms)
    except ValueError:
        charge = None
    out = {"n_atoms": len(atoms), "formula": atoms.get_chemical_formula(mode="metal"),
           "reduced_formula": atoms.get_chemical_formula(mode="metal", empirical=True),
           "formal_charge_e": charge,
           "density_g_cm3": float(atoms.get_masses().sum() / atoms.get_volume() * AMU_PER_A3_TO_G_PER_CM3),
           "cell_lengths_A": [float(x) for x in atoms.cell.lengths()]}
    if "gb_area_A2" in atoms.info:
        out["gb_area_A2"] = float(atoms.info["gb_area_A2"])
    if "region" in atoms.arrays:
        out["n_gb_region_atoms"] = int((atoms.arrays["region"] == 1).sum())
    return out


def summary_line(atoms: Atoms) -> str:
    """:func:`describe` as one line."""
    d = describe(atoms)
    charge = "n/a" if d["formal_charge_e"] is None else f"{d['formal_charge_e']:+g} e"
    line = (f"{d['n_atoms']} atoms, {d['formula']}, formal charge {charge}, density {d['density_g_cm3']:.3f} g/cm³, "
            f"cell {' × '.join(f'{x:.2f}' for x in d['cell_lengths_A'])} Å")
    if "gb_area_A2" in d:
        line += f", GB area {d['gb_area_A2']:.1f} Å² ({d['n_gb_region_atoms']} atoms in the GB slabs)"
    return line
