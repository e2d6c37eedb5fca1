"""Quantities derived from fitted diffusivities, with propagated errors (Peng et al. 2025, eq. 5).

* :func:`effective_diffusivity`: bulk diffusivity of lattice + grain-boundary transport (eq. 5), m²/s.
* :func:`isotope_exponent`: the mass exponent β of ``D_1/D_2 = (m_2/m_1)^β`` from pseudo-isotope runs.

Both return a :class:`~deepearth.properties.arrhenius.values.ValueWithStderr`. Only numpy is needed.
"""

from __future__ import annotations

import math

import numpy as np

from deepearth.properties.arrhenius.values import ValueWithStderr, float_or_array


def effective_diffusivity(D_lattice_m2_per_s, D_gb_m2_per_s, grain_size_m, gb_width_m=1e-9, *,
                          D_lattice_stderr_m2_per_s=0.0, D_gb_stderr_m2_per_s=0.0) -> ValueWithStderr:
    """Effective bulk diffusivity of lattice + grain-boundary transport, m²/s (Peng et al. 2025, eq. 5).

    ``D_eff = D_lattice + (3 δ / d) D_GB`` with GB width δ = ``gb_width_m`` (≈ 1 nm) and grain size
    d = ``grain_size_m`` (0.1–10 mm in the lower mantle). The standard error combines the two D errors
    in quadrature (independent; δ and d taken as exact). Arrays broadcast (e.g. over grain sizes).
    """
    DL, DG = np.asarray(D_lattice_m2_per_s, dtype=float), np.asarray(D_gb_m2_per_s, dtype=float)
    d, delta = np.asarray(grain_size_m, dtype=float), np.asarray(gb_width_m, dtype=float)
    sL, sG = np.asarray(D_lattice_stderr_m2_per_s, dtype=float), np.asarray(D_gb_stderr_m2_per_s, dtype=float)
    for name, arr in (("D_lattice_m2_per_s", DL), ("D_gb_m2_per_s", DG), ("D_lattice_stderr_m2_per_s", sL),
                      ("D_gb_stderr_m2_per_s", sG)):
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError(f"effective_diffusivity: {name} must be finite and >= 0, got {arr.tolist()!r}")
    for name, arr in (("grain_size_m", d), ("gb_width_m", delta)):
        if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
            raise ValueError(f"effective_diffusivity: {name} must be > 0 (metres), got {arr.tolist()!r}")
    if np.any(delta >= d):
        raise ValueError(f"effective_diffusivity: the GB width ({delta.tolist()} m) must be much smaller than the "
                         f"grain size ({d.tolist()} m); both in metres")
    f = 3.0 * delta / d
    value = DL + f * DG
    err = np.sqrt(sL**2 + (f * sG) ** 2)
    scalar = value.ndim == 0
    return ValueWithStderr(float_or_array(value, scalar), float_or_array(err, scalar), "m^2/s",
                           "D_eff = D_lattice + 3 delta/d D_GB (Peng, Yoshino & Deng 2025, Nat. Commun., eq. 5); errors in quadrature")


def isotope_exponent(D_light_m2_per_s: float, D_light_stderr_m2_per_s: float, D_heavy_m2_per_s: float,
                     D_heavy_stderr_m2_per_s: float, m_light_amu: float, m_heavy_amu: float,
                     correlation: float = 0.0) -> ValueWithStderr:
    """Isotope mass exponent β of ``D_light/D_heavy = (m_heavy/m_light)^β`` (dimensionless).

    ``β = ln(D_l/D_h) / ln(m_h/m_l)`` from pseudo-isotope runs (only the mass changed);
    ``σ_β = sqrt(a² + b² − 2ρab) / ln(m_h/m_l)`` with ``a = σ_l/D_l``, ``b = σ_h/D_h`` and ``ρ`` the
    ``correlation`` of the two D errors (0 for independent runs; > 0 when both isotopes share one cell).
    Diffusivities in m²/s, masses in amu (only their ratios matter).
    β = 0.5 is the ideal-gas (Graham) limit; Li and He in silicate melts give 0.13–0.36 (Wan & Li 2026, §3.3).
    """
    checks = (("D_light_m2_per_s", D_light_m2_per_s, False), ("D_heavy_m2_per_s", D_heavy_m2_per_s, False),
              ("m_light_amu", m_light_amu, False), ("m_heavy_amu", m_heavy_amu, False),
              ("D_light_stderr_m2_per_s", D_light_stderr_m2_per_s, True),
              ("D_heavy_stderr_m2_per_s", D_heavy_stderr_m2_per_s, True))
    for name, v, zero_ok in checks:
        if not (isinstance(v, (int, float, np.number)) and math.isfinite(float(v))
                and (float(v) >= 0 if zero_ok else float(v) > 0)):
            raise ValueError(f"isotope_exponent: {name} must be a finite number {'>=' if zero_ok else '>'} 0, "
                             f"got {v!r}")
    if not -1.0 <= float(correlation) <= 1.0:
        raise ValueError(f"isotope_exponent: correlation must be in [-1, 1], got {correlation!r}")
    if not float(m_heavy_amu) > float(m_light_amu):
        raise ValueError(f"isotope_exponent: m_heavy_amu ({m_heavy_amu}) must exceed m_light_amu ({m_light_amu})")
    log_m = math.log(float(m_heavy_amu) / float(m_light_amu))
    a = float(D_light_stderr_m2_per_s) / float(D_light_m2_per_s)
    b = float(D_heavy_stderr_m2_per_s) / float(D_heavy_m2_per_s)
    beta = math.log(float(D_light_m2_per_s) / float(D_heavy_m2_per_s)) / log_m
    err = math.sqrt(max(a * a + b * b - 2.0 * float(correlation) * a * b, 0.0)) / log_m
    method = f"beta = ln(D_l/D_h)/ln(m_h/m_l), first-order error propagation (rho = {float(correlation):g})"
    return ValueWithStderr(beta, err, "dimensionless", method)


__all__ = ["effective_diffusivity", "isotope_exponent"]
