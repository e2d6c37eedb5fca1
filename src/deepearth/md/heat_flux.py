"""Microscopic heat flux J·V in the LAMMPS ``compute heat/flux`` convention, and a recorder for ASE MD.

Convention and units (LAMMPS ``metal``; https://docs.lammps.org/compute_heat_flux.html)::

    J·V = Σ_i e_i v_i − Σ_i S_i v_i          (eV·Å/ps)

with ``e_i = ke_i + pe_i`` (eV), ``v_i`` in Å/ps and ``S_i`` the per-atom stress of
``compute stress/atom NULL virial`` or ``compute centroid/stress/atom NULL virial``
(https://docs.lammps.org/compute_stress_atom.html): ``S_i = −W_i`` (pressure·volume), so that
``J·V = Σ_i e_i v_i + Σ_i W_i·v_i``, ``(W_i·v_i)_a = Σ_b W_i,ab v_i,b``. Like LAMMPS, the flux is
*not* divided by the volume: ``deepearth.properties.thermal_conductivity`` takes this series.

The per-atom virial ``W_i`` (eV) used here is the *centroid* form (Surblys et al., Phys. Rev. E 99,
051301(R) (2019); Boone et al., J. Chem. Theory Comput. 15, 5579 (2019))::

    W_i,ab = Σ_j (r_i − r_j)_a (−∂U_j/∂r_i)_b          Σ_i W_i = Σ_i r_i ⊗ F_i  (the virial)

``a`` is the position index, ``b`` the force index. With it, for an isolated system and the same
per-atom energies, ``d/dt Σ_i e_i r_i = J·V`` exactly (Hardy 1963), for any many-body potential.
For pair potentials it equals the pairwise ``½ Σ_j r_ij ⊗ F_ij`` of ``compute stress/atom``; for
many-body potentials (DeePMD, Tersoff, …) the pairwise/symmetrised form gives a wrong flux
(Fan et al., Phys. Rev. B 92, 094301 (2015)). Pair functionals too: for a 13-atom Cu cluster the
pairwise split misses ``d/dt Σ e_i r_i`` by ≈ 50 % of the virial part with ASE's EMT, and by
≈ 47 % with LAMMPS ``pair eam`` (whose ``centroid/stress/atom`` is its pairwise virial) — measured
2026-11; the centroid virial of a pair functional is symmetric but not the pairwise one.

Sources of per-atom quantities:

- any ASE calculator with ``'energies'`` and ``'stresses'`` (``LennardJones``, …). ASE's per-atom
  ``stresses`` are ``σ_i = −W_i / V`` with ``V`` the *cell* volume (not a per-atom volume; checked
  here against ``Σ_i σ_i = stress``), Voigt ``xx yy zz yz xz xy``;
- a DeePMD-kit model (``DeepPot.eval(..., atomic=True)``): its ``atom_virial`` row-major
  ``(3, 3)`` is ``W_iᵀ`` in the notation above (measured against ``d/dt Σ e_i r_i`` in
  tests/md/test_heat_flux.py; LAMMPS ``pair deepmd`` hands the same tensor to
  ``centroid/stress/atom``, transposed in its 9-component order ``xx yy zz xy xz yz yx zx zy``);
- :func:`per_atom_virials_finite_difference`: the centroid (or pairwise) virials of any calculator
  with per-atom energies (e.g. EMT), from finite differences — small reference systems only.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Literal

import numpy as np
from ase import Atoms
from ase.stress import voigt_6_to_full_3x3_stress

from deepearth.units import PS_TO_ASE_TIME

VirialForm = Literal["centroid", "pairwise"]

_HEADER = ("time_ps JVx JVy JVz volume_A3  # heat flux J*V in eV*A/ps, "
           "LAMMPS compute heat/flux convention (metal units)")


class PerAtomUnavailableError(RuntimeError):
    """The calculator cannot give per-atom energies and/or per-atom virials."""


# ----------------------------------------------------------------------------------------------
# the flux


def velocities_A_per_ps(atoms: Atoms) -> np.ndarray:
    """Velocities of ``atoms`` in Å/ps (LAMMPS metal units), shape ``(N, 3)``."""
    return atoms.get_velocities() * PS_TO_ASE_TIME


def heat_flux(atoms: Atoms, per_atom_energies_eV: np.ndarray | None = None,
              per_atom_virials: np.ndarray | None = None, *, source: Any = None) -> np.ndarray:
    """Heat flux times volume, ``J·V = Σ_i e_i v_i + Σ_i W_i·v_i`` (eV·Å/ps), shape ``(3,)``.

    Same quantity, sign and units as the first three components of LAMMPS
    ``compute heat/flux ke pe stress`` with ``stress`` a ``centroid/stress/atom NULL virial``
    (https://docs.lammps.org/compute_heat_flux.html,
    https://docs.lammps.org/compute_stress_atom.html) in ``units metal``.

    ``per_atom_energies_eV``: per-atom *potential* energies ``(N,)`` in eV; the kinetic energy
    ``½ m_i v_i²`` of each atom is added here from the atoms' momenta.
    ``per_atom_virials``: ``(N, 3, 3)`` (or ``(N, 9)`` row-major) per-atom centroid virials
    ``W_i,ab = Σ_j (r_i − r_j)_a (−∂U_j/∂r_i)_b`` in eV (= −LAMMPS per-atom stress ×
    volume / nktv2p). Either left ``None`` comes from :func:`per_atom_quantities` with
    ``source`` (default: ``atoms.calc``).

    References: Surblys et al., PRE 99, 051301(R) (2019) (centroid virial, heat flux of
    many-body potentials); Boone et al., JCTC 15, 5579 (2019) (heat flux in LAMMPS).
    """
    n = len(atoms)
    if per_atom_energies_eV is None or per_atom_virials is None:
        e_pot, w = per_atom_quantities(atoms, source)
        per_atom_energies_eV = e_pot if per_atom_energies_eV is None else per_atom_energies_eV
        per_atom_virials = w if per_atom_virials is None else per_atom_virials
    e_pot = np.asarray(per_atom_energies_eV, dtype=float)
    w = np.asarray(per_atom_virials, dtype=float)
    if e_pot.shape != (n,):
        raise ValueError(f"per_atom_energies_eV must have shape ({n},), got {e_pot.shape}")
    if w.shape == (n, 9):
        w = w.reshape(n, 3, 3)
    if w.shape != (n, 3, 3):
        raise ValueError(f"per_atom_virials must have shape ({n}, 3, 3) or ({n}, 9), got {w.shape}")
    v = velocities_A_per_ps(atoms)
    e = e_pot + 0.5 * np.einsum("i,ia,ia->i", atoms.get_masses(), atoms.get_velocities(), atoms.get_velocities())
    return e @ v + np.einsum("iab,ib->a", w, v)


# ----------------------------------------------------------------------------------------------
# per-atom energies and virials


def per_atom_quantities(atoms: Atoms, source: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-atom potential energies ``(N,)`` (eV) and centroid virials ``(N, 3, 3)`` (eV).

    ``source``: ``None`` (use ``atoms.calc``), an ASE calculator, a DeePMD model file
    (``str``/``Path``), a DeePMD ``DeepPot``, DeePMD's ASE calculator ``deepmd.calculator.DP``
    or a :class:`deepearth.potentials.deepmd.DeepMDEvaluator`. Raises
    :class:`PerAtomUnavailableError` naming the calculator when it cannot give them.
    """
    if source is None:
        source = atoms.calc
        if source is None:
            raise PerAtomUnavailableError("atoms have no calculator: per-atom energies and virials need one")
    if isinstance(source, (str, Path)):
        return per_atom_from_deepmd(atoms, source)
    dp = _deepmd_deeppot(source)
    if dp is not None:
        return per_atom_from_deepmd(atoms, dp)
    return per_atom_from_ase_calculator(atoms, source)


def _deepmd_deeppot(obj: Any):
    """The ``DeepPot`` behind a DeePMD object, or ``None`` if ``obj`` is not one."""
    for candidate in (obj, getattr(obj, "dp", None), getattr(obj, "_dp", None)):
        if candidate is not None and type(candidate).__module__.startswith("deepmd") \
                and hasattr(candidate, "eval") and hasattr(candidate, "get_type_map"):
            return candidate
    return None


def per_atom_from_ase_calculator(atoms: Atoms, calc: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-atom energies (eV) and virials ``W_i = −σ_i V`` (eV) from ASE ``'energies'``/``'stresses'``.

    ASE's per-atom ``stresses`` (eV/Å³, tensile positive, e.g. ``ase.calculators.lj``) are
    ``σ_i = −W_i / V`` with ``V`` the cell volume; this is checked against the total ``stress``
    when the calculator gave it. A Voigt ``(N, 6)`` form is symmetric: it cannot carry the
    antisymmetric part of a many-body centroid virial (exact for pair potentials only).
    """
    calc = atoms.calc if calc is None else calc
    name = type(calc).__name__
    implemented = set(getattr(calc, "implemented_properties", ()))
    missing = [p for p in ("energies", "stresses") if p not in implemented]
    if missing:
        raise PerAtomUnavailableError(
            f"calculator {name} does not implement per-atom {' and '.join(repr(m) for m in missing)} "
            f"(implements {sorted(implemented)}): the heat flux needs per-atom energies and per-atom "
            f"(centroid) virials. Use a calculator that has them, a DeePMD model "
            f"(per_atom_from_deepmd), or per_atom_virials_finite_difference for small reference systems")
    from ase.calculators.calculator import PropertyNotImplementedError

    try:
        energies = np.asarray(calc.get_property("energies", atoms), dtype=float).copy()
        stresses = np.asarray(calc.get_property("stresses", atoms), dtype=float).copy()
    except PropertyNotImplementedError as err:
        raise PerAtomUnavailableError(
            f"calculator {name} gave no per-atom energies/stresses for these atoms ({err}); ASE "
            f"calculators give per-atom stresses only for a cell of rank 3 (give an isolated "
            f"cluster a large vacuum cell)") from err
    volume = atoms.get_volume()
    if stresses.shape[1:] == (6,):
        stresses = np.array([voigt_6_to_full_3x3_stress(s) for s in stresses])
    if stresses.shape != (len(atoms), 3, 3):
        raise ValueError(f"calculator {name}: per-atom stresses of unexpected shape {stresses.shape}")
    total = calc.results.get("stress")
    if total is not None:
        total = np.asarray(total, dtype=float)
        total = voigt_6_to_full_3x3_stress(total) if total.shape == (6,) else total
        summed = 0.5 * (stresses.sum(0) + stresses.sum(0).T)
        if not np.allclose(summed, total, rtol=1e-6, atol=1e-9 * max(1.0, np.abs(total).max())):
            raise ValueError(f"calculator {name}: per-atom stresses do not sum to the stress; their "
                             f"normalisation (per-atom or cell volume) is unknown")
    return energies, -stresses * volume


@functools.lru_cache(maxsize=4)
def _load_deeppot(path: str):
    from deepearth.parallel import set_single_thread_env

    set_single_thread_env()
    from deepmd.infer import DeepPot

    from deepearth.potentials.graph_trust import frozen_graph

    return DeepPot(str(frozen_graph(path)))  # a .pb only: other formats are unpickled on load


def per_atom_from_deepmd(atoms: Atoms, model: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per-atom energies (eV) and centroid virials (eV) of a DeePMD-kit model.

    ``model``: a frozen model file (``.pb``; loaded once and cached) or a ``DeepPot``. Uses
    ``DeepPot.eval(coords, cells, atom_types, atomic=True)`` (DeePMD-kit 3.x), whose
    ``atom_virial`` is ``Σ_j (r_i − r_j) ⊗ (−∂e_j/∂r_i)`` stored force-index-first: the returned
    ``W_i`` is its transpose (https://docs.deepmodeling.com/projects/deepmd/en/latest/third-party/
    lammps-command.html, "Use of the centroid/stress/atom"; Tisi et al., arXiv:2108.10850 (2021)).
    Fully periodic or fully non-periodic atoms only (as DeePMD-kit).
    """
    dp = _load_deeppot(str(Path(model).resolve())) if isinstance(model, (str, Path)) else model
    pbc = np.asarray(atoms.pbc)
    if pbc.any() and not pbc.all():
        raise ValueError(f"DeePMD-kit handles fully periodic or non-periodic systems, not pbc={pbc.tolist()}")
    type_map = list(dp.get_type_map())
    symbols = atoms.get_chemical_symbols()
    try:
        types = np.array([type_map.index(s) for s in symbols], dtype=int)
    except ValueError:
        missing = sorted(set(symbols) - set(type_map))
        raise ValueError(f"species {missing} not in the DeePMD model's type map {type_map}") from None
    n = len(atoms)
    cells = atoms.cell.array.reshape(1, 9) if pbc.all() else None
    out = dp.eval(atoms.positions.reshape(1, -1), cells, types, atomic=True)
    atom_energy, atom_virial = out[3], out[4]
    energies = np.asarray(atom_energy, dtype=float).reshape(n)
    virials = np.asarray(atom_virial, dtype=float).reshape(n, 3, 3).transpose(0, 2, 1)
    return energies, virials


def per_atom_virials_finite_difference(atoms: Atoms, calc: Any = None, delta_A: float = 1e-4,
                                       form: VirialForm = "centroid") -> tuple[np.ndarray, np.ndarray]:
    """Per-atom energies (eV) and virials (eV) of any calculator with per-atom energies, by finite differences.

    The Jacobian ``G[j, i] = ∂U_j/∂r_i`` comes from central differences of the per-atom energies
    (6N calculations: small reference systems only). ``form="centroid"``:
    ``W_i = Σ_j (r_i − r_j) ⊗ (−G[j, i])`` (Surblys et al. 2019, exact heat flux);
    ``form="pairwise"``: ``W_i = ½ Σ_j (r_i − r_j) ⊗ F_ij`` with the pair forces
    ``F_ij = G[i, j] − G[j, i]`` (what LAMMPS ``stress/atom`` does for pair and EAM-like styles).
    Both sum to the virial. Periodic cells need every interacting pair to be the minimum image
    (cell widths > 2 × the interaction range).
    """
    from ase.geometry import find_mic

    if form not in ("centroid", "pairwise"):
        raise ValueError(f"form must be 'centroid' or 'pairwise', not {form!r}")
    calc = atoms.calc if calc is None else calc
    if calc is None or "energies" not in getattr(calc, "implemented_properties", ()):
        raise PerAtomUnavailableError(f"calculator {type(calc).__name__} gives no per-atom 'energies'")
    n = len(atoms)
    probe = atoms.copy()
    probe.calc = calc
    pos0 = atoms.positions.copy()
    energies = np.asarray(calc.get_property("energies", probe), dtype=float).copy()
    jac = np.zeros((n, n, 3))  # jac[j, i, b] = dU_j / dr_i,b
    for i in range(n):
        for b in range(3):
            for sign in (1.0, -1.0):
                pos = pos0.copy()
                pos[i, b] += sign * delta_A
                probe.positions = pos
                jac[:, i, b] += sign * np.asarray(calc.get_property("energies", probe), dtype=float)
    jac /= 2.0 * delta_A
    d = (pos0[:, None, :] - pos0[None, :, :]).reshape(-1, 3)  # d[i, j] = r_i - r_j
    if np.any(atoms.pbc):
        d, _ = find_mic(d, atoms.cell, atoms.pbc)
    d = d.reshape(n, n, 3)
    if form == "centroid":
        virials = -np.einsum("ija,jib->iab", d, jac)
    else:
        pair_force = jac - jac.transpose(1, 0, 2)  # F_ij = G[i, j] - G[j, i]
        virials = 0.5 * np.einsum("ija,ijb->iab", d, pair_force)
    return energies, virials


# ----------------------------------------------------------------------------------------------
# recording during MD


class HeatFluxRecorder:
    """Records ``J·V`` (eV·Å/ps) during ASE MD: the ``(n, 3)`` series for ``thermal_conductivity``.

    Use as an engine observer, ``MDSettings(..., observers=[(recorder, every)])`` (called as
    ``recorder(atoms, step)``), or on any ASE dynamics with :meth:`attach`. ``timestep_fs``: the
    MD time step (time of a sample = step × timestep). ``path``: optional text file, one line per
    sample (``time_ps JVx JVy JVz volume_A3``), appended and flushed as it goes (read it back
    with :func:`read_heat_flux`). ``source``: where per-atom quantities come from (see
    :func:`per_atom_quantities`; default the atoms' calculator). A repeated sample time (ASE calls
    observers again at the start of a continued run) is recorded once.
    """

    def __init__(self, timestep_fs: float, path: str | Path | None = None, source: Any = None):
        self.timestep_fs = float(timestep_fs)
        self.path = Path(path) if path is not None else None
        self.source = source
        self.time_ps: list[float] = []
        self.flux: list[np.ndarray] = []
        self.volume_A3: list[float] = []
        if self.path is not None and (not self.path.exists() or self.path.stat().st_size == 0):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(f"# {_HEADER}\n")

    def __call__(self, atoms: Atoms, step: int) -> None:
        """Record the flux of ``atoms`` at MD step ``step``."""
        t = step * self.timestep_fs / 1000.0
        if self.time_ps and np.isclose(t, self.time_ps[-1], rtol=0.0, atol=1e-12):
            return
        j = heat_flux(atoms, source=self.source)
        vol = atoms.get_volume() if atoms.cell.rank == 3 else float("nan")
        self.time_ps.append(t)
        self.flux.append(j)
        self.volume_A3.append(vol)
        if self.path is not None:
            with open(self.path, "a") as fh:
                fh.write(f"{t:.10g} {j[0]:.12e} {j[1]:.12e} {j[2]:.12e} {vol:.10g}\n")

    def attach(self, dyn: Any, interval: int = 1) -> HeatFluxRecorder:
        """Attach to an ASE dynamics object: a sample every ``interval`` steps (and at step 0)."""
        dyn.attach(lambda: self(dyn.atoms, dyn.nsteps), interval=interval)
        return self

    @property
    def series(self) -> np.ndarray:
        """Recorded ``J·V`` (eV·Å/ps), shape ``(n, 3)``."""
        return np.array(self.flux, dtype=float).reshape(-1, 3)

    @property
    def dt_ps(self) -> float:
        """Time between samples (ps); raises if fewer than two samples or unevenly spaced."""
        return _sample_spacing(np.asarray(self.time_ps))


def _sample_spacing(t: np.ndarray) -> float:
    if len(t) < 2:
        raise ValueError("fewer than two heat-flux samples: no time step")
    steps = np.diff(t)
    if not np.allclose(steps, steps[0], rtol=1e-6, atol=1e-12):
        raise ValueError("heat-flux samples are not evenly spaced in time")
    return float(steps[0])


def read_heat_flux(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read a :class:`HeatFluxRecorder` file: ``(time_ps (n,), JV (n, 3) eV·Å/ps, volume_A3 (n,))``."""
    data = np.loadtxt(path, comments="#", ndmin=2)
    if data.shape[1] != 5:
        raise ValueError(f"{path}: expected 5 columns (time_ps JVx JVy JVz volume_A3), got {data.shape[1]}")
    return data[:, 0], data[:, 1:4], data[:, 4]
