"""A campaign recipe's keys: ``[[systems]]``, ``[[production.cases]]``, ``[geophysics.w_isotopes]``;
every wrong entry is one line naming the recipe key; and the pieces the learning loop is made of
(ramp, budget shares, random packings, continuation starts, GB/grain regions)."""

import numpy as np
import pytest
from ase.build import bulk
from ase.io import write

from deepearth.pipeline.resume import changed_keys, flatten
from deepearth.pipeline.systems import campaign_systems, candidate_caps, last_trusted_frame, next_level
from deepearth.properties import Region
from deepearth.recipe import Recipe, RecipeError, check_recipe, load_recipe
from deepearth.rundir import ExplorationResult
from deepearth.structures.build import build_system
from deepearth.structures.packing import closest_pair_distances, random_packing

CAMPAIGN = """
name = "c"
[[systems]]
name = "bulk"
structure = "periclase"
supercell = [2, 2, 2]
pressures_GPa = [100.0, 140.0]
temperatures_K = [3000.0, 4000.0, 5000.0]
[[systems]]
name = "gb"
structure = "periclase"
supercell = [1, 2, 1]
grain_boundary = {{sigma = 5, min_length_A = 25.0, gb_width_A = 8.0}}
defects = [{{kind = "impurity", element = "W", valence = 6, host = "Mg", n = 1, region = "gb"}}]
weight = 2.0
trust_lo = 0.2
trust_hi = 0.6
steps = 300
[[systems]]
name = "melt"
builder = "liquid"
structure = "periclase"
pressures_GPa = [50.0]
temperatures_K = [6000.0]
[[production.cases]]
system = "gb"
species = ["W"]
P_GPa = [140.0]
temperatures_K = [4000.0, 5000.0]
regions = ["gb"]
{extra}
"""


