"""pvt_analysis against burnman-cpp's SLB2011 periclase (a Mie–Grüneisen–Debye model; Stixrude &
Lithgow-Bertelloni 2011): its own α, γ, thermal pressure, K_T and isentrope come back within the
propagated errors from noisy NPT and NVT grids."""

import numpy as np
import pytest
from burnman_cpp.minerals import SLB11
from scipy.optimize import brentq

from deepearth.properties import eos
from deepearth.units import A3_PER_CM3_MOL, KJ_PER_MOL_PER_EV

TEMPERATURES = [1000.0, 1500.0, 2000.0, 2500.0, 3000.0]  # above θ_D ≈ 770 K: SLB is nearly classical, as MD is


def slb(P_GPa, T_K):
    """Per MgO: V (Å³), internal energy (eV), α (1/K), K_T (GPa), γ, entropy (J/mol/K)."""
    m = SLB11.periclase()
    m.set_state(P_GPa * 1e9, T_K)
    return dict(V=m.molar_volume * 1e6 * A3_PER_CM3_MOL, E=m.molar_internal_energy / 1e3 / KJ_PER_MOL_PER_EV,
                alpha=m.thermal_expansivity, KT=m.isothermal_bulk_modulus_reuss / 1e9, gamma=m.grueneisen_parameter,
                S=m.molar_entropy)


def slb_pressure(V_A3, T_K):
    return brentq(lambda p: slb(p, T_K)["V"] - V_A3, 0.0, 400.0, xtol=1e-10)


def z_scores(estimate, stderr, truth):
    return (np.asarray(estimate) - np.asarray(truth)) / np.asarray(stderr)


@pytest.fixture(scope="module")
def npt_grid():
    """An NPT-like grid, 7 pressures × 5 temperatures, with MD-sized noise on ⟨V⟩, ⟨P⟩ and ⟨E⟩."""
    rng = np.random.default_rng(0)
    P, T = np.meshgrid(np.linspace(20.0, 140.0, 7), TEMPERATURES)
    P, T = P.ravel(), T.ravel()
    states = [slb(p, t) for p, t in zip(P, T)]
    V = np.array([s["V"] for s in states])
    E = np.array([s["E"] for s in states])
    sv, sp, se = 2e-4 * V, np.full(V.size, 0.03), np.full(V.size, 2e-3)
    return eos.pvt_analysis(V + rng.normal(0, sv), T, P + rng.normal(0, sp), E + rng.normal(0, se),
                            volumes_stderr_A3=sv, pressures_stderr_GPa=sp, energies_stderr_eV=se, form="vinet")


def test_alpha_and_bulk_modulus_from_an_npt_grid(npt_grid):
    r = npt_grid
    truth = np.array([[slb(p, t)["alpha"] for p in r.pressures_GPa] for t in r.T_K])
    z = z_scores(r.alpha_per_K, r.alpha_stderr_per_K, truth)
    assert np.sqrt(np.mean(z**2)) < 2 and np.max(np.abs(z)) < 4, z
    assert np.max(np.abs(np.asarray(r.alpha_per_K) / truth - 1)) < 0.25
    kt = np.array([[slb(p, t)["KT"] for p in r.pressures_GPa] for t in r.T_K])
    # K_T: the Vinet form's misfit of a hot isotherm reaches 2 % at the ends of the pressure range
    assert np.max(np.abs(np.asarray(r.K_T_GPa) / kt - 1)) < 0.03
    assert r.T_ref_K == 1000.0 and r.form == "vinet" and len(r.isotherms) == 5


def test_thermal_pressure_and_grueneisen_from_an_npt_grid(npt_grid):
    r = npt_grid
    pth = np.array([[slb_pressure(v, t) - slb_pressure(v, r.T_ref_K) for v in r.volumes_A3] for t in r.T_K[1:]])
    z = z_scores(np.asarray(r.thermal_pressure_GPa)[1:], np.asarray(r.thermal_pressure_stderr_GPa)[1:], pth)
    assert np.sqrt(np.mean(z**2)) < 2 and np.max(np.abs(z)) < 4, z
    assert np.all(np.asarray(r.thermal_pressure_GPa)[0] == 0)
    gamma = [slb(slb_pressure(v, 2000.0), 2000.0)["gamma"] for v in r.volumes_A3]  # SLB's γ depends on V only
    z = z_scores(r.gamma, r.gamma_stderr, gamma)
    assert np.sqrt(np.mean(z**2)) < 2 and np.max(np.abs(z)) < 4, z
    assert r.grueneisen.q == pytest.approx(1.0, abs=0.5)  # SLB periclase: q ≈ 1 over 20-140 GPa


