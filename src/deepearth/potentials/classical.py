"""Classical potentials with a published melting point, for validating the melting workflow: ASE
calculators that also run inside the LAMMPS engine (``lammps_pair()``).

* :func:`lennard_jones` — 12-6 Lennard-Jones, ``pair_style lj/cut`` (ASE's ``LennardJones`` with
  ``smooth=False`` and the energy shifted to 0 at the cutoff ≡ ``pair_modify shift yes``: the forces,
  and so the dynamics, of a truncated potential do not depend on the shift). :data:`ARGON` maps
  reduced units onto argon (ε/k_B = 119.8 K, σ = 3.405 Å, m = 39.948 u; Michels et al. as used by
  Rahman, Phys. Rev. 136, A405 (1964)).
* :func:`eam_alloy` — an embedded-atom potential in LAMMPS ``setfl`` format (``pair_style
  eam/alloy``), e.g. Mishin et al.'s Cu (Phys. Rev. B 63, 224106 (2001): T_m = 1327 K by
  solid–liquid coexistence at 0 GPa), read by ASE's ``EAM`` for single points.

Units: Å, eV, K.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ase.calculators.eam import EAM
from ase.calculators.lj import LennardJones

from deepearth.lammps.pair import LammpsPair
from deepearth.lammps.safe import element_symbols, lammps_word
from deepearth.units import EV_PER_A3_TO_GPA, KB_EV_PER_K

__all__ = ["ARGON", "EAMAlloy", "LennardJonesPair", "ReducedUnits", "eam_alloy", "lennard_jones"]


@dataclass(frozen=True)
class ReducedUnits:
    """Lennard-Jones reduced units mapped onto a real element: ``epsilon_K`` = ε/k_B (K), ``sigma_A`` (Å)."""

    symbol: str
    epsilon_K: float
    sigma_A: float

    @property
    def epsilon_eV(self) -> float:
        """ε in eV."""
        return self.epsilon_K * KB_EV_PER_K

    def temperature_K(self, T_star: float) -> float:
        """T = T* ε/k_B (K)."""
        return float(T_star) * self.epsilon_K

    def pressure_GPa(self, P_star: float) -> float:
        """P = P* ε/σ³ (GPa; 1 eV/Å³ = 160.21766 GPa)."""
        return float(P_star) * self.epsilon_eV / self.sigma_A**3 * EV_PER_A3_TO_GPA

    def T_star(self, T_K: float) -> float:
        """T* = k_B T / ε."""
        return float(T_K) / self.epsilon_K


#: Argon: ε/k_B = 119.8 K, σ = 3.405 Å (Rahman 1964).
ARGON = ReducedUnits("Ar", 119.8, 3.405)


class LennardJonesPair(LennardJones):
    """ASE's Lennard-Jones (truncated at ``rc``, energy shifted, forces not smoothed) that runs as
    ``pair_style lj/cut`` in the LAMMPS engine."""

    def __init__(self, symbol: str, sigma: float, epsilon: float, rc: float):
        super().__init__(sigma=sigma, epsilon=epsilon, rc=rc, smooth=False)
        self.symbol = element_symbols([symbol], "symbol")[0]

    def lammps_pair(self) -> LammpsPair:
        p = self.parameters
        return LammpsPair([f"pair_style lj/cut {p.rc:.10g}", f"pair_coeff 1 1 {p.epsilon:.10g} {p.sigma:.10g}",
                           "pair_modify shift yes"], [self.symbol],
                          model=f"LJ {self.symbol} (sigma {p.sigma:g} Å, epsilon {p.epsilon:g} eV, rc {p.rc:g} Å)")


def lennard_jones(units: ReducedUnits = ARGON, rc_sigma: float = 2.5) -> LennardJonesPair:
    """A Lennard-Jones calculator in ``units`` (default argon), cut at ``rc_sigma`` σ (Jones, Proc.
    R. Soc. A 106, 463 (1924): V = 4ε[(σ/r)¹² − (σ/r)⁶])."""
    if not rc_sigma > 1.5:
        raise ValueError(f"rc_sigma must be > 1.5 (the first neighbour shell), got {rc_sigma!r}")
    return LennardJonesPair(units.symbol, units.sigma_A, units.epsilon_eV, rc_sigma * units.sigma_A)


class EAMAlloy(EAM):
    """ASE's EAM on a ``setfl`` file that runs as ``pair_style eam/alloy`` in the LAMMPS engine."""

    def __init__(self, path: str | Path, symbols: list[str]):
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"{path}: no such EAM file")
        super().__init__(potential=str(path), form="alloy")
        self.path = path.resolve()
        self.symbols = element_symbols(symbols, "symbols")

    def lammps_pair(self) -> LammpsPair:
        word = lammps_word(str(self.path), "EAM file")
        return LammpsPair(["pair_style eam/alloy", f"pair_coeff * * {word} {' '.join(self.symbols)}"],
                          list(self.symbols), model=self.path.name)


def eam_alloy(path: str | Path, symbols: list[str]) -> EAMAlloy:
    """An EAM calculator from a LAMMPS ``setfl`` file (Daw & Baskes, Phys. Rev. B 29, 6443 (1984));
    ``symbols`` in the file's element order."""
    return EAMAlloy(path, symbols)
