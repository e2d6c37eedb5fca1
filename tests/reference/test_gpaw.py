"""GPAW labeller (PBE, plane waves 800 eV, 2×2×2 k, 8-atom MgO): labels are derivatives of the
Mermin free energy, the free energy falls with T_el, and a POD model trained on a dozen labels
reproduces the GPAW equation of state, which sits where PBE is known to be (≈3 % above the
measured volume).

Skipped where GPAW is not installed (``scripts/install-gpaw.sh``). Measured CPU time on one core:
~3 minutes for the whole file, 6–7 s per ideal (cubic) cell and 12–14 s per rattled one.
"""

import copy
import sys
import time

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from scipy.optimize import curve_fit

from deepearth.potentials.pod import PODCalculator, PODPotential
from deepearth.properties.eos import bm3_energy, fit_birch_murnaghan3
from deepearth.reference.gpaw import GPAWUnavailable, gpaw_labeller, kpts_from_density
from deepearth.store import write_deepmd_npy
from deepearth.units import GPA_TO_EV_PER_A3, stress_to_pressure_gpa

pytest.importorskip("gpaw")  # deepearth.reference.gpaw imports gpaw only when a labeller is made

#: SCF criteria tight enough for 5e-3 Å finite differences (GPAW units: eV and electrons per
#: valence electron).
TIGHT = {"energy": 1e-6, "density": 1e-6}
#: Ideal-cell lattice constants (Å) of the EOS grid: ±6 % around 4.23 Å.
A_GRID = 4.23 * (1 + np.linspace(-0.06, 0.06, 6))
#: Periclase at 300 K (Speziale et al., J. Geophys. Res. 106, 515 (2001)): V0 = 74.71 Å³ per
#: 4 MgO, K0T = 160.2 GPa (fixed there from ultrasonics), K0' = 3.99.
V0_EXP_A3, K0_EXP_GPA = 74.71 / 4, 160.2

_LABELS: dict = {}  # one GPAW run per (T_el, configuration) for the whole module


def _labeller(T_el_K: float = 300.0):
    return gpaw_labeller("PBE", 800.0, (2, 2, 2), T_el_K, convergence=TIGHT)


def _label(atoms: Atoms, T_el_K: float = 300.0):
    key = (T_el_K, atoms.cell.array.tobytes(), atoms.positions.tobytes(), atoms.numbers.tobytes())
    if key not in _LABELS:
        label = _labeller(T_el_K).label(atoms)
        assert label.ok, label.error
        _LABELS[key] = label
    return _LABELS[key]


def _mgo(a: float, rattle: float = 0.0, seed: int = 0, strain=(0.0, 0.0, 0.0)) -> Atoms:
    atoms = bulk("MgO", "rocksalt", a=a, cubic=True)
    atoms.set_cell(atoms.cell.array @ np.diag(1.0 + np.asarray(strain)), scale_atoms=True)
    if rattle:
        atoms.rattle(rattle, seed=seed)
    return atoms


def test_missing_gpaw_names_the_install_script(monkeypatch):
    monkeypatch.setitem(sys.modules, "gpaw", None)  # makes `import gpaw` raise ImportError
    with pytest.raises(GPAWUnavailable, match="scripts/install-gpaw.sh") as err:
        gpaw_labeller()
    assert isinstance(err.value, ImportError) and "\n" not in str(err.value)


def test_kpoint_mesh_is_fixed_once():
    cell = _mgo(4.23).cell.array  # 4.23 Å cube: |b| = 1.485 Å⁻¹
    assert kpts_from_density(cell, 2.0) == (3, 3, 3)
    assert kpts_from_density(np.diag([4.23, 4.23, 8.46]), 2.0) == (3, 3, 2)
    lab = gpaw_labeller(kpoint_density=2.0, reference_cell=cell)
    assert lab.provenance["kpoints"] == "3x3x3 Monkhorst-Pack"
    with pytest.raises(ValueError, match="reference_cell"):
        gpaw_labeller(kpoint_density=2.0)
    with pytest.raises(ValueError, match="> 0 K"):
        gpaw_labeller(electronic_temperature_K=0.0)


