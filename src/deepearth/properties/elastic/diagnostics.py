"""Checks of a measured stiffness: symmetry C_IJ = C_JI, a crystal system's form, Born stability.

* :func:`asymmetry` — pairs ``|C_IJ − C_JI|`` beyond ``n_sigma`` combined standard errors (a full
  stress–strain fit measures both; Maxwell symmetry holds for a hyperelastic solid under hydrostatic
  load, so a significant difference is noise underestimated, a non-hydrostatic reference or a bug).
* :func:`system_deviations` — the entries that break a crystal system's zero/equal/linear relations
  (:data:`~.tensor.SYSTEMS`, standard orientation): ``C`` is projected on the system's form by
  weighted least squares and every entry farther than ``n_sigma`` from its projection is listed.
* :func:`born_stability` — the Born criterion under hydrostatic pressure in Wallace's form: the
  symmetric 6×6 matrix of stress–strain coefficients ``B`` positive definite (Wallace 1972; Wang,
  Yip, Phillpot & Li 1993, PRL 71, 4182; Karki et al. 2001, Rev. Geophys. 39, 507). ``B`` is what
  stress–strain on the pre-stressed cell measures. Given instead the free-energy second derivatives
  ``C`` (Lagrangian strain), ``B_ijkl = C_ijkl − P (δ_ik δ_jl + δ_il δ_jk − δ_ij δ_kl)``:
  ``B11 = C11 − P``, ``B12 = C12 + P``, ``B44 = C44 − P`` …; for a cubic crystal the criterion reads
  ``C11 + 2C12 + P > 0``, ``C11 − C12 − 2P > 0``, ``C44 − P > 0`` (Sinko & Smirnov 2002).

Tolerances: an entry's error is its standard error combined with a floor ``rtol × max|C|`` (1e-3 by
default: the rounding of a static calculation, where the standard errors are 0).
"""

from __future__ import annotations

import numpy as np

from deepearth.properties.elastic.tensor import as_voigt, basis, independent_names, label

__all__ = ["PRESSURE_CORRECTION", "asymmetry", "born_stability", "stress_strain_coefficients", "symmetrised_errors",
           "system_deviations"]

#: ``D`` with ``B = C − P·D`` (Voigt) for hydrostatic pressure P (module docstring).
PRESSURE_CORRECTION: np.ndarray = np.diag([1.0, 1.0, 1.0, 1.0, 1.0, 1.0]) - np.pad(
    np.ones((3, 3)) - np.eye(3), ((0, 3), (0, 3)))


def _errors(c: np.ndarray, stderr, rtol: float) -> np.ndarray:
    err = np.zeros((6, 6)) if stderr is None else np.abs(as_voigt(stderr, "C_stderr_GPa"))
    return np.sqrt(err**2 + (rtol * float(np.max(np.abs(c)))) ** 2)


def symmetrised_errors(c: np.ndarray, err: np.ndarray) -> np.ndarray:
    """Standard errors of ``(C + Cᵀ)/2``: a measured pair ``C_IJ ≠ C_JI`` (two stress components, a full
    stress–strain fit) is two independent estimates, ``½ sqrt(s_IJ² + s_JI²)``; an exactly symmetric
    ``C`` (a table) holds one value per pair, whose error is kept (the mean of the two given)."""
    if np.array_equal(c, c.T):
        return 0.5 * (err + err.T)
    out = 0.5 * np.hypot(err, err.T)
    np.fill_diagonal(out, np.diag(err))
    return out


def asymmetry(C_GPa, stderr_GPa=None, n_sigma: float = 3.0, rtol: float = 1e-3) -> list[str]:
    """Pairs with ``|C_IJ − C_JI| > n_sigma`` × their combined error, as lines
    ``"C12 = 101.2 ± 0.9 vs C21 = 95.0 ± 1.1 GPa (4.4σ)"`` (GPa; Maxwell symmetry, Wallace 1972)."""
    c = as_voigt(C_GPa, "C_GPa")
    err = _errors(c, stderr_GPa, rtol)
    out = []
    for i in range(6):
        for j in range(i + 1, 6):
            sig = float(np.hypot(err[i, j], err[j, i]))
            z = abs(c[i, j] - c[j, i]) / sig
            if z > n_sigma:
                out.append(f"{label(i, j)} = {c[i, j]:.4g} ± {err[i, j]:.2g} vs {label(j, i)} = {c[j, i]:.4g} ± "
                           f"{err[j, i]:.2g} GPa ({z:.1f}σ)")
    return out


