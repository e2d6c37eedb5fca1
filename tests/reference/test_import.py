"""First-principles frames in: dpdata-read frames, provenance, electronic temperature, ``deepearth import``."""

from pathlib import Path

import dpdata
import numpy as np
import pytest
from ase.io import read as ase_read
from ase.stress import full_3x3_to_voigt_6_stress
from ase.units import Ry, kB

from datafiles import data_path
from deepearth.cli import main
from deepearth.reference import read_frames
from deepearth.store import LabelStore



def stress_from_virial(virial, cell):
    return full_3x3_to_voigt_6_stress(-np.reshape(virial, (3, 3)) / abs(np.linalg.det(np.reshape(cell, (3, 3)))))


# ---------------------------------------------------------------------------- dpdata fixtures
@pytest.mark.parametrize("source", ["cp2k/cp2k_normal_output/cp2k_output", "cp2k/aimd_stress"])
def test_cp2k_fixtures_match_the_stored_deepmd_reference(source):
    path = data_path("dpdata-fixtures", source)
    ref_dir = data_path(path.parent / "deepmd" if path.is_file() else path / "deepmd")
    frames = read_frames(path)
    s = ref_dir / "set.000"
    energy, force, virial, box, coord = (np.load(s / f"{k}.npy") for k in ("energy", "force", "virial", "box", "coord"))
    assert len(frames) == len(energy) >= 1
    names = (ref_dir / "type_map.raw").read_text().split()
    types = np.loadtxt(ref_dir / "type.raw", dtype=int)
    for i, atoms in enumerate(frames):
        assert atoms.get_potential_energy() == energy[i]
        assert np.array_equal(atoms.get_forces().ravel(), force[i])
        assert np.array_equal(atoms.positions.ravel(), coord[i])
        assert np.array_equal(atoms.cell.array.ravel(), box[i])
        assert np.array_equal(atoms.get_stress(), stress_from_virial(virial[i], box[i]))
        # kinds (Fe1, Fe2) become elements; the kind stays in the tags
        assert atoms.get_chemical_symbols() == [names[t].rstrip("0123456789") for t in types]
    # the deepmd reference itself reads back identically
    back = read_frames(ref_dir)
    assert [a.get_potential_energy() for a in back] == [a.get_potential_energy() for a in frames]
    assert np.array_equal(back[0].get_stress(), frames[0].get_stress())
    prov = frames[0].info["provenance"]
    assert prov["code"].startswith("CP2K version") and prov["functional"] == "PBE"
    assert prov["vdw"] == "DFT-D3" and "electronic_temperature_K" not in frames[0].info


def test_cp2k_density_cutoff_and_kinds():
    (fe,) = read_frames(data_path("dpdata-fixtures", "cp2k/cp2k_normal_output/cp2k_output"))
    assert fe.info["provenance"]["kinds"] == "Fe1,Fe2,O" and set(fe.get_tags()) == {0, 1, 2}
    assert fe.info["provenance"]["cutoff_eV"] == pytest.approx(400 * Ry)  # 200 Ha printed as [a.u.]
    (ch4,) = read_frames(data_path("dpdata-fixtures", "cp2k/aimd_stress"))  # input CUTOFF 800 (Ry), log 400 Ha
    assert ch4.info["provenance"]["cutoff_eV"] == pytest.approx(800 * Ry)


def test_vasp_outcar_fixture_equals_dpdata_and_records_settings():
    path = data_path("dpdata-fixtures", "poscars/OUTCAR.h2o.md")
    frames = read_frames(path)
    ref = dpdata.LabeledSystem(str(path), fmt="vasp/outcar")
    assert len(frames) == ref.get_nframes() == 3
    for i, atoms in enumerate(frames):
        assert atoms.get_potential_energy() == ref["energies"][i]
        assert np.array_equal(atoms.get_forces(), ref["forces"][i])
        assert np.array_equal(atoms.get_stress(), stress_from_virial(ref["virials"][i], ref["cells"][i]))
        assert atoms.get_chemical_symbols() == ["O", "O", "H", "H", "H", "H"]
    prov = frames[2].info["provenance"]
    assert prov["code"].startswith("VASP 5.4.4") and prov["functional"] == "PBE"
    assert prov["cutoff_eV"] == 800.0 and prov["smearing"] == "gaussian" and prov["smearing_width_eV"] == 0.05
    assert prov["source_frame"] == 2 and prov["source_file"] == str(path.resolve())
    # Gaussian smearing is not a Fermi-Dirac temperature
    assert "T_el_K" not in prov and "electronic_temperature_K" not in frames[0].info


