"""The labeller registry: one name → (settings model, factory) line per reference.

The recipe's ``[reference]`` table is the discriminated union of the settings models below (key
``kind``). Adding a reference touches its module and one line of :data:`LABELLERS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

from pydantic import Field, model_validator

from deepearth.reference.labeller import CalculatorLabeller, Labeller
from deepearth.settings import Section, TemperatureK


class ReferenceSettings(Section):
    """Settings every reference has."""

    validation_fraction: float = Field(0.15, ge=0.0, lt=0.9, description="labels held out of training")
    max_attempts: int = Field(2, ge=1, le=10, description="tries per configuration before it stays failed "
                                                          "(a resumed run retries failed ones up to this)")
    retry_backoff_s: float = Field(2.0, ge=0, le=3600, description="wait before the k-th retry: backoff × 2^(k-1), s")
    timeout_s: float = Field(3600.0, gt=0, description="wall-clock limit of one label, s; a configuration that "
                                                       "exceeds it (or kills its worker) is recorded as failed")

    def untreatable(self, elements: set[str]) -> list[str]:
        """The ``elements`` this reference has no parameters for (checked before any work)."""
        return []


class XTBReference(ReferenceSettings):
    """GFN1-xTB through tblite: a laptop stand-in for DFT, not an accurate reference (Γ-only)."""

    kind: Literal["xtb"] = "xtb"
    method: Literal["GFN1-xTB", "IPEA1-xTB"] = Field(
        "GFN1-xTB", description="xTB Hamiltonian; GFN2-xTB is not offered: it does not converge on displaced oxide cells"
    )
    electronic_temperature_K: TemperatureK = Field(3000.0, description="Fermi smearing temperature, 0 to 20000 K")
    max_scf_iterations: int = Field(250, ge=10, le=10000, description="xTB SCF iterations")

    def untreatable(self, elements: set[str]) -> list[str]:
        """GFN1-xTB is parametrised for H–Rn (Z ≤ 86; Grimme et al. 2017)."""
        from ase.data import atomic_numbers

        return sorted(e for e in elements if atomic_numbers[e] > 86)


class GPAWReference(ReferenceSettings):
    """GPAW plane-wave DFT (install with ``scripts/install-gpaw.sh``); the label energy is the Mermin
    free energy. One k-mesh for every cell of the run: keep the supercell fixed."""

    kind: Literal["gpaw"] = "gpaw"
    electronic_temperature_K: TemperatureK = Field(3000.0, description="Fermi-Dirac smearing temperature, 0 to 20000 K")
    xc: str = Field("PBE", description="exchange-correlation functional (GPAW/libxc name)")
    cutoff_eV: float = Field(800.0, ge=100, le=5000, description="plane-wave cutoff, eV (MgO: 800 eV converged to "
                             "< 1 meV/atom); 100-5000 eV: below, no PAW setup converges; above, a mistake of unit")
    kpts: tuple[int, int, int] = Field((2, 2, 2), description="Monkhorst-Pack mesh of the supercell")
    gamma_centered: bool = Field(False, description="shift the mesh to contain Gamma (matters at high T_el)")
    max_scf_iterations: int = Field(333, ge=10, le=10000)

    @model_validator(mode="after")
    def _mesh(self) -> "GPAWReference":
        if min(self.kpts) < 1:
            raise ValueError(f"kpts must be positive integers, got {list(self.kpts)}")
        if max(self.kpts) > 32:
            raise ValueError(f"kpts above 32 per direction are not a supercell's mesh, got {list(self.kpts)}")
        return self


class EMTReference(ReferenceSettings):
    """ASE's effective-medium theory (Al, Cu, Ag, Au, Ni, Pd, Pt; H, C, N, O): a toy reference
    for trying the workflow and for tests, not for the deep Earth."""

    kind: Literal["emt"] = "emt"

    def untreatable(self, elements: set[str]) -> list[str]:
        from ase.calculators.emt import parameters

        return sorted(e for e in elements if e not in parameters)


class ImportedReference(ReferenceSettings):
    """Train on labels already in the run's store (``deepearth import ... --run DIR``), computing
    none: no reference EOS scan, no initial configurations, no candidates labelled. The store must
    hold labels of one reference (one code, one functional)."""

    kind: Literal["imported"] = "imported"


def _xtb(s: XTBReference) -> Labeller:
    from deepearth.reference.xtb import xtb_labeller

    return xtb_labeller(s.method, s.electronic_temperature_K, s.max_scf_iterations)


def _gpaw(s: GPAWReference) -> Labeller:
    from deepearth.reference.gpaw import gpaw_labeller

    return gpaw_labeller(s.xc, s.cutoff_eV, s.kpts, s.electronic_temperature_K, gamma_centered=s.gamma_centered,
                         maxiter=s.max_scf_iterations)


def emt_calculator():
    """A fresh ASE EMT calculator (module level: picklable for worker processes)."""
    from ase.calculators.emt import EMT

    return EMT()


def _emt(s: EMTReference) -> Labeller:
    import ase

    return CalculatorLabeller(emt_calculator, name="emt", provenance={"method": "EMT", "code": f"ase {ase.__version__}"})


@dataclass(frozen=True)
class LabellerEntry:
    settings: type[ReferenceSettings]
    make: Callable[..., Labeller | None]


#: References by ``kind``, as recipes spell them.
LABELLERS: dict[str, LabellerEntry] = {
    "xtb": LabellerEntry(XTBReference, _xtb),
    "gpaw": LabellerEntry(GPAWReference, _gpaw),
    "emt": LabellerEntry(EMTReference, _emt),
    "imported": LabellerEntry(ImportedReference, lambda s: None),
}


def make_labeller(settings: ReferenceSettings) -> Labeller | None:
    """The labeller of a recipe's ``[reference]`` settings (``None`` for ``imported``: no new labels)."""
    return LABELLERS[settings.kind].make(settings)  # type: ignore[attr-defined]
