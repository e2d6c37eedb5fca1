"""Stress–strain MD through the LAMMPS engine (issue 15): the virial and kinetic stress it hands back,
the aniso NPT cell and the strained NVT runs give, at 10 K, the 0 K static constants of the same POD
model (Cu3Al, L1₂: cubic) within the errors plus the classical thermal softening at 10 K."""

import pytest

from deepearth.md.lammps_engine import LammpsEngine
from deepearth.pipeline.elastic_md import ElasticMDSettings, elastic_constants_md
from deepearth.pipeline.elastic_static import static_elastic_constants
from deepearth.potentials.pod import PODCalculator

from cu3al import cu3al_cell


def test_lammps_md_at_10K_matches_the_static_constants(pod_committee):
    calc = PODCalculator(pod_committee[0])
    static = static_elastic_constants(cu3al_cell(), calc, symmetry="cubic")
    start = cu3al_cell()
    start.set_cell(static.cell_A, scale_atoms=True)
    settings = ElasticMDSettings(strain=0.01, timestep_fs=2.0, npt_equilibration_steps=200, npt_steps=400,
                                 nvt_equilibration_steps=100, nvt_steps=400, sample_interval=5, barostat="aniso",
                                 tdamp_fs=50.0, pdamp_fs=300.0, symmetry="cubic", components=(0, 3))
    md = elastic_constants_md(start, calc, 0.0, 10.0, LammpsEngine(), settings)
    assert md.fit["engine"] == "lammps" and abs(md.pressure_GPa) < 0.1
    for name in ("C11", "C12", "C44"):
        value, err = md.independent[name]
        ref = static.independent[name][0]
        assert 0 < err < 0.02 * ref
        assert abs(value - ref) < 4 * err + 0.01 * ref, (name, value, err, ref)
