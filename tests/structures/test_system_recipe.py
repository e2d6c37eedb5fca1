"""A recipe builds its system from the structure library: mineral, bicrystal, defects; the per-atom
region arrays travel into the trajectories the engines write."""

import numpy as np
import pytest
from ase.io import read

from deepearth.md.trajectory import append_frame
from deepearth.pipeline import build_context
from deepearth.recipe import RecipeError, load_recipe
from deepearth.structures import formal_charge

RECIPE = """
run_dir = "{run_dir}"
[system]
structure = "periclase"
supercell = [1, 2, 1]
[system.grain_boundary]
plane = [3, 1, 0]
min_length_A = 20.0
gb_width_A = 8.0
[[system.defects]]
kind = "impurity"
element = "W"
valence = 6
host = "Mg"
n = 3
region = "gb"
[[system.defects]]
kind = "substitute"
host = "Mg"
element = "Fe"
fraction = 0.1
region = "grain"
"""


def test_recipe_builds_a_neutral_bicrystal_with_tungsten_in_the_boundary(tmp_path):
    path = tmp_path / "recipe.toml"
    path.write_text(RECIPE.format(run_dir=tmp_path / "run"))
    ctx = build_context(load_recipe(path))
    atoms = ctx.systems[0].atoms
    symbols = np.array(atoms.get_chemical_symbols())
    assert (symbols == "W").sum() == 3 and (symbols == "Fe").sum() > 0
    assert formal_charge(atoms) == 0
    assert set(atoms.arrays["region"][symbols == "W"]) == {1}
    assert set(atoms.arrays["region"][symbols == "Fe"]) == {0}
    assert ctx.type_map == ["Fe", "Mg", "O", "W"]
    assert atoms.info["sigma"] == 5
    # the same recipe builds the same system (seeded)
    again = build_context(load_recipe(path)).systems[0].atoms
    assert np.array_equal(again.positions, atoms.positions) and again.get_chemical_symbols() == list(symbols)
    # per-atom arrays reach the trajectories
    traj = tmp_path / "traj.extxyz"
    append_frame(traj, atoms, step=0, timestep_fs=1.0)
    back = read(traj)
    assert np.array_equal(back.arrays["region"], atoms.arrays["region"])
    assert np.allclose(back.arrays["gb_distance_A"], atoms.arrays["gb_distance_A"])


@pytest.mark.parametrize("text, key, what", [
    ("[system]\nstructure = 'periclase'\n[system.grain_boundary]\nplane = [3, 1, 0]\n", "system",
     "supercell must be 1 along the boundary normal"),
    ("[system]\nsupercell = [1, 1, 1]\n[system.grain_boundary]\naxis = [0, 0, 1]\n", "system.grain_boundary",
     "exactly one of plane and sigma"),
    ("[[system.defects]]\nkind = 'impurity'\nelement = 'W'\n", "system.defects.0", "needs valence, host"),
    ("[[system.defects]]\nkind = 'interstitial'\n", "system.defects.0.kind", "substitute"),
])
def test_bad_system_tables_name_the_key(tmp_path, text, key, what):
    path = tmp_path / "recipe.toml"
    path.write_text(text)
    with pytest.raises(RecipeError) as err:
        load_recipe(path)
    assert f"'{key}'" in str(err.value) and what in str(err.value)


def test_a_defect_the_structure_cannot_take_names_its_step(tmp_path):
    """Found when the recipe is read, before the run directory exists."""
    path = tmp_path / "recipe.toml"
    path.write_text(f'run_dir = "{tmp_path / "run"}"\n[system]\nstructure = "periclase"\nsupercell = [1, 1, 1]\n'
                    "[[system.defects]]\nkind = 'impurity'\nelement = 'W'\nvalence = 6\nhost = 'Mg'\nregion = 'gb'\n")
    with pytest.raises(RecipeError, match=r"recipe.toml: key 'system.defects.0': impurity: region='gb'"):
        load_recipe(path)
    assert not (tmp_path / "run").exists()
