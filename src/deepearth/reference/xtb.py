"""GFN1-xTB through tblite: the embedded, laptop-scale stand-in for DFT.

Measured caveats (see docs/NOTES.md): Γ-point only, so energies and pressures depend on the
supercell — keep one fixed supercell of ≥ 64 atoms per system; pressures are 8–20 GPa above
PBE; GFN2-xTB does not converge on displaced MgO/MgSiO3 cells and is not offered. The Fermi
smearing temperature (K) is recorded with every label.
"""

from __future__ import annotations

from functools import partial

from deepearth.reference.labeller import CalculatorLabeller


def _make_tblite(method: str, electronic_temperature_K: float, max_iterations: int):
    from tblite.ase import TBLite

    return TBLite(method=method, electronic_temperature=electronic_temperature_K,
                  max_iterations=max_iterations, verbosity=0)


def _version(distribution: str, module) -> str:
    """The installed distribution's version (tblite has no ``__version__``), else the module's, else "?"."""
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return str(getattr(module, "__version__", "?"))


def xtb_labeller(method: str = "GFN1-xTB", electronic_temperature_K: float = 3000.0,
                 max_iterations: int = 250) -> CalculatorLabeller:
    """A labeller running tblite ``method`` with Fermi smearing at ``electronic_temperature_K`` (K)."""
    import tblite

    factory = partial(_make_tblite, method, electronic_temperature_K, max_iterations)
    provenance = {"method": method, "code": f"tblite {_version('tblite', tblite)}",
                  "T_el_K": float(electronic_temperature_K), "kpoints": "Gamma"}
    return CalculatorLabeller(factory, name="xtb", provenance=provenance)
