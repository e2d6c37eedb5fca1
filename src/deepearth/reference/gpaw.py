"""GPAW plane-wave DFT: the first-principles labeller (energy, forces and stress of periodic cells).

GPAW (Mortensen et al., J. Chem. Phys. 160, 092503 (2024)) with the projector augmented-wave
method in plane-wave mode (``PW(cutoff_eV)``) gives the (free) energy, the forces and the
analytic stress tensor of a periodic cell. Install it with ``scripts/install-gpaw.sh`` (a
serial build of GPAW 26.7.0 plus the ``gpaw-data`` 1.2.1 PAW datasets, found offline; 78 s
including the apt packages on two shared cores).

Finite electronic temperature. Occupations are Fermi–Dirac with width ``k_B·T_el`` (eV). The
self-consistent solution then minimises Mermin's free energy ``F = E − T_el·S`` (Mermin, Phys.
Rev. 137, A1441 (1965)), and the forces and stress are derivatives of ``F``, not of ``E`` nor of
GPAW's zero-width "extrapolated" energy. The label energy is therefore ``F``
(``get_potential_energy(force_consistent=True)``). In an 8-atom MgO cell at T_el = 10000 K the
extrapolated energy's finite-difference force is off by 0.06 eV/Å, F's by < 1e-3 eV/Å.

Units as everywhere in deepearth: energy eV, forces eV/Å, stress eV/Å³ in Voigt order
xx yy zz yz xz xy with ASE's sign (positive = tensile). GPAW energies are relative to its
isolated reference atoms: never mix them with energies of another code or PAW dataset.

Measured on MgO (8-atom rocksalt cell, PBE, CPU time on one core; tests/reference/test_gpaw.py):

* 800 eV, 2×2×2 Monkhorst–Pack: 6–7 s for an ideal cell (one irreducible k-point), 11–14 s for
  a rattled one (four); energies within 0.7 meV/atom and pressures within 0.15 GPa of 1000 eV,
  within 3.3 meV/atom and 0.04 GPa of a 4×4×4 mesh. 600 eV is *not* converged for the O
  dataset (42 meV/atom and 5 GPa off).
* The analytic stress lacks the Pulay stress of the finite basis: at 800 eV the pressure from the
  stress is 0.15–0.3 GPa below −dE/dV (0.16 GPa at a = 4.21 Å, 0.18 GPa at 4.13 Å). Static EOS:
  V0 = 19.24 Å³/MgO (a0 = 4.25 Å), K0 = 150.8 GPa, K0' = 4.12 from the stresses (19.26 Å³,
  150.4 GPa from E(V)); experiment (300 K) 18.68 Å³, 160.2 GPa.
* The even Monkhorst–Pack mesh is shifted and misses Γ, where MgO's gap is smallest: the
  sampled gap is 7.5 eV, far above the Γ gap (PBE ≈ 4.5 eV), so thermal electronic excitations
  at high T_el are underestimated (F(3000 K) − F(300 K) is only −5e-7 eV per cell at
  a = 4.18 Å). Use ``gamma_centered=True`` (or a denser mesh) when T_el matters.

k-points. All cells of one dataset must be labelled with the same k-mesh: energies of the same
supercell on two meshes differ by meV/atom, more than a potential's target error. Give ``kpts``
explicitly, or ``kpoint_density`` together with a ``reference_cell`` from which the mesh is
computed *once*; the mesh is then fixed for every cell this labeller sees.
"""

from __future__ import annotations

import contextlib
import math
from functools import partial

import numpy as np
from ase import Atoms

from deepearth.reference.labeller import CalculatorLabeller, Label
from deepearth.units import KB_EV_PER_K

GPAW_REF = "Mortensen et al., J. Chem. Phys. 160, 092503 (2024)"
MERMIN_REF = "Mermin, Phys. Rev. 137, A1441 (1965)"
INSTALL_HINT = "run scripts/install-gpaw.sh (serial GPAW 26.7.0 and the gpaw-data PAW datasets)"


class GPAWUnavailable(ImportError, RuntimeError):
    """GPAW is not installed (an ImportError and a RuntimeError, so the CLI prints one line)."""


def import_gpaw():
    """The ``gpaw`` module, or :class:`GPAWUnavailable` with a one-line install hint."""
    try:
        import gpaw
    except ImportError as exc:
        raise GPAWUnavailable(f"GPAW is not installed ({exc}): {INSTALL_HINT}") from None
    return gpaw


def kpts_from_density(cell, kpoint_density: float) -> tuple[int, int, int]:
    """Monkhorst–Pack mesh ``n_i = ceil(|b_i| · kpoint_density)`` of ``cell`` (3×3, Å).

    ``|b_i| = 2π/d_i`` are the reciprocal-lattice vector lengths (Å⁻¹, ``d_i`` the interplanar
    spacings) and ``kpoint_density`` is in points per Å⁻¹ (ASE's ``kptdensity`` convention):
    2.0 on the 4.23 Å MgO cube (|b| = 1.485 Å⁻¹) gives 3×3×3.
    """
    if kpoint_density <= 0:
        raise ValueError(f"kpoint_density must be > 0 points per Å⁻¹, got {kpoint_density}")
    recip = np.linalg.inv(np.asarray(cell, dtype=float)).T  # rows b_i / (2π), Å⁻¹
    lengths = 2 * np.pi * np.linalg.norm(recip, axis=1)
    return tuple(max(1, math.ceil(float(n) - 1e-9)) for n in lengths * kpoint_density)