def test_provenance_is_recorded():
    import gpaw

    lab = _labeller(300.0)
    p = lab.provenance
    assert p["code"] == f"gpaw {gpaw.__version__}" and p["functional"] == "PBE" and p["cutoff_eV"] == 800.0
    assert p["kpoints"] == "2x2x2 Monkhorst-Pack" and p["smearing"] == "fermi-dirac" and p["T_el_K"] == 300.0
    assert p["smearing_width_eV"] == pytest.approx(300.0 * 8.617333262e-5)
    assert p["setups"].startswith("paw") and lab.force_consistent
    label = _label(_mgo(A_GRID[1]))
    assert label.provenance == p
    assert np.allclose(label.forces_eV_per_A, 0.0, atol=1e-6)  # every atom on an inversion centre
    assert np.allclose(label.stress_eV_per_A3[3:], 0.0, atol=1e-8)


def test_forces_are_derivatives_of_the_mermin_free_energy():
    """At T_el = 10000 K (T·S ≈ 0.3 eV per cell) −dF/dx matches the force; −dE/dx of GPAW's
    extrapolated (zero-width) energy misses it by ~0.06 eV/Å, so the test tells them apart."""
    atoms = _mgo(4.23, rattle=0.05, seed=3)
    lab = _labeller(10000.0)
    calcs = []

    def keep():  # the labeller's own calculator, kept to read the extrapolated energy afterwards
        calcs.append(lab.factory())
        return calcs[-1]

    spy = copy.copy(lab)
    spy.factory = keep
    label = spy.label(atoms)
    assert label.ok, label.error
    i, k, h = 1, 0, 0.005  # O atom, x, Å
    free, extrapolated = [], []
    for step in (h, -h):
        moved = atoms.copy()
        moved.positions[i, k] += step
        free.append(spy.label(moved).energy_eV)
        extrapolated.append(calcs[-1].get_potential_energy())  # cached: no new SCF
    force = label.forces_eV_per_A[i, k]
    fd_free = -(free[0] - free[1]) / (2 * h)
    fd_extrapolated = -(extrapolated[0] - extrapolated[1]) / (2 * h)
    assert abs(force) > 0.5  # a real force, eV/Å
    assert fd_free == pytest.approx(force, abs=1e-3)
    assert abs(fd_extrapolated - force) > 0.02


def test_stress_is_the_strain_derivative_of_the_energy():
    """σ_xx = (1/V) ∂E/∂ε_xx at a = 4.13 Å (P ≈ 25 GPa), up to the Pulay stress of the finite
    plane-wave basis (the analytic stress is at a fixed number of plane waves): 0.2–0.3 GPa here."""
    a = A_GRID[1]
    center = _label(_mgo(a))
    h = 0.005
    e = [_label(_mgo(a, strain=(s, 0.0, 0.0))).energy_eV for s in (h, -h)]
    volume = center.atoms.get_volume()
    sigma_xx_fd = (e[0] - e[1]) / (2 * h) / volume  # eV/Å³, ASE sign (positive = tensile)
    sigma = center.stress_eV_per_A3
    assert np.allclose(sigma[:3], sigma[0], atol=1e-8)  # cubic: isotropic
    assert stress_to_pressure_gpa(sigma) == pytest.approx(25.0, abs=2.0)
    assert sigma[0] / GPA_TO_EV_PER_A3 == pytest.approx(sigma_xx_fd / GPA_TO_EV_PER_A3, abs=0.5)


def test_free_energy_falls_with_electronic_temperature():
    """dF/dT_el = −S ≤ 0. In the expanded cell (a = 4.48 Å, gap narrowest on this grid) the drop
    from 300 K to 3000 K is only ~2e-5 eV per 8 atoms: the shifted 2×2×2 mesh misses Γ, where
    MgO's gap is smallest; at 10000 K it is ~0.26 eV."""
    atoms = _mgo(A_GRID[-1])
    f300, f3000, f10000 = (_label(atoms, T).energy_eV for T in (300.0, 3000.0, 10000.0))
    assert f3000 < f300 - 5e-6
    assert f10000 < f3000 - 0.1


def _eos_cells() -> list[Atoms]:
    """Six ideal cells (a = 4.23 Å ± 6 %), four rattled (0.04 Å) and two tetragonally strained."""
    ideal = [_mgo(a) for a in A_GRID]
    rattled = [_mgo(a, rattle=0.04, seed=10 + i) for i, a in enumerate((4.08, 4.18, 4.28, 4.38))]
    strained = [_mgo(4.15, strain=(0.0, 0.0, 0.03)), _mgo(4.30, strain=(-0.03, 0.0, 0.0))]
    return ideal + rattled + strained


