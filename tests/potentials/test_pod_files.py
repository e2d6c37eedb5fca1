"""The POD file checks agree with LAMMPS: the coefficient count the parameter file implies is the
count ``fitpod`` writes, for every body order, several species and no one-body term."""

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from deepearth.potentials.pod import PODPotential, run_fitpod, write_pod_extxyz
from deepearth.potentials.pod_files import check_pod_coeff, n_coefficients, read_pod_param

BASE = PODPotential(["Al", "Cu"], rcut_A=4.5, two_body=6, three_body=(4, 3))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("podfiles")
    rng = np.random.default_rng(0)
    frames = []
    for _ in range(4):
        a = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 2, 1))
        a.symbols[[0, 5]] = "Al"
        a.rattle(0.1, rng=rng)
        a.calc = EMT()
        frames.append(dict(symbols=a.get_chemical_symbols(), positions=a.positions, cell=a.cell.array,
                           energy=a.get_potential_energy(), forces=a.get_forces(), virial=None))
    (root / "train").mkdir()
    write_pod_extxyz(frames, root / "train" / "train.xyz")
    (root / "data.txt").write_text(BASE.data_text(root / "train", None))
    return root


@pytest.mark.parametrize("species, settings", [
    ("Al Cu", {}),
    ("Al Cu", {"fourbody_number_radial_basis_functions": 3, "fourbody_angular_degree": 2}),
    ("Al Cu", {"fourbody_number_radial_basis_functions": 3, "fourbody_angular_degree": 2,
               "fivebody_number_radial_basis_functions": 2, "fivebody_angular_degree": 2}),
    ("Al Cu", {"fourbody_number_radial_basis_functions": 3, "fourbody_angular_degree": 2,
               "sixbody_number_radial_basis_functions": 3, "sixbody_angular_degree": 1}),
    ("Al Cu", {"fourbody_number_radial_basis_functions": 3, "fourbody_angular_degree": 3,
               "sevenbody_number_radial_basis_functions": 2, "sevenbody_angular_degree": 2}),
    ("Al Cu Ni", {"fourbody_number_radial_basis_functions": 2, "fourbody_angular_degree": 1}),
    ("Al Cu", {"onebody": 0}),
])
def test_coefficient_count_matches_fitpod(data, tmp_path, species, settings):
    lines = []
    for line in BASE.param_text(["Al", "Cu"]).splitlines():
        key = line.split()[0]
        if key == "species":
            line = f"species {species}"
        elif key in settings:
            line = f"{key} {settings[key]}"
        lines.append(line)
    lines += [f"{k} {v}" for k, v in settings.items() if not any(ln.split()[0] == k for ln in lines)]
    param = tmp_path / "param.txt"
    param.write_text("\n".join(lines) + "\n")
    (tmp_path / "fit").mkdir()
    run_fitpod(param, data / "data.txt", tmp_path / "fit", tmp_path / "fit.log")
    coeff = tmp_path / "fit" / "pod_coefficients.pod"
    header = coeff.read_text().split("\n", 1)[0].split()
    params = read_pod_param(param)
    assert n_coefficients(params) == tuple(int(x) for x in header[1:])
    assert check_pod_coeff(coeff, params) == int(header[1])


def test_comments_quotes_and_defaults_as_lammps_reads_them(tmp_path):
    param = tmp_path / "p.txt"
    param.write_text("# a comment\n\nspecies 'Mg' \"O\"  # trailing comment\nrcut 5.5\n")
    p = read_pod_param(param)
    assert p.species == ("Mg", "O") and p["rcut"] == 5.5 and p["rin"] == 0.5
    assert p["fourbody_number_radial_basis_functions"] == 4  # LAMMPS's default when absent