def test_qe_fixture_equals_dpdata(tmp_path):
    path = data_path("dpdata-fixtures", "qe.scf/02.out")
    (atoms,) = read_frames(path)
    ref = dpdata.LabeledSystem(str(path), fmt="qe/pw/scf")
    assert atoms.get_potential_energy() == ref["energies"][0]
    assert np.array_equal(atoms.get_forces(), ref["forces"][0])
    assert np.array_equal(atoms.get_stress(), stress_from_virial(ref["virials"][0], ref["cells"][0]))
    prov = atoms.info["provenance"]
    assert prov["functional"] == "SCAN" and prov["cutoff_eV"] == pytest.approx(300 * Ry)
    assert "smearing" not in prov and "electronic_temperature_K" not in atoms.info  # fixed occupations
    # the same run with Fermi-Dirac smearing: T_el = degauss / k_B
    (tmp_path / "fd.in").write_text(data_path("dpdata-fixtures", "qe.scf/02.in").read_text().replace(
        "ecutwfc=300,", "ecutwfc=300,\noccupations='smearing',\nsmearing='fd',\ndegauss=0.01,"))
    (tmp_path / "fd.out").write_text(path.read_text())
    (fd,) = read_frames(tmp_path / "fd.out")
    assert fd.info["electronic_temperature_K"] == pytest.approx(0.01 * Ry / kB)
    assert fd.info["provenance"]["smearing"] == "fermi-dirac"
    text = path.read_text().replace("     kinetic-energy cutoff", "     Methfessel-Paxton smearing, width (Ry)=  2.0000E-02\n"
                                                                  "     kinetic-energy cutoff", 1)
    (tmp_path / "mp.out").write_text(text)
    (tmp_path / "mp.in").write_text(data_path("dpdata-fixtures", "qe.scf/02.in").read_text())
    (mp,) = read_frames(tmp_path / "mp.out")
    assert mp.info["provenance"]["smearing"] == "methfessel-paxton"
    assert mp.info["provenance"]["smearing_width_eV"] == pytest.approx(0.02 * Ry)
    assert "electronic_temperature_K" not in mp.info


def test_cp2k_fermi_dirac_smearing_gives_T_el(tmp_path):
    text = data_path("dpdata-fixtures", "cp2k/cp2k_normal_output/cp2k_output").read_text()
    marker = "                        No outer SCF"
    assert marker in text
    text = text.replace(marker, "                        Smear method:                                FERMI_DIRAC\n"
                                "                        Electronic temperature [K]:                       1500.0\n"
                        + marker, 1)
    (tmp_path / "cp2k.out").write_text(text)
    (atoms,) = read_frames(tmp_path / "cp2k.out")
    assert atoms.info["electronic_temperature_K"] == 1500.0
    assert atoms.info["provenance"]["smearing"] == "fermi-dirac"


def test_lammps_dump_is_not_a_labelled_source():
    with pytest.raises(ValueError, match="traj.dump"):
        read_frames(data_path("dpdata-fixtures", "lammps/traj.dump"))


# ------------------------------------------------------------------------- casio3 (GPUMD/NEP)
def test_casio3_gpumd_extxyz_frames():
    counts = {"2500K": 80, "3000K": 80, "4000K": 110}
    p_ranges = {"2500K": (-4.6, 81.8), "3000K": (-3.4, 83.0), "4000K": (-5.5, 128.7)}
    for T, n in counts.items():
        path = data_path("casio3-melt-pbe", f"train_{T}.xyz")
        frames = read_frames(path)
        assert len(frames) == n
        ase_frames = ase_read(path, ":")
        for atoms, ref in zip(frames[::20], ase_frames[::20]):
            assert atoms.get_chemical_formula() == "Ca27O81Si27"
            assert atoms.get_potential_energy() == ref.info["Energy"]
            assert np.array_equal(atoms.get_forces(), ref.get_forces())
            assert np.array_equal(atoms.positions, ref.positions)
            assert np.allclose(atoms.get_stress(), stress_from_virial(ref.info["Virial"], ref.cell.array),
                               rtol=0, atol=1e-15)
        p = [-np.trace(a.get_stress(voigt=False)) / 3 * 160.21766208 for a in frames]
        assert (round(min(p), 1), round(max(p), 1)) == p_ranges[T]
        assert "electronic_temperature_K" not in frames[0].info  # the file does not record it
        assert isinstance(frames[0].info["provenance"]["config_type"], int)


