"""Equations of state with honest uncertainties: isothermal fits (BM3, Vinet; P–V or E–V) and P–V–T
analysis of MD grids (thermal pressure, thermal expansion, Grüneisen parameter, K_T, adiabats).

```python
from deepearth.properties import eos
r = eos.fit(volumes_A3, pressures_GPa=p, form="vinet", pressures_stderr_GPa=dp)
r.V0, r.K0, r.K0_prime, r.K0_stderr, r.chi2_red, r.volume(100.0, stderr=True)
```

The modules of this package, each one job:

* :mod:`.forms` — the EOS formulae (BM3: Birch 1947; Vinet: Vinet et al. 1987), :data:`FORMS`;
* :mod:`.start` — the robust start (BM3 variable projection over V0);
* :mod:`.fit` — :func:`fit`: weighted/unweighted nonlinear least squares, fixed parameters, covariance;
* :mod:`.result` — :class:`EOSFit`: parameters, covariance, χ², residuals, P(V)/V(P)/E(V)/K(V) with errors;
* :mod:`.bm3` — :class:`BirchMurnaghan3`/:func:`fit_birch_murnaghan3`, the reference-EOS stage's result;
* :mod:`.isotherms` — grouping a grid by T, per-isotherm P(V) and E(V) fits;
* :mod:`.thermal` — :func:`pvt_analysis` of a (V, T, P, E) grid; :mod:`.adiabat` — γ(V) and adiabats.

Only numpy and scipy are needed.
"""

from deepearth.properties.eos.bm3 import BirchMurnaghan3, fit_birch_murnaghan3
from deepearth.properties.eos.fit import fit
from deepearth.properties.eos.forms import (
    FORMS,
    EOSForm,
    bm3_bulk_modulus,
    bm3_energy,
    bm3_pressure,
    vinet_bulk_modulus,
    vinet_energy,
    vinet_pressure,
)
from deepearth.properties.eos.result import PARAMETERS, EOSFit, runs_test_p_value
from deepearth.properties.eos.thermal import ThermalEOSResult, pvt_analysis

__all__ = ["BirchMurnaghan3", "EOSFit", "EOSForm", "FORMS", "PARAMETERS", "bm3_bulk_modulus", "bm3_energy",
           "bm3_pressure", "fit", "fit_birch_murnaghan3", "pvt_analysis", "runs_test_p_value", "ThermalEOSResult", "vinet_bulk_modulus",
           "vinet_energy", "vinet_pressure"]
