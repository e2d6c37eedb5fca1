"""A full elastic-constant estimate: Cij with errors, checks, moduli and velocities with errors.

:func:`elastic_result` takes a 6×6 stiffness (GPa) with its standard errors and the state it was made
at; :func:`from_stress_strain` fits one from strained-cell stresses first
(:func:`~.stress_strain.stiffness_from_stress_strain`). Errors of the moduli and velocities are
propagated by Monte Carlo: ``n_mc`` draws of the stiffness — the independent constants from their
fitted covariance when a crystal system was assumed, else each upper-triangle entry independently
(normal, its standard error; correlations between entries that come from the same runs are not
known to it and are ignored) — each averaged (:func:`~.moduli.moduli_samples`); the standard
deviation of the draws is the error. Draws that are not positive definite are dropped and counted.
The density is taken as exact.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from deepearth.properties.checks import require_positive
from deepearth.properties.elastic.diagnostics import asymmetry, born_stability, symmetrised_errors, system_deviations
from deepearth.properties.elastic.moduli import MODULI_KEYS, MODULI_UNITS, moduli, moduli_samples, positive_definite
from deepearth.properties.elastic.stress_strain import StiffnessFit, stiffness_from_stress_strain
from deepearth.properties.elastic.tensor import as_voigt, basis

__all__ = ["ElasticResult", "elastic_result", "from_stress_strain"]

#: Fraction of Monte Carlo draws that may fail positive definiteness before a warning says so.
_MAX_REJECTED = 0.01


@dataclass
class ElasticResult:
    """Elastic constants at (P, T) with standard errors, checks and isotropic averages.

    ``C_GPa``/``C_stderr_GPa``: the symmetric 6×6 Voigt stiffness (stress–strain coefficients under
    pressure, Wallace 1972) and its standard errors; ``moduli``/``moduli_stderr``: :func:`~.moduli.moduli`'s
    dict (GPa, km/s) and Monte Carlo errors; ``stability``: :func:`~.diagnostics.born_stability`;
    ``asymmetry``/``symmetry_deviations``: lines from :mod:`.diagnostics` (empty: none beyond 3σ);
    ``cell_A``: the reference cell (rows, Å); ``thermodynamic``: "isothermal" (NVT MD), "static" (0 K)
    or "unknown" (a table).
    """

    C_GPa: list[list[float]]
    C_stderr_GPa: list[list[float]]
    density_kg_m3: float
    pressure_GPa: float
    temperature_K: float | None
    method: str
    moduli: dict[str, float]
    moduli_stderr: dict[str, float]
    stability: dict
    symmetry: str | None = None
    independent: dict[str, list[float]] = field(default_factory=dict)
    asymmetry: list[str] = field(default_factory=list)
    symmetry_deviations: list[str] = field(default_factory=list)
    cell_A: list[list[float]] | None = None
    thermodynamic: str = "unknown"
    error_method: str = ""
    n_mc: int = 0
    n_mc_rejected: int = 0
    warnings: list[str] = field(default_factory=list)
    fit: dict = field(default_factory=dict)
    units: dict = field(default_factory=lambda: {"C": "GPa", "pressure": "GPa", "temperature": "K",
                                                 "density": "kg/m^3", "cell": "Angstrom", **MODULI_UNITS})

    def to_dict(self) -> dict:
        """JSON-safe dict of every field."""
        return asdict(self)

    def line(self) -> str:
        """One line: ``K_VRH = … ± …, G_VRH = … ± … GPa; V_P = … ± …, V_S = … ± … km/s``."""
        m, e = self.moduli, self.moduli_stderr
        return (f"K_VRH = {m['K_vrh']:.1f} ± {e['K_vrh']:.1f} GPa, G_VRH = {m['G_vrh']:.1f} ± {e['G_vrh']:.1f} GPa; "
                f"V_P = {m['Vp']:.3f} ± {e['Vp']:.3f} km/s, V_S = {m['Vs']:.3f} ± {e['Vs']:.3f} km/s "
                f"(P = {self.pressure_GPa:.4g} GPa" + (f", T = {self.temperature_K:.4g} K)" if self.temperature_K
                                                        is not None else ")"))


def _draws(c: np.ndarray, err: np.ndarray, symmetry: str | None, independent: dict | None,
           covariance, n: int, rng: np.random.Generator) -> np.ndarray:
    if symmetry is not None and covariance is not None and independent:
        p = np.array([v[0] for v in independent.values()])
        ps = rng.multivariate_normal(p, np.asarray(covariance, dtype=float), size=n)
        return np.einsum("nk,kij->nij", ps, basis(symmetry))
    iu = np.triu_indices(6)
    draws = np.zeros((n, 6, 6))
    draws[:, iu[0], iu[1]] = c[iu] + err[iu] * rng.standard_normal((n, len(iu[0])))
    draws = draws + np.triu(draws, 1).transpose(0, 2, 1)
    return draws


def elastic_result(C_GPa, density_kg_m3: float, C_stderr_GPa=None, pressure_GPa: float = 0.0,
                   temperature_K: float | None = None, cell_A=None, method: str = "given",
                   symmetry: str | None = None, thermodynamic: str = "unknown", n_mc: int = 2000, seed: int = 0,
                   independent: dict | None = None, covariance=None, fit: dict | None = None) -> ElasticResult:
    """Checks, moduli and velocities of a stiffness ``C_GPa`` (6×6 or 3×3×3×3, GPa; a measured one may
    be slightly asymmetric: it is checked against its errors, then symmetrised) at ``pressure_GPa``
    and ``temperature_K``, with ``C_stderr_GPa`` (same shape, ≥ 0) propagated by Monte Carlo
    (``n_mc`` draws, ``seed``; module docstring). ``symmetry``: a crystal system (standard
    orientation) whose form is checked. Moduli: Hill 1952; stability: Wallace 1972 / Wang et al. 1993.

    ``ValueError`` (one line) for a bad tensor or density, negative errors, or a stiffness that is not
    positive definite (not Born-stable: no moduli for a mechanically unstable crystal).
    """
    c = as_voigt(C_GPa, "C_GPa")
    rho = require_positive("density_kg_m3", density_kg_m3, "kg/m³")
    err = np.zeros((6, 6)) if C_stderr_GPa is None else as_voigt(C_stderr_GPa, "C_stderr_GPa")
    if np.any(err < 0):
        raise ValueError("C_stderr_GPa: a negative standard error")
    if not np.isfinite(float(pressure_GPa)):
        raise ValueError(f"pressure_GPa: {pressure_GPa!r} is not finite")
    warnings: list[str] = []
    asym = asymmetry(c, err)
    if asym:
        warnings.append(f"C_IJ ≠ C_JI beyond 3σ for {len(asym)} pair(s) (first: {asym[0]}): errors underestimated, "
                        "a non-hydrostatic reference, or too large strains")
    c_sym, err_sym = 0.5 * (c + c.T), symmetrised_errors(c, err)
    fitted, deviations = {}, []
    if symmetry is not None:
        fitted, deviations = system_deviations(c_sym, symmetry, err_sym)
        if deviations:
            warnings.append(f"{len(deviations)} entries break the {symmetry} form beyond 3σ (first: {deviations[0]})")
    stability = born_stability(c_sym, pressure_GPa, "stress-strain")
    positive_definite(c_sym, "C_GPa", f"at P = {float(pressure_GPa):.4g} GPa; check the strains and the cell")
    values = moduli(c_sym, rho)
    stderr = {k: 0.0 for k in MODULI_KEYS}
    rejected = 0
    how = "none: no errors of C given"
    if np.any(err_sym > 0) and n_mc > 0:
        rng = np.random.default_rng(seed)
        draws = _draws(c_sym, err_sym, symmetry, independent, covariance, int(n_mc), rng)
        ok = np.linalg.eigvalsh(draws)[:, 0] > 0
        rejected = int(np.sum(~ok))
        if ok.sum() < 2:
            raise ValueError(f"C_stderr_GPa: {rejected} of {n_mc} Monte Carlo draws of C are not positive definite; "
                             "the errors are too large for moduli")
        samples = moduli_samples(draws[ok], rho)
        stderr = {k: float(np.std(v, ddof=1)) for k, v in samples.items()}
        how = (f"Monte Carlo, {n_mc} draws of C ({'independent constants with their covariance' if covariance is not None and symmetry else 'upper-triangle entries independent, normal'}); "
               "density exact")
        if rejected > _MAX_REJECTED * n_mc:
            warnings.append(f"{rejected} of {n_mc} Monte Carlo draws not positive definite (dropped): "
                            "the errors reach an instability")
    return ElasticResult(C_GPa=c_sym.tolist(), C_stderr_GPa=err_sym.tolist(), density_kg_m3=rho,
                         pressure_GPa=float(pressure_GPa),
                         temperature_K=None if temperature_K is None else float(temperature_K), method=method,
                         moduli=values, moduli_stderr=stderr, stability=stability, symmetry=symmetry,
                         independent=independent or fitted, asymmetry=asym, symmetry_deviations=deviations,
                         cell_A=None if cell_A is None else np.asarray(cell_A, dtype=float).tolist(),
                         thermodynamic=thermodynamic, error_method=how, n_mc=int(n_mc) if how.startswith("Monte")
                         else 0, n_mc_rejected=rejected, warnings=warnings, fit=fit or {})


def from_stress_strain(strains, stresses, density_kg_m3: float, stresses_stderr=None, symmetry: str | None = None,
                       pressure_GPa: float | None = None, temperature_K: float | None = None, cell_A=None,
                       stress_sign: str = "tensile", method: str = "stress-strain", thermodynamic: str = "unknown",
                       n_mc: int = 2000, seed: int = 0) -> ElasticResult:
    """:func:`elastic_result` of the stiffness fitted to stresses on strained cells
    (:func:`~.stress_strain.stiffness_from_stress_strain`: conventions, errors and refusals there).
    ``pressure_GPa`` defaults to the fitted unstrained stress, ``−tr σ⁰/3`` (with ± pairs and no
    unstrained point: their mean stress, which holds the O(δ²) curvature; give the reference's own)."""
    f: StiffnessFit = stiffness_from_stress_strain(strains, stresses, stresses_stderr, symmetry, stress_sign)
    p = -float(np.mean(f.reference_stress_GPa[:3])) if pressure_GPa is None else float(pressure_GPa)
    return elastic_result(f.C_GPa, density_kg_m3, f.stderr_GPa, p, temperature_K, cell_A,
                          f"{method}: least squares σ = σ⁰ + C e over {f.n_points} strains (max {f.max_strain:.3g}), "
                          f"errors from {f.error_source}", symmetry, thermodynamic, n_mc, seed,
                          independent=f.independent or None, covariance=f.covariance, fit=f.to_dict())
