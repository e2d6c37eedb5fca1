"""Recipe validation: every mistake is one clear line naming the file and the key."""

from pathlib import Path

import pytest

from deepearth.cli import main
from deepearth.recipe import RecipeError, load_recipe
from deepearth.recipe_toml import recipe_to_toml

EXAMPLES = Path(__file__).parents[1] / "examples"
EXAMPLE = EXAMPLES / "mgo-quickstart.toml"
SYSTEM = "[system]\nstructure = 'rocksalt'\n"  # a recipe must name its system


def write(tmp_path, text):
    p = tmp_path / "r.toml"
    p.write_text(text)
    return p


def test_quickstart_recipe_is_valid_and_round_trips(tmp_path):
    r = load_recipe(EXAMPLE)
    assert r.potential.ensemble_size == 4 and r.reference.method == "GFN1-xTB"
    again = load_recipe(write(tmp_path, recipe_to_toml(r)))
    assert again.model_dump(exclude={"source"}) == r.model_dump(exclude={"source"})


@pytest.mark.parametrize("text, key, what", [
    ("[exploration]\ntrust_lo = 'abc'\n", "exploration.trust_lo", "valid number"),
    ("[potential]\nensemble_sise = 4\n", "potential.ensemble_sise", "unknown key"),
    ("[reference]\nmethod = 'GFN2-xTB'\n", "reference.method", "GFN1-xTB"),
    ("[exploration]\ntrust_lo = 0.5\ntrust_hi = 0.2\n", "exploration", "trust_hi must be larger"),
    ("[production]\npoints = [{P_GPa = 100, T_K = -5}]\n", "production.points.0.T_K", "greater than 0"),
    ("seed = -1\n", "seed", "greater than or equal to 0"),
    ("[potential]\nthree_body = [6, 4]\nfour_body = [7, 2]\n", "potential", "must not increase"),
    ("[potential]\nrcut_A = 4.0\nrin_A = 4.5\n", "potential", "rin_A must be smaller"),
    ("[potential]\nthree_body = [6]\n", "potential.three_body.1", "Field required"),
    ("[potential]\nbackend = 'deepmd'\ntwo_body = 6\n", "potential.two_body", "unknown key"),
    ("[potential]\nrcut_smooth_A = 0.5\n", "potential.rcut_smooth_A", "unknown key"),
    ("[reference]\nkind = 'vasp'\n", "reference", "'xtb', 'gpaw', 'emt', 'imported'"),
    ("[reference]\nkind = 'gpaw'\nkpts = [2, 0, 2]\n", "reference", "kpts must be positive"),
    ("[exploration]\nengine = 'gromacs'\n", "exploration.engine", "unknown MD engine"),
])
@pytest.mark.reliability("bad input")
def test_bad_values_name_file_and_key(tmp_path, text, key, what):
    p = write(tmp_path, text)
    with pytest.raises(RecipeError) as err:
        load_recipe(p)
    msg = str(err.value)
    assert "\n" not in msg
    assert str(p) in msg and f"'{key}'" in msg and what in msg


def test_backend_settings_reach_the_backend_class(tmp_path):
    from deepearth.potentials.registry import make_potential
    from deepearth.potentials.deepmd import DeepMDPotential
    from deepearth.potentials.pod import PODPotential

    pod = load_recipe(write(tmp_path, SYSTEM + "[potential]\nrcut_A = 5.5\nfour_body = [0, 0]\n")).potential
    assert pod.backend == "pod"  # the default backend
    model = make_potential(pod.backend, ["Mg", "O"], **pod.backend_settings())
    assert isinstance(model, PODPotential) and model.rcut_A == 5.5 and model.bootstrap
    assert model.three_body == (6, 4) and model.four_body == (0, 0)
    assert "fourbody_number_radial_basis_functions 0" in model.param_text(["Mg", "O"])
    dp = load_recipe(write(tmp_path, SYSTEM + "[potential]\nbackend = 'deepmd'\ntraining_steps = 50\n")).potential
    model = make_potential(dp.backend, ["Mg", "O"], **dp.backend_settings())
    assert isinstance(model, DeepMDPotential) and model.hyper["training_steps"] == 50


