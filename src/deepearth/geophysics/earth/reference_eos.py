"""Reference mineral EOS: our BM3 fit of a burnman-cpp SLB2011 mineral's isotherm next to the dataset's own
parameters (Stixrude & Lithgow-Bertelloni 2011, GJI 184, 1180)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from deepearth.units import A3_PER_CM3_MOL

@dataclass
class ReferenceEOSFit:
    """A BM3 fit (:func:`deepearth.properties.eos.fit_birch_murnaghan3`) of a burnman-cpp mineral's P(V)
    along an isotherm, next to the dataset's own parameters. Volumes per mole of formula units."""

    mineral: str
    dataset: str
    T_K: float
    P_min_GPa: float
    P_max_GPa: float
    n_points: int
    V0_cm3_mol: float
    K0_GPa: float
    K0_prime: float
    V0_stderr_cm3_mol: float
    K0_stderr_GPa: float
    K0_prime_stderr: float
    dataset_V0_cm3_mol: float
    dataset_K0_GPa: float
    dataset_K0_prime: float
    rms_residual_GPa: float

    def to_dict(self) -> dict:
        return asdict(self)


def slb2011_bm3_fit(mineral: str = "periclase", T_K: float = 300.0, P_GPa=None) -> ReferenceEOSFit:
    """Fit our BM3 to P(V) of ``burnman_cpp.minerals.SLB11.<mineral>`` (Stixrude & Lithgow-Bertelloni
    2011, GJI 184, 1180) at ``T_K`` over ``P_GPa`` (default 0–120 GPa, 25 points).

    At the dataset's reference temperature (300 K) SLB's thermal pressure vanishes, so the fit must
    return the tabulated V0, K0, K0' — for periclase 11.244 cm³/mol, 161.4 GPa, 3.84 (Stixrude & Lithgow-Bertelloni 2011).
    """
    from burnman_cpp.minerals import SLB11

    from deepearth.properties.eos import fit_birch_murnaghan3

    factory = getattr(SLB11, mineral, None)
    if factory is None or not callable(factory):
        raise ValueError(f"burnman_cpp.minerals.SLB11 has no mineral {mineral!r}")
    if not (math.isfinite(T_K) and T_K > 0):
        raise ValueError(f"T_K must be positive, got {T_K!r}")
    p = np.linspace(0.0, 120.0, 25) if P_GPa is None else np.asarray(P_GPa, dtype=float)
    if p.ndim != 1 or p.size < 4 or np.any(~np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"P_GPa must be >= 4 finite non-negative pressures, got {P_GPa!r}")
    m = factory()
    v = np.empty(p.size)
    for i, pi in enumerate(p):
        m.set_state(float(pi) * 1e9, float(T_K))
        v[i] = float(m.molar_volume) * 1e6 * A3_PER_CM3_MOL  # m³/mol -> cm³/mol -> Å³ per formula unit
    fit = fit_birch_murnaghan3(v, p, guess=(float(v.max()) * 1.02, 200.0, 4.0))
    rms = float(np.sqrt(np.mean((fit.pressure(v) - p) ** 2)))
    par = m.params
    return ReferenceEOSFit(
        str(m.name), "SLB 2011 (burnman_cpp.minerals.SLB11)", float(T_K), float(p.min()), float(p.max()),
        int(p.size), fit.V0_A3 / A3_PER_CM3_MOL, fit.K0_GPa, fit.K0_prime,
        fit.V0_stderr_A3 / A3_PER_CM3_MOL, fit.K0_stderr_GPa, fit.K0_prime_stderr,
        float(par.V_0) * 1e6, float(par.K_0) / 1e9, float(par.Kprime_0), rms)


__all__ = ["ReferenceEOSFit", "slb2011_bm3_fit"]
