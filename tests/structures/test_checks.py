"""Checks at the door: structure files read with one-line errors naming the file, impossible cells
refused (no atoms, no cell, density, overlapping atoms), and the timestep the lightest element allows."""

import math

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.io import write

from deepearth.structures.build import build_supercell, build_system, unit_cell
from deepearth.structures.checks import (InputError, check_structure, check_timestep, max_timestep_fs,
                                         read_reason, read_structure, structure_problem)

pytestmark = pytest.mark.reliability("bad input")

MGO = bulk("MgO", "rocksalt", a=4.21, cubic=True)


@pytest.fixture
def files(tmp_path):
    out = {}
    for fmt, name in (("vasp", "POSCAR"), ("cif", "mgo.cif"), ("extxyz", "mgo.extxyz")):
        good = tmp_path / name
        write(good, MGO, format=fmt)
        text = good.read_text()
        out[fmt] = good
        (tmp_path / f"trunc-{name}").write_text(text[: len(text) // 2])
        (tmp_path / f"garbage-{name}").write_text("hello world\nthis is not a structure\n\x00 1 2 3\n")
        (tmp_path / f"empty-{name}").write_text("")
    return tmp_path, out


@pytest.mark.parametrize("fmt, name", [("vasp", "POSCAR"), ("cif", "mgo.cif"), ("extxyz", "mgo.extxyz")])
@pytest.mark.parametrize("kind", ["trunc", "garbage", "empty"])
def test_broken_files_are_one_value_error_naming_the_file(files, fmt, name, kind):
    d, good = files
    assert len(read_structure(good[fmt])) == 8
    bad = d / f"{kind}-{name}"
    with pytest.raises(ValueError) as err:
        read_structure(bad)
    msg = str(err.value)
    assert msg.startswith(f"{bad}: cannot read as a structure: ") and "\n" not in msg
    assert msg.split("cannot read as a structure: ")[1].strip(" ()")  # a reason, even for ASE's bare exceptions


def test_a_bare_exception_still_gets_a_reason():
    assert "ends early" in read_reason(StopIteration()) and "StopIteration" in read_reason(StopIteration())
    assert read_reason(AssertionError("")) != ""
    assert read_reason(ValueError("bad\nline")) == "bad line (ValueError)"


def test_files_without_atoms_or_cell(tmp_path):
    xyz = tmp_path / "molecule.xyz"
    xyz.write_text("2\n\nMg 0 0 0\nO 2 0 0\n")
    with pytest.raises(ValueError, match=r"molecule.xyz: no 3-D periodic cell"):
        read_structure(xyz)
    none = tmp_path / "none.extxyz"
    none.write_text('0\nLattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3 pbc="T T T"\n')
    with pytest.raises(ValueError, match=r"none.extxyz: no atoms"):
        read_structure(none)
    with pytest.raises(ValueError, match=r"nope.cif: no such structure file"):
        read_structure(tmp_path / "nope.cif")


def test_structure_problems():
    assert structure_problem(MGO) is None
    assert structure_problem(Atoms()) == "no atoms"
    squeezed = MGO.copy()
    squeezed.set_cell(MGO.cell * 0.5, scale_atoms=True)  # 8× the density: 28.6 g/cm³, closest pair 1.05 Å
    assert structure_problem(squeezed) is None
    squeezed.set_cell(MGO.cell * 0.4, scale_atoms=True)
    assert "density" in structure_problem(squeezed)
    close = MGO.copy()
    close.positions[1] = close.positions[0] + [0.3, 0, 0]
    problem = structure_problem(close)
    assert "0.3 Å apart" in problem and "atoms 0 (Mg) and 1" in problem
    # one atom in a cell smaller than 0.5 Å along a: it meets its own image (density alone would pass)
    thin = Atoms("Fe", cell=[0.4, 10, 4.0], pbc=True)
    assert "its periodic image" in structure_problem(thin)
    with pytest.raises(ValueError, match="^here: no atoms$"):
        check_structure(Atoms(), "here")


def test_the_timestep_rule():
    limit_h, el = max_timestep_fs(["Fe", "H"])
    assert el == "H" and limit_h == pytest.approx(0.72, abs=0.01)
    limit_o, el = max_timestep_fs(["Mg", "O", "Si"])
    assert el == "O" and limit_o == pytest.approx(2.88, abs=0.01)
    assert limit_o / limit_h == pytest.approx(math.sqrt(15.999 / 1.008), rel=1e-6)  # √m
    assert max_timestep_fs(["Fe"])[0] == pytest.approx(5.38, abs=0.01)
    check_timestep(2.0, ["Mg", "O"], "exploration.timestep_fs")
    with pytest.raises(InputError) as err:
        check_timestep(50.0, ["Mg", "O"], "exploration.timestep_fs")
    assert err.value.key == "exploration.timestep_fs" and "lightest element, O" in err.value.reason
    for bad in (float("inf"), float("nan"), 0.0, -1.0):
        with pytest.raises(InputError, match="^production.timestep_fs: "):
            check_timestep(bad, ["Mg", "O"], "production.timestep_fs")


def test_build_system_names_the_recipe_key(tmp_path):
    with pytest.raises(InputError) as err:
        build_system("rocksalt", "MgO", 4.21, (0, 1, 1))
    assert err.value.key == "system.supercell"
    with pytest.raises(InputError, match="^system.supercell: "):
        build_supercell("rocksalt", "MgO", 4.21, (2, 2))
    with pytest.raises(InputError) as err:
        build_system("rocksalt", "MgO", 0.5, (1, 1, 1))  # used to hang the reference
    assert err.value.key == "system.lattice_constant_A" and "density" in err.value.reason
    with pytest.raises(InputError) as err:
        unit_cell("rocksalt", "MgO", float("nan"))
    assert err.value.key == "system.lattice_constant_A"
    bad = tmp_path / "trunc.cif"
    bad.write_text("data_x\n_cell_length_a 4.2\n")
    with pytest.raises(InputError) as err:
        build_system("trunc.cif", "MgO", 4.21, (1, 1, 1), base_dir=tmp_path)
    assert err.value.key == "system.structure" and str(bad) in err.value.reason
    with pytest.raises(InputError, match=r"^system.grain_boundary: "):
        build_system("periclase", "MgO", 4.21, (1, 1, 1), grain_boundary={"plane": (1, 1, 1)})
    with pytest.raises(InputError, match=r"^system.defects.0: vacancies: "):
        build_system("periclase", "MgO", 4.21, (1, 1, 1), defects=[{"kind": "vacancies", "element": "Fe"}])
    atoms = build_system("periclase", "MgO", 4.21, (1, 1, 1))
    assert len(atoms) == 8 and np.all(atoms.pbc)


def test_melt_quench_refuses_a_timestep_before_any_md():
    from ase.calculators.emt import EMT

    from deepearth.structures import coexistence_cell, melt_quench

    cu = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    with pytest.raises(InputError, match="^timestep_fs: 50 fs is above the 5.7"):
        melt_quench(cu, EMT(), T_melt_K=3000, T_K=1500, timestep_fs=50.0)
    with pytest.raises(InputError, match="^timestep_fs: "):
        coexistence_cell(cu, calculator=EMT(), T_K=1500, timestep_fs=50.0)