def test_gpaw_reference_settings_reach_the_labeller(tmp_path):
    pytest.importorskip("gpaw")
    from deepearth.reference.registry import make_labeller

    text = SYSTEM + "[reference]\nkind = 'gpaw'\nelectronic_temperature_K = 5000.0\ncutoff_eV = 900\nkpts = [1, 1, 2]\n"
    lab = make_labeller(load_recipe(write(tmp_path, text)).reference)
    p = lab.provenance
    assert p["labeller"] == "gpaw" and p["functional"] == "PBE" and p["cutoff_eV"] == 900.0
    assert p["kpoints"].startswith("1x1x2") and p["T_el_K"] == 5000.0 and lab.force_consistent


@pytest.mark.reliability("bad input")
def test_bad_toml_and_missing_file(tmp_path):
    with pytest.raises(RecipeError, match="not valid TOML"):
        load_recipe(write(tmp_path, "[system\n"))
    with pytest.raises(RecipeError, match="recipe file not found"):
        load_recipe(tmp_path / "nope.toml")


@pytest.mark.reliability("bad input")
def test_cli_prints_one_line_and_exits_2(tmp_path, capsys):
    p = write(tmp_path, "[potential]\nbackend = 'nequip'\n")
    assert main(["run", str(p)]) == 2
    err = capsys.readouterr().err
    assert "potential" in err and "nequip" in err and "Traceback" not in err


