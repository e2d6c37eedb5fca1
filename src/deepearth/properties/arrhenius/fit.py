"""The entry point of the Arrhenius fits: :func:`arrhenius_fit` (Peng et al. 2025, eqs. 3–4).

It checks the arrays (:mod:`.inputs`) and fits one branch (:mod:`.branch`) or two branches either side
of a break temperature (:mod:`.piecewise`). It sits above both, so neither imports the other's user.
"""

from __future__ import annotations

import math
from typing import Literal

from deepearth.properties.arrhenius.branch import ArrheniusResult, fit_branch
from deepearth.properties.arrhenius.inputs import check_inputs
from deepearth.properties.arrhenius.lsq import ScaleMode
from deepearth.properties.arrhenius.piecewise import PiecewiseArrheniusResult, fit_piecewise


def arrhenius_fit(T_K, D_m2_per_s, D_stderr_m2_per_s=None, P_GPa=None,
                  break_T_K: float | Literal["auto"] | None = None, *, fit_dV: bool | None = None,
                  scale_covariance: ScaleMode = "auto", alpha: float = 0.05,
                  species: str | None = None) -> ArrheniusResult | PiecewiseArrheniusResult:
    """Fit ``ln D = ln D0 − (ΔE + P ΔV)/(R T)`` (Peng et al. 2025, eqs. 3–4) with uncertainties.

    Parameters
    ----------
    T_K, D_m2_per_s : temperatures (K) and diffusivities (m²/s), all > 0.
    D_stderr_m2_per_s : standard errors of D (m²/s), > 0; weights ``1/σ²_lnD`` with ``σ_lnD = σ_D/D``.
        ``None``: ordinary least squares, covariance from the residual scatter.
    P_GPa : pressure of each point (GPa) or one value. If the pressures differ, ΔE (kJ/mol) and ΔV
        (cm³/mol) are fitted (eq. 4, ≥ 3 points, P must not be a linear function of T); if they are all
        equal or ``None``, D0 and ΔH = ΔE + PΔV (eq. 3, ≥ 2 points). ``fit_dV`` overrides: ``False``
        treats slightly different pressures (e.g. NPT averages around one target) as one pressure.
    break_T_K : ``None`` one branch; a temperature (K): two independent branches, T ≤ break and T > break
        (≥ 2 points each); ``"auto"``: the break between neighbouring temperatures minimising the total
        χ² (≥ 3 points per branch when there are ≥ 6 points, else ≥ 2) — Peng et al.'s (2025) two regimes (322
        and 218 kJ/mol either side of 2750 K at 25 GPa). Either way one vs two branches is decided by a
        likelihood-ratio test calibrated by simulation over the break search (level ``alpha``); AIC is
        reported too (see :class:`PiecewiseArrheniusResult`).
    scale_covariance : with errors, ``"auto"`` multiplies the covariance by χ²_red when χ²_red > 1
        (the errors look too small; standard practice, stated in ``method``), ``"always"``, ``"never"``.
        With ``"auto"`` the 1σ intervals are conservative (they cover the truth ~71 % rather than 68 %
        of the time with ~8 dof when the given errors are right).
    species : label carried into the result.

    Returns an :class:`ArrheniusResult`, or a :class:`PiecewiseArrheniusResult` when ``break_T_K`` is set.
    Bad input (NaN/inf, T ≤ 0, D ≤ 0, a single temperature) and a fit without finite error bars (e.g. two
    points without D errors: no degrees of freedom) raise one ``ValueError``.
    """
    if scale_covariance not in ("auto", "always", "never"):
        raise ValueError(f"scale_covariance must be 'auto', 'always' or 'never', got {scale_covariance!r}")
    T, D, sD, P = check_inputs(T_K, D_m2_per_s, D_stderr_m2_per_s, P_GPa)
    if break_T_K is None:
        return _check_result(fit_branch(T, D, sD, P, fit_dV, scale_covariance, species), "")
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    res = fit_piecewise(T, D, sD, P, break_T_K, fit_dV, scale_covariance, species, float(alpha))
    for branch, where in zip(res.branches, ("low", "high")):
        _check_result(branch, f" ({where}-temperature branch, below/above {res.break_T_K:g} K)")
    return res


def _check_result(fit: ArrheniusResult, where: str) -> ArrheniusResult:
    """Refuse a fit whose parameters or errors are not finite (never ``nan`` silently)."""
    values = [fit.lnD0, fit.activation_kJ_per_mol] + ([fit.dV_cm3_per_mol] if fit.dV_cm3_per_mol is not None else [])
    errors = [fit.lnD0_stderr, fit.activation_stderr_kJ_per_mol] + (
        [fit.dV_stderr_cm3_per_mol] if fit.dV_stderr_cm3_per_mol is not None else [])
    if all(math.isfinite(v) for v in values + errors):
        return fit
    if not fit.weighted and fit.dof == 0:
        raise ValueError(f"arrhenius_fit{where}: {fit.n_points} points without D errors leave no degrees of freedom "
                         f"for error bars on {len(values)} parameters; give D_stderr_m2_per_s or more temperatures")
    raise ValueError(f"arrhenius_fit{where}: the fit is not finite (parameters {values}, standard errors {errors})")


__all__ = ["arrhenius_fit"]
