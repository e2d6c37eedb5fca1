"""One Arrhenius branch: the fit of eq. 3 or 4 in ln D, its result and its predictions (Peng et al. 2025, eqs. 3–4).

Eq. 3, one pressure:          ``D = D0 exp(−ΔH / RT)``
Eq. 4, several pressures:     ``D = D0 exp(−(ΔE + P ΔV) / RT)``

:func:`fit_branch` fits validated arrays (:func:`.inputs.check_inputs`) with the solver of :mod:`.lsq`
into an :class:`ArrheniusResult`, whose :meth:`~ArrheniusResult.predict` gives an
:class:`ArrheniusPrediction` with a 1σ band (linear propagation or Monte Carlo). The helpers that build
a prediction (:func:`prediction_inputs`, :func:`make_prediction`, :func:`band_method`) and the design
matrix (:func:`design_matrix`) are shared with the two-branch fit of :mod:`.piecewise`.
Units: ln D0 (D0 in m²/s), kJ/mol, cm³/mol, K, GPa.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Iterator

import numpy as np
from scipy import stats

from deepearth.files import json_ready
from deepearth.properties.arrhenius.lsq import DegenerateDesign, ScaleMode, linear_fit
from deepearth.properties.arrhenius.values import float_or_array
from deepearth.units import KJ_PER_MOL_PER_EV, R_J_PER_MOL_K


#: Lower and upper quantiles of a ±1σ normal band (15.87 %, 84.13 %).
_Q_LO, _Q_HI = float(stats.norm.cdf(-1.0)), float(stats.norm.cdf(1.0))


# --------------------------------------------------------------------------------------------------
# the design of eqs. 3–4 in ln D
# --------------------------------------------------------------------------------------------------

def _pressures_vary(P: np.ndarray | None) -> bool:
    return P is not None and float(np.ptp(P)) > 1e-9 * max(1.0, float(np.max(np.abs(P))))


def design_matrix(T: np.ndarray, P: np.ndarray | None, with_dV: bool) -> np.ndarray:
    """Columns of ∂lnD/∂(ln D0, activation [kJ/mol], ΔV [cm³/mol]) at (T, P)."""
    x = 1e3 / (R_J_PER_MOL_K * T)  # mol/kJ
    cols = [np.ones_like(T), -x]
    if with_dV:
        cols.append(-x * P)  # GPa · cm³/mol = kJ/mol
    return np.column_stack(cols)


# --------------------------------------------------------------------------------------------------
# predictions
# --------------------------------------------------------------------------------------------------

@dataclass
class ArrheniusPrediction:
    """D at (T, P) from an Arrhenius fit with a 1σ band of the fitted relation.

    ``D_m2_per_s`` is the median (exp of the expected ln D); ``D_lo``/``D_hi`` are exp(ln D ∓ σ_lnD)
    (linear propagation) or the 15.87/84.13 % quantiles of the Monte-Carlo samples. The band reflects
    the parameter uncertainty only, not the scatter of one more simulation. Iterating gives
    ``(D, D_lo, D_hi)``, so ``D, lo, hi = fit.predict(T)`` works. Floats for scalar inputs, arrays otherwise.
    """

    T_K: Any
    P_GPa: Any
    D_m2_per_s: Any
    D_lo_m2_per_s: Any
    D_hi_m2_per_s: Any
    lnD_stderr: Any
    extrapolated: Any  # True where T (or P) lies outside the fitted data range
    method: str
    n_samples: int = 0
    samples_m2_per_s: np.ndarray | None = field(default=None, repr=False)  # (n_samples, n_T) for MC
    units: str = "m^2/s"

    def __iter__(self) -> Iterator:
        return iter((self.D_m2_per_s, self.D_lo_m2_per_s, self.D_hi_m2_per_s))

    @property
    def value(self):
        return self.D_m2_per_s

    @property
    def log10D_stderr(self):
        """σ of log10 D — what :func:`deepearth.geophysics.w_isotopes.propagate_lognormal_D` takes."""
        return float_or_array(np.asarray(self.lnD_stderr) / np.log(10.0), np.ndim(self.lnD_stderr) == 0)

    @property
    def unit(self) -> str:
        return self.units

    def to_dict(self, samples: bool = False) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "samples_m2_per_s"}
        if samples and self.samples_m2_per_s is not None:
            d["samples_m2_per_s"] = self.samples_m2_per_s
        return json_ready(d)


def _mvn_samples(theta: np.ndarray, cov: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, k) draws from N(θ, C); C symmetric positive semi-definite (eigen-decomposition)."""
    vals, vecs = np.linalg.eigh(0.5 * (cov + cov.T))
    vals = np.clip(vals, 0.0, None)
    return theta + (rng.standard_normal((n, theta.size)) * np.sqrt(vals)) @ vecs.T


