"""Elastic constants and seismic velocities: a stiffness from stress–strain, its checks, its averages.

Public API (issue 15)::

    from deepearth.properties import elastic
    elastic.moduli(C_voigt_GPa, density_kg_m3)  # K/G Voigt, Reuss, VRH (GPa), Vp Vs Vb (km/s), A_universal

* :mod:`.moduli` — Voigt/Reuss/Hill averages, velocities, universal anisotropy; isothermal → adiabatic;
* :mod:`.stress_strain` — ``C_IJ = Δσ_I/Δe_J`` by least squares (ASE sign: stress positive in tension);
* :mod:`.diagnostics` — C_IJ = C_JI, a crystal system's form, Born stability under pressure;
* :mod:`.result` — :class:`ElasticResult` (Cij ± errors, checks, moduli ± Monte Carlo errors);
* :mod:`.blocks` — block-averaged means of MD stresses; :mod:`.tensor` — Voigt notation, crystal systems.

Estimators only: they take arrays (stresses, strains, tensors); the MD that makes them is
:mod:`deepearth.pipeline.elastic_md`.
"""

from deepearth.properties.elastic.blocks import BlockAverage, block_average
from deepearth.properties.elastic.diagnostics import (asymmetry, born_stability, stress_strain_coefficients,
                                                      system_deviations)
from deepearth.properties.elastic.moduli import MODULI_KEYS, MODULI_UNITS, isothermal_to_adiabatic, moduli
from deepearth.properties.elastic.result import ElasticResult, elastic_result, from_stress_strain
from deepearth.properties.elastic.stress_strain import (StiffnessFit, stiffness_from_stress_strain, strain_set,
                                                        strain_tensor, strained_cell)
from deepearth.properties.elastic.tensor import SYSTEMS, as_voigt, from_independent, full_to_voigt, voigt_to_full

__all__ = ["BlockAverage", "ElasticResult", "MODULI_KEYS", "MODULI_UNITS", "SYSTEMS", "StiffnessFit", "as_voigt",
           "asymmetry", "block_average", "born_stability", "elastic_result", "from_independent",
           "from_stress_strain", "full_to_voigt", "isothermal_to_adiabatic", "moduli", "stiffness_from_stress_strain",
           "strain_set", "strain_tensor", "strained_cell", "stress_strain_coefficients", "system_deviations",
           "voigt_to_full"]
