"""kill -9 at each stage of one run, then the same command again: every label kept, none computed
twice, and the run ends with the labels of an uninterrupted run."""

import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest
from ase.db import connect
from emt_copper import EMT_RECIPE, POD_SMALL, write_copper

from deepearth.parallel import InProcessExecutor
from deepearth.pipeline import run_recipe
from deepearth.recipe import load_recipe

pytestmark = pytest.mark.reliability("fault")

#: Where the run is killed: the start of each stage (``state.json``'s ``stage``), in run order.
KILL_AT = ["initial data: static EOS", "initial data: labelling", "iteration 0: training", "iteration 0: exploring",
           "iteration 0: labelling", "iteration 1: training", "production MD", "properties: diffusion"]


def ok_labels(db) -> dict[str, float]:
    if not db.is_file():
        return {}
    rows = list(connect(str(db)).select(ok=True))
    ids = [r.candidate_id for r in rows]
    assert len(ids) == len(set(ids)), "a configuration was labelled twice"
    return {r.candidate_id: r.energy for r in rows}


def stage(run_dir) -> str:
    try:
        return json.loads((run_dir / "state.json").read_text())["stage"]
    except (OSError, ValueError, KeyError):
        return ""


def recipe_in(root):
    write_copper(root / "cu.vasp")
    (root / "recipe.toml").write_text(EMT_RECIPE.format(run_dir=root / "run", pod=POD_SMALL))
    return root / "recipe.toml"


@pytest.mark.slow
def test_kill_9_at_every_stage_loses_nothing(tmp_path_factory, record_property):
    reference = tmp_path_factory.mktemp("uninterrupted")
    run_recipe(load_recipe(recipe_in(reference)), executor=InProcessExecutor())
    want = ok_labels(reference / "run" / "deepearth.db")

    root = tmp_path_factory.mktemp("killed")
    recipe, run_dir = recipe_in(root), root / "run"
    db = run_dir / "deepearth.db"
    killed_in, kept = [], {}
    for target in KILL_AT:
        proc = subprocess.Popen([sys.executable, "-m", "deepearth.cli", "run", str(recipe)], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        deadline = time.time() + 240
        while not stage(run_dir).startswith(target) and proc.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        if proc.poll() is not None:  # the stage came and went between two looks: the run finished
            break
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        killed_in.append(stage(run_dir))
        now = ok_labels(db)
        assert all(now.get(k) == e for k, e in kept.items()), "a label computed before a kill was lost or changed"
        kept = now
    assert len(killed_in) >= 5, killed_in
    out = subprocess.run([sys.executable, "-m", "deepearth.cli", "run", str(recipe)], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    final = ok_labels(db)
    record_property("labels_lost", sum(final.get(k) != e for k, e in kept.items()))
    record_property("kills", len(killed_in))
    assert all(final.get(k) == e for k, e in kept.items())
    assert final.keys() == want.keys()  # the same configurations as the run nobody killed
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["diffusion"] and all(math.isfinite(d["D_m2_per_s"]) for d in summary["diffusion"])