def test_adiabat_follows_the_isentrope(npt_grid):
    """T(P) along the adiabat from (20 GPa, 2000 K) against burnman's constant-entropy temperatures."""
    r = eos.pvt_analysis(*_exact_grid(), form="vinet", adiabat_start=(20.0, 2000.0))
    s0 = slb(20.0, 2000.0)["S"]
    for p, t in zip(r.adiabat.pressures_GPa, r.adiabat.T_K):
        t_true = brentq(lambda T: slb(p, T)["S"] - s0, 1000.0, 4000.0)
        assert t == pytest.approx(t_true, abs=10.0)
    assert r.adiabat.T_K[-1] > 2700  # 2000 K at 20 GPa -> ≈ 2790 K at 140 GPa
    noisy = eos.pvt_analysis(*_noisy_grid(), form="vinet", adiabat_start=(20.0, 2000.0),
                             **_noisy_errors())
    t_end = brentq(lambda T: slb(140.0, T)["S"] - s0, 1000.0, 4000.0)
    assert abs(noisy.adiabat.T_K[-1] - t_end) < 3 * noisy.adiabat.T_stderr_K[-1] + 20


def _exact_grid():
    P, T = np.meshgrid(np.linspace(20.0, 140.0, 7), TEMPERATURES)
    states = [slb(p, t) for p, t in zip(P.ravel(), T.ravel())]
    return (np.array([s["V"] for s in states]), T.ravel(), P.ravel(), np.array([s["E"] for s in states]))


def _noisy_errors():
    V = _exact_grid()[0]
    return dict(volumes_stderr_A3=2e-4 * V, pressures_stderr_GPa=np.full(V.size, 0.03),
                energies_stderr_eV=np.full(V.size, 2e-3))


def _noisy_grid():
    rng = np.random.default_rng(11)
    V, T, P, E = _exact_grid()
    err = _noisy_errors()
    return (V + rng.normal(0, err["volumes_stderr_A3"]), T, P + rng.normal(0, err["pressures_stderr_GPa"]),
            E + rng.normal(0, err["energies_stderr_eV"]))


def test_nvt_grid_same_volumes_at_every_temperature():
    """An NVT grid (fixed cells, ⟨P⟩ and ⟨E⟩ measured): the thermal pressure is measured directly."""
    rng = np.random.default_rng(2)
    vols = np.linspace(13.0, 17.0, 6)
    V, T = np.meshgrid(vols, TEMPERATURES)
    V, T = V.ravel(), T.ravel()
    P = np.array([slb_pressure(v, t) for v, t in zip(V, T)])
    E = np.array([slb(p, t)["E"] for p, t in zip(P, T)])
    sp, se = np.full(V.size, 0.05), np.full(V.size, 2e-3)
    r = eos.pvt_analysis(V, T, P + rng.normal(0, sp), E + rng.normal(0, se), pressures_stderr_GPa=sp,
                         energies_stderr_eV=se, form="vinet", at_volumes_A3=vols[1:-1])
    gamma = [slb(slb_pressure(v, 2000.0), 2000.0)["gamma"] for v in r.volumes_A3]
    z = z_scores(r.gamma, r.gamma_stderr, gamma)
    assert np.max(np.abs(z)) < 4, z
    pth = [slb_pressure(v, 3000.0) - slb_pressure(v, 1000.0) for v in r.volumes_A3]
    z = z_scores(r.thermal_pressure_GPa[-1], r.thermal_pressure_stderr_GPa[-1], pth)
    assert np.max(np.abs(z)) < 4, z
    assert r.to_dict()["grueneisen"]["gamma0"] > 0


@pytest.mark.parametrize("kwargs, message", [
    (dict(volumes_A3=[10, 11, 12, 13], temperatures_K=[300] * 4, pressures_GPa=[4, 3, 2, 1]),
     "1 isotherms; at least 2 needed"),
    (dict(volumes_A3=[10, 11, 12], temperatures_K=[300, 300], pressures_GPa=[3, 2, 1]),
     "temperatures_K has 2 values for 3 state points"),
    (dict(volumes_A3=[10, 11, 12, 13], temperatures_K=[300, 0, 300, 300], pressures_GPa=[4, 3, 2, 1]),
     r"temperatures_K\[1\] = 0"),
    (dict(volumes_A3=[10, 11, 12, 10, 11, 12], temperatures_K=[300] * 3 + [600] * 3, pressures_GPa=[3, 2, 1] * 2),
     "isotherm 300 K: EOS fit: 3 .V, P. points; at least 4 needed"),
])
def test_bad_grids_are_one_line(kwargs, message):
    with pytest.raises(ValueError, match=message) as e:
        eos.pvt_analysis(**kwargs)
    assert "\n" not in str(e.value)