def make_prediction(T, P, lnD, sig, extrap, samples_ln, method, scalar, n_samples) -> ArrheniusPrediction:
    """The prediction from ln D and σ_lnD (linear band) or from Monte-Carlo samples of ln D (quantile band)."""
    if samples_ln is None:
        D, lo, hi = np.exp(lnD), np.exp(lnD - sig), np.exp(lnD + sig)
        samples = None
    else:
        D = np.exp(np.median(samples_ln, axis=0))
        lo, hi = np.exp(np.quantile(samples_ln, [_Q_LO, _Q_HI], axis=0))
        sig = samples_ln.std(axis=0, ddof=1)
        samples = np.exp(samples_ln)
    out = float_or_array
    return ArrheniusPrediction(
        T_K=out(T, scalar), P_GPa=None if P is None else out(P, scalar), D_m2_per_s=out(D, scalar),
        D_lo_m2_per_s=out(lo, scalar), D_hi_m2_per_s=out(hi, scalar), lnD_stderr=out(sig, scalar),
        extrapolated=bool(extrap[0]) if scalar else np.asarray(extrap, dtype=bool), method=method,
        n_samples=int(n_samples or 0), samples_m2_per_s=samples)


def prediction_inputs(T_K, P_GPa, n_samples, seed) -> tuple[np.ndarray, np.ndarray | None, bool, Any]:
    """Checked (T [K], P [GPa] or None, scalar?, generator or None) for a ``predict`` call."""
    if n_samples is not None and (int(n_samples) != n_samples or n_samples < 2):
        raise ValueError(f"n_samples must be an integer >= 2 (or None for linear propagation), got {n_samples!r}")
    scalar = np.ndim(T_K) == 0 and np.ndim(P_GPa) == 0
    T = np.atleast_1d(np.asarray(T_K, dtype=float)).reshape(-1)
    P = None
    if P_GPa is not None:
        P = np.atleast_1d(np.asarray(P_GPa, dtype=float)).reshape(-1)
        T, P = np.broadcast_arrays(T, P)
        T, P = T.copy(), P.copy()
    if T.size == 0 or np.any(~np.isfinite(T)) or np.any(T <= 0):
        raise ValueError(f"predict: temperatures must be finite and > 0 K, got {T_K!r}")
    if P is not None and np.any(~np.isfinite(P)):
        raise ValueError(f"predict: pressures must be finite, got {P_GPa!r}")
    return T, P, scalar, (np.random.default_rng(seed) if n_samples else None)


def band_method(n_samples, seed, over: str = "N(params, covariance)") -> str:
    """How a prediction's band was made, for its ``method``."""
    return (f"Monte Carlo over {over}, {int(n_samples)} samples, seed {seed}" if n_samples
            else "linear propagation sigma_lnD^2 = g^T C g")


# --------------------------------------------------------------------------------------------------
# one Arrhenius branch
# --------------------------------------------------------------------------------------------------

