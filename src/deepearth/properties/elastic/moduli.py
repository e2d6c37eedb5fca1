"""Isotropic averages of a single-crystal stiffness and the seismic velocities they give.

Voigt (uniform strain) and Reuss (uniform stress) bounds and their Hill average (Hill 1952,
Proc. Phys. Soc. A 65, 349), for a 6×6 Voigt stiffness ``C`` (GPa) and compliance ``S = C⁻¹``:

* ``K_V = [(C11 + C22 + C33) + 2 (C12 + C13 + C23)] / 9``
* ``G_V = [(C11 + C22 + C33) − (C12 + C13 + C23) + 3 (C44 + C55 + C66)] / 15``
* ``1/K_R = (S11 + S22 + S33) + 2 (S12 + S13 + S23)``
* ``15/G_R = 4 (S11 + S22 + S33) − 4 (S12 + S13 + S23) + 3 (S44 + S55 + S66)``
* ``K_VRH = (K_V + K_R)/2``, ``G_VRH = (G_V + G_R)/2``;

the universal anisotropy index ``A^U = 5 G_V/G_R + K_V/K_R − 6`` (Ranganathan & Ostoja-Starzewski
2008, PRL 101, 055504; 0 for an isotropic solid); and the velocities ``V_P = sqrt((K + 4G/3)/ρ)``,
``V_S = sqrt(G/ρ)``, ``V_B = sqrt(K/ρ)`` (km/s for GPa and kg/m³). ``Vp Vs Vb`` use the Hill
average; ``_voigt`` and ``_reuss`` variants use the bounds (the Voigt ones are what Zhang et al.
2016's bridgmanite table lists).

Under pressure ``C`` must be the stress–strain coefficients (what stress–strain MD measures; Wallace
1972, *Thermodynamics of Crystals*): they, not the second derivatives of the free energy, enter the
wave equation. Which thermodynamic kind (isothermal from NVT MD, adiabatic for seismology) is the
caller's to state; :func:`isothermal_to_adiabatic` converts for an isotropic thermal stress.
"""

from __future__ import annotations

import numpy as np

from deepearth.properties.checks import require_positive
from deepearth.properties.elastic.tensor import as_voigt, label

__all__ = ["MODULI_KEYS", "MODULI_UNITS", "isothermal_to_adiabatic", "moduli", "moduli_samples", "positive_definite"]

#: Keys of :func:`moduli`'s dict, in order.
MODULI_KEYS: tuple[str, ...] = ("K_voigt", "G_voigt", "K_reuss", "G_reuss", "K_vrh", "G_vrh", "Vp", "Vs", "Vb",
                                "A_universal", "Vp_voigt", "Vs_voigt", "Vb_voigt", "Vp_reuss", "Vs_reuss",
                                "Vb_reuss")
#: Unit of each key of :func:`moduli`'s dict.
MODULI_UNITS: dict[str, str] = {k: ("GPa" if k[0] in "KG" else "km/s" if k[0] == "V" else "1") for k in MODULI_KEYS}

#: Relative asymmetry |C_ij − C_ji| / max|C| accepted as rounding by :func:`moduli`.
_SYMMETRY_RTOL = 1e-6


def positive_definite(c: np.ndarray, name: str = "C_voigt_GPa", why: str = "") -> np.ndarray:
    """The eigenvalues (GPa, ascending) of the symmetric 6×6 ``c``; ``ValueError`` naming the smallest
    if any is ≤ 0 (a mechanically unstable crystal: Born 1940; Wallace 1972 under pressure)."""
    eig = np.linalg.eigvalsh(c)
    if eig[0] <= 0:
        vec = np.linalg.eigh(c)[1][:, 0]
        mode = ", ".join(f"{v:+.2f} e{i + 1}" for i, v in enumerate(vec) if abs(v) > 0.05)
        raise ValueError(f"{name}: not positive definite (smallest eigenvalue {eig[0]:.4g} GPa, strain mode "
                         f"{mode}): the crystal is mechanically unstable (Born){'; ' + why if why else ''}")
    return eig


