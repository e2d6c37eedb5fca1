"""(Weighted) linear least squares with its parameter covariance and a stated covariance policy.

Used by the Arrhenius fits in ln D (:mod:`.branch`, Peng et al. 2025, eqs. 3–4). With errors σ
the covariance is ``(XᵀWX)⁻¹`` (W = 1/σ²), optionally scaled by χ²_red (``scale``: ``"auto"`` when
χ²_red > 1, ``"always"``, ``"never"``); without errors it comes from the residual scatter,
``(XᵀX)⁻¹ · RSS/(n − k)``. Parameters and covariance are in the units of X's columns and y.
Only numpy is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

#: Relative singular-value floor below which the design matrix counts as degenerate.
_RANK_TOL = 1e-10

ScaleMode = Literal["auto", "always", "never"]


class DegenerateDesign(ValueError):
    """The design matrix is (nearly) rank-deficient: the parameters are not separable."""


@dataclass
class LinearFit:
    """A fit of y ≈ X θ: θ, its covariance (after the policy), χ², dof and how the covariance was obtained."""

    theta: np.ndarray
    cov: np.ndarray
    chi2: float  # Σ (r/σ)², or Σ r² without errors
    dof: int
    chi2_red: float  # NaN without errors or with dof = 0
    scaled: bool
    weighted: bool
    residuals: np.ndarray
    cov_note: str


def linear_fit(X: np.ndarray, y: np.ndarray, sigma: np.ndarray | None, scale: ScaleMode) -> LinearFit:
    """(Weighted) linear least squares y ≈ X θ with its parameter covariance.

    Columns are scaled to unit norm before the SVD so that the mixed units (1, mol/kJ, …) do not spoil
    the conditioning; a (near-)rank-deficient design raises :class:`DegenerateDesign`.
    """
    n, k = X.shape
    w = np.ones(n) if sigma is None else 1.0 / sigma
    A = X * w[:, None]
    s = np.linalg.norm(A, axis=0)
    U, S, Vt = np.linalg.svd(A / s, full_matrices=False)
    if S[-1] <= _RANK_TOL * S[0]:
        raise DegenerateDesign("degenerate design")
    theta = (Vt.T @ ((U.T @ (y * w)) / S)) / s
    cov = (Vt.T / S**2) @ Vt / np.outer(s, s)
    r = y - X @ theta
    chi2 = float(np.sum((r * w) ** 2))
    dof = n - k
    if sigma is None:
        if dof > 0:
            cov = cov * (chi2 / dof)
            note = f"no errors given: covariance from the residual scatter ({dof} dof)"
        else:
            cov = np.full((k, k), np.nan)
            note = "no errors and 0 dof: covariance undefined"
        return LinearFit(theta, cov, chi2, dof, float("nan"), False, False, r, note)
    chi2_red = chi2 / dof if dof > 0 else float("nan")
    do_scale = dof > 0 and (scale == "always" or (scale == "auto" and chi2_red > 1.0))
    if do_scale:
        cov = cov * chi2_red
        note = (f"covariance from the given errors scaled by chi2_red = {chi2_red:.3g}"
                + (" > 1 (errors look underestimated; standard practice)" if scale == "auto" else " (always)"))
    elif dof > 0:
        why = "<= 1" if scale == "auto" else "scaling off"
        note = f"covariance from the given errors, not scaled (chi2_red = {chi2_red:.3g} {why})"
    else:
        note = "covariance from the given errors (0 dof: no chi2 check possible)"
    return LinearFit(theta, cov, chi2, dof, chi2_red, do_scale, True, r, note)


__all__ = ["ScaleMode", "LinearFit", "DegenerateDesign", "linear_fit"]
