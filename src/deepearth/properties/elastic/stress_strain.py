"""Stiffness from stresses measured on strained cells: ``σ_I(e) = σ⁰_I + C_IJ e_J`` by least squares.

Convention (ASE's, deepearth's inside): stress positive in **tension**, ``σ = (1/V) ∂E/∂ε`` at 0 K,
pressure ``P = −(σ_xx + σ_yy + σ_zz)/3``; then ``C_IJ = +Δσ_I/Δe_J`` (for ± strains,
``C_IJ = [σ_I(+δ e_J) − σ_I(−δ e_J)] / 2δ``). A pressure-like tensor (LAMMPS ``pxx``…, positive in
compression) is ``stress_sign="compressive"``: ``C_IJ = −ΔP_I/Δe_J``. Strains are Voigt engineering
strains ``(ε_xx, ε_yy, ε_zz, 2ε_yz, 2ε_xz, 2ε_xy)`` applied to the reference cell as
``cell' = cell · (1 + ε)`` (rows are the cell vectors; ``ε`` symmetric, no rotation).

On a pre-stressed cell (pressure P) the coefficients so measured, Cauchy stress against the strain
from the stressed reference, are the stress–strain coefficients ``B_IJ`` of Wallace (1972) — those
of the wave equation and of the Born stability criterion under load (:mod:`.stability`).

All six strain directions give the 36 ``C_IJ`` row by row (``symmetry=None``); naming a crystal
system (:data:`~.tensor.SYSTEMS`) fits only its independent constants to every stress component at
once, so that a smaller strain set suffices (cubic: one normal and one shear strain). Errors: from
the stresses' standard errors (weighted least squares; then χ² tests the symmetry assumed), else from
the fit's residuals, else 0. The points of a strain direction applied with both signs share a stress
offset of their own (:func:`offset_groups`), so that the even-order terms of σ(e) — the curvature —
enter neither C (central differences) nor the residuals and χ².
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from deepearth.properties.checks import require_finite
from deepearth.properties.elastic.tensor import VOIGT_PAIRS, basis, independent_names, label

__all__ = ["StiffnessFit", "offset_groups", "stiffness_from_stress_strain", "strain_set", "strain_tensor", "strained_cell",
           "to_voigt_strains", "to_voigt_stresses"]

#: Largest Voigt strain component accepted (beyond it σ(e) is not linear enough).
MAX_STRAIN = 0.02
#: Smallest signal-to-noise of a diagonal constant (|C_II| / its stderr) accepted with stress errors.
MIN_SIGNAL_TO_NOISE = 3.0
#: p-value of the symmetry-constrained fit's χ² below which the symmetry assumed is refused.
MIN_SYMMETRY_P = 1e-6


@dataclass
class StiffnessFit:
    """A least-squares stiffness (GPa): ``C`` (6×6, row I = stress component, column J = strain;
    symmetric by construction when a crystal system was assumed) with its standard errors."""

    C_GPa: np.ndarray
    stderr_GPa: np.ndarray
    reference_stress_GPa: np.ndarray
    symmetry: str | None
    error_source: str
    n_points: int
    max_strain: float
    chi2: float | None = None
    dof: int = 0
    p_value: float | None = None
    independent: dict[str, list[float]] = field(default_factory=dict)
    covariance: np.ndarray | None = None

    def to_dict(self) -> dict:
        return {"C_GPa": self.C_GPa.tolist(), "stderr_GPa": self.stderr_GPa.tolist(),
                "reference_stress_GPa": self.reference_stress_GPa.tolist(), "symmetry": self.symmetry,
                "error_source": self.error_source, "n_points": self.n_points, "max_strain": self.max_strain,
                "chi2": self.chi2, "dof": self.dof, "p_value": self.p_value, "independent": self.independent,
                "stress_sign": "tensile positive (ASE)"}


def strain_tensor(voigt) -> np.ndarray:
    """The symmetric 3×3 strain tensor of a Voigt engineering strain ``(e1..e6)`` (shear halved)."""
    e = np.asarray(voigt, dtype=float)
    return np.array([[e[0], e[5] / 2, e[4] / 2], [e[5] / 2, e[1], e[3] / 2], [e[4] / 2, e[3] / 2, e[2]]])


def strained_cell(cell, voigt) -> np.ndarray:
    """``cell · (1 + ε)`` (rows = cell vectors, Å) for the Voigt engineering strain ``voigt``."""
    return np.asarray(cell, dtype=float) @ (np.eye(3) + strain_tensor(voigt))


def strain_set(magnitude: float = 0.01, components=range(6)) -> np.ndarray:
    """``(2 × len(components), 6)`` Voigt strains ``+δ e_J, −δ e_J`` for each ``J`` in ``components`` (0-based)."""
    if not 0 < magnitude <= MAX_STRAIN:
        raise ValueError(f"magnitude: {magnitude!r}; a strain in (0, {MAX_STRAIN}] is needed (linear response)")
    out = []
    for j in components:
        for sign in (1.0, -1.0):
            e = np.zeros(6)
            e[int(j)] = sign * magnitude
            out.append(e)
    return np.array(out)


def _voigt(arr: np.ndarray, name: str, shear_factor: float) -> np.ndarray:
    if arr.ndim == 2 and arr.shape[1] == 6:
        return arr
    if arr.ndim == 3 and arr.shape[1:] == (3, 3):
        asym = np.abs(arr - arr.transpose(0, 2, 1)).max(axis=(1, 2))
        scale = np.maximum(np.abs(arr).max(axis=(1, 2)), 1e-12)
        bad = np.flatnonzero(asym > 1e-8 * scale)
        if bad.size:
            raise ValueError(f"{name}: point {int(bad[0])} is not a symmetric tensor (a rotation or a misread "
                             "tensor); give symmetric 3×3 tensors or Voigt 6-vectors")
        return np.array([[a[i, j] * (shear_factor if i != j else 1.0) for i, j in VOIGT_PAIRS] for a in arr])
    raise ValueError(f"{name}: shape {arr.shape}; give (n, 6) Voigt vectors or (n, 3, 3) tensors")


def to_voigt_strains(strains) -> np.ndarray:
    """``(n, 6)`` Voigt engineering strains from ``(n, 6)`` or symmetric ``(n, 3, 3)`` strain tensors."""
    return _voigt(require_finite("strains", strains, ("point", "component")), "strains", 2.0)


def to_voigt_stresses(stresses, stress_sign: str = "tensile") -> np.ndarray:
    """``(n, 6)`` Voigt stresses, tensile positive, from ``(n, 6)`` or ``(n, 3, 3)`` in ``stress_sign`` convention."""
    if stress_sign not in ("tensile", "compressive"):
        raise ValueError(f"stress_sign: {stress_sign!r}; 'tensile' (ASE stress) or 'compressive' (LAMMPS pxx…)")
    s = _voigt(require_finite("stresses", stresses, ("point", "component")), "stresses", 1.0)
    return s if stress_sign == "tensile" else -s


def _null_columns(x: np.ndarray) -> np.ndarray:
    """Indices of the columns of ``x`` that its rows do not determine (weight in its null space)."""
    norms = np.linalg.norm(x, axis=0)
    xs = x / np.where(norms > 0, norms, 1.0)
    _, sv, vt = np.linalg.svd(xs, full_matrices=True)
    rank = int(np.sum(sv > 1e-9 * (sv[0] if sv.size else 1.0)))
    null = vt[rank:]
    if not null.size:
        return np.array([], dtype=int)
    return np.flatnonzero(np.abs(null).max(axis=0) > 1e-6)


def _solve(x: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted least squares: parameters, unscaled covariance (XᵀWX)⁻¹ and χ² (or RSS when ``w`` is None)."""
    sw = np.ones_like(y) if w is None else np.sqrt(w)
    theta, *_ = np.linalg.lstsq(x * sw[:, None], y * sw, rcond=None)
    cov = np.linalg.inv((x * sw[:, None]).T @ (x * sw[:, None]))
    return theta, cov, float(np.sum(((y - x @ theta) * sw) ** 2))