@dataclass
class ArrheniusResult:
    """A fitted Arrhenius law, eq. 3 (``activation_kind == "dH"``) or eq. 4 (``"dE"`` with ΔV).

    ``params``/``param_names``/``covariance`` are in the fit's units: ln D0 (D0 in m²/s), kJ/mol,
    cm³/mol. ``lnD0_stderr`` is the standard error of ln D0 (D0 is log-normally uncertain: its 1σ range
    is D0·exp(±lnD0_stderr)). ``P_GPa`` is the pressure an eq. 3 ΔH applies at (None if unknown).
    """

    D0_m2_per_s: float
    lnD0: float
    lnD0_stderr: float
    activation_kind: str  # "dH": activation enthalpy (eq. 3); "dE": activation energy with ΔV (eq. 4)
    activation_kJ_per_mol: float
    activation_stderr_kJ_per_mol: float
    activation_eV: float
    activation_stderr_eV: float
    dV_cm3_per_mol: float | None
    dV_stderr_cm3_per_mol: float | None
    param_names: list[str]
    params: list[float]
    covariance: list[list[float]]
    chi2: float  # Σ ((ln D − fit)/σ_lnD)²; without errors Σ (ln D − fit)²
    chi2_red: float  # chi2/dof (NaN without errors or at 0 dof)
    dof: int
    n_points: int
    weighted: bool
    covariance_scaled: bool
    method: str
    T_range_K: tuple[float, float]
    P_range_GPa: tuple[float, float] | None
    P_GPa: float | None
    residuals_lnD: list[float] = field(default_factory=list)
    species: str | None = None
    units: dict = field(default_factory=lambda: {
        "D0": "m^2/s", "lnD0": "ln(m^2/s)", "activation": "kJ/mol (activation_eV: eV)", "dV": "cm^3/mol",
        "T": "K", "P": "GPa", "covariance": "param_names order: ln(m^2/s), kJ/mol, cm^3/mol"})

    # -- house convention: value, stderr, unit -------------------------------------------------------
    @property
    def value(self) -> float:
        """Activation enthalpy ΔH (eq. 3) or energy ΔE (eq. 4), kJ/mol."""
        return self.activation_kJ_per_mol

    @property
    def stderr(self) -> float:
        return self.activation_stderr_kJ_per_mol

    @property
    def unit(self) -> str:
        return "kJ/mol"

    @property
    def theta(self) -> np.ndarray:
        return np.asarray(self.params, dtype=float)

    @property
    def cov(self) -> np.ndarray:
        return np.asarray(self.covariance, dtype=float)

    def to_dict(self) -> dict:
        """Strict-JSON dict (NaN → null)."""
        d = asdict(self)
        d.update(value=self.value, stderr=self.stderr, unit=self.unit)
        return json_ready(d)

    @classmethod
    def from_dict(cls, d: dict, source: str = "Arrhenius result") -> ArrheniusResult:
        """Rebuild a fit from :meth:`to_dict` output (e.g. ``deepearth analyze arrhenius`` JSON);
        JSON nulls in the covariance become NaN. A two-branch result is refused (pick a branch)."""
        if "branches" in d:
            raise ValueError(f"{source}: a two-branch Arrhenius result; pass one of its 'branches' entries")
        missing = [k for k in ("params", "covariance", "activation_kind", "T_range_K") if k not in d]
        if missing:
            raise ValueError(f"{source}: not an Arrhenius result (missing {missing})")
        kw = {k: d[k] for k in (f.name for f in fields(cls)) if k in d}
        kw["covariance"] = [[np.nan if c is None else c for c in row] for row in d["covariance"]]
        kw["T_range_K"] = tuple(d["T_range_K"])
        kw["P_range_GPa"] = None if d.get("P_range_GPa") is None else tuple(d["P_range_GPa"])
        return cls(**kw)

    # -- derived quantities --------------------------------------------------------------------------
    def activation_enthalpy(self, P_GPa: float | None = None) -> tuple[float, float]:
        """ΔH = ΔE + P ΔV (kJ/mol) and its standard error at ``P_GPa`` (eq. 4; for eq. 3 the fitted ΔH)."""
        if self.activation_kind == "dH":
            self._check_pressure(P_GPa)
            return self.activation_kJ_per_mol, self.activation_stderr_kJ_per_mol
        if P_GPa is None:
            raise ValueError("activation_enthalpy: this is an eq. 4 fit (ΔE, ΔV); give P_GPa")
        g = np.array([0.0, 1.0, float(P_GPa)])
        return float(g @ self.theta), float(np.sqrt(g @ self.cov @ g))

    def with_activation_volume(self, dV_cm3_per_mol: float, dV_stderr_cm3_per_mol: float = 0.0,
                               P_ref_GPa: float | None = None) -> ArrheniusResult:
        """An eq. 3 fit turned into eq. 4 with an *assumed* activation volume, for pressure extrapolation.

        ``ΔE = ΔH − P_ref ΔV`` with P_ref the pressure of the fit (or ``P_ref_GPa``); ΔV (cm³/mol) is
        independent of the fitted parameters with standard error ``dV_stderr_cm3_per_mol``. Peng et al.
        (2025, Methods, eq. 5) extrapolate the lattice (Si) diffusivity from 25 GPa with ΔV = 1 cm³/mol.
        """
        if self.activation_kind != "dH":
            raise ValueError("with_activation_volume: ΔV was fitted already (eq. 4 result)")
        p_ref = self.P_GPa if P_ref_GPa is None else float(P_ref_GPa)
        if p_ref is None or not math.isfinite(p_ref):
            raise ValueError("with_activation_volume: the fit has no pressure; give P_ref_GPa")
        dv, sdv = float(dV_cm3_per_mol), float(dV_stderr_cm3_per_mol)
        if not (math.isfinite(dv) and math.isfinite(sdv)) or sdv < 0:
            raise ValueError(f"with_activation_volume: need finite ΔV and stderr >= 0, got {dv}, {sdv}")
        c3 = np.zeros((3, 3))
        c3[:2, :2] = self.cov
        c3[2, 2] = sdv**2
        J = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, -p_ref], [0.0, 0.0, 1.0]])
        theta = J @ np.array([self.lnD0, self.activation_kJ_per_mol, dv])
        method = (f"{self.method}; then ΔV = {dv:g} ± {sdv:g} cm^3/mol assumed (not fitted), "
                  f"ΔE = ΔH − P_ref ΔV at P_ref = {p_ref:g} GPa (eq. 4)")
        return _make_result(theta, J @ c3 @ J.T, True, self.chi2, self.chi2_red, self.dof, self.n_points,
                            self.weighted, self.covariance_scaled, method, self.T_range_K, (p_ref, p_ref), None,
                            self.residuals_lnD, self.species)

    def _check_pressure(self, P_GPa) -> None:
        if P_GPa is None or self.activation_kind != "dH":
            return
        p = np.asarray(P_GPa, dtype=float)
        if self.P_GPa is None:
            raise ValueError("this eq. 3 fit has no pressure; predict without P_GPa, or use "
                             "with_activation_volume(dV, P_ref_GPa=...) to extrapolate in pressure")
        if np.any(np.abs(p - self.P_GPa) > 1e-6 * max(1.0, abs(self.P_GPa))):
            raise ValueError(f"this fit (eq. 3) holds at P = {self.P_GPa:g} GPa only, got P_GPa = {P_GPa!r}: ΔV "
                             "was not fitted; use with_activation_volume(dV) to extrapolate in pressure")

    # -- prediction ----------------------------------------------------------------------------------
    def ln_predict(self, T: np.ndarray, P: np.ndarray | None, n_samples: int | None,
                   rng: np.random.Generator | None):
        """(ln D, σ_lnD, extrapolated?, Monte-Carlo samples of ln D or None) at checked arrays (K, GPa);
        the pieces :meth:`predict` (and the two-branch ``predict``) assemble into a prediction."""
        with_dV = self.activation_kind == "dE"
        if with_dV and P is None:
            raise ValueError("predict: this fit has an activation volume (eq. 4); give P_GPa")
        if not with_dV:
            self._check_pressure(P)
        G = design_matrix(T, P, with_dV)
        lnD = G @ self.theta
        C = self.cov
        sig = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", G, C, G), 0.0, None)) if np.all(np.isfinite(C)) \
            else np.full(T.size, np.nan)
        extrap = (T < self.T_range_K[0] - 1e-9) | (T > self.T_range_K[1] + 1e-9)
        if with_dV and self.P_range_GPa is not None:
            extrap |= (P < self.P_range_GPa[0] - 1e-9) | (P > self.P_range_GPa[1] + 1e-9)
        samples = None
        if n_samples:
            if not np.all(np.isfinite(C)):
                raise ValueError("predict: the covariance is undefined (no errors and no spare points), "
                                 "no Monte-Carlo band possible")
            samples = _mvn_samples(self.theta, C, int(n_samples), rng) @ G.T
        return lnD, sig, extrap, samples

    def predict(self, T_K, P_GPa=None, n_samples: int | None = None, seed: int = 0) -> ArrheniusPrediction:
        """D (m²/s) at ``T_K`` (K; and ``P_GPa``, GPa, for eq. 4 fits) with a 1σ band (eqs. 3–4).

        Linear propagation: ``σ²_lnD = gᵀ C g`` with ``g = ∂ln D/∂(ln D0, ΔE, ΔV) = (1, −1/RT, −P/RT)``.
        With ``n_samples``, parameters are drawn from N(θ, C) (``seed``ed generator) and the band is the
        15.87–84.13 % quantiles; the samples (n_samples × n_T) are kept for downstream Monte Carlo.
        """
        T, P, scalar, rng = prediction_inputs(T_K, P_GPa, n_samples, seed)
        lnD, sig, extrap, samples = self.ln_predict(T, P, n_samples, rng)
        how = band_method(n_samples, seed)
        return make_prediction(T, P, lnD, sig, extrap, samples, f"Arrhenius ({self.activation_kind}) fit; {how}",
                           scalar, n_samples)


