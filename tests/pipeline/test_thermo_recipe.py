"""The recipe sections of the thermodynamic properties (``[properties.eos|elastic|melting|phase]``,
deepearth.recipe_thermo): defaults, every wrong key one line naming it, the cross-checks against the
systems, the example recipe, and the reuse rule of their results."""

from pathlib import Path

import pytest

from deepearth.pipeline.thermo import reusable
from deepearth.recipe import RecipeError, load_recipe
from deepearth.recipe_thermo import EOSProperty, ElasticProperty, MeltingProperty
from deepearth.recipe_toml import recipe_to_toml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

ONE = """
name = "t"
[system]
structure = "periclase"
[exploration]
pressures_GPa = [100.0, 140.0]
temperatures_K = [3000.0]
{extra}
"""

CAMPAIGN = """
name = "c"
[[systems]]
name = "bulk"
structure = "periclase"
[[systems]]
name = "gb"
structure = "periclase"
supercell = [1, 2, 1]
grain_boundary = {{sigma = 5, min_length_A = 25.0, gb_width_A = 8.0}}
[[systems]]
name = "melt"
builder = "liquid"
structure = "periclase"
[exploration]
pressures_GPa = [100.0, 140.0]
temperatures_K = [3000.0]
{extra}
"""

EOS = "[properties.eos]\npressures_GPa = [25.0, 50.0, 100.0, 140.0]\ntemperatures_K = [300.0, 3000.0]\n"
ELASTIC = "[properties.elastic]\nP_GPa = [140.0]\ntemperatures_K = [4000.0]\n"
MELTING = "[properties.melting]\nP_GPa = 140.0\ntemperatures_K = [6000.0, 8000.0]\n"


def load(tmp_path, extra, text=ONE):
    p = tmp_path / "r.toml"
    p.write_text(text.format(extra=extra))
    return load_recipe(p)


def test_sections_are_off_by_default_and_laptop_sized_when_given(tmp_path):
    r = load(tmp_path, "")
    assert (r.properties.eos, r.properties.elastic, r.properties.melting, r.properties.phase) == (None,) * 4
    r = load(tmp_path, EOS + ELASTIC + MELTING + "[properties.phase]\n")
    eos, el, m = r.properties.eos, r.properties.elastic, r.properties.melting
    assert eos.system == el.system == m.system == "system" and r.properties.phase.q6_threshold == 0.25
    # laptop-sized MD: a few thousand steps per point at most
    assert eos.steps + eos.equilibration_steps <= 2000 and el.nvt_steps <= 2000 and m.run_steps <= 2000
    assert m.layer == (2, 2) and m.n_layers == 8 and not m.committee and el.components == [0, 1, 2, 3, 4, 5]
    again = load(tmp_path, "", text=recipe_to_toml(r).replace("{", "{{").replace("}", "}}") + "{extra}")
    assert again.properties == r.properties  # the run directory's recipe copy reads back


@pytest.mark.reliability("bad input")
@pytest.mark.parametrize("extra, key, words", [
    (EOS.replace("[properties.eos]", "[properties.eos]\nsystem = 'nope'"), "properties.eos.system",
     "no system 'nope' (systems: system)"),
    (EOS.replace("25.0, 50.0, ", ""), "properties.eos.pressures_GPa", "at least 4"),
    (EOS.replace("25.0, 50.0", "100.0, 100.0"), "properties.eos.pressures_GPa", "2 distinct pressures"),
    (EOS + "steps = 90\nsample_interval = 10\n", "properties.eos.steps", "give 9 samples; at least 10 needed"),
    (EOS.replace("300.0, 3000.0", "-300.0"), "properties.eos.temperatures_K.0", "greater than 0"),
    (EOS + "form = 'murnaghan'\n", "properties.eos.form", "'vinet' or 'bm3'"),
    (EOS + "timestep_fs = 3.0\n", "properties.eos.timestep_fs", "above the 2.88 fs that the lightest element, O"),
    (MELTING + "timestep_fs = 2.9\n", "properties.melting.timestep_fs", "above the 2.88 fs"),
    (EOS + "K0_prime_prior = [4.0, 0.0]\n", "properties.eos.K0_prime_prior.1", "greater than 0"),
    (ELASTIC + "strain = 0.05\n", "properties.elastic.strain", "less than or equal to 0.02"),
    (ELASTIC + "components = [0]\nsymmetry = 'cubic'\n", "properties.elastic.components",
     "do not determine the constants of a cubic crystal"),
    (ELASTIC + "components = [0, 0, 3]\n", "properties.elastic.components", "repeats a direction"),
    (ELASTIC + "symmetry = 'cubicc'\n", "properties.elastic.symmetry", "'cubic'"),
    (ELASTIC + "nvt_steps = 40\n", "properties.elastic.nvt_steps", "8 samples; at least 10 needed"),
    (ELASTIC.replace("[140.0]", "[1400.0]"), "properties.elastic.P_GPa.0", "less than or equal to 1000"),
    (MELTING + "n_layers = 7\n", "properties.melting.n_layers", "must be even"),
    (MELTING.replace("6000.0, 8000.0", "6000.0"), "properties.melting.temperatures_K", "at least 2"),
    (MELTING.replace("6000.0, 8000.0", "6000.0, 6000.0"), "properties.melting.temperatures_K", "2 distinct"),
    (MELTING + "layer = [0, 2]\n", "properties.melting.layer.0", "greater than or equal to 1"),
    (MELTING + "wobble = 1\n", "properties.melting.wobble", "unknown key"),
    ("[properties.phase]\nq6_threshold = 1.5\n", "properties.phase.q6_threshold", "less than 1"),
])
def test_a_wrong_key_is_one_line_naming_it(tmp_path, extra, key, words):
    with pytest.raises(RecipeError) as err:
        load(tmp_path, extra)
    msg = str(err.value)
    assert f"key '{key}'" in msg and words in msg and "\n" not in msg, msg