def _undetermined(names: list[str], null: np.ndarray, what: str) -> ValueError:
    missing = [names[i] for i in null]
    return ValueError(f"strains: the strain set does not determine {', '.join(missing)} {what}; apply ± strains "
                      "along each Voigt direction that enters (strain_set), or include an unstrained point")


def stiffness_from_stress_strain(strains, stresses, stresses_stderr=None, symmetry: str | None = None,
                                 stress_sign: str = "tensile", max_strain: float = MAX_STRAIN,
                                 min_signal_to_noise: float = MIN_SIGNAL_TO_NOISE) -> StiffnessFit:
    """Stiffness (GPa) from stresses (GPa) on strained cells: the least-squares fit of
    ``σ_I(e) = σ⁰_I + C_IJ e_J`` (module docstring: conventions, Wallace 1972 under pressure).

    ``strains``: ``(n, 6)`` Voigt engineering strains or ``(n, 3, 3)`` symmetric tensors (dimensionless);
    ``stresses``: ``(n, 6)`` Voigt ``xx yy zz yz xz xy`` or ``(n, 3, 3)``, GPa, sign per ``stress_sign``;
    ``stresses_stderr``: their standard errors (same shape), e.g. block averages of MD stresses;
    ``symmetry``: a crystal system in standard orientation (:data:`~.tensor.SYSTEMS`) or None (all 36).

    One ``ValueError`` line for: shapes/NaN; a strain above ``max_strain`` (2 %) or all strains below
    1e-5; a strain set that does not determine every constant (names them); with errors given, a
    diagonal constant with signal-to-noise below ``min_signal_to_noise`` (strain too small for the
    stress noise), or stresses that break the assumed symmetry (χ² p-value < 1e-6).
    """
    e = to_voigt_strains(strains)
    s = to_voigt_stresses(stresses, stress_sign)
    n = e.shape[0]
    if s.shape != e.shape:
        raise ValueError(f"stresses: {s.shape[0]} points for {n} strains; give one stress per strain")
    err = None
    if stresses_stderr is not None:
        err = to_voigt_stresses(stresses_stderr, "tensile")
        if err.shape != s.shape or np.any(err <= 0):
            raise ValueError(f"stresses_stderr: shape {err.shape} (stresses {s.shape}) or an entry ≤ 0; give one "
                             "positive standard error per stress component")
    biggest = float(np.abs(e).max())
    if biggest > max_strain:
        k = np.unravel_index(int(np.argmax(np.abs(e))), e.shape)
        raise ValueError(f"strains: e{k[1] + 1} = {e[k]:.4g} at point {k[0]} exceeds {max_strain:g} (2 %: beyond it "
                         "the stress is not linear in the strain); use smaller strains")
    if biggest < 1e-5:
        raise ValueError(f"strains: largest strain {biggest:.2g} < 1e-5; too small to resolve a stress change")
    w = None if err is None else 1.0 / err**2
    if symmetry is None:
        fit = _fit_rows(e, s, w)
    else:
        fit = _fit_system(e, s, w, symmetry)
    c, c_err, sigma0, chi2, dof, cov, indep = fit
    source = ("stress standard errors" if err is not None else
              "fit residuals" if dof > 0 else "none (exact stresses, no residuals)")
    p = float(stats.chi2.sf(chi2, dof)) if err is not None and dof > 0 else None
    if err is not None:
        snr = np.abs(np.diag(c)) / np.where(np.diag(c_err) > 0, np.diag(c_err), np.inf)
        low = int(np.argmin(snr))
        if snr[low] < min_signal_to_noise:
            raise ValueError(f"strains: too small for the stress noise: {label(low, low)} = {c[low, low]:.4g} ± "
                             f"{c_err[low, low]:.2g} GPa (signal-to-noise {snr[low]:.2f} < {min_signal_to_noise:g}); "
                             f"use a larger strain (≤ {max_strain:g}) or average the stresses longer")
        if symmetry is not None and p is not None and p < MIN_SYMMETRY_P:
            raise ValueError(f"stresses: the response breaks the {symmetry} symmetry assumed (χ² = {chi2:.4g} for "
                             f"{dof} degrees of freedom, p = {p:.2g}); fit with symmetry=None to see which constants "
                             "differ, or check the cell's orientation")
    return StiffnessFit(C_GPa=c, stderr_GPa=c_err, reference_stress_GPa=sigma0, symmetry=symmetry,
                        error_source=source, n_points=n, max_strain=biggest, chi2=chi2 if err is not None else None,
                        dof=dof, p_value=p, independent=indep, covariance=cov)


