"""Arrhenius fits of diffusivities with honest uncertainties (Peng et al. 2025, eqs. 3–4).

Eq. 3, one pressure:          ``D = D0 exp(−ΔH / RT)``
Eq. 4, several pressures:     ``D = D0 exp(−(ΔE + P ΔV) / RT)``

Both are linear in ``ln D``: ``ln D = ln D0 − ΔH · 1/(RT)`` (− ``ΔV · P/(RT)``). The fit is a weighted
least-squares fit in ln D with ``σ_lnD = σ_D / D`` (first-order propagation of the D error), or an
ordinary one when no errors are given. Parameters are ``ln D0`` (D0 in m²/s), the activation enthalpy
or energy in kJ/mol and the activation volume in cm³/mol; with P in GPa, ``P ΔV`` is then in kJ/mol
exactly (1 GPa · 1 cm³/mol = 1e9 Pa · 1e-6 m³/mol = 1 kJ/mol).

Peng, Yoshino & Deng (Nat. Commun. 2025: W in (Mg,Fe)O grain boundaries) find ΔH that changes
with temperature (322 kJ/mol over 2000–2750 K, 218 kJ/mol over 2750–3500 K at 25 GPa), so
:func:`arrhenius_fit` can fit two independent branches either side of a given or searched break
temperature and says whether the data justify two branches (:mod:`.piecewise`).

Predictions carry a 1σ band of the fitted relation (parameter uncertainty only, not the scatter of a
new measurement), propagated linearly in ln D through the parameter covariance or by Monte Carlo.

The modules of this package, each one job (their shared helpers are public names inside the package):

* :mod:`.fit` — :func:`arrhenius_fit`, the entry point;
* :mod:`.inputs` — :func:`from_diffusion_results` / :class:`ArrheniusData` and the input checks;
* :mod:`.branch` — one branch: :class:`ArrheniusResult`, :class:`ArrheniusPrediction`;
* :mod:`.piecewise` — two branches and the break test: :class:`PiecewiseArrheniusResult`;
* :mod:`.lsq` — the weighted least-squares solver and its covariance policy;
* :mod:`.derived` — quantities derived from fitted diffusivities: the effective bulk diffusivity
  (eq. 5) and the isotope exponent, as :class:`ValueWithStderr` (:mod:`.values`).

Only numpy and scipy are needed.
"""

from deepearth.properties.arrhenius.branch import ArrheniusPrediction, ArrheniusResult
from deepearth.properties.arrhenius.derived import effective_diffusivity, isotope_exponent
from deepearth.properties.arrhenius.fit import arrhenius_fit
from deepearth.properties.arrhenius.inputs import ArrheniusData, from_diffusion_results
from deepearth.properties.arrhenius.piecewise import PiecewiseArrheniusResult
from deepearth.properties.arrhenius.values import ValueWithStderr

__all__ = ["ArrheniusResult", "PiecewiseArrheniusResult", "ArrheniusPrediction", "ArrheniusData", "ValueWithStderr",
           "arrhenius_fit", "from_diffusion_results", "effective_diffusivity", "isotope_exponent"]
