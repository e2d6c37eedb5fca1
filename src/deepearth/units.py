"""Physical constants and unit conversions — the only place they live.

Internal units follow ASE: eV, Å, fs-based ASE time, K. Results are in SI.
Values are CODATA 2018 (as in ``scipy.constants``).
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


def stress_to_pressure_gpa(stress_voigt) -> float:
    """Pressure (GPa, positive when compressed) from an ASE stress (eV/Å³, positive = tensile).

    ``P = -(σ_xx + σ_yy + σ_zz)/3``; accepts the 6-component Voigt or a 3×3 tensor.
    """
    import numpy as np

    s = np.asarray(stress_voigt, dtype=float)
    trace = np.trace(s) if s.shape == (3, 3) else s[:3].sum()
    return float(-trace / 3.0 * EV_PER_A3_TO_GPA)