def _kpoint_mesh(kpts, kpoint_density: float | None, reference_cell) -> tuple[int, int, int]:
    """The one k-mesh of a labeller: ``kpts``, or ``kpoint_density`` applied to ``reference_cell``."""
    if kpoint_density is not None:
        if reference_cell is None:
            raise ValueError("kpoint_density needs a reference_cell: the mesh is fixed once per dataset")
        return kpts_from_density(reference_cell, kpoint_density)
    mesh = tuple(int(n) for n in kpts)
    if len(mesh) != 3 or min(mesh) < 1:
        raise ValueError(f"kpts must be three positive integers, got {kpts}")
    return mesh


def _setups_source(gpaw) -> str:
    """Where the PAW datasets come from: the gpaw-data wheel (with its version) or a path."""
    paths = [str(p) for p in getattr(gpaw, "setup_paths", [])]
    try:
        from importlib.metadata import version

        import gpaw_data

        if paths and paths[0].startswith(str(gpaw_data.datapath())):
            return f"paw (gpaw-data {version('gpaw-data')})"
    except ImportError:
        pass
    return f"paw ({paths[0]})" if paths else "paw"


def _make_gpaw(xc: str, cutoff_eV: float, kpts: dict, width_eV: float, convergence: dict | None,
               maxiter: int, txt: str | None):
    """A fresh GPAW calculator (plane waves, Fermi–Dirac of ``width_eV`` eV)."""
    from gpaw import GPAW, PW, FermiDirac

    kwargs = {"mode": PW(cutoff_eV), "xc": xc, "kpts": dict(kpts), "occupations": FermiDirac(width_eV),
              "maxiter": maxiter, "txt": txt}
    if convergence:
        kwargs["convergence"] = dict(convergence)
    return GPAW(**kwargs)


@contextlib.contextmanager
def _one_blas_thread():
    """Pin BLAS to one thread while a label runs (threadpoolctl where installed)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1):
        yield


class GPAWLabeller(CalculatorLabeller):
    """A :class:`CalculatorLabeller` for GPAW: force-consistent (free) energy, BLAS on one thread."""

    def label(self, atoms: Atoms) -> Label:
        with _one_blas_thread():
            return super().label(atoms)


def gpaw_labeller(xc: str = "PBE", cutoff_eV: float = 800.0, kpts: tuple[int, int, int] = (2, 2, 2),
                  electronic_temperature_K: float = 300.0, *, gamma_centered: bool = False,
                  kpoint_density: float | None = None, reference_cell: np.ndarray | None = None,
                  convergence: dict | None = None, maxiter: int = 333,
                  txt: str | None = None) -> GPAWLabeller:
    """A labeller running GPAW plane-wave DFT; its label energy is the Mermin free energy (eV).

    Parameters
    ----------
    xc:
        Exchange–correlation functional (a GPAW/libxc name: ``"PBE"``, ``"PBEsol"``, ``"LDA"``...).
    cutoff_eV:
        Plane-wave kinetic-energy cutoff, eV (800 eV converges MgO to < 1 meV/atom, 0.15 GPa).
    kpts:
        Monkhorst–Pack mesh, the same for every cell of a dataset (see the module docstring).
    electronic_temperature_K:
        T_el (K, > 0): Fermi–Dirac width ``k_B·T_el`` eV. Set it to the temperature of the
        configurations (finite-temperature DFT); 300 K is indistinguishable from the ground state of wide-gap insulators.
    gamma_centered:
        Shift the mesh to contain Γ (GPAW's ``gamma=True``).
    kpoint_density, reference_cell:
        Instead of ``kpts``: points per Å⁻¹ (see :func:`kpts_from_density`), turned into one
        mesh from ``reference_cell`` (3×3, Å) when the labeller is made.
    convergence:
        GPAW SCF criteria (e.g. ``{"energy": 1e-6}`` eV/valence electron); GPAW's defaults if ``None``.
    maxiter:
        Maximum SCF iterations; an unconverged SCF is a failed label.
    txt:
        GPAW's text log: ``None`` (default) writes none; a path is overwritten by each label.
    """
    gpaw = import_gpaw()
    if electronic_temperature_K <= 0:
        raise ValueError(f"electronic_temperature_K must be > 0 K (Fermi–Dirac), got {electronic_temperature_K}")
    if cutoff_eV <= 0:
        raise ValueError(f"cutoff_eV must be > 0 eV, got {cutoff_eV}")
    mesh = _kpoint_mesh(kpts, kpoint_density, reference_cell)
    width_eV = float(electronic_temperature_K) * KB_EV_PER_K
    # plain Monkhorst-Pack unless Γ-centred: ASE's gamma=False would shift odd meshes off Γ
    kpt_spec = {"size": mesh, "gamma": True} if gamma_centered else {"size": mesh}
    factory = partial(_make_gpaw, xc, float(cutoff_eV), kpt_spec, width_eV, convergence, int(maxiter), txt)
    kind = "Gamma-centred" if gamma_centered else "Monkhorst-Pack"
    provenance = {
        "method": xc, "functional": xc, "code": f"gpaw {gpaw.__version__}", "mode": "pw",
        "cutoff_eV": float(cutoff_eV), "cutoff_kind": "plane-wave (PW)",
        "kpoints": f"{mesh[0]}x{mesh[1]}x{mesh[2]} {kind}",
        "smearing": "fermi-dirac", "smearing_width_eV": width_eV, "T_el_K": float(electronic_temperature_K),
        "setups": _setups_source(gpaw), "label_energy": "Mermin free energy E - T_el*S (force-consistent)",
        "reference": GPAW_REF,
    }
    if convergence:
        provenance["convergence"] = ", ".join(f"{k}={v}" for k, v in sorted(convergence.items()))
    return GPAWLabeller(factory, name="gpaw", provenance=provenance, force_consistent=True)
