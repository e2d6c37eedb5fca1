"""Green–Kubo machinery shared by viscosity, thermal and ionic conductivity
(cepstral analysis: Ercole, Marcolongo & Baroni, Sci. Rep. 7, 15835 (2017)).

A Green–Kubo coefficient is proportional to the zero-frequency value of the power spectrum of a
flux, ``S(0) = ∫_{-∞}^{∞} ⟨J(0) J(t)⟩ dt = 2 ∫_0^∞ ⟨J(0) J(t)⟩ dt``. Two estimators are given:

* the direct one — FFT autocorrelation and its running integral (:func:`autocorrelation`,
  :func:`running_integral`) — shown in figures, but with no principled plateau or error;
* cepstral analysis (Ercole, Marcolongo & Baroni, Sci. Rep. 7, 15835 (2017)), the estimate we
  report: the flux is low-pass filtered and resampled to a cutoff frequency f*, the log of the
  multi-component periodogram is expanded in cosines (the *cepstrum*), the number of coefficients
  P* is chosen by the Akaike information criterion, and log S(0) follows with a theoretical error
  from the known statistics of the log-periodogram. Several fluxes of one kind (e.g. the heat flux
  and the independent mass fluxes of a multicomponent system) are decorrelated as in Bertossa,
  Grasselli & Baroni, Phys. Rev. Lett. 122, 255901 (2019): the coefficient is
  ``1/(S⁻¹)₀₀(ω=0)`` of the cross-spectral matrix, whose sample estimate follows a χ² law with
  2(ℓ − Q + 1) degrees of freedom (ℓ equivalent components, Q fluxes).

Written here rather than using ``sportran``, which pins old numpy/setuptools (used only as the
oracle for the reference silica number in tests). Times are in ps, frequencies in THz; spectra
are in (flux unit)²·ps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.fft import dct, rfft
from scipy.ndimage import uniform_filter1d
from scipy.special import digamma, polygamma

from deepearth.properties.checks import require_at_least, require_finite, require_varies


#: Fewest samples of a flux accepted at all (the cepstral fit also needs ≥ 8 frequencies below f*).
MIN_SAMPLES = 16


def _check_series(x: np.ndarray, name: str) -> np.ndarray:
    x = require_finite(name, x, ("sample", "component"))
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"{name}: expected an (n_samples, n_components) array, got shape {x.shape}")
    require_at_least(name, x.shape[0], MIN_SAMPLES, "samples",
                     "a Green–Kubo estimate needs the flux over many correlation times")
    return x


def autocorrelation(x: np.ndarray) -> np.ndarray:
    """Autocorrelation ⟨x(0) x(t)⟩ of an ``(n, ℓ)`` series averaged over its ℓ components (FFT,
    all time origins, unbiased normalisation 1/(n−t)); the mean is *not* removed."""
    x = _check_series(x, "autocorrelation")
    n = x.shape[0]
    f = np.fft.rfft(x, n=2 * n, axis=0)
    acf = np.fft.irfft((f * f.conj()).real, axis=0)[:n].mean(axis=1)
    return acf / (n - np.arange(n))


def running_integral(acf: np.ndarray, dt_ps: float) -> np.ndarray:
    """Cumulative trapezoid ``∫_0^t acf dt'`` (acf unit × ps), same length as ``acf``."""
    out = np.zeros(len(acf))
    out[1:] = np.cumsum(0.5 * (acf[1:] + acf[:-1])) * dt_ps
    return out


def filter_and_resample(x: np.ndarray, skip: int) -> np.ndarray:
    """Moving average over ``skip`` samples, then keep every ``skip``-th sample.

    The box filter's zeros fall on the multiples of the new sampling frequency, so nothing aliases
    onto ω = 0 and S(0) is unchanged (Ercole et al. 2017, §Methods).
    """
    if skip <= 1:
        return np.asarray(x, dtype=float)
    c = np.cumsum(np.vstack([np.zeros((1, x.shape[1])), x]), axis=0)
    smooth = (c[skip:] - c[:-skip]) / skip
    return smooth[::skip]


