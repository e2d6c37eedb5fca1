"""Recipe validation: every mistake is one clear line naming the file and the key."""

from pathlib import Path

import pytest

from deepearth.cli import main
from deepearth.recipe import RecipeError, load_recipe, recipe_to_toml

EXAMPLE = Path(__file__).parents[1] / "examples" / "mgo-quickstart.toml"


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

    pod = load_recipe(write(tmp_path, "[potential]\nrcut_A = 5.5\nfour_body = [0, 0]\n")).potential
    assert pod.backend == "pod"  # the default backend
    model = make_potential(pod.backend, ["Mg", "O"], **pod.backend_settings())
    assert isinstance(model, PODPotential) and model.rcut_A == 5.5 and model.bootstrap
    assert model.three_body == (6, 4) and model.four_body == (0, 0)
    assert "fourbody_number_radial_basis_functions 0" in model.param_text(["Mg", "O"])
    dp = load_recipe(write(tmp_path, "[potential]\nbackend = 'deepmd'\ntraining_steps = 50\n")).potential
    model = make_potential(dp.backend, ["Mg", "O"], **dp.backend_settings())
    assert isinstance(model, DeepMDPotential) and model.hyper["training_steps"] == 50


def test_gpaw_reference_settings_reach_the_labeller(tmp_path):
    pytest.importorskip("gpaw")
    from deepearth.reference.registry import make_labeller

    text = "[reference]\nkind = 'gpaw'\nelectronic_temperature_K = 5000.0\ncutoff_eV = 900\nkpts = [1, 1, 2]\n"
    lab = make_labeller(load_recipe(write(tmp_path, text)).reference)
    p = lab.provenance
    assert p["labeller"] == "gpaw" and p["functional"] == "PBE" and p["cutoff_eV"] == 900.0
    assert p["kpoints"].startswith("1x1x2") and p["T_el_K"] == 5000.0 and lab.force_consistent


def test_bad_toml_and_missing_file(tmp_path):
    with pytest.raises(RecipeError, match="not valid TOML"):
        load_recipe(write(tmp_path, "[system\n"))
    with pytest.raises(RecipeError, match="recipe file not found"):
        load_recipe(tmp_path / "nope.toml")


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
