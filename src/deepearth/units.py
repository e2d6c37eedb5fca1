"""Physical constants and unit conversions — the only place they live.

Internal units follow ASE: eV, Å, fs-based ASE time, K. Results are in SI.
Values are CODATA 2018 (k_B, N_A and e are exact in the 2019 SI). ASE's own ``ase.units`` are
CODATA 2014 (k_B 8.6173303e-5 eV/K): do not mix them in; only the ASE time unit is taken from ASE,
because ASE's integrators take their timesteps in it.
"""

from __future__ import annotations

from ase import units as _ase_units

#: Boltzmann constant, eV/K.
KB_EV_PER_K: float = 8.617333262e-5
#: Boltzmann constant, J/K.
KB_J_PER_K: float = 1.380649e-23
#: Gas constant, J/(mol K).
R_J_PER_MOL_K: float = 8.314462618
#: Avogadro constant, 1/mol.
AVOGADRO: float = 6.02214076e23
#: 1 eV per particle in kJ/mol: e·N_A/1000 = 96.485332… (e = k_B[J/K]/k_B[eV/K]), derived from the
#: constants above so that it cannot drift from them.
KJ_PER_MOL_PER_EV: float = KB_J_PER_K / KB_EV_PER_K * AVOGADRO / 1e3
#: 1 eV/Å³ in GPa.
EV_PER_A3_TO_GPA: float = 160.21766208
#: 1 GPa in eV/Å³.
GPA_TO_EV_PER_A3: float = 1.0 / EV_PER_A3_TO_GPA
#: 1 Å²/ps in m²/s.
A2_PER_PS_TO_M2_PER_S: float = 1e-8
#: 1 ps in ASE time units (ASE MD takes timesteps in these).
PS_TO_ASE_TIME: float = 1000.0 * _ase_units.fs
#: 1 fs in ASE time units.
FS_TO_ASE_TIME: float = _ase_units.fs
#: 1 meV in eV.
MEV: float = 1e-3

# ----------------------------------------------------------------------------------- constants
#: Elementary charge, C (exact).
E_CHARGE_C: float = 1.602176634e-19
#: Rydberg energy, eV (CODATA 2018).
RY_EV: float = 13.605693122994
#: Hartree energy, eV (CODATA 2018).
HARTREE_EV: float = 27.211386245988
#: Bohr radius, Å (CODATA 2018).
BOHR_A: float = 0.529177210903
#: Coulomb constant e²/(4πε₀) in eV·Å (= Hartree × Bohr radius = 14.3996…; LAMMPS metal ``qqr2e`` 14.399645).
COULOMB_EV_A: float = HARTREE_EV * BOHR_A
#: Newtonian constant of gravitation, m³/(kg s²) (CODATA 2018).
GRAVITATIONAL_CONSTANT: float = 6.67430e-11
#: Vacuum magnetic permeability μ0, N/A² (CODATA 2018).
MU0: float = 1.25663706212e-6
#: Sommerfeld value of the Lorenz number L0 = π² k_B² / (3 e²) = 2.443e-8 W Ω/K², as rounded (2.44e-8) in the
#: eq. 13 of Dragulet & Stixrude (2025), whose fitted coefficients go with that value (deepearth.geophysics.magma_ocean).
LORENZ_L0: float = 2.44e-8

# --------------------------------------------------------------------------------------- time
#: Julian year, s.
YEAR_S: float = 365.25 * 86400.0
#: 1 Gyr (10⁹ Julian years), s.
GYR_S: float = 1e9 * YEAR_S

# ------------------------------------------------------------------------- volumes, transport
#: Å³ per formula unit for a molar volume of 1 cm³/mol (1e24 Å³/cm³ / N_A).
A3_PER_CM3_MOL: float = 1e24 / AVOGADRO
#: Green–Kubo in LAMMPS metal units: thermal conductivity eV/(ps·Å·K) → W/(m·K).
KAPPA_METAL_TO_W_PER_M_K: float = E_CHARGE_C / (1e-12 * 1e-10)
#: Green–Kubo in LAMMPS metal units: viscosity bar²·ps·Å³/eV → Pa·s.
ETA_METAL_TO_PA_S: float = (1e5) ** 2 * 1e-12 * 1e-30 / E_CHARGE_C
#: Green–Kubo in LAMMPS metal units: ionic conductivity e²/(Å·ps·eV) → S/m.
SIGMA_METAL_TO_S_PER_M: float = E_CHARGE_C / (1e-10 * 1e-12)


def stress_to_pressure_gpa(stress_voigt) -> float:
    """Pressure (GPa, positive when compressed) from an ASE stress (eV/Å³, positive = tensile).

    ``P = -(σ_xx + σ_yy + σ_zz)/3``; accepts the 6-component Voigt or a 3×3 tensor.
    """
    import numpy as np

    s = np.asarray(stress_voigt, dtype=float)
    trace = np.trace(s) if s.shape == (3, 3) else s[:3].sum()
    return float(-trace / 3.0 * EV_PER_A3_TO_GPA)

#: Mass density: atomic mass units per Å³ → g/cm³ (1 u = 1 g/mol / N_A; 1 Å³ = 1e-24 cm³).
AMU_PER_A3_TO_G_PER_CM3: float = 1e24 / AVOGADRO
#: Interface energy: eV/Å² → J/m² (1 eV = e J; 1 Å² = 1e-20 m²).
EV_PER_A2_TO_J_PER_M2: float = E_CHARGE_C * 1e20