# ---------------------------------------------------------------------------- synthetic files
GPUMD = """2
Energy=-10.5 Virial="3.0 0.3 0.1 0.3 6.0 0.2 0.1 0.2 9.0" Lattice="2.0 0.0 0.0 0.0 3.0 0.0 0.0 0.0 4.0" T_el=3000 Config_type=melt Properties=species:S:1:pos:R:3:force:R:3
Mg 0.0 0.0 0.0 0.1 -0.2 0.3
O 1.0 1.5 2.0 -0.1 0.2 -0.3
2
Energy=-11.0 Virial="-1.0 0.0 0.0 0.0 -2.0 0.0 0.0 0.0 -3.0" Lattice="2.0 0.0 0.0 0.0 2.0 0.0 0.0 0.0 2.0" T_el=4000 Config_type=melt Properties=species:S:1:pos:R:3:force:R:3
Mg 0.1 0.0 0.0 0.5 0.0 0.0
O 1.0 1.0 1.0 -0.5 0.0 0.0
"""


def test_gpumd_capitalised_keys_and_virial_sign(tmp_path):
    path = tmp_path / "train.xyz"
    path.write_text(GPUMD)
    a, b = read_frames(path)
    assert a.get_potential_energy() == -10.5 and b.get_potential_energy() == -11.0
    assert np.array_equal(a.get_forces(), [[0.1, -0.2, 0.3], [-0.1, 0.2, -0.3]])
    assert a.get_chemical_symbols() == ["Mg", "O"] and np.array_equal(a.positions[1], [1.0, 1.5, 2.0])
    # stress = -virial / V, Voigt xx yy zz yz xz xy; positive virial (compression) -> negative stress
    assert np.allclose(a.get_stress(), -np.array([3.0, 6.0, 9.0, 0.2, 0.1, 0.3]) / 24.0, rtol=0, atol=1e-15)
    assert np.allclose(b.get_stress(), np.array([1.0, 2.0, 3.0, 0, 0, 0]) / 8.0, rtol=0, atol=1e-15)
    assert b.get_stress()[0] > 0  # negative virial = tension
    assert (a.info["electronic_temperature_K"], b.info["electronic_temperature_K"]) == (3000.0, 4000.0)
    assert a.info["provenance"]["config_type"] == "melt" and "code" not in a.info["provenance"]
    # the same file with lower-case keys reads the same
    lower = tmp_path / "lower.extxyz"
    lower.write_text(GPUMD.replace("Energy=", "energy=").replace("Virial=", "virial="))
    assert np.array_equal(read_frames(lower)[0].get_stress(), a.get_stress())


VASPRUN = """<?xml version="1.0" encoding="ISO-8859-1"?>
<modeling>
 <generator>
  <i name="program" type="string">vasp </i>
  <i name="version" type="string">6.3.2  </i>
 </generator>
 <incar>
  <i name="ENCUT">    520.00000000</i>
  <i type="int" name="ISMEAR">    -1</i>
  <i name="SIGMA">      0.25852000</i>
  <i type="string" name="GGA">PS</i>
 </incar>
 <parameters>
  <separator name="electronic convergence" >
   <i type="int" name="NELM">    60</i>
  </separator>
 </parameters>
 <atominfo>
  <atoms>       2 </atoms>
  <types>       2 </types>
  <array name="atoms" >
   <dimension dim="1">ion</dimension>
   <field type="string">element</field>
   <field type="int">atomtype</field>
   <set>
    <rc><c>Mg</c><c>   1</c></rc>
    <rc><c>O </c><c>   2</c></rc>
   </set>
  </array>
  <array name="atomtypes" >
   <set>
    <rc><c>   1</c><c>Mg</c><c>     24.30500000</c><c>      8.00000000</c><c>  PAW_PBE Mg_pv 02Apr2005   </c></rc>
    <rc><c>   1</c><c>O </c><c>     16.00000000</c><c>      6.00000000</c><c>  PAW_PBE O 08Apr2002   </c></rc>
   </set>
  </array>
 </atominfo>
 <calculation>
  <scstep>
   <energy>
    <i name="e_fr_energy">    -11.50000000 </i>
   </energy>
  </scstep>
  <structure>
   <crystal>
    <varray name="basis" >
     <v>       4.00000000       0.00000000       0.00000000 </v>
     <v>       0.00000000       4.00000000       0.00000000 </v>
     <v>       0.00000000       0.00000000       4.00000000 </v>
    </varray>
   </crystal>
   <varray name="positions" >
    <v>       0.00000000       0.00000000       0.00000000 </v>
    <v>       0.50000000       0.50000000       0.50000000 </v>
   </varray>
  </structure>
  <varray name="forces" >
   <v>       0.10000000      -0.20000000       0.30000000 </v>
   <v>      -0.10000000       0.20000000      -0.30000000 </v>
  </varray>
  <varray name="stress" >
   <v>      10.00000000       1.00000000       0.00000000 </v>
   <v>       1.00000000      20.00000000       0.00000000 </v>
   <v>       0.00000000       0.00000000      30.00000000 </v>
  </varray>
  <energy>
   <i name="e_fr_energy">    -11.50000000 </i>
  </energy>
 </calculation>
</modeling>
"""


