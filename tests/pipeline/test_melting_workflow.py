"""The coexistence melting workflow (deepearth.pipeline.melting) against a published melting point.

Mishin et al.'s Cu EAM (Phys. Rev. B 63, 224106 (2001)) melts at T_m = 1327 K at zero pressure
(their solid–liquid coexistence). A 288-atom (001) coexistence cell, 4 ps of NPT along z at each T,
must crystallise at 1200 K and melt at 1450 K: a bracket around 1327 K, and T_m within its error
budget of it. (benchmarks/melting_lj.py runs bigger cells, more temperatures and replicas.)
"""

import pytest
from ase.build import bulk
from datafiles import data_path

from deepearth.pipeline.melting import CoexistenceSettings, coexistence_melting
from deepearth.potentials.classical import eam_alloy

T_M_MISHIN = 1327.0  # K, Mishin et al. 2001


def _settings(**kw):
    base = dict(n_layers=8, timestep_fs=2.0, lattice_steps=1000, melt_steps=500, quench_steps=300,
                equilibrate_steps=300, check_steps=1000, crystal_steps=100, join_steps=100, run_steps=2000,
                sample_every=50)
    return CoexistenceSettings(**{**base, **kw})


def test_mishin_copper_melts_between_1200_and_1450_K(tmp_path):
    calc = eam_alloy(data_path("melting", "Cu_mishin1.eam.alloy"), ["Cu"])
    unit = bulk("Cu", "fcc", a=3.70, cubic=True).repeat((3, 3, 1))
    run = coexistence_melting(unit, calc, 0.0, [1200.0, 1450.0], settings=_settings(), engine="lammps",
                              out_dir=tmp_path)
    b = run.bracket
    assert b.bracketed and b.consistent, b.message
    assert (b.T_crystallises_K, b.T_melts_K) == (1200.0, 1450.0)
    assert abs(b.T_m_K - T_M_MISHIN) < 2 * b.T_m_stderr_K
    cold, hot = sorted(run.series, key=lambda s: s.T_K)
    assert cold.interface_velocity_A_per_ps > 0 > hot.interface_velocity_A_per_ps
    assert hot.final_state == "liquid"
    # the q̄6 threshold agrees with the lattice-match labels of the built cell on most atoms
    assert all(s.misclassified_fraction < 0.15 for s in run.series)
    assert "one model only" in b.error_budget["committee_note"] and b.error_budget["size_K"] is None
    assert len(run.files) == 2 and run.protocol["barostat"] == ["lammps: z"]
    assert run.to_dict()["bracket"]["T_m_K"] == b.T_m_K


@pytest.mark.parametrize("kwargs, message", [
    (dict(temperatures_K=[]), "temperatures_K must be positive"),
    (dict(settings=_settings(n_layers=7)), "n_layers must be an even number"),
    (dict(settings=_settings(run_steps=200, sample_every=50)), "at least 10 needed for an error bar"),
    (dict(replicas=0), "replicas must be an integer >= 1"),
])
def test_bad_input_is_refused_before_any_md(kwargs, message):
    calc = eam_alloy(data_path("melting", "Cu_mishin1.eam.alloy"), ["Cu"])
    args = dict(temperatures_K=[1300.0])
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        coexistence_melting(bulk("Cu", "fcc", a=3.7, cubic=True), calc, 0.0, **args)
