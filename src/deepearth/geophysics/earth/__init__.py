"""Earth conditions: PREM with depth, mantle/core geotherms, named boundaries and deviations from PREM
(the conditions of Wan & Li 2026, Fig. 1).

Everything seismic comes from **PREM** (Dziewonski & Anderson 1981, *PEPI* 25, 297–356) as tabulated by
BurnMan (``input_seismic/prem.txt``: the polynomial model sampled at ≈ 50–100 km and at both sides of
every discontinuity, linearly interpolated; PREM's published pressure tabulated; gravity integrated here
from the density on a 0.1 km grid, see :func:`.prem._gravity_table`) through ``burnman_cpp`` 0.8 — BurnMan's
C++ port with the Python class names (``classes.seismic.PREM``, ``classes.geotherm.*``, ``minerals.SLB11``).
BurnMan 2.1 itself pins numpy < 2. burnman-cpp is GPL-3.0-or-later; deepearth only imports it (nothing
is vendored). BurnMan's table puts upper-crust
density (2600 kg/m³) in PREM's 3-km ocean layer but keeps PREM's pressure (0.03 GPa at 3 km, from water),
so pressure and ∫ρg dz differ by ≈ 0.05 GPa below 3 km (< 0.1 % below 100 km).

Units: depth and radius in km, pressure in GPa, density in kg/m³, velocities in km/s, gravity in m/s²,
temperature in K (burnman-cpp works in m, Pa, m/s internally).

PREM's transition-zone base (the "660") is its 670-km discontinuity (radius 5701 km, 23.83 GPa); its
core–mantle boundary is at 2891 km (radius 3480 km, 135.75 GPa), the inner-core boundary at 5149.5 km
(radius 1221.5 km, 328.85 GPa) and the centre at 363.85 GPa. At a discontinuity PREM has two sets of
values; :func:`conditions` returns both (``*_above`` = shallower side, ``*_below`` = deeper side).

Geotherms (:data:`GEOTHERMS`): the tabulated profiles burnman-cpp ships, each with its source and range.
Only ``anzellini2013`` reaches the core temperatures Wan & Li (2026, Fig. 1) quote (≈ 4100 K at the CMB, > 5400 K at
the ICB), so it is the default; it is tabulated in pressure up to 330.1 GPa and is continued to the
centre along a constant-γ adiabat (see :func:`geotherm_K`).

The modules of this package, each one job (their shared helpers are public names inside the package):
:mod:`.prem` (PREM itself, pressure ↔ depth, boundaries), :mod:`.geotherms` (:data:`GEOTHERMS`,
:func:`geotherm_K`), :mod:`.profiles` (:func:`prem_profile`, :func:`conditions`, :func:`prem_deviation`),
:mod:`.summary` (what ``deepearth geo prem`` reports) and :mod:`.reference_eos` (the SLB2011 BM3 check).
"""

from deepearth.geophysics.earth.geotherms import GEOTHERMS, INNER_CORE_GRUENEISEN, GeothermModel, geotherm_K
from deepearth.geophysics.earth.prem import (CMB_DEPTH_KM, DISCONTINUITY_SNAP_GPA, EARTH_RADIUS_KM, ICB_DEPTH_KM,
                                              PREM_MAX_PRESSURE_GPA, TRANSITION_ZONE_BASE_DEPTH_KM, prem_depth_km,
                                              prem_pressure_GPa)
from deepearth.geophysics.earth.profiles import (CONDITION_DEPTH_KM, SCIENCE_MD_CONDITIONS, EarthCondition,
                                                 EarthProfile, PremDeviation, conditions, geotherm_profiles,
                                                 prem_deviation, prem_profile)
from deepearth.geophysics.earth.reference_eos import ReferenceEOSFit, slb2011_bm3_fit
from deepearth.geophysics.earth.summary import PremSummary, prem_summary

__all__ = ["EARTH_RADIUS_KM", "TRANSITION_ZONE_BASE_DEPTH_KM", "CMB_DEPTH_KM", "ICB_DEPTH_KM", "PREM_MAX_PRESSURE_GPA",
           "DISCONTINUITY_SNAP_GPA", "SCIENCE_MD_CONDITIONS", "CONDITION_DEPTH_KM", "INNER_CORE_GRUENEISEN",
           "GeothermModel", "GEOTHERMS", "geotherm_K", "prem_pressure_GPa", "prem_depth_km", "EarthProfile",
           "prem_profile", "geotherm_profiles", "EarthCondition", "conditions", "PremDeviation", "prem_deviation",
           "ReferenceEOSFit", "slb2011_bm3_fit", "PremSummary", "prem_summary"]