@pytest.mark.reliability("bad input")
@pytest.mark.parametrize("extra, key, words", [
    (EOS.replace("[properties.eos]", "[properties.eos]\nsystem = 'system'"), "properties.eos.system",
     "no system 'system' (systems: bulk, gb, melt)"),
    (ELASTIC.replace("]\n", "]\nsystem = 'melt'\n", 1), "properties.elastic.system", "'melt' is a liquid"),
    (MELTING.replace("]\n", "]\nsystem = 'melt'\n", 1), "properties.melting.system", "'melt' is a liquid"),
    (MELTING.replace("]\n", "]\nsystem = 'gb'\n", 1), "properties.melting.system", "grain boundary or defects"),
])
def test_a_campaign_section_must_name_a_system_it_can_measure(tmp_path, extra, key, words):
    with pytest.raises(RecipeError) as err:
        load(tmp_path, extra, CAMPAIGN)
    msg = str(err.value)
    assert f"key '{key}'" in msg and words in msg and "\n" not in msg, msg


def test_a_campaign_names_its_systems(tmp_path):
    r = load(tmp_path, EOS.replace("]\n", "]\nsystem = 'melt'\n", 1) + ELASTIC.replace("]\n", "]\nsystem = 'gb'\n", 1)
             + MELTING.replace("]\n", "]\nsystem = 'bulk'\n", 1), CAMPAIGN)
    assert (r.properties.eos.system, r.properties.elastic.system, r.properties.melting.system) == ("melt", "gb", "bulk")


def test_the_example_recipe_asks_for_issue_15s_mgo_numbers():
    r = load_recipe(EXAMPLES / "mgo-thermo.toml")
    eos, el, m = r.properties.eos, r.properties.elastic, r.properties.melting
    assert min(eos.temperatures_K) == 300 and max(eos.temperatures_K) == 5000
    assert (el.P_GPa, el.temperatures_K) == ([140.0], [4000.0]) and m.P_GPa == 140.0
    assert r.system.structure == "rocksalt" and r.potential.backend == "pod" and r.reference.kind == "xtb"


def test_a_result_is_reused_only_when_complete_and_made_with_this_section_and_model():
    section = EOSProperty(pressures_GPa=[1, 2, 3, 4], temperatures_K=[300]).model_dump(mode="json")
    rec = {"section": section, "model": "models/iter-001/member-0/model.pod", "points": []}
    assert reusable(rec, section, rec["model"])
    assert not reusable(rec, {**section, "steps": 2000}, rec["model"])
    assert not reusable(rec, section, "models/iter-002/member-0/model.pod")
    assert not reusable({**rec, "error": "ValueError: no fit"}, section, rec["model"])
    assert not reusable({**rec, "complete": False}, section, rec["model"]) and not reusable(None, section, "m")
    assert ElasticProperty(P_GPa=[0], temperatures_K=[300]).static_check
    assert MeltingProperty(P_GPa=0, temperatures_K=[1000, 1500]).liquid_start == "crystal"