def test_vasprun_fermi_smearing_gives_T_el(tmp_path):
    path = tmp_path / "vasprun.xml"
    path.write_text(VASPRUN)
    (atoms,) = read_frames(path)
    ref = dpdata.LabeledSystem(str(path), fmt="vasp/xml")
    assert atoms.get_potential_energy() == ref["energies"][0] == -11.5
    assert np.array_equal(atoms.get_forces(), ref["forces"][0])
    # VASP prints the stress in kBar, positive = compressive: +10 kB -> -1 GPa tensile-positive
    assert atoms.get_stress()[0] == pytest.approx(-10 * 0.1 / 160.21766208, rel=1e-6)
    assert atoms.info["electronic_temperature_K"] == pytest.approx(0.25852 / kB)
    prov = atoms.info["provenance"]
    assert (prov["code"], prov["functional"], prov["cutoff_eV"], prov["smearing"]) == \
        ("VASP 6.3.2", "PBEsol", 520.0, "fermi-dirac")
    assert prov["potcar"] == "PAW_PBE Mg_pv 02Apr2005; PAW_PBE O 08Apr2002"


def write_npy_system(folder: Path, n_per_set=(2, 3), fparam_cols=1):
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    (folder / "type.raw").write_text("0\n1\n")
    (folder / "type_map.raw").write_text("Mg\nO\n")
    fparams = []
    for k, n in enumerate(n_per_set):
        s = folder / f"set.{k:03d}"
        s.mkdir()
        np.save(s / "coord.npy", rng.random((n, 6)) * 3)
        np.save(s / "box.npy", np.tile(np.diag([3.0, 3.0, 3.0]).ravel(), (n, 1)))
        np.save(s / "energy.npy", rng.normal(size=n))
        np.save(s / "force.npy", rng.normal(size=(n, 6)))
        np.save(s / "virial.npy", rng.normal(size=(n, 9)))
        fp = 1000.0 * (k + 1) + np.arange(n * fparam_cols, dtype=float).reshape(n, fparam_cols)
        np.save(s / "fparam.npy", fp)
        fparams.append(fp)
    return np.concatenate(fparams)


def test_deepmd_npy_fparam_is_T_el_and_round_trips(tmp_path):
    fp = write_npy_system(tmp_path / "sys")
    frames = read_frames(tmp_path / "sys")
    assert len(frames) == 5
    assert [a.info["electronic_temperature_K"] for a in frames] == fp[:, 0].tolist()
    # named columns: not a temperature
    other = read_frames(tmp_path / "sys", fparam_name="sigma_eV")
    assert "electronic_temperature_K" not in other[0].info and other[0].info["provenance"]["sigma_eV"] == fp[0, 0]
    write_npy_system(tmp_path / "two", fparam_cols=2)
    with pytest.raises(ValueError, match="2 columns"):
        read_frames(tmp_path / "two")
    two = read_frames(tmp_path / "two", fparam_name="T_el_K,P_GPa")
    assert two[1].info["electronic_temperature_K"] == 1002.0 and two[1].info["provenance"]["P_GPa"] == 1003.0

    # store -> npy with fparam.npy -> read back: T_el survives
    rc = main(["import", str(tmp_path / "sys"), "--run", str(tmp_path / "run"), "--validation-fraction", "0"])
    assert rc == 0
    store = LabelStore(tmp_path / "run" / "deepearth.db")
    (system,) = store.export_deepmd(tmp_path / "out", ["Mg", "O"], fparam="T_el_K")
    back = read_frames(system)
    assert sorted(a.info["electronic_temperature_K"] for a in back) == sorted(fp[:, 0].tolist())
    by_T = {a.info["electronic_temperature_K"]: a for a in back}
    for a in frames:
        b = by_T[a.info["electronic_temperature_K"]]
        assert b.get_potential_energy() == a.get_potential_energy()
        assert np.allclose(b.get_forces(), a.get_forces(), rtol=0, atol=1e-12)
        assert np.allclose(b.get_stress(), a.get_stress(), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="no 'nope'"):
        store.export_deepmd(tmp_path / "out2", ["Mg", "O"], fparam="nope")


