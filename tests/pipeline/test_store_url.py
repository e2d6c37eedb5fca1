"""A whole run with its labels on PostgreSQL (``store_url``): every stage reads and writes the
server's store, and status, import and the report find it through the run directory."""

from emt_copper import EMT_RECIPE, POD_SMALL, write_copper

from deepearth.cli import main
from deepearth.parallel import InProcessExecutor
from deepearth.pipeline import run_recipe
from deepearth.recipe import load_recipe
from deepearth.rundir import RunDir
from deepearth.store import LabelStore


def test_a_run_with_its_store_on_postgresql(tmp_path, postgres_server, capsys):
    url = postgres_server.new_database()
    write_copper(tmp_path / "cu.vasp")
    text = EMT_RECIPE.format(run_dir=tmp_path / "run", pod=POD_SMALL).replace(
        'seed = 11', f'seed = 11\nstore_url = "{url}"').replace("max_iterations = 2", "max_iterations = 1")
    (tmp_path / "recipe.toml").write_text(text)
    summary = run_recipe(load_recipe(tmp_path / "recipe.toml"), executor=InProcessExecutor())
    rundir = RunDir(tmp_path / "run")
    assert not rundir.store_file.exists() and rundir.store_location == url
    store = LabelStore(url)
    assert store.count(ok=True) == summary.iterations[0]["n_labelled_total"] == 5 + 8
    assert main(["status", str(rundir.root)]) == 0
    assert "labels: 13 ok" in capsys.readouterr().out