def _fit_energy_bm3(volumes, energies) -> tuple[float, float, float]:
    """(V0 Å³, K0 GPa, K0') of a BM3 fit to E(V)."""
    p, _ = curve_fit(bm3_energy, volumes, energies, p0=(min(energies), float(np.mean(volumes)), 160.0, 4.0))
    return float(p[1]), float(p[2]), float(p[3])


@pytest.mark.slow
def test_pod_model_reproduces_the_gpaw_equation_of_state(tmp_path):
    """Static (0 K, no zero-point motion) EOS of MgO: GPAW-PBE labels vs a POD model trained on them
    vs experiment at 300 K.

    Measured: GPAW PBE V0 = 19.24 Å³/MgO (P fit; 19.26 from E(V)), K0 = 150.8 GPa, K0' = 4.12,
    i.e. a0 = 4.25 Å, +3.0 % in volume and −6 % in K0 from experiment: the PBE underbinding of
    MgO known from the literature (a0 ≈ 4.25 Å, K0 ≈ 150–160 GPa). The POD model: V0 = 19.26 Å³,
    K0 = 150.3 GPa. Zero-point motion and 300 K thermal expansion (not computed here: it needs
    quasi-harmonic phonons) would enlarge the DFT V0 by roughly 1 % and soften K0 by a few
    per cent, widening rather than closing the gap to experiment.
    """
    t0 = time.process_time()
    cells = _eos_cells()
    labels = [_label(c) for c in cells]
    frames = []
    for lab in labels:
        a = lab.atoms.copy()
        a.calc = SinglePointCalculator(a, energy=lab.energy_eV, forces=lab.forces_eV_per_A,
                                       stress=lab.stress_eV_per_A3)
        frames.append(a)
    t_label = time.process_time() - t0

    ideal = labels[: len(A_GRID)]
    v = np.array([lab.atoms.get_volume() / 4 for lab in ideal])  # Å³ per MgO
    gpaw_p = fit_birch_murnaghan3(v, [stress_to_pressure_gpa(lab.stress_eV_per_A3) for lab in ideal], guess=(19.0, 160.0, 4.0))
    gpaw_e = _fit_energy_bm3(v, [lab.energy_eV / 4 for lab in ideal])

    write_deepmd_npy(tmp_path / "train", frames, ["Mg", "O"])
    pot = PODPotential(["Mg", "O"], rcut_A=5.0, two_body=6, three_body=(4, 3), bootstrap=False)
    model = pot.train(tmp_path / "pod", [tmp_path / "train"], [], seed=0)
    calc = PODCalculator(model)
    grid = np.linspace(16.0, 22.2, 13)  # Å³ per MgO, inside the labelled range
    p_model, e_model = [], []
    for vol in grid:
        a = _mgo((4 * vol) ** (1 / 3))
        a.calc = calc
        p_model.append(stress_to_pressure_gpa(a.get_stress()))
        e_model.append(a.get_potential_energy() / 4)
    model_p = fit_birch_murnaghan3(grid, p_model, guess=(19.0, 160.0, 4.0))
    model_e = _fit_energy_bm3(grid, e_model)
    print(f"\nlabelling {len(cells)} cells: {t_label:.0f} s CPU; GPAW P-fit {gpaw_p}; GPAW E-fit {gpaw_e}; "
          f"model P-fit {model_p}; model E-fit {model_e}")

    # the model's pressure is −dE/dV of a fit to energies: compare it with GPAW's E(V) first
    assert model_p.V0_A3 == pytest.approx(gpaw_e[0], rel=5e-3)
    assert model_p.K0_GPa == pytest.approx(gpaw_e[1], rel=0.05)
    assert model_e[0] == pytest.approx(gpaw_e[0], rel=5e-3)
    # GPAW's stresses (analytic, no Pulay term) give the same EOS within the Pulay stress
    assert model_p.V0_A3 == pytest.approx(gpaw_p.V0_A3, rel=5e-3)
    assert model_p.K0_GPa == pytest.approx(gpaw_p.K0_GPa, rel=0.05)
    assert 3.5 < gpaw_p.K0_prime < 4.8
    # PBE underbinds MgO: V0 1–5 % above experiment, K0 below the measured 160 GPa
    assert 1.01 < gpaw_p.V0_A3 / V0_EXP_A3 < 1.05
    assert 140.0 < gpaw_p.K0_GPa < K0_EXP_GPA
