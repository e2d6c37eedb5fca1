"""A whole run in seconds: EMT copper as the reference, a small POD committee, tiny MD (shared by
the stage tests and the kill-and-resume fault tests)."""

from pathlib import Path

from ase.build import bulk
from ase.io import write


def write_copper(path: Path, a_A: float = 3.61) -> None:
    """A 2×2×2 conventional fcc copper cell (32 atoms, lattice constant ``a_A`` Å) as VASP POSCAR."""
    write(path, bulk("Cu", "fcc", a=a_A, cubic=True).repeat((2, 2, 2)), format="vasp")


POD_SMALL = """
[potential]
backend = "pod"
ensemble_size = 2
rcut_A = 4.5
two_body = 4
three_body = [3, 2]
four_body = [0, 0]
"""

EMT_RECIPE = """
name = "emt-copper"
run_dir = "{run_dir}"
seed = 11
workers = 1
[system]
structure = "cu.vasp"
supercell = [1, 1, 1]
bulk_modulus_GPa = 140.0
[initial]
n_eos_volumes = 5
n_configs = 8
strain = 0.02
rattle_A = 0.05
[reference]
kind = "emt"
validation_fraction = 0.3
{pod}
[exploration]
pressures_GPa = [5.0]
temperatures_K = [600.0, 1200.0]
steps = 40
deviation_interval = 10
criterion = "absolute"
trust_lo = 0.002          # tight on purpose: iteration 0 must leave candidates to label
trust_hi = 5.0
max_candidates_per_iteration = 3
max_iterations = 2
[production]
points = [{{P_GPa = 5.0, T_K = 1200.0}}]
equilibration_steps = 20
steps = 400
sample_interval = 10
replicas = 2
allow_unconverged = true  # two iterations do not converge; the test needs production anyway
[properties.diffusion]
species = ["Cu"]
min_fit_start_ps = 0.05
"""