def cross_periodogram(fluxes: list[np.ndarray], dt_ps: float) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (THz) and the sample cross-spectral matrix ``(NF, Q, Q)`` of Q fluxes with ℓ
    components each, averaged over components: ``Ŝ_ab(f_k) = dt/n · mean_c X_a,c(f_k) X*_b,c(f_k)``.
    Its expectation is the two-sided spectrum ``∫ ⟨J_a(0) J_b(t)⟩ e^{iωt} dt``."""
    n = fluxes[0].shape[0]
    ft = np.stack([rfft(f, axis=0) for f in fluxes], axis=1)  # (NF, Q, ℓ)
    spec = np.einsum("kac,kbc->kab", ft, ft.conj()) * dt_ps / n / fluxes[0].shape[1]
    return np.fft.rfftfreq(n, dt_ps), spec


@dataclass
class CepstralEstimate:
    """Zero-frequency spectrum S(0) of a flux from cepstral analysis, in (flux unit)²·ps."""

    S0: float
    S0_stderr: float
    log_S0: float
    log_S0_stderr: float
    cutoff_K: int  # P* − 1: number of cepstral coefficients kept beyond c_0
    fstar_THz: float
    resample_skip: int
    n_components: int  # ℓ
    n_fluxes: int  # Q
    dof_components: int  # ν = ℓ − Q + 1
    n_samples: int
    dt_ps: float
    warnings: list[str] = field(default_factory=list)
    freq_THz: np.ndarray | None = field(default=None, repr=False)
    psd: np.ndarray | None = field(default=None, repr=False)  # unbiased sample PSD after resampling
    psd_filtered: np.ndarray | None = field(default=None, repr=False)  # cepstrally smoothed PSD
    aic: np.ndarray | None = field(default=None, repr=False)


def _log_bias(nf: int, nu: int) -> np.ndarray:
    """E[log(χ²_{2ν}/2ν)] per frequency; the real ω = 0 and Nyquist bins have half the dof."""
    lam = np.full(nf, digamma(nu) - np.log(nu))
    lam[0] = lam[-1] = digamma(nu / 2.0) - np.log(nu / 2.0)
    return lam


def _cepstral_variances(nf: int, nu: int) -> np.ndarray:
    """Variance of each cepstral coefficient ``c_k``: ψ'(ν)/N, doubled at k = 0 and N/2."""
    n = 2 * (nf - 1)
    var = np.full(nf, polygamma(1, nu) / n)
    var[0] = var[-1] = 2 * polygamma(1, nu) / n
    return var


