"""The stages fit together, in seconds: every stage of a run over an injected-or-registered toy
reference (ASE's EMT copper), a small POD committee and tiny MD, in this process; and a run that
trains on imported first-principles labels (``reference.kind = "imported"``).

The minutes-long end-to-end tests (tests/test_pipeline.py, kill and resume, both backends) stay.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from ase.io import read

from datafiles import data_path
from emt_copper import EMT_RECIPE, POD_SMALL, write_copper
from deepearth.cli.run import status_text
from deepearth.parallel import InProcessExecutor
from deepearth.pipeline import build_context, run_recipe
from deepearth.pipeline import stages
from deepearth.recipe import load_recipe
from deepearth.reference.importing import import_frames
from deepearth.rundir import ExplorationResult, RunDir
from deepearth.store import LabelStore, StaleWork

@pytest.fixture(scope="module")
def emt_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("emt")
    write_copper(root / "cu.vasp")
    (root / "recipe.toml").write_text(EMT_RECIPE.format(run_dir=root / "run", pod=POD_SMALL))
    recipe = load_recipe(root / "recipe.toml")
    summary = run_recipe(recipe, executor=InProcessExecutor())
    return recipe, summary, RunDir(root / "run")


def test_every_stage_ran_and_wrote_its_records(emt_run):
    recipe, summary, rundir = emt_run
    assert [it["iteration"] for it in summary.iterations] == [0, 1]
    assert summary.labeller["method"] == "EMT" and summary.potential["backend"] == "pod"
    store = LabelStore(rundir.store_file)
    # reference EOS (5) + initial data (8) at iteration 0, then the capped candidates, and as many explored
    # frames as iteration 0 lacked held-out labels for a calibration (min_calibration_frames = 10), held out
    assert summary.iterations[0]["n_new_labels"] == 5 + 8
    picked = rundir.read_candidates(0)
    candidates = [c for c in picked if not c.split]
    calibration = [c for c in picked if c.split == "valid"]
    assert len(candidates) == 3 and all(c.parent.endswith("traj.extxyz") for c in picked)
    # as many as the 5 explored frames hold besides the 3 candidates (fewer than the 6 missing)
    assert 0 < len(calibration) <= 10 - summary.iterations[0]["n_validation_frames"]
    assert len(calibration) + len(candidates) == 5 and not {c.frame for c in calibration} & {c.frame for c in candidates}
    assert summary.iterations[1]["n_new_labels"] == len(picked) == store.count(iteration=1)
    assert store.count(iteration=1, split="valid") >= len(calibration)
    assert {r.labeller for r in store.rows()} == {"emt"}
    for it in (0, 1):
        results = rundir.exploration_results(it)
        # the temperature ramp: 1200 K joins only once 600 K is accurate, which trust_lo = 0.002 never allows
        assert sorted(r.T_K for r in results) == [600.0]
        assert all(isinstance(r, ExplorationResult) and r.n_frames == 40 // 10 + 1 for r in results)
        assert all(abs(sum(r.fractions.values()) - 1) < 1e-12 for r in results)
        assert rundir.validation_file(it).is_file()
    # EMT copper from the reference's own static EOS: V0 ≈ 11.6-12.0 Å³/atom, K0 ≈ 130-140 GPa
    eos = rundir.read_result("reference_eos")
    assert 11.0 < eos["V0_A3"] / 32 < 12.5 and 100 < eos["K0_GPa"] < 180
    (d,) = summary.diffusion
    assert d["species"] == "Cu" and d["n_replicas"] == 2 and np.isfinite(d["D_m2_per_s"])
    assert not summary.converged and d["model_converged"] is False
    # trust_lo = 0.002 eV/Å is tighter than the model's own held-out error: the check says so
    trust = json.loads(rundir.validation_file(1).read_text())["trust_levels"]
    assert trust["trust_lo"] == 0.002 and trust["n_frames"] >= 2
    assert trust["held_out_deviation_median"] <= trust["held_out_deviation_p95"]
    assert trust["fraction_not_accurate"] > 0.5 and "Trust levels (absolute deviation)" in \
        (rundir.report_dir / "index.html").read_text()
    assert any("did not converge: production ran with the last model" in f for f in summary.flags)
    assert "Read this first" in (rundir.report_dir / "index.html").read_text()
    assert (rundir.root / summary.final_model).is_file()
    assert (rundir.report_dir / "index.html").is_file()
    on_disk = json.loads(rundir.summary_file.read_text())
    assert on_disk["iterations"] == summary.iterations and on_disk["converged"] == summary.converged


def test_replicas_held_their_state_point(emt_run):
    _, _, rundir = emt_run
    for r in range(2):
        done = json.loads((rundir.replica_dir(5.0, 1200.0, r) / "done.json").read_text())
        assert abs(done["T_mean_K"] - 1200) < 400 and done["n_frames"] == 400 // 10 + 1


def test_status_and_a_rerun_that_adds_nothing(emt_run):
    recipe, summary, rundir = emt_run
    text = status_text(rundir.root)
    assert "stage: finished" in text and "iteration 1" in text
    n = LabelStore(rundir.store_file).count()
    again = run_recipe(recipe, executor=InProcessExecutor())
    assert LabelStore(rundir.store_file).count() == n
    assert again.iterations == summary.iterations and again.diffusion == summary.diffusion


def test_production_far_outside_the_training_data_stops_naming_the_envelope(emt_run, tmp_path):
    """The final model's envelope travels with it: a replica at 15,000 K (trained to 1200 K) stops
    with the envelope it left, recorded, not raised and not a blow-up."""
    from deepearth.md.engine import ASEEngine
    from deepearth.md.production import ReplicaTask, run_replica

    recipe, summary, rundir = emt_run
    start = read(rundir.root.parent / "cu.vasp")
    res = run_replica(ReplicaTask(str(tmp_path / "hot"), str(rundir.root / summary.final_model), start, 5.0,
                                  15000.0, recipe.production, ASEEngine(), seed=1))
    assert "left the training envelope: Cu-Cu pair at" in res.blow_up and "closest in training" in res.blow_up


def test_a_changed_recipe_is_refused_naming_what_changed_and_nothing_is_touched(emt_run):
    recipe, _, rundir = emt_run
    before = rundir.recipe_file.read_text(), LabelStore(rundir.store_file).count()
    stale = recipe.model_copy(update={"initial": recipe.initial.model_copy(update={"rattle_A": 0.07})})
    with pytest.raises(StaleWork, match=r"initial.rattle_A: 0.05 -> 0.07"):
        run_recipe(stale, executor=InProcessExecutor())
    longer = recipe.model_copy(update={"production": recipe.production.model_copy(update={"steps": 800})})
    with pytest.raises(StaleWork, match=r"production MD was run with other settings \(production.steps: 400 -> 800\)"):
        run_recipe(longer, executor=InProcessExecutor())
    structure = Path(recipe.source).parent / "cu.vasp"
    original = structure.read_text()
    write_copper(structure, a_A=3.65)  # edited in place
    try:
        with pytest.raises(StaleWork, match=r"system \(built structure\)"):
            run_recipe(recipe, executor=InProcessExecutor())
    finally:
        structure.write_text(original)
    assert (rundir.recipe_file.read_text(), LabelStore(rundir.store_file).count()) == before


def test_stages_take_injected_parts(emt_run, tmp_path):
    """A context built with another labeller: the stages use it, and the store refuses to mix."""
    recipe, _, rundir = emt_run
    from ase.calculators.lj import LennardJones

    from deepearth.reference.labeller import CalculatorLabeller

    lj = CalculatorLabeller(LennardJones, name="lj", provenance={"method": "LJ", "code": "ase"})
    with pytest.raises(ValueError, match="labelled with labeller = 'emt'"):
        build_context(recipe, labeller=lj)
    fresh = recipe.model_copy(update={"run_dir": str(tmp_path / "lj-run")})
    ctx = build_context(fresh, labeller=lj, executor=InProcessExecutor())
    eos = stages.reference_eos(ctx)  # LJ (sigma = 1 Å) copper explodes outward: the fit still runs
    assert np.isfinite(eos.V0_A3) and {r.labeller for r in ctx.store.rows()} == {"lj"}


# ------------------------------------------------------------------------ imported labels
IMPORTED_RECIPE = """
name = "casio3-imported"
run_dir = "{run_dir}"
seed = 2026
workers = 1
[system]
structure = "{structure}"
supercell = [1, 1, 1]
bulk_modulus_GPa = 200.0
[reference]
kind = "imported"
{pod}
[exploration]
pressures_GPa = [0.0]     # NVT at the BM3 guess's 0 GPa volume = the frame's own density (≈ 55 GPa)
temperatures_K = [2500.0]
ensemble = "nvt"
steps = 20
deviation_interval = 10
max_iterations = 2
[production]
points = [{{P_GPa = 0.0, T_K = 2500.0}}]
equilibration_steps = 0
steps = 200
sample_interval = 5
replicas = 1
allow_unconverged = true
[properties.diffusion]
min_fit_start_ps = 0.02
"""


def test_a_recipe_trains_on_imported_labels(tmp_path, capsys):
    from deepearth.cli import main

    data = data_path("casio3-melt-pbe", "train_2500K.xyz")
    run = tmp_path / "run"
    assert main(["import", str(data), "--run", str(run)]) == 0
    recipe_file = tmp_path / "recipe.toml"
    recipe_file.write_text(IMPORTED_RECIPE.format(run_dir=run, structure=data, pod=POD_SMALL))
    assert main(["run", str(recipe_file)]) == 0
    summary = json.loads((run / "summary.json").read_text())
    store = LabelStore(run / "deepearth.db")
    assert store.count() == 80 and {r.labeller for r in store.rows()} == {"import"}  # nothing labelled here
    (it0,) = summary["iterations"][:1]
    assert it0["n_labelled_total"] == 80 and it0["n_validation_frames"] == store.count(split="valid") > 0
    assert summary["labeller"]["labeller"] == "import"
    # PBE CaSiO3 melt: a small 2+3-body POD is good to a few tenths of an eV/Å on held-out frames
    assert 0.05 < it0["rmse_force_eV_per_A"] < 1.5
    # a second reference (QE SCAN) into the same store is one clear error; the store is unchanged
    capsys.readouterr()
    assert main(["import", str(data_path("dpdata-fixtures", "qe.scf", "02.out")), "--run", str(run)]) == 2
    err = capsys.readouterr().err
    assert "2 references in one store" in err and "SCAN" in err and store.count() == 80
    with pytest.raises(ValueError, match="2 references"):
        import_frames([data_path("dpdata-fixtures", "qe.scf", "02.out")], run)
