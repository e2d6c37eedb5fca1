"""``deepearth build``: each builder from the command line, an extxyz with its arrays, one summary line."""

import numpy as np
import pytest
from ase.io import read

from deepearth.cli import main


def test_mineral_defects_and_grain_boundary_from_the_command_line(tmp_path, capsys):
    mgo = tmp_path / "mgo.extxyz"
    assert main(["build", "mineral", "periclase", "--n-atoms", "200", "--out", str(mgo)]) == 0
    line = capsys.readouterr().out
    assert "216 atoms, Mg108O108, formal charge +0 e, density 3.578 g/cm³" in line  # 3x3x3 conventional cells
    gb = tmp_path / "gb.extxyz"
    assert main(["build", "gb", "periclase", "--plane", "3", "1", "0", "--min-length-A", "25",
                 "--out", str(gb)]) == 0
    line = capsys.readouterr().out
    assert "GB area" in line and "formal charge +0 e" in line
    w = tmp_path / "gb-w.extxyz"
    assert main(["build", "defects", str(gb), "--impurity", "W:6:Mg:2", "--region", "gb",
                 "--substitute", "Mg:Fe:0.1", "--seed", "4", "--out", str(w)]) == 0
    assert "formal charge +0 e" in capsys.readouterr().out
    atoms = read(w)
    symbols = np.array(atoms.get_chemical_symbols())
    assert (symbols == "W").sum() == 2 and set(atoms.arrays["region"][symbols == "W"]) == {1}
    assert "gb_distance_A" in atoms.arrays and "formal_charge" in atoms.arrays


def test_liquid_from_the_command_line_with_emt_copper(tmp_path, capsys):
    from ase.build import bulk
    from ase.io import write

    cu = tmp_path / "cu.extxyz"
    write(cu, bulk("Cu", "fcc", a=3.61, cubic=True).repeat(3))  # 108 atoms
    out = tmp_path / "cu-liquid.extxyz"
    argv = ["build", "liquid", str(cu), "--model", "emt", "--T-melt-K", "3000", "--T-K", "1800",
            "--melt-steps", "200", "--quench-steps", "200", "--quench-stages", "2", "--equilibrate-steps", "150",
            "--check-steps", "400", "--timestep-fs", "2", "--seed", "1", "--out", str(out)]
    assert main(argv) == 0
    assert "108 atoms, Cu108" in capsys.readouterr().out
    check = read(out).info["liquid_check"]
    assert check["diffusive"] and not check["crystalline_peaks"]
    # the crystal kept below melting is refused, with the criterion that failed
    argv[argv.index("3000")] = "1000"
    argv[argv.index("1800")] = "900"
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "did not give a liquid" in err and "MSD not diffusive" in err


@pytest.mark.reliability("bad input")
def test_bad_input_is_one_line(tmp_path, capsys):
    for argv, words in ((["build", "mineral", "quartz"], "unknown mineral 'quartz'"),
                        (["build", "defects", "periclase", "--impurity", "W:6:Mg"], "ELEMENT:VALENCE:HOST:N"),
                        (["build", "defects", "periclase", "--impurity", "W:6:Mg:2", "--region", "gb"], "region"),
                        (["build", "gb", "periclase", "--plane", "1", "1", "1"], "plane")):
        assert main([*argv, "--out", str(tmp_path / "x.extxyz")]) == 2
        err = capsys.readouterr().err
        assert words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.reliability("bad input")
def test_broken_structure_files_are_one_line_naming_the_file(tmp_path, capsys):
    from ase.build import bulk
    from ase.io import write

    good = tmp_path / "mgo.cif"
    write(good, bulk("MgO", "rocksalt", a=4.21, cubic=True))
    text = good.read_text()
    (tmp_path / "trunc.cif").write_text(text[: len(text) // 2])
    (tmp_path / "garbage.vasp").write_text("hello world\nthis is not a structure\n")
    (tmp_path / "empty.extxyz").write_text("")
    (tmp_path / "molecule.xyz").write_text("2\n\nMg 0 0 0\nO 2 0 0\n")
    write(tmp_path / "cu.extxyz", bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2))
    out = ["--out", str(tmp_path / "x.extxyz")]
    for argv, words in (
            (["defects", str(tmp_path / "trunc.cif"), "--vacancies", "Mg:1"], "trunc.cif: cannot read as a structure"),
            (["gb", str(tmp_path / "garbage.vasp"), "--sigma", "5"], "garbage.vasp: cannot read as a structure: "),
            (["defects", str(tmp_path / "empty.extxyz"), "--vacancies", "Mg:1"], "empty.extxyz: cannot read"),
            (["defects", str(tmp_path / "molecule.xyz"), "--vacancies", "Mg:1"], "molecule.xyz: no 3-D periodic cell"),
            (["defects", str(tmp_path / "missing.cif"), "--vacancies", "Mg:1"], "missing.cif: no such structure file"),
            (["liquid", str(tmp_path / "cu.extxyz"), "--model", "emt", "--T-K", "1500", "--T-melt-K", "3000",
              "--timestep-fs", "50"], "--timestep-fs: 50 fs is above"),
    ):
        assert main(["build", *argv, *out]) == 2
        err = capsys.readouterr().err
        assert words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        assert not err.rstrip().endswith(": ")
    assert main(["build", "defects", str(good), "--vacancies", "Mg:1", *out]) == 0