def cepstral_estimate(fluxes: np.ndarray | list[np.ndarray], dt_ps: float, fstar_THz: float | None = None,
                      cutoff_K: int | None = None) -> CepstralEstimate:
    """S(0) of the first flux, with its standard error, by cepstral analysis.

    ``fluxes`` is one ``(n, ℓ)`` series (ℓ statistically equivalent, independent components, e.g. the
    3 Cartesian components of a heat flux) or a list of Q such series, the first being the flux of
    interest and the others to be decorrelated from it (Bertossa et al. 2019). ``dt_ps`` is the
    sampling interval. ``fstar_THz`` is the low-pass cutoff (default: :func:`default_fstar`);
    ``cutoff_K`` fixes P* − 1 instead of choosing it by AIC.

    At a cutoff K, ``log S(0) = c_0 + 2 Σ_{k=1}^{K} c_k`` with ``Var = ψ'(ν)(4K + 2)/N`` (Ercole et
    al. 2017, eqs. 14–16). Without ``cutoff_K`` the estimate is the Akaike-weighted average over all
    K (weights ∝ exp(−ΔAIC/2), Burnham & Anderson, *Model Selection and Multimodel Inference*, 2002,
    §4.2 — sportran's "Bayesian" option), whose variance adds the spread between cutoffs to the
    theoretical one: on Ornstein–Uhlenbeck series the single-K bar covers the truth only ~55 % of
    the time, the averaged one ~70 % (tests/properties/test_transport.py). S(0) = exp(log S(0)),
    stderr = S(0)·σ_log.
    """
    series = [_check_series(f, f"flux {i}") for i, f in enumerate(fluxes if isinstance(fluxes, list) else [fluxes])]
    for i, s in enumerate(series):
        require_varies(f"flux {i}", s, hint="a constant flux has no fluctuations and no Green–Kubo integral")
    if not dt_ps > 0:
        raise ValueError(f"dt_ps must be > 0 (time between samples, ps), got {dt_ps}")
    n, ell = series[0].shape
    if any(s.shape != (n, ell) for s in series):
        raise ValueError(f"all fluxes must have the shape of the first, {(n, ell)}; got {[s.shape for s in series]}")
    q = len(series)
    nu = ell - q + 1
    if nu < 1:
        raise ValueError(f"{q} fluxes with {ell} components each cannot be decorrelated: need ℓ ≥ Q")
    nyquist = 0.5 / dt_ps
    if fstar_THz is None:
        fstar_THz = default_fstar(series[0], dt_ps)
    skip = max(1, int(round(nyquist / fstar_THz)))
    resampled = [filter_and_resample(s, skip) for s in series]
    dt_r = dt_ps * skip
    freq, spec = cross_periodogram(resampled, dt_r)
    if q == 1:
        psd = spec[:, 0, 0].real
    else:
        psd = 1.0 / np.linalg.inv(spec)[:, 0, 0].real * ell / nu  # unbiased reduced spectrum
    nf = len(psd)
    if nf < 8:
        raise ValueError(f"only {nf} frequencies below f* = {fstar_THz:.3g} THz: the series is too short "
                         f"({n} samples of {dt_ps} ps) for this cutoff")
    warnings = _mean_warnings(resampled[0], dt_r, psd)
    log_psd = np.log(np.maximum(psd, np.finfo(float).tiny)) - _log_bias(nf, nu)
    ck = dct(log_psd, type=1) / (2 * (nf - 1))
    var = _cepstral_variances(nf, nu)
    tail = np.concatenate([np.cumsum((ck[::-1] ** 2 / var[::-1]))[::-1][1:], [0.0]])  # Σ_{k>K} c_k²/var_k
    aic = tail + 2.0 * (np.arange(nf) + 1)
    log_s0_k = ck[0] + 2 * np.concatenate([[0.0], np.cumsum(ck[1:-1])])  # log S(0) keeping c_0..c_K
    log_var_k = var[0] + 4 * np.concatenate([[0.0], np.cumsum(var[1:-1])])
    aic = aic[:-1]
    k_star = int(np.argmin(aic)) if cutoff_K is None else int(cutoff_K)
    if not 0 <= k_star < nf - 1:
        raise ValueError(f"cutoff_K must be in [0, {nf - 2}], got {k_star}")
    if cutoff_K is None:  # Akaike-weighted average over cutoffs: adds the model-selection uncertainty
        weight = np.exp(-0.5 * (aic - aic.min()))
        weight /= weight.sum()
        log_s0 = float(weight @ log_s0_k)
        log_var = float(weight @ (log_var_k + (log_s0_k - log_s0) ** 2))
    else:
        log_s0, log_var = float(log_s0_k[k_star]), float(log_var_k[k_star])
    kept = np.where(np.arange(nf) <= k_star, ck, 0.0)
    smooth = np.exp(dct(kept, type=1))  # DCT-I is its own inverse up to 2(NF − 1)
    s0 = float(np.exp(log_s0))
    return CepstralEstimate(
        S0=s0, S0_stderr=s0 * float(np.sqrt(log_var)), log_S0=float(log_s0), log_S0_stderr=float(np.sqrt(log_var)),
        cutoff_K=k_star, fstar_THz=float(nyquist / skip), resample_skip=skip, n_components=ell, n_fluxes=q,
        dof_components=nu, n_samples=n, dt_ps=float(dt_ps), warnings=warnings,
        freq_THz=freq, psd=psd, psd_filtered=smooth, aic=aic)