def offset_groups(e: np.ndarray) -> tuple[np.ndarray, bool]:
    """``(n, g)`` indicator of the stress offset each point shares, and whether its last column is the
    common offset. The points of a strain direction applied with both signs (``±δ e_J``) share one
    offset, which absorbs the even-order terms of σ(e) (central differences: the curvature enters
    neither C nor the residuals nor χ²); every other point (unstrained, one-sided) shares the common
    offset σ⁰ (the last column, when there is such a point)."""
    keys: list[tuple | None] = []
    for row in e:
        norm = float(np.linalg.norm(row))
        if norm == 0:
            keys.append(None)
            continue
        u = row / norm
        u = u * np.sign(u[np.flatnonzero(np.abs(u) > 1e-9)[0]])
        keys.append(tuple(np.round(u, 6)))
    signs: dict[tuple, set] = {}
    for k, row in zip(keys, e):
        if k is not None:
            signs.setdefault(k, set()).add(float(np.sign(row @ np.array(k))))
    paired = [k for k in dict.fromkeys(keys) if k is not None and len(signs[k]) == 2]
    columns = [[1.0 if k == g else 0.0 for k in keys] for g in paired]
    common = [0.0 if k in paired else 1.0 for k in keys]
    if any(common):
        columns.append(common)
    return np.array(columns).T, any(common)