# ----------------------------------------------------------------------------------------- CLI
def test_import_is_idempotent_and_keeps_provenance(tmp_path, capsys):
    xyz = tmp_path / "train.xyz"
    xyz.write_text(GPUMD)
    vasprun = tmp_path / "vasprun.xml"
    vasprun.write_text(VASPRUN)
    run = tmp_path / "run"
    # an extxyz of unknown code/functional and a VASP PBEsol run: two references, refused as one line,
    # the store untouched; --allow-mixed imports them anyway
    assert main(["import", str(xyz), str(vasprun), "--run", str(run), "--split-seed", "3"]) == 2
    err = capsys.readouterr().err
    assert "2 references in one store" in err and "PBEsol" in err and len(err.strip().splitlines()) == 1
    assert LabelStore(run / "deepearth.db").count() == 0
    mixed = ["import", str(xyz), str(vasprun), "--run", str(run), "--split-seed", "3", "--allow-mixed"]
    assert main(mixed) == 0
    out = capsys.readouterr().out
    assert "2 frames read, 2 added" in out and "1 frames read, 1 added" in out and "3000, 4000 K" in out
    assert main(mixed) == 0
    out = capsys.readouterr().out
    assert "2 frames read, 0 added, 2 already in the store" in out and "0 added ->" in out
    store = LabelStore(run / "deepearth.db")
    assert store.count() == 3
    (row,) = store.rows(source_format="vasp/xml")
    assert (row.code, row.functional, row.method, row.labeller, row.smearing) == \
        ("VASP 6.3.2", "PBEsol", "PBEsol", "import", "fermi-dirac")
    assert row.T_el_K == pytest.approx(0.25852 / kB) and row.parent == str(vasprun.resolve()) and row.frame == 0
    assert row.split in ("train", "valid") and row.iteration == 0
    rows = sorted(store.rows(source_format="extxyz"), key=lambda r: r.frame)
    assert [r.T_el_K for r in rows] == [3000.0, 4000.0]
    assert np.allclose(rows[0].stress, -np.array([3.0, 6.0, 9.0, 0.2, 0.1, 0.3]) / 24.0)


def test_import_T_el_fills_missing_and_refuses_conflicts(tmp_path, capsys):
    xyz = tmp_path / "nep.xyz"
    xyz.write_text(GPUMD.replace(" T_el=3000", "").replace(" T_el=4000", ""))
    assert main(["import", str(xyz), "--run", str(tmp_path / "run"), "--T-el-K", "2500"]) == 0
    assert [r.T_el_K for r in LabelStore(tmp_path / "run" / "deepearth.db").rows()] == [2500.0, 2500.0]
    both = tmp_path / "both.xyz"
    both.write_text(GPUMD)
    capsys.readouterr()
    assert main(["import", str(both), "--run", str(tmp_path / "run"), "--T-el-K", "2500"]) == 2
    err = capsys.readouterr().err
    assert "both.xyz" in err and "3000" in err and len(err.strip().splitlines()) == 1


def test_unknown_and_missing_inputs_give_one_line_errors(tmp_path, capsys):
    junk = tmp_path / "notes.txt"
    junk.write_text("hello\nthis is not a DFT output\n")
    missing = tmp_path / "OUTCAR.missing"
    run = tmp_path / "run"
    for path, words in ((junk, "unknown format"), (missing, "no such file")):
        rc = main(["import", str(path), "--run", str(run)])
        err = capsys.readouterr().err
        assert rc == 2, err
        assert str(path) in err.replace("\n", "") and words in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1, err
    assert not (run / "deepearth.db").exists()  # nothing written
    with pytest.raises(ValueError, match="notes.txt"):
        read_frames(junk)
    with pytest.raises(ValueError, match="OUTCAR.missing"):
        read_frames(missing)
    broken = tmp_path / "OUTCAR"
    broken.write_text(" vasp.6.3.2\n POTCAR: PAW_PBE O\n nothing else\n")
    with pytest.raises(ValueError, match=r"OUTCAR: not readable as vasp/outcar"):
        read_frames(broken)
    with pytest.raises(ValueError, match="unknown format 'castep'"):
        read_frames(junk, fmt="castep")