def write_recipe(tmp_path, text, name="r.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def load(tmp_path, extra="", text=None):
    return load_recipe(write_recipe(tmp_path, text if text is not None else CAMPAIGN.format(extra=extra)))


def test_a_campaign_recipe_builds_every_system_with_its_own_settings(tmp_path):
    recipe = load(tmp_path, "[geophysics.w_isotopes]\nsystem = 'gb'\n")
    built = check_recipe(recipe)
    assert list(built) == ["bulk", "gb", "melt"] and recipe.system_names == ["bulk", "gb", "melt"]
    systems = campaign_systems(recipe, built)
    bulk_, gb, melt = systems
    assert bulk_.exploration.temperatures_K == [3000.0, 4000.0, 5000.0] and bulk_.exploration.trust_lo == 0.15
    assert (gb.exploration.trust_lo, gb.exploration.trust_hi, gb.exploration.steps) == (0.2, 0.6, 300)
    assert gb.exploration.pressures_GPa == recipe.exploration.pressures_GPa  # unset: [exploration]'s
    assert melt.builder == "liquid" and [s.folder for s in systems] == ["bulk", "gb", "melt"]
    assert "W" in gb.atoms.get_chemical_symbols() and gb.atoms.arrays["region"].sum() > 0
    # the label budget by weight (1 : 2 : 1), at least one each
    assert candidate_caps(systems, 16) == {"bulk": 4, "gb": 8, "melt": 4}
    assert candidate_caps(systems, 2) == {"bulk": 1, "gb": 1, "melt": 1}


def test_the_temperature_ramp_adds_a_level_only_when_every_active_point_is_accurate(tmp_path):
    recipe = load(tmp_path)
    bulk_ = campaign_systems(recipe, check_recipe(recipe))[0]
    assert bulk_.active_grid(0, "temperature") == [(100.0, 3000.0), (140.0, 3000.0)]
    assert len(bulk_.active_grid(2, "temperature")) == 6 == len(bulk_.active_grid(0, "none"))

    def res(acc):
        return ExplorationResult(P_GPa=100.0, T_K=3000.0, n_frames=10, fractions={"accurate": acc, "candidate": 1 - acc,
                                                                                 "failed": 0.0})
    assert next_level(0, bulk_, [res(0.95), res(0.91)], "temperature") == 1
    assert next_level(0, bulk_, [res(0.95), res(0.5)], "temperature") == 0
    assert next_level(2, bulk_, [res(1.0)], "temperature") == 2  # the top stays the top
    assert next_level(0, bulk_, [], "temperature") == 0


@pytest.mark.reliability("bad input")
@pytest.mark.parametrize("extra, text, key, words", [
    ("", CAMPAIGN.replace('builder = "liquid"', 'builder = "glass"'), "systems.2.builder", "'crystal' or 'liquid'"),
    ("[[production.cases]]\nsystem = 'nope'\nP_GPa = [1.0]\ntemperatures_K = [1000.0]\n", None,
     "production.cases.1.system", "no system 'nope'"),
    ("", CAMPAIGN.replace('regions = ["gb"]', 'regions = ["gb"]\n[[production.cases]]\nsystem = "bulk"\n'
                          'P_GPa = [1.0]\ntemperatures_K = [1000.0]\nregions = ["gb"]'),
     "production.cases.1.regions", "system 'bulk' has no grain boundary"),
    ("", CAMPAIGN.replace('species = ["W"]', 'species = ["Mg"]').replace('regions = ["gb"]', 'regions = ["all"]') +
     '[[production.cases]]\nsystem = "gb"\nspecies = ["Fe"]\nP_GPa = [1.0]\ntemperatures_K = [1000.0]\n',
     "production.cases.1.species", "Fe not in system 'gb'"),
    ("", CAMPAIGN.replace('name = "melt"', 'name = "bulk"'), "systems.2.name", "names two systems"),
    ("", CAMPAIGN.replace('pressures_GPa = [50.0]\n', ''), None, None),  # a valid recipe: the grid is [exploration]'s
    ("", CAMPAIGN.replace('structure = "periclase"\npressures_GPa = [50.0]', 'pressures_GPa = [50.0]'),
     "systems.2.structure", "required"),
    ("[geophysics.w_isotopes]\nsystem = 'melt'\n", None, "geophysics.w_isotopes",
     "needs a production case of system 'melt' with region 'gb'"),
    ("", CAMPAIGN.replace("trust_lo = 0.2", "trust_lo = 0.9"), "systems.1", "trust_hi (0.6) must be larger"),
    ("[system]\nstructure = 'periclase'\n", None, "(top level)", "not both"),
    ("", CAMPAIGN.replace("supercell = [1, 2, 1]", "supercell = [1, 2, 2]"), "systems.1",
     "supercell must be 1 along the boundary normal"),
    ("", CAMPAIGN.replace('[[production.cases]]', '[reference]\nkind = "emt"\n[[production.cases]]'),
     "systems.0.structure", "reference.kind = 'emt' cannot treat Mg, W"),
])
def test_a_wrong_system_entry_is_one_line_naming_the_key(tmp_path, extra, text, key, words):
    text = text.format(extra=extra) if text is not None and "{extra}" in text else text
    if key is None:
        load(tmp_path, text=text.replace("{extra}", ""))
        return
    with pytest.raises(RecipeError) as err:
        load(tmp_path, extra, text=None if text is None else text.replace("{extra}", ""))
    msg = str(err.value)
    assert "\n" not in msg and f"key '{key}" in msg and words in msg, msg


def test_xtb_cannot_treat_heavier_than_radon(tmp_path):
    text = CAMPAIGN.format(extra="").replace('element = "W"', 'element = "U"')
    with pytest.raises(RecipeError, match=r"key 'systems.1.structure': reference.kind = 'xtb' cannot treat U"):
        load(tmp_path, text=text)


def test_runs_made_before_campaigns_resume_only_with_their_old_loop():
    """A run's settings.json from before these keys existed lacks them: it counts as the old loop
    (no ramp, no continuation, calibration on any number of frames)."""
    new = flatten(Recipe().model_dump(mode="json", exclude={"source"}))
    old = {k: v for k, v in new.items() if k not in ("exploration.ramp", "exploration.continue_from_last",
                                                      "exploration.min_calibration_frames", "systems")}
    changes = changed_keys(old, new, ("exploration", "systems"))
    assert sorted(c.split(":")[0] for c in changes) == ["exploration.continue_from_last",
                                                        "exploration.min_calibration_frames", "exploration.ramp"]
    same = {**new, "exploration.ramp": "none", "exploration.continue_from_last": False,
            "exploration.min_calibration_frames": 1}
    assert changed_keys(old, same, ("exploration", "systems")) == []


def test_random_packing_keeps_the_crystals_pair_distances_apart():
    mgo = build_system("rocksalt", "MgO", 4.21, (2, 2, 2))
    d0 = closest_pair_distances(mgo)
    assert d0[("Mg", "O")] == pytest.approx(2.105) and d0[("Mg", "Mg")] == pytest.approx(2.105 * 2 ** 0.5)
    for frac in (0.62, 1.0):  # 140 GPa-like and ambient density
        liq = random_packing(mgo, frac * mgo.get_volume(), seed=3)
        assert liq.get_volume() == pytest.approx(frac * mgo.get_volume())
        f = liq.info["packing_factor"]  # 0.85 asked; jammed just below it
        assert liq.get_chemical_formula() == mgo.get_chemical_formula() and 0.8 <= f <= 0.85
        sym = np.array(liq.get_chemical_symbols())
        d = liq.get_all_distances(mic=True)
        np.fill_diagonal(d, np.inf)
        scale = frac ** (1 / 3)
        for (a, b), dist in d0.items():
            pair = d[np.ix_(sym == a, sym == b)]
            assert pair.min() >= f * dist * scale - 1e-6, (a, b)
        # and it is not the crystal: far from every lattice site on average
        assert np.mean(np.min(liq.get_distances(0, range(1, 64), mic=True))) > 0
    a, b = random_packing(mgo, mgo.get_volume(), 5), random_packing(mgo, mgo.get_volume(), 5)
    assert np.array_equal(a.positions, b.positions)
    assert not np.allclose(a.positions, random_packing(mgo, mgo.get_volume(), 6).positions)


def test_gb_and_grain_regions_cover_both_boundaries_of_a_bicrystal():
    gb = build_system("periclase", "MgO", 4.21, (1, 1, 1), grain_boundary={"sigma": 5, "min_length_A": 40.0,
                                                                           "gb_width_A": 8.0})
    z_b = gb.info["boundary_positions_A"]
    pos, cell = gb.positions[None], gb.cell.array[None]
    inside = Region("z", z_b[0], 8.0, planes=2).contains(pos, cell)[0]
    assert np.array_equal(inside, gb.arrays["region"] == 1)  # the builder's own per-atom tags
    grain = Region("z", z_b[0], 16.0, planes=2, outside=True).contains(pos, cell)[0]
    assert not np.any(grain & inside) and grain.sum() > 0
    assert np.all(gb.arrays["gb_distance_A"][grain] > 8.0 - 1e-9)


def test_last_trusted_frame_is_the_last_accurate_one(tmp_path):
    frames = [bulk("Cu", "fcc", a=3.6 + 0.01 * k, cubic=True) for k in range(3)]
    for k, a in enumerate(frames):
        a.arrays["region"] = np.full(len(a), k)
        write(tmp_path / "traj.extxyz", a, format="extxyz", append=True)
    (tmp_path / "deviation.csv").write_text("frame,class\n0,candidate\n1,accurate\n2,candidate\n")
    assert last_trusted_frame(tmp_path) is None  # not finished: no result.json
    (tmp_path / "result.json").write_text("{}")
    start = last_trusted_frame(tmp_path)
    assert np.allclose(start.cell.array, frames[1].cell.array) and np.all(start.arrays["region"] == 1)
    assert start.info["continued_from"].endswith("@1")
