"""Self-diffusion coefficients from mean squared displacements (Peng et al. 2025, eq. 2).

The modules of this package, each one job (their shared helpers are public names inside the package):

* :mod:`.estimator` — :func:`diffusion_coefficient` and its :class:`DiffusionResult`, and the
  finite-size correction :func:`yeh_hummer_correction`;
* :mod:`.window` — the diffusive fit window from the physics (caging time, local exponent ≈ 1);
* :mod:`.msd_gls` — MSD curves and moments, the MSD covariance model and the generalised-least-squares
  line (McCluskey, Coles & Morgan, J. Chem. Theory Comput. 21, 79 (2025));
* :mod:`.scatter` — the error bar the data show: replicas and blocks of time origins, combined with GLS;
* :mod:`.inputs` — estimator input: trajectories or position arrays as checked replicas, velocities,
  atom selection.
"""

from deepearth.properties.diffusion.estimator import (
    MIN_FRAMES,
    XI_CUBIC,
    DiffusionResult,
    diffusion_coefficient,
    remove_drift,
    yeh_hummer_correction,
)
from deepearth.properties.diffusion.msd_gls import GLS_RIDGE, gls_line, gls_msd_slope, msd_covariance, msd_per_atom
from deepearth.properties.diffusion.window import (WINDOW_TOLERANCE, caging_time_from_msd, caging_time_from_vacf,
                                                   diffusive_window, local_slope)

__all__ = ["DiffusionResult", "diffusion_coefficient", "diffusive_window", "local_slope", "remove_drift",
           "yeh_hummer_correction", "XI_CUBIC", "MIN_FRAMES", "GLS_RIDGE", "gls_line", "gls_msd_slope",
           "msd_covariance", "msd_per_atom", "WINDOW_TOLERANCE", "caging_time_from_msd", "caging_time_from_vacf"]