def moduli(C_voigt_GPa, density_kg_m3: float) -> dict[str, float]:
    """Voigt, Reuss and Hill bulk and shear moduli (GPa), the seismic velocities V_P, V_S, V_B (km/s,
    from the Hill moduli; ``_voigt``/``_reuss`` variants from the bounds) and the universal anisotropy
    index of a stiffness (equations in the module docstring: Hill 1952; Ranganathan & Ostoja-Starzewski
    2008).

    ``C_voigt_GPa``: a symmetric, positive-definite 6×6 Voigt matrix or a 3×3×3×3 tensor (GPa);
    ``density_kg_m3``: > 0. Bad input (shape, NaN, asymmetry, not positive definite, density ≤ 0) is
    one ``ValueError`` line. Keys: :data:`MODULI_KEYS`, units :data:`MODULI_UNITS`.
    """
    c = as_voigt(C_voigt_GPa)
    rho = require_positive("density_kg_m3", density_kg_m3, "kg/m³")
    scale = float(np.max(np.abs(c)))
    if scale == 0:
        raise ValueError("C_voigt_GPa: all entries are zero")
    asym = np.abs(c - c.T)
    if asym.max() > _SYMMETRY_RTOL * scale:
        i, j = np.unravel_index(int(np.argmax(asym)), asym.shape)
        raise ValueError(f"C_voigt_GPa: not symmetric ({label(i, j)} = {c[i, j]:g} but {label(j, i)} = {c[j, i]:g} "
                         "GPa); symmetrise it, (C + Cᵀ)/2, or use elastic_result (which checks it against the errors)")
    positive_definite(c)
    return {k: float(v[0]) for k, v in moduli_samples(c[None], rho).items()}


def moduli_samples(C_GPa: np.ndarray, density_kg_m3: float) -> dict[str, np.ndarray]:
    """:func:`moduli` of a stack ``(n, 6, 6)`` of symmetric positive-definite stiffnesses (GPa), unchecked
    (for Monte Carlo error propagation): ``{key: (n,) array}``."""
    c = np.asarray(C_GPa, dtype=float)
    s = np.linalg.inv(c)
    tr_c, off_c, sh_c = (np.einsum("nii->n", c[:, :3, :3]), c[:, 0, 1] + c[:, 0, 2] + c[:, 1, 2],
                         np.einsum("nii->n", c[:, 3:, 3:]))
    tr_s, off_s, sh_s = (np.einsum("nii->n", s[:, :3, :3]), s[:, 0, 1] + s[:, 0, 2] + s[:, 1, 2],
                         np.einsum("nii->n", s[:, 3:, 3:]))
    k_v = (tr_c + 2.0 * off_c) / 9.0
    g_v = (tr_c - off_c + 3.0 * sh_c) / 15.0
    k_r = 1.0 / (tr_s + 2.0 * off_s)
    g_r = 15.0 / (4.0 * tr_s - 4.0 * off_s + 3.0 * sh_s)
    k_h, g_h = 0.5 * (k_v + k_r), 0.5 * (g_v + g_r)
    out = {"K_voigt": k_v, "G_voigt": g_v, "K_reuss": k_r, "G_reuss": g_r, "K_vrh": k_h, "G_vrh": g_h}

    def vel(modulus):  # GPa, kg/m³ → km/s
        return np.sqrt(modulus * 1e9 / density_kg_m3) / 1e3

    for suffix, k, g in (("", k_h, g_h), ("_voigt", k_v, g_v), ("_reuss", k_r, g_r)):
        out["Vp" + suffix] = vel(k + 4.0 * g / 3.0)
        out["Vs" + suffix] = vel(g)
        out["Vb" + suffix] = vel(k)
    out["A_universal"] = 5.0 * g_v / g_r + k_v / k_r - 6.0
    return {k: out[k] for k in MODULI_KEYS}


def isothermal_to_adiabatic(C_T_GPa, alpha_per_K: float, gamma: float, temperature_K: float) -> np.ndarray:
    """Adiabatic stiffness from the isothermal one for an isotropic thermal stress (cubic crystals,
    or an approximation for others): ``C^S_IJ = C^T_IJ + α γ T K_T`` for I, J ≤ 3, shear unchanged.

    From ``C^S_ijkl = C^T_ijkl + T λ_ij λ_kl / (ρ c_V)`` with the thermal stress ``λ_ij = −α K_T δ_ij``
    and ``γ = α K_T / (ρ c_V)`` (Wallace 1972, *Thermodynamics of Crystals*, §2.5; Davies 1974).
    ``K_T``: the Reuss bulk modulus of ``C_T`` (exact for an isotropic thermal stress). Units: GPa, 1/K.
    NVT stress–strain MD gives isothermal constants; seismic velocities need adiabatic ones.
    """
    c = as_voigt(C_T_GPa, "C_T_GPa")
    a = require_positive("alpha_per_K", alpha_per_K, "1/K")
    g = require_positive("gamma", gamma)
    t = require_positive("temperature_K", temperature_K, "K")
    k_t = 1.0 / np.sum(np.linalg.inv(c)[:3, :3])
    out = c.copy()
    out[:3, :3] += a * g * t * k_t
    return out