def system_deviations(C_GPa, system: str, stderr_GPa=None, n_sigma: float = 3.0,
                      rtol: float = 1e-3) -> tuple[dict[str, list[float]], list[str]]:
    """The independent constants of ``system`` fitted to ``C`` (``{name: [value, stderr]}``, GPa, weighted
    least squares over the 21 upper-triangle entries) and the entries that deviate from that form by
    more than ``n_sigma`` errors, as lines ``"C14 = 3.1 ± 0.5 GPa, cubic form 0 (6.2σ)"``. ``C`` must
    be in the standard orientation of :mod:`.tensor`."""
    c = as_voigt(C_GPa, "C_GPa")
    sym = 0.5 * (c + c.T)
    err = _errors(c, stderr_GPa, rtol)
    err_sym = symmetrised_errors(c, err)
    m = basis(system)
    iu = np.triu_indices(6)
    x = np.stack([mk[iu] for mk in m], axis=1)  # (21, k)
    y, w = sym[iu], 1.0 / err_sym[iu] ** 2
    sw = np.sqrt(w)
    p, *_ = np.linalg.lstsq(x * sw[:, None], y * sw, rcond=None)
    cov = np.linalg.pinv((x * sw[:, None]).T @ (x * sw[:, None]))
    model = x @ p
    fitted = {name: [float(p[k]), float(np.sqrt(max(cov[k, k], 0.0)))] for k, name in enumerate(independent_names(system))}
    lines = []
    for r, (i, j) in enumerate(zip(*iu)):
        z = abs(y[r] - model[r]) / err_sym[i, j]
        if z > n_sigma:
            form = "0" if np.all(x[r] == 0) else f"{model[r]:.4g}"
            v, e = y[r], err_sym[i, j]
            lines.append(f"{label(i, j)} = {v:.4g} ± {e:.2g} GPa, {system} form {form} ({z:.1f}σ)")
    return fitted, lines


def stress_strain_coefficients(C_GPa, pressure_GPa: float) -> np.ndarray:
    """``B = C − P·D`` (GPa): the stress–strain coefficients of free-energy second derivatives ``C``
    under hydrostatic pressure ``P`` (Wallace 1972; :data:`PRESSURE_CORRECTION`)."""
    return as_voigt(C_GPa, "C_GPa") - float(pressure_GPa) * PRESSURE_CORRECTION


def born_stability(C_GPa, pressure_GPa: float = 0.0, kind: str = "stress-strain") -> dict:
    """Born stability under hydrostatic pressure (GPa): the eigenvalues of the symmetric part of the
    stress–strain coefficients ``B`` all > 0 (Wang, Yip, Phillpot & Li 1993; module docstring).

    ``kind``: ``"stress-strain"`` — ``C_GPa`` is ``B`` already (stress–strain on the pre-stressed cell,
    the MD path); ``"thermodynamic"`` — free-energy second derivatives, converted with
    :func:`stress_strain_coefficients`. Returns ``{"stable", "eigenvalues_GPa", "criterion", ...}``
    (at P = 0 both kinds are the classic Born 1940 criterion, ``C`` positive definite).
    """
    if kind not in ("stress-strain", "thermodynamic"):
        raise ValueError(f"kind: {kind!r}; 'stress-strain' (B, from stress–strain) or 'thermodynamic' (∂²F/∂η²)")
    c = as_voigt(C_GPa, "C_GPa")
    b = c if kind == "stress-strain" else stress_strain_coefficients(c, pressure_GPa)
    eig = np.linalg.eigvalsh(0.5 * (b + b.T))
    out = {"stable": bool(eig[0] > 0), "eigenvalues_GPa": eig.tolist(), "pressure_GPa": float(pressure_GPa),
           "kind": kind,
           "criterion": "eigenvalues of the symmetric stress–strain coefficients B > 0 (Born 1940; Wallace 1972; "
                        "Wang, Yip, Phillpot & Li 1993 under hydrostatic pressure)"}
    bc = 0.5 * (b + b.T)
    cubic_like = np.allclose(np.diag(bc)[:3], bc[0, 0], rtol=0.05) and np.allclose(np.diag(bc)[3:], bc[3, 3], rtol=0.05)
    if cubic_like:  # the cubic conditions, in B: B11 + 2B12 > 0, B11 − B12 > 0, B44 > 0
        b11, b12, b44 = np.mean(np.diag(bc)[:3]), np.mean([bc[0, 1], bc[0, 2], bc[1, 2]]), np.mean(np.diag(bc)[3:])
        out["cubic_conditions_GPa"] = {"B11+2B12": float(b11 + 2 * b12), "B11-B12": float(b11 - b12), "B44": float(b44)}
    return out
