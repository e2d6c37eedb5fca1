"""Green–Kubo transport coefficients with cepstral error bars (Ercole, Marcolongo & Baroni, Sci. Rep. 7, 15835 (2017)).

* :func:`thermal_conductivity` ``κ = V/(3 k_B T²) ∫_0^∞ ⟨J(0)·J(t)⟩ dt`` (J the heat flux per volume),
* :func:`viscosity` ``η = V/(k_B T) ∫_0^∞ ⟨P_αβ(0) P_αβ(t)⟩ dt`` over five independent traceless
  components,
* :func:`ionic_conductivity` ``σ = 1/(3 V k_B T) ∫_0^∞ ⟨J_q(0)·J_q(t)⟩ dt``, ``J_q = Σ_i q_i v_i``,
  with the Nernst–Einstein value and Haven ratio.

Each is ``S(0)·prefactor`` with ``S(0)`` from :func:`deepearth.properties.greenkubo.cepstral_estimate`
(Ercole et al. 2017); the error bar is the cepstral one. Inputs follow LAMMPS output conventions:
``units="metal"`` (eV, Å, ps, bar, K) or ``units="lj"`` (reduced: k_B = 1; results in reduced units).
Results are SI (W/m/K, Pa s, S/m) in metal units.

Every estimator refuses, with one line, NaN/inf input (naming the sample and component), a constant
(zero-variance) flux component, non-positive T, V, dt or f*, and a result that is not finite with a
positive error bar (:mod:`deepearth.properties.checks`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from deepearth.properties.checks import (require_at_least, require_finite, require_finite_result, require_positive,
                                        require_varies)
from deepearth.properties.greenkubo import (
    MIN_SAMPLES,
    autocorrelation,
    cepstral_estimate,
    fstar_scan,
    running_integral,
)
from deepearth.units import (
    E_CHARGE_C,
    ETA_METAL_TO_PA_S,
    KAPPA_METAL_TO_W_PER_M_K,
    KB_EV_PER_K,
    SIGMA_METAL_TO_S_PER_M,
)

_UNITS = {"metal": {"thermal_conductivity": "W/m/K", "viscosity": "Pa s", "ionic_conductivity": "S/m"},
          "lj": {"thermal_conductivity": "lj", "viscosity": "lj", "ionic_conductivity": "lj"}}


@dataclass
class TransportResult:
    """A Green–Kubo transport coefficient with its cepstral standard error and provenance."""

    quantity: str
    value: float
    stderr: float
    unit: str
    method: str
    T_K: float
    volume_A3: float
    n_samples: int
    dt_ps: float
    fstar_THz: float
    cutoff_K: int
    n_components: int
    n_fluxes: int
    warnings: list[str] = field(default_factory=list)
    fstar_scan: list[dict] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    curves: dict = field(default_factory=dict, repr=False)

    def to_dict(self, curves: bool = False) -> dict:
        d = asdict(self)
        if not curves:
            d.pop("curves")
        return d


def _check_scalars(name: str, dt_ps: float, volume_A3: float, temperature_K: float, units: str,
                   fstar_THz: float | None = None) -> None:
    if units not in _UNITS:
        raise ValueError(f"{name}: units must be one of {sorted(_UNITS)}, got {units!r}")
    for key, val in (("dt_ps", dt_ps), ("volume_A3", volume_A3), ("temperature_K", temperature_K)):
        require_positive(f"{name}: {key}", val)
    if fstar_THz is not None:
        require_positive(f"{name}: fstar_THz", fstar_THz, "THz")


def _estimate(quantity: str, fluxes: list[np.ndarray], dt_ps: float, factor: float, units: str, method: str,
              T: float, V: float, fstar_THz: float | None, extra: dict | None = None) -> TransportResult:
    """Cepstral S(0) → coefficient = factor · S(0); direct running integral and an f* scan for the record."""
    est = cepstral_estimate(fluxes, dt_ps, fstar_THz=fstar_THz)
    require_finite_result(quantity, factor * est.S0, factor * est.S0_stderr,
                          why=f"cepstral S(0) of {est.n_samples} samples at f* = {est.fstar_THz:.3g} THz")
    scan = fstar_scan(fluxes, dt_ps, est.fstar_THz * np.array([0.5, 0.75, 1.5, 2.0]))
    for s in scan:
        s["value"], s["stderr"] = factor * s.pop("S0"), factor * s.pop("S0_stderr")
    acf = autocorrelation(fluxes[0] - fluxes[0].mean(axis=0))
    n_lag = min(len(acf) // 4, max(10, int(200.0 / est.fstar_THz / dt_ps)))  # ≈ 200/f*: long after decorrelation
    stride = max(1, n_lag // 1000)
    integral = 2.0 * factor * running_integral(acf[:n_lag], dt_ps)  # S(0) = 2 ∫_0^∞ ACF
    return TransportResult(
        quantity=quantity, value=factor * est.S0, stderr=factor * est.S0_stderr, unit=_UNITS[units][quantity],
        method=method + f"; cepstral Green–Kubo (Ercole et al. 2017), f* = {est.fstar_THz:.3g} THz, "
        f"P* = {est.cutoff_K + 1} by AIC, {est.dof_components} equivalent components"
        + (f" after decorrelating {est.n_fluxes - 1} flux(es) (Bertossa et al. 2019)" if est.n_fluxes > 1 else ""),
        T_K=T, volume_A3=V, n_samples=est.n_samples, dt_ps=dt_ps, fstar_THz=est.fstar_THz, cutoff_K=est.cutoff_K,
        n_components=est.n_components, n_fluxes=est.n_fluxes, warnings=est.warnings, fstar_scan=scan,
        extra=extra or {},
        curves={"freq_THz": est.freq_THz.tolist(), "psd": (factor * est.psd).tolist(),
                "psd_filtered": (factor * est.psd_filtered).tolist(),
                "lag_ps": (np.arange(n_lag) * dt_ps)[::stride].tolist(),
                "running_integral": integral[::stride].tolist()})


def _as_flux(x, name: str, ncomp: int, labels: str | list[str] = "xyz") -> np.ndarray:
    """An ``(n, ncomp)`` float array without NaN/inf (the first bad sample and component named)."""
    x = require_finite(name, x, ("sample",), labels)
    if x.ndim != 2 or x.shape[1] != ncomp:
        raise ValueError(f"{name}: expected shape (n_samples, {ncomp}), got {x.shape}")
    require_at_least(name, x.shape[0], MIN_SAMPLES, "samples",
                     "a Green–Kubo estimate needs the flux over many correlation times")
    return x


def _check_varies(name: str, x: np.ndarray, labels: list[str], what: str) -> None:
    """A constant component has no fluctuations: its spectrum is zero and the coefficient meaningless."""
    require_varies(name, x, labels, hint=f"Green–Kubo needs the equilibrium fluctuations of {what}; "
                                         "is it the right column, from an MD run?")


def thermal_conductivity(heat_flux, dt_ps: float, volume_A3: float, temperature_K: float,
                         extra_fluxes: list | None = None, units: str = "metal",
                         fstar_THz: float | None = None) -> TransportResult:
    """Thermal conductivity κ (W/m/K) from an equilibrium heat-flux time series.

    ``heat_flux``: ``(n, 3)`` as LAMMPS ``compute heat/flux`` prints it, J·V in eV·Å/ps (metal).
    ``dt_ps``: time between samples (ps). ``volume_A3``: cell volume (Å³). ``temperature_K``: mean T.
    ``extra_fluxes``: ``(n, 3)`` mass (or charge) fluxes to decorrelate from the heat flux in a
    multicomponent system (Bertossa et al. 2019) — Q − 1 ≤ 2 of them.
    ``κ = S_JV(0) / (2 V k_B T²)``, S the per-component spectrum of J·V at ω = 0.
    """
    _check_scalars("thermal_conductivity", dt_ps, volume_A3, temperature_K, units, fstar_THz)
    fluxes = [_as_flux(heat_flux, "heat_flux", 3)]
    fluxes += [_as_flux(f, f"extra_fluxes[{i}]", 3) for i, f in enumerate(extra_fluxes or [])]
    for i, f in enumerate(fluxes):
        _check_varies("heat_flux" if i == 0 else f"extra_fluxes[{i - 1}]", f, ["J_x", "J_y", "J_z"],
                      "the heat flux" if i == 0 else "each flux")
    kb = 1.0 if units == "lj" else KB_EV_PER_K
    factor = 1.0 / (2.0 * volume_A3 * kb * temperature_K**2) * (KAPPA_METAL_TO_W_PER_M_K if units == "metal" else 1.0)
    return _estimate("thermal_conductivity", fluxes, dt_ps, factor, units, "heat flux J·V, 3 Cartesian components",
                     temperature_K, volume_A3, fstar_THz)


#: Names of the five components of :func:`traceless_shear_components`, in order.
SHEAR_LABELS = ["shear component P_xy", "shear component P_xz", "shear component P_yz",
                "shear component (P_xx - P_yy)/2", "shear component (P_xx + P_yy - 2 P_zz)/(2 sqrt 3)"]


def traceless_shear_components(pressure_tensor) -> np.ndarray:
    """Five independent, equally distributed shear components of an isotropic fluid's stress.

    From ``(n, 6)`` xx yy zz xy xz yz: ``P_xy, P_xz, P_yz, (P_xx − P_yy)/2, (P_xx + P_yy − 2P_zz)/(2√3)``
    — uncorrelated with each other and each with the autocorrelation of P_xy (Daivis & Evans,
    J. Chem. Phys. 100, 541 (1994)); the pressure (trace) drops out.
    """
    p = _as_flux(pressure_tensor, "pressure_tensor", 6, ["xx", "yy", "zz", "xy", "xz", "yz"])
    xx, yy, zz, xy, xz, yz = p.T
    return np.stack([xy, xz, yz, 0.5 * (xx - yy), (xx + yy - 2 * zz) / (2 * np.sqrt(3.0))], axis=1)


def viscosity(pressure_tensor, dt_ps: float, volume_A3: float, temperature_K: float, units: str = "metal",
              fstar_THz: float | None = None) -> TransportResult:
    """Shear viscosity η (Pa s) from the pressure tensor of an equilibrium run.

    ``pressure_tensor``: ``(n, 6)`` in the order xx yy zz xy xz yz, bar in metal units (LAMMPS
    ``c_thermo_press[1..6]`` order is xx yy zz xy xz yz). ``η = V S_P(0) / (2 k_B T)`` with
    S_P the spectrum of the five traceless components (:func:`traceless_shear_components`).
    """
    _check_scalars("viscosity", dt_ps, volume_A3, temperature_K, units, fstar_THz)
    shear = traceless_shear_components(pressure_tensor)
    _check_varies("pressure_tensor", shear, SHEAR_LABELS, "five equivalent shear components")
    kb = 1.0 if units == "lj" else KB_EV_PER_K
    factor = volume_A3 / (2.0 * kb * temperature_K) * (ETA_METAL_TO_PA_S if units == "metal" else 1.0)
    return _estimate("viscosity", [shear], dt_ps, factor, units, "five traceless shear-stress components",
                     temperature_K, volume_A3, fstar_THz)


def charge_current(velocities, charges) -> np.ndarray:
    """``J_q(t) = Σ_i q_i v_i`` (e·Å/ps) from velocities ``(n, N, 3)`` Å/ps and charges ``(N,)`` e."""
    v = require_finite("velocities", velocities, ("frame", "atom"), "xyz")
    q = require_finite("charges", charges, ("atom",))
    if v.ndim != 3 or v.shape[2] != 3:
        raise ValueError(f"velocities: expected shape (n_frames, n_atoms, 3) in Å/ps, got {v.shape}")
    if q.shape != (v.shape[1],):
        raise ValueError(f"charges: expected one charge per atom ({v.shape[1]}), got shape {q.shape}")
    return np.einsum("tni,n->ti", v, q)


def nernst_einstein_conductivity(diffusion_m2_per_s: dict[str, float], counts: dict[str, int],
                                 charges: dict[str, float], volume_A3: float, temperature_K: float) -> float:
    """``σ_NE = e² Σ_s N_s q_s² D_s / (V k_B T)`` in S/m (Nernst–Einstein); D in m²/s, q in e."""
    missing = set(diffusion_m2_per_s) - set(counts) | set(diffusion_m2_per_s) - set(charges)
    if missing:
        raise ValueError(f"nernst_einstein_conductivity: no count or charge for species {sorted(missing)}")
    require_positive("nernst_einstein_conductivity: volume_A3", volume_A3, "Å³")
    require_positive("nernst_einstein_conductivity: temperature_K", temperature_K, "K")
    for s, d in diffusion_m2_per_s.items():
        if not (np.isfinite(d) and np.isfinite(charges[s]) and np.isfinite(counts[s]) and counts[s] >= 0):
            raise ValueError(f"nernst_einstein_conductivity: species {s}: D = {d!r} m²/s, charge {charges[s]!r} e "
                             f"and count {counts[s]!r} must be finite (count >= 0)")
    total = sum(counts[s] * charges[s] ** 2 * d for s, d in diffusion_m2_per_s.items())
    return E_CHARGE_C**2 * total / (volume_A3 * 1e-30 * KB_EV_PER_K * E_CHARGE_C * temperature_K)


def ionic_conductivity(current_or_velocities, dt_ps: float, volume_A3: float, temperature_K: float,
                       charges=None, units: str = "metal", fstar_THz: float | None = None,
                       nernst_einstein_S_per_m: float | None = None) -> TransportResult:
    """Ionic electrical conductivity σ (S/m) from the charge current.

    Give either the charge current ``(n, 3)`` in e·Å/ps, or velocities ``(n, N, 3)`` in Å/ps with
    ``charges`` ``(N,)`` in e (formal or Bader). ``σ = S_J(0) / (2 V k_B T)``. With
    ``nernst_einstein_S_per_m`` (see :func:`nernst_einstein_conductivity`) the Haven ratio
    ``H = σ_NE/σ`` is added to ``extra`` with its propagated error.
    """
    _check_scalars("ionic_conductivity", dt_ps, volume_A3, temperature_K, units, fstar_THz)
    if nernst_einstein_S_per_m is not None:
        require_positive("ionic_conductivity: nernst_einstein_S_per_m", nernst_einstein_S_per_m, "S/m")
    data = np.asarray(current_or_velocities, dtype=float)
    if data.ndim == 3:
        if charges is None:
            raise ValueError("ionic_conductivity: velocities given without charges (one per atom, in e)")
        data = charge_current(data, charges)
    current = _as_flux(data, "charge current", 3)
    _check_varies("charge current", current, ["J_x", "J_y", "J_z"],
                  "the charge current")
    kb = 1.0 if units == "lj" else KB_EV_PER_K
    factor = 1.0 / (2.0 * volume_A3 * kb * temperature_K) * (SIGMA_METAL_TO_S_PER_M if units == "metal" else 1.0)
    res = _estimate("ionic_conductivity", [current], dt_ps, factor, units, "charge current Σ q_i v_i",
                    temperature_K, volume_A3, fstar_THz)
    if nernst_einstein_S_per_m is not None:
        h = nernst_einstein_S_per_m / res.value
        res.extra.update(nernst_einstein_S_per_m=float(nernst_einstein_S_per_m), haven_ratio=float(h),
                         haven_ratio_stderr=float(h * res.stderr / res.value))
    return res