def _make_result(theta, cov, with_dV, chi2, chi2_red, dof, n, weighted, scaled, method, T_range, P_range,
                 P_single, residuals, species) -> ArrheniusResult:
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None)) if np.all(np.isfinite(cov)) else np.full(len(theta), np.nan)
    names = ["lnD0", "dE_kJ_per_mol", "dV_cm3_per_mol"] if with_dV else ["lnD0", "dH_kJ_per_mol"]
    return ArrheniusResult(
        D0_m2_per_s=float(np.exp(theta[0])), lnD0=float(theta[0]), lnD0_stderr=float(se[0]),
        activation_kind="dE" if with_dV else "dH",
        activation_kJ_per_mol=float(theta[1]), activation_stderr_kJ_per_mol=float(se[1]),
        activation_eV=float(theta[1] / KJ_PER_MOL_PER_EV), activation_stderr_eV=float(se[1] / KJ_PER_MOL_PER_EV),
        dV_cm3_per_mol=float(theta[2]) if with_dV else None, dV_stderr_cm3_per_mol=float(se[2]) if with_dV else None,
        param_names=names, params=[float(v) for v in theta], covariance=[[float(c) for c in row] for row in cov],
        chi2=float(chi2), chi2_red=float(chi2_red), dof=int(dof), n_points=int(n), weighted=bool(weighted),
        covariance_scaled=bool(scaled), method=method, T_range_K=(float(T_range[0]), float(T_range[1])),
        P_range_GPa=None if P_range is None else (float(P_range[0]), float(P_range[1])),
        P_GPa=None if P_single is None else float(P_single), residuals_lnD=[float(r) for r in residuals],
        species=species)


