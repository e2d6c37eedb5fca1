"""The ASE engine + MSD estimator on a classical Lennard-Jones argon system (independent of the MLP):
the crystal at low T plateaus (D ≈ 0); the hot fluid diffuses (MSD linear in t)."""

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.lj import LennardJones

from deepearth.md.engine import ASEEngine, MDSettings
from deepearth.md.trajectory import append_frame
from deepearth.properties.diffusion import diffusion_coefficient, local_slope
from deepearth.properties.trajectory import read_trajectory


def argon_run(tmp_path, T_K, seed, steps=1500, dt_fs=5.0, every=10):
    atoms = bulk("Ar", "fcc", a=5.26, cubic=True).repeat((3, 3, 3))  # 108 atoms, solid density
    calc = LennardJones(sigma=3.405, epsilon=0.0103, rc=8.5, smooth=True)
    path = tmp_path / f"ar-{T_K}-{seed}.extxyz"

    ASEEngine().run(atoms, calc, MDSettings("nvt", T_K, steps, dt_fs, thermostat="langevin", seed=seed,
                                            observers=[(lambda a, step: append_frame(path, a, step, dt_fs), every)]))
    return read_trajectory(path)


@pytest.mark.slow
def test_crystal_plateaus_and_fluid_diffuses(tmp_path):
    crystal = [argon_run(tmp_path, 30.0, s) for s in (1, 2)]
    res_c = diffusion_coefficient(crystal, species="Ar")
    assert not res_c.diffusive
    assert abs(res_c.D_m2_per_s) < 2e-11
    assert max(res_c.msd_A2) < 0.5  # vibrations only: well below the nearest-neighbour distance² (~14 Å²)

    fluid = [argon_run(tmp_path, 600.0, s) for s in (1, 2)]
    res_f = diffusion_coefficient(fluid, species="Ar")
    assert res_f.diffusive
    assert res_f.D_m2_per_s > 1e-9
    assert res_f.D_m2_per_s > 4 * res_f.D_stderr_m2_per_s  # two replicas: the error bar itself is rough
    lag, msd = np.array(res_f.lag_ps), np.array(res_f.msd_A2)
    w = (lag >= res_f.fit_window_ps[0]) & (lag <= res_f.fit_window_ps[1])
    coef = np.polyfit(lag[w], msd[w], 1)
    resid = msd[w] - np.polyval(coef, lag[w])
    assert np.sqrt(np.mean(resid**2)) < 0.03 * np.ptp(msd[w])  # linear growth in the window
    assert local_slope(lag, msd)[w][-1] > 0.8  # and heading to log-log slope 1


def test_nve_conserves_energy_with_lj(tmp_path):
    atoms = bulk("Ar", "fcc", a=5.26, cubic=True).repeat((2, 2, 2))
    calc = LennardJones(sigma=3.405, epsilon=0.0103, rc=8.0, smooth=True)
    energies = []
    ASEEngine().run(atoms, calc, MDSettings("nve", 60.0, 400, 2.0, seed=3,
                                            observers=[(lambda a, s: energies.append(a.get_total_energy()), 10)]))
    assert np.ptp(energies) / len(atoms) < 2e-4  # eV/atom