def _mean_warnings(x: np.ndarray, dt_ps: float, psd: np.ndarray) -> list[str]:
    """A mean flux inconsistent with zero (|z| > 4 against S(0)/T) means a non-equilibrium current."""
    n = x.shape[0]
    s_low = float(np.median(psd[1:max(3, len(psd) // 50)]))
    z = x.mean(axis=0) / np.sqrt(s_low / (n * dt_ps))
    if np.any(np.abs(z) > 4):
        return [f"the mean flux is not zero within noise (z = {np.round(z, 1).tolist()}): a net current "
                f"(non-equilibrium run, drift) biases S(0)"]
    return []


#: Without a spectral minimum, f* is where the smoothed log-PSD has fallen this much below its
#: zero-frequency value (e² ≈ 7.4× in power) ...
FALLBACK_LOG_DROP = 2.0
#: ... but never with fewer periodogram frequencies below f* than this.
FALLBACK_MIN_FREQUENCIES = 200


def default_fstar(x: np.ndarray, dt_ps: float) -> float:
    """Default low-pass cutoff f* (THz): the first minimum of the smoothed PSD beyond its
    low-frequency peak (at least e⁻¹ below the peak, with a band rising ≥ e^0.5 above it further on) — where the slow, diffusive part of the spectrum gives way to the vibrational
    bands (the choice Ercole et al. 2017 recommend). Bounded to [5/T, f_Nyquist], T the run length.

    When the smoothed PSD has no such minimum (a spectrum that falls monotonically, e.g. the
    stress of a dense liquid near its triple point, or an Ornstein–Uhlenbeck flux) f* is where the
    smoothed PSD has fallen e² below its zero-frequency value (:data:`FALLBACK_LOG_DROP`), with at
    least :data:`FALLBACK_MIN_FREQUENCIES` frequencies below it. A cutoff at Nyquist would be wrong
    there: the log-PSD then spans many decades, AIC keeps too few cepstral coefficients to resolve
    structure near zero frequency, and S(0) comes out biased low with an error bar that does not
    cover the bias (LJ at ρ* 0.8442, T* 0.722, 2000 τ: η* 3.04 ± 0.06 at Nyquist = 50/τ, 3.24 ±
    0.09 at this default (4.5/τ), 3.44 ± 0.21 at 1/τ, 3.39 ± 0.19 at 0.5/τ; Meier 2004: 3.258;
    benchmarks/RESULTS.md). The residual dependence on f* is in the result's f* scan.

    The estimate depends only weakly on f* once f* is above the low-frequency structure;
    :func:`fstar_scan` shows that dependence.
    """
    x = _check_series(x, "flux")
    n = x.shape[0]
    freq, spec = cross_periodogram([x], dt_ps)
    psd = spec[:, 0, 0].real
    nyquist = freq[-1]
    width = max(5, len(freq) // 200)  # ≈ 0.5 % of the band
    # running mean of the log-PSD; edges padded with the edge value (zero padding would drag the
    # ends of a log-spectrum towards 0 and fake a rise at Nyquist)
    smooth = uniform_filter1d(np.log(np.maximum(psd, np.finfo(float).tiny)), width, mode="nearest")
    coarse = smooth[::width]
    f_coarse = freq[::width]
    peak = int(np.argmax(coarse[: max(2, len(coarse) // 2)]))
    for i in range(max(peak, 1), len(coarse) - 1):
        if (coarse[i] < coarse[i - 1] and coarse[i] <= coarse[i + 1] and coarse[i] < coarse[peak] - 1.0
                and coarse[i + 1:].max() > coarse[i] + 0.5):  # a real valley: a band rises beyond it
            return float(np.clip(f_coarse[i], 5.0 / (n * dt_ps), nyquist))
    below = np.nonzero(coarse[1:] < coarse[0] - FALLBACK_LOG_DROP)[0]
    f_drop = f_coarse[below[0] + 1] if len(below) else nyquist
    return float(np.clip(max(f_drop, FALLBACK_MIN_FREQUENCIES / (n * dt_ps)), 5.0 / (n * dt_ps), nyquist))


def fstar_scan(fluxes: np.ndarray | list[np.ndarray], dt_ps: float, fstars_THz) -> list[dict]:
    """Cepstral S(0) at several cutoffs f* — the sensitivity check to report beside the estimate."""
    out = []
    for f in fstars_THz:
        try:
            est = cepstral_estimate(fluxes, dt_ps, fstar_THz=float(f))
        except ValueError:
            continue
        out.append({"fstar_THz": est.fstar_THz, "S0": est.S0, "S0_stderr": est.S0_stderr, "cutoff_K": est.cutoff_K})
    return out