def _reference(offsets: np.ndarray, has_common: bool) -> np.ndarray:
    """σ⁰: the common offset (an unstrained or one-sided point shares it), else the mean of the
    paired offsets (which holds the O(δ²) curvature)."""
    return offsets[-1] if has_common else offsets.mean(axis=0)


def _fit_rows(e: np.ndarray, s: np.ndarray, w: np.ndarray | None):
    """All 36 constants, one stress component at a time: σ_I = offset_I + Σ_J C_IJ e_J."""
    n = e.shape[0]
    g, has_common = offset_groups(e)
    x = np.hstack([g, e])
    null = _null_columns(x)
    if null.size:
        names = ["the unstrained stress"] * g.shape[1] + [f"column e{j + 1} (C1{j + 1}…C6{j + 1})" for j in range(6)]
        raise _undetermined(names, null, "of a general (triclinic) stiffness")
    c, c_err, offsets = np.zeros((6, 6)), np.zeros((6, 6)), np.zeros((g.shape[1], 6))
    chi2, dof = 0.0, n - x.shape[1]
    for i in range(6):
        theta, cov, rss = _solve(x, s[:, i], None if w is None else w[:, i])
        if w is None:
            cov = cov * (rss / dof) if dof > 0 else cov * 0.0
        chi2 += rss
        offsets[:, i], c[i] = theta[: g.shape[1]], theta[g.shape[1]:]
        c_err[i] = np.sqrt(np.clip(np.diag(cov)[g.shape[1]:], 0.0, None))
    return c, c_err, _reference(offsets, has_common), chi2, 6 * dof, None, {}


def _fit_system(e: np.ndarray, s: np.ndarray, w: np.ndarray | None, symmetry: str):
    """The independent constants of ``symmetry`` and the offsets fitted to all stress components at once."""
    m = basis(symmetry)
    names = independent_names(symmetry)
    g, has_common = offset_groups(e)
    n, k, ng = e.shape[0], len(m), g.shape[1]
    x = np.zeros((n * 6, 6 * ng + k))
    for p in range(n):
        rows = slice(6 * p, 6 * p + 6)
        x[rows, : 6 * ng] = np.kron(g[p][None, :], np.eye(6))
        x[rows, 6 * ng:] = (m @ e[p]).T  # (6, k): response of each stress component to each constant
    null = _null_columns(x)
    if null.size:
        labels = [f"the unstrained σ{i + 1}" for _ in range(ng) for i in range(6)] + names
        raise _undetermined(labels, null, f"of a {symmetry} crystal")
    theta, cov, rss = _solve(x, s.ravel(), None if w is None else w.ravel())
    dof = n * 6 - x.shape[1]
    if w is None:
        cov = cov * (rss / dof) if dof > 0 else cov * 0.0
    p_cov = cov[6 * ng:, 6 * ng:]
    c = np.einsum("k,kij->ij", theta[6 * ng:], m)
    var = np.einsum("kij,kl,lij->ij", m, p_cov, m)
    indep = {name: [float(theta[6 * ng + j]), float(np.sqrt(max(p_cov[j, j], 0.0)))] for j, name in enumerate(names)}
    sigma0 = _reference(theta[: 6 * ng].reshape(ng, 6), has_common)
    return c, np.sqrt(np.clip(var, 0.0, None)), sigma0, rss, dof, p_cov, indep