def fit_branch(T, D, sD, P, fit_dV: bool | None, scale: ScaleMode, species: str | None = None,
                label: str = "") -> ArrheniusResult:
    """One Arrhenius fit on validated arrays (see :func:`~deepearth.properties.arrhenius.arrhenius_fit`)."""
    varies = _pressures_vary(P)
    with_dV = varies if fit_dV is None else bool(fit_dV)
    where = f" ({label})" if label else ""
    if with_dV and not varies:
        raise ValueError(f"fit_dV=True needs pressures that differ between points{where}")
    if with_dV and T.size < 3:
        raise ValueError(f"fitting ΔE and ΔV (eq. 4) needs at least 3 points{where}, got {T.size}")
    if np.ptp(T) <= 1e-9 * np.max(T):
        raise ValueError(f"all temperatures are equal (T = {T[0]:g} K){where}: the activation enthalpy is "
                         "undetermined")
    y = np.log(D)
    sigma = None if sD is None else sD / D
    try:
        lf = linear_fit(design_matrix(T, P, with_dV), y, sigma, scale)
    except DegenerateDesign:
        raise ValueError(f"pressures are a linear function of temperature (P = a + b T) over the points{where}, "
                         "so ΔE and ΔV cannot be separated (eq. 4); add points off that line or fit at one "
                         "pressure (fit_dV=False)") from None
    eq = "eq. 4 (ΔE, ΔV)" if with_dV else "eq. 3 (ΔH)"
    kind = "weighted least squares in ln D (sigma_lnD = sigma_D/D)" if lf.weighted else "ordinary least squares in ln D"
    method = f"Arrhenius {eq}: {kind}; {lf.cov_note}"
    P_single = None
    if P is not None and not with_dV:
        P_single = float(np.mean(P))
        if varies:
            method += f"; pressures {P.min():g}–{P.max():g} GPa treated as one (mean {P_single:g} GPa)"
    P_range = None if P is None else (float(P.min()), float(P.max()))
    return _make_result(lf.theta, lf.cov, with_dV, lf.chi2, lf.chi2_red, lf.dof, T.size, lf.weighted, lf.scaled,
                        method, (float(T.min()), float(T.max())), P_range, P_single, lf.residuals, species)


__all__ = ["ArrheniusPrediction", "ArrheniusResult", "band_method", "design_matrix", "fit_branch",
           "make_prediction", "prediction_inputs"]