def test_status_of_a_run_directory(tmp_path, capsys):
    from deepearth.files import write_json_atomic

    write_json_atomic(tmp_path / "state.json", {"stage": "iteration 1: exploring", "updated": "now", "iterations": [
        {"iteration": 0, "n_labelled_total": 22, "n_new_labels": 22, "accurate_fraction": 0.2,
         "candidate_fraction": 0.8, "failed_fraction": 0.0, "rmse_force_eV_per_A": float("nan")}]})
    assert main(["status", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "stage: iteration 1: exploring" in out and "n/a (no held-out frames)" in out
    assert main(["status", str(tmp_path / "nope")]) == 2


# ------------------------------------------------------------------- validation at the door

def test_every_example_run_recipe_validates():
    runs = [p for p in sorted(EXAMPLES.glob("*.toml")) if "[system]" in p.read_text() or "[[systems]]" in p.read_text()]
    assert {p.name for p in runs} >= {"mgo-quickstart.toml", "mgo-gpaw.toml", "w-grain-boundary.toml"}
    for p in runs:
        load_recipe(p)


@pytest.mark.reliability("bad input")
@pytest.mark.parametrize("text", ["", "# only a comment\n\n", "name = 'x'\n", "[system]\nsupercell = [2, 2, 2]\n"])
def test_a_recipe_must_name_its_system(tmp_path, text):
    p = write(tmp_path, text)
    with pytest.raises(RecipeError) as err:
        load_recipe(p)
    msg = str(err.value)
    assert str(p) in msg and "a recipe must name what it simulates" in msg and "\n" not in msg
    assert ("empty recipe" in msg) == (not text.strip() or text.startswith("#"))
    if text.strip() and not text.startswith("#"):
        assert "'system.structure'" in msg


@pytest.mark.parametrize("text, key, what", [
    # temperatures: > 0, finite, ≤ 20000 K (ionic and electronic)
    ("[exploration]\ntemperatures_K = [3000.0, -100.0]\n", "exploration.temperatures_K.1", "greater than 0"),
    ("[exploration]\ntemperatures_K = [nan]\n", "exploration.temperatures_K.0", "finite number"),
    ("[production]\npoints = [{P_GPa = 100, T_K = inf}]\n", "production.points.0.T_K", "finite number"),
    ("[production]\npoints = [{P_GPa = 100, T_K = 1e6}]\n", "production.points.0.T_K", "less than or equal to 20000"),
    ("[reference]\nelectronic_temperature_K = 1e5\n", "reference.electronic_temperature_K", "20000"),
    # pressures: finite, −50 … 1000 GPa
    ("[exploration]\npressures_GPa = [5000.0]\n", "exploration.pressures_GPa.0", "less than or equal to 1000"),
    ("[production]\npoints = [{P_GPa = nan, T_K = 3000}]\n", "production.points.0.P_GPa", "finite number"),
    ("[exploration]\npressures_GPa = [-10.0, 0.0]\n", "exploration.pressures_GPa", "one must be above 0 GPa"),
    # timesteps: finite, ≤ 10 fs, then within what the lightest element allows
    ("[exploration]\ntimestep_fs = 50\n", "exploration.timestep_fs", "less than or equal to 10"),
    ("[production]\ntimestep_fs = inf\n", "production.timestep_fs", "finite number"),
    ("[production]\ntimestep_fs = -1\n", "production.timestep_fs", "greater than 0"),
    ("[exploration]\ntimestep_fs = 5.0\n", "exploration.timestep_fs", "lightest element, O"),
    # the system
    ("supercell = [0, 1, 1]\n", "system.supercell.0", "greater than or equal to 1"),
    ("supercell = [1000, 1, 1]\n", "system.supercell.0", "less than or equal to 100"),
    ("lattice_constant_A = 0.5\n", "system.lattice_constant_A", "density"),
    ("lattice_constant_A = 30.0\n", "system.lattice_constant_A", "outside 0.5–30 g/cm³"),
    ("lattice_constant_A = nan\n", "system.lattice_constant_A", "finite number"),
    ("formula = 'XxO'\n", "system.formula", "cannot build rocksalt"),
    ("bulk_modulus_GPa = 2.0\n", "system.bulk_modulus_GPa", "reaches no 210 GPa"),
    ("bulk_modulus_GPa = 0.0\n", "system.bulk_modulus_GPa", "greater than or equal to 1"),
    # other physical quantities
    ("[initial]\nrattle_A = 2.0\n", "initial.rattle_A", "less than or equal to 0.5"),
    ("[exploration]\ntrust_lo = inf\n", "exploration.trust_lo", "finite number"),
    ("[reference]\nkind = 'gpaw'\ncutoff_eV = 10\n", "reference.cutoff_eV", "greater than or equal to 100"),
    ("[potential]\nrcut_A = 50.0\n", "potential.rcut_A", "less than or equal to 15"),
    ("[potential]\nbackend = 'deepmd'\nstart_learning_rate = 1e-4\nstop_learning_rate = 1e-2\n", "potential",
     "must not exceed"),
    ("[properties.diffusion]\nspecies = ['Fe']\n", "properties.diffusion.species", "Fe not in the system"),
    ("run_dir = ''\n", "run_dir", "at least 1 character"),
])
@pytest.mark.reliability("bad input")
def test_physically_invalid_settings_are_refused(tmp_path, text, key, what):
    # [system] keys and tables follow SYSTEM; a top-level key precedes it
    p = write(tmp_path, text + SYSTEM if text.startswith("run_dir") else SYSTEM + text)
    with pytest.raises(RecipeError) as err:
        load_recipe(p)
    msg = str(err.value)
    assert "\n" not in msg and str(p) in msg and f"'{key}'" in msg and what in msg, msg


@pytest.mark.reliability("bad input")
def test_the_timestep_limit_follows_the_lightest_element(tmp_path):
    # FeH: hydrogen allows 0.72 fs; the defaults (1 fs) are refused, 0.5 fs is accepted
    p = write(tmp_path, "[system]\nstructure = 'FeH'\n")
    with pytest.raises(RecipeError, match=r"key 'exploration.timestep_fs': 1 fs is above the 0.72 fs .* H "):
        load_recipe(p)
    ok = "[system]\nstructure = 'FeH'\n[exploration]\ntimestep_fs = 0.5\n[production]\ntimestep_fs = 0.5\n"
    assert load_recipe(write(tmp_path, ok)).exploration.timestep_fs == 0.5
    # an impurity brings the lightest element: MgO at 2.5 fs is fine, with H substituted it is not
    mgo = SYSTEM + "[exploration]\ntimestep_fs = 2.5\n[production]\ntimestep_fs = 2.5\n"
    load_recipe(write(tmp_path, mgo))
    with pytest.raises(RecipeError, match="lightest element, H"):
        load_recipe(write(tmp_path, mgo.replace(SYSTEM, SYSTEM + "[[system.defects]]\nkind = 'substitute'\n"
                                                               "host = 'Mg'\nelement = 'H'\nfraction = 0.1\n")))


def _bad_structure_files(d: Path) -> dict[str, str]:
    """Broken files beside a recipe: name → what the message must say."""
    from ase.build import bulk
    from ase.io import write as ase_write

    mgo = bulk("MgO", "rocksalt", a=4.21, cubic=True)
    for ext in ("vasp", "cif", "extxyz"):
        ase_write(d / f"good.{ext}", mgo, format=ext)
        text = (d / f"good.{ext}").read_text()
        (d / f"trunc.{ext}").write_text(text[: len(text) // 2])
        (d / f"garbage.{ext}").write_text("hello world\nthis is not a structure\n1 2 3\n")
        (d / f"empty.{ext}").write_text("")
    (d / "POSCAR").write_text((d / "good.vasp").read_text()[:80])
    (d / "molecule.xyz").write_text("2\n\nMg 0 0 0\nO 2 0 0\n")
    (d / "none.extxyz").write_text('0\nLattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3 pbc="T T T"\n')
    return {**{f"{k}.{e}": "cannot read as a structure" for k in ("trunc", "garbage", "empty")
               for e in ("vasp", "cif", "extxyz")},
            "POSCAR": "cannot read as a structure", "molecule.xyz": "no 3-D periodic cell",
            "none.extxyz": "no atoms", "missing.cif": "no such structure file"}


@pytest.mark.reliability("bad input")
def test_broken_structure_files_are_one_line_naming_the_file(tmp_path):
    cases = _bad_structure_files(tmp_path)
    for name, what in cases.items():
        p = write(tmp_path, f"[system]\nstructure = '{name}'\nsupercell = [1, 1, 1]\n")
        with pytest.raises(RecipeError) as err:
            load_recipe(p)
        msg = str(err.value)
        assert "\n" not in msg and str(p) in msg and "'system.structure'" in msg, msg
        assert str(tmp_path / name) in msg and what in msg, msg
        if what == "cannot read as a structure":  # never an empty reason (ASE's CIF reader raises bare exceptions)
            assert msg.split(what + ": ")[1].strip(" ()"), msg
    good = load_recipe(write(tmp_path, "[system]\nstructure = 'good.cif'\nsupercell = [1, 1, 1]\n"))
    assert good.system.structure == "good.cif"


@pytest.mark.parametrize("text", [
    "",
    SYSTEM + "[exploration]\ntemperatures_K = [-100.0]\n",
    SYSTEM + "[exploration]\ntimestep_fs = 50\n",
    SYSTEM + "lattice_constant_A = 0.5\n",
    "[system]\nstructure = 'trunc.cif'\n",
])
@pytest.mark.reliability("bad input")
def test_cli_run_refuses_before_any_work(tmp_path, capsys, text):
    _bad_structure_files(tmp_path)
    run_dir = tmp_path / "run"
    p = write(tmp_path, f'run_dir = "{run_dir}"\n' + text if text else "")
    assert main(["run", str(p)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and str(p) in err
    assert not run_dir.exists()
