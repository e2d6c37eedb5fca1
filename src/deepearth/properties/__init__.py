"""Property estimators: work on trajectories from any code; never import the MD/ML layers."""

from deepearth.properties.arrhenius import ArrheniusResult, arrhenius_fit, from_diffusion_results
from deepearth.properties.diffusion import DiffusionResult, diffusion_coefficient, yeh_hummer_correction
from deepearth.properties.trajectory import Region, Trajectory, read_lammps_dump, read_trajectory, unwrap_positions
from deepearth.properties.transport import (
    TransportResult,
    ionic_conductivity,
    nernst_einstein_conductivity,
    thermal_conductivity,
    viscosity,
)

__all__ = ["DiffusionResult", "diffusion_coefficient", "yeh_hummer_correction", "Region", "read_lammps_dump", "Trajectory", "read_trajectory", "unwrap_positions",
           "TransportResult", "thermal_conductivity", "viscosity", "ionic_conductivity",
           "nernst_einstein_conductivity", "ArrheniusResult", "arrhenius_fit", "from_diffusion_results"]
