"""A campaign end to end in this process: EMT copper as a crystal, a Σ5 bicrystal and a liquid
trained into one POD potential; the temperature ramp, continued starts, per-system budgets and
folders; production cases with D per region; an Arrhenius law of the liquid — and a run killed in
its new stages (the liquid's initial data, a continued exploration, production) that, started
again, ends with exactly the numbers of a run never killed."""

import gc
import json

import numpy as np
import pytest
from ase.build import bulk
from ase.io import read, write

from emt_copper import POD_SMALL, write_copper
from deepearth.parallel import InProcessExecutor
from deepearth.pipeline import run_recipe
from deepearth.pipeline.context import ProgressHook
from deepearth.recipe import load_recipe
from deepearth.rundir import RunDir
from deepearth.store import LabelStore

RECIPE = """
name = "cu-campaign"
run_dir = "{run_dir}"
seed = 5
workers = 1
[[systems]]
name = "fcc"
structure = "cu.vasp"
supercell = [1, 1, 1]
bulk_modulus_GPa = 140.0
temperatures_K = [600.0, 900.0]
[[systems]]
name = "gb"
structure = "cu4.vasp"
supercell = [1, 1, 1]
bulk_modulus_GPa = 140.0
grain_boundary = {{sigma = 5, min_length_A = 12.0, gb_width_A = 4.0}}
temperatures_K = [900.0]
steps = 20
weight = 0.5
[[systems]]
name = "melt"
builder = "liquid"
structure = "cu.vasp"
supercell = [1, 1, 1]
bulk_modulus_GPa = 140.0
temperatures_K = [2500.0]
weight = 2.0
trust_lo = 0.05
trust_hi = 5.0
[initial]
n_eos_volumes = 5
n_configs = 6
strain = 0.02
rattle_A = 0.05
[reference]
kind = "emt"
validation_fraction = 0.3
{pod}
[exploration]
pressures_GPa = [5.0]
steps = 40
deviation_interval = 10
criterion = "absolute"
trust_lo = 0.02
trust_hi = 5.0
max_candidates_per_iteration = 4
max_iterations = 2
min_calibration_frames = 4
[production]
equilibration_steps = 20
steps = 1000
sample_interval = 10
replicas = 2
allow_unconverged = true
[[production.cases]]
system = "melt"
species = ["Cu"]
P_GPa = [5.0]
temperatures_K = [2000.0, 2500.0]
[[production.cases]]
system = "gb"
P_GPa = [5.0]
temperatures_K = [900.0]
regions = ["gb", "grain"]
[properties.diffusion]
min_fit_start_ps = 0.05
"""


class Killed(Exception):
    """Stands in for a kill: raised from a stage's progress report."""


class KillAt(ProgressHook):
    """Raise :class:`Killed` at the ``n``-th finished task of the stage whose name contains ``stage``."""

    def __init__(self, stage: str, n: int = 1):
        self.stage, self.n, self.current, self.done = stage, n, "", 0

    def start(self, what, total, done=0):
        self.current, self.done = what, 0

    def advance(self, n=1):
        self.done += n
        if self.stage in self.current and self.done >= self.n:
            raise Killed(self.current)


def make_recipe(root):
    write_copper(root / "cu.vasp")
    write(root / "cu4.vasp", bulk("Cu", "fcc", a=3.61, cubic=True), format="vasp")
    (root / "recipe.toml").write_text(RECIPE.format(run_dir=root / "run", pod=POD_SMALL))
    return load_recipe(root / "recipe.toml")


def outcome(rundir: RunDir) -> dict:
    store = LabelStore(rundir.store_file)
    return {"labels": sorted((r.candidate_id, round(r.energy, 10)) for r in store.rows(ok=True)),
            "diffusion": [(d.get("system"), d["species"], d["region"], d["T_K"], d["D_m2_per_s"])
                          for d in rundir.read_result("diffusion")],
            "arrhenius": [(a["system"], a["region"], a.get("activation_kJ_per_mol")) for a in rundir.read_result("arrhenius")]}


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    root = tmp_path_factory.mktemp("campaign")
    recipe = make_recipe(root)
    summary = run_recipe(recipe, executor=InProcessExecutor())
    return recipe, summary, RunDir(root / "run")


@pytest.mark.slow
def test_a_campaign_explores_each_system_in_its_own_folder_and_ramps(campaign):
    recipe, summary, rundir = campaign
    it0 = rundir.exploration_results(0)
    assert sorted((r.system, r.T_K) for r in it0) == [("fcc", 600.0), ("gb", 900.0), ("melt", 2500.0)]
    for r in it0:
        assert rundir.point_dir(0, r.P_GPa, r.T_K, r.system).joinpath("result.json").is_file()
    store = LabelStore(rundir.store_file)
    ids = [r.candidate_id for r in store.rows()]
    # one EOS scan serves the crystal and the liquid of the same cell; the bicrystal has its own
    assert sum(i.startswith("fcc-eos-") for i in ids) == 5 and not any(i.startswith("melt-eos-") for i in ids)
    assert sum(i.startswith("gb-eos-") for i in ids) == 5
    assert {i.split("-init-")[0] for i in ids if "-init-" in i} == {"fcc", "gb", "melt"}
    # iteration 1 started every point where iteration 0 left it (continued starts)
    assert rundir.exploration_results(1)
    first = read(rundir.point_dir(1, 5.0, 2500.0, "melt") / "traj.extxyz", index=0)
    last0 = read(rundir.point_dir(0, 5.0, 2500.0, "melt") / "traj.extxyz", index=":")
    assert any(np.allclose(first.get_positions(wrap=True), f.get_positions(wrap=True), atol=1e-6) for f in last0)
    # candidates within each system's share of the budget (4 × w / Σw: fcc 1, gb 1 (at least one), melt 2)
    picked = rundir.read_candidates(0)
    for name, cap in (("fcc", 1), ("gb", 1), ("melt", 2)):
        assert sum(c.system == name for c in picked) <= cap
    grid = summary.iterations[0]["grid"]
    assert {g["system"] for g in grid} == {"fcc", "gb", "melt"}


@pytest.mark.slow
def test_production_cases_give_D_per_region_and_an_arrhenius_law(campaign):
    _, summary, rundir = campaign
    rows = rundir.read_result("diffusion")
    melt = [d for d in rows if d["system"] == "melt"]
    assert sorted(d["T_K"] for d in melt) == [2000.0, 2500.0] and all(d["region"] == "all" for d in melt)
    assert all(d["diffusive"] for d in melt), [d["flag"] if "flag" in d else d["diffusive"] for d in melt]
    assert melt[1]["D_m2_per_s"] > melt[0]["D_m2_per_s"] > 1e-9  # a liquid metal: D ~ 1e-8 m²/s, up with T
    gb = {d["region"]: d for d in rows if d["system"] == "gb"}
    assert set(gb) <= {"gb", "grain"} and gb, "the bicrystal's regions gave no D"
    for d in gb.values():  # rows grouped by element and region name; the slab (scaled to each cell) beside them
        assert d["species"] == "Cu" and d["region_slab"]["planes"] == 2
        assert d["region_slab"]["outside"] is (d["region"] == "grain")
    for rep in (0, 1):
        assert (rundir.md_dir / "melt" / "P5-T2000" / f"rep-{rep}" / "done.json").is_file()
    laws = {(a["system"], a["region"]): a for a in rundir.read_result("arrhenius")}
    law = laws[("melt", "all")]
    assert law["activation_kind"] == "dH" and law["activation_kJ_per_mol"] > 0 and law["n_points"] == 2
    assert [d["system"] for d in summary.diffusion if d["system"] == "melt"] == ["melt", "melt"]


@pytest.mark.slow
@pytest.mark.reliability("resume")
@pytest.mark.parametrize("stage, n", [("labelling: initial data of melt", 3), ("iteration 1: exploring", 1),
                                      ("production MD", 2)])
def test_a_campaign_killed_in_a_new_stage_resumes_to_the_same_numbers(campaign, tmp_path, stage, n):
    _, _, reference = campaign
    recipe = make_recipe(tmp_path)
    with pytest.raises(Killed):
        run_recipe(recipe, executor=InProcessExecutor(), progress=KillAt(stage, n))
    gc.collect()  # the killed run's lock handle goes with its frames
    before = {r.candidate_id: r.energy for r in LabelStore(RunDir(tmp_path / "run").store_file).rows(ok=True)}
    run_recipe(recipe, executor=InProcessExecutor())
    rundir = RunDir(tmp_path / "run")
    after = outcome(rundir)
    assert dict(after["labels"]).items() >= {k: round(v, 10) for k, v in before.items()}.items()
    assert after == outcome(reference)
    assert json.loads(rundir.summary_file.read_text())["n_invocations"] == 2


@pytest.mark.slow
def test_the_campaign_report_has_a_section_per_system_and_the_arrhenius_figure(campaign):
    from deepearth.report.figure_checks import figure_problems
    from deepearth.report.figures import capture_figures
    from deepearth.report.html import write_report

    recipe, summary, rundir = campaign
    with capture_figures() as figs:
        write_report(rundir, summary, recipe)
    names = {f.get_label() for f in figs}
    assert {f"{kind}_{s}.png" for s in ("fcc", "gb", "melt") for kind in ("coverage", "deviation")} <= names
    assert "arrhenius_melt_Cu.png" in names  # the liquid's law, one line and band ('all' atoms)
    assert [p for f in figs for p in figure_problems(f)] == []
    page = (rundir.report_dir / "index.html").read_text()
    for s in ("fcc", "gb", "melt"):
        assert f"<h2 id='system-{s}'>System {s}</h2>" in page and f"Held-out labels of {s} in the final model" in page
    assert page.count("<img") == len(figs)
    assert "<th>system</th>" in page and "<th>region (atoms counted)</th>" in page


@pytest.mark.slow
def test_trust_needs_enough_held_out_labels_and_calibration_frames_fill_them(campaign, tmp_path):
    """No ramp step and no convergence on fewer than min_calibration_frames held-out labels (the
    uncalibrated bootstrap spread is several times too small); the frames labelled to fill the gap are
    accurate explored frames of every system, held out whatever their id's hash says."""
    from deepearth.pipeline import stages
    from deepearth.pipeline.context import build_context
    from deepearth.explore.campaign import load_candidate
    from deepearth.pipeline.learning import calibration_frames, converged
    from deepearth.reference.batch import LabelRequest

    recipe, _, rundir = campaign
    ctx = build_context(recipe, executor=InProcessExecutor())
    need = recipe.exploration.min_calibration_frames
    assert not stages.trust_earned(ctx, need - 1) and stages.trust_earned(ctx, need)
    old = build_context(recipe.model_copy(update={"exploration": recipe.exploration.model_copy(
        update={"min_calibration_frames": 1})}), executor=InProcessExecutor())
    assert stages.trust_earned(old, 0)  # a recipe from before the rule: as before
    results = rundir.exploration_results(0)
    levels = {s.name: s.n_levels(recipe.exploration.ramp) - 1 for s in ctx.systems}
    everything_accurate = [r.__class__.from_dict({**r.to_dict(), "fractions": {"accurate": 1.0, "candidate": 0.0,
                                                                               "failed": 0.0}}) for r in results]
    assert converged(ctx, levels, everything_accurate, trusted=True)
    assert not converged(ctx, levels, everything_accurate, trusted=False)

    taken = rundir.read_candidates(0)
    extra = calibration_frames(ctx, 0, results, taken, 6)
    assert len(extra) == 6 and all(c.split == "valid" for c in extra)
    assert not {(c.parent, c.frame) for c in extra} & {(c.parent, c.frame) for c in taken}
    by_point = {(r.system, r.T_K): r for r in results}
    for c in extra:  # frames of the point they name, not failed
        r = by_point[(c.system, c.T_K)]
        assert r.deviation_used[c.frame] <= ctx.system_of(r).exploration.trust_hi
    assert {c.system for c in extra} == {r.system for r in results}  # every system, in turn

    # labelled as held-out data whatever the id's hash says (a copy of the run: the fixture stays as it is)
    import shutil
    shutil.copytree(rundir.root, tmp_path / "run")
    copy = build_context(recipe.model_copy(update={"run_dir": str(tmp_path / "run")}), executor=InProcessExecutor())
    reqs = [LabelRequest(f"calibration-{k}", load_candidate(c), 1, c.P_GPa, c.T_K, c.parent, c.frame)
            for k, c in enumerate(extra[:3])]
    hashed = [copy.split_of(r.candidate_id) for r in reqs]
    stages.label(copy, reqs, "calibration frames", frozenset(r.candidate_id for r in reqs[:2]))
    splits = {r.candidate_id: r.split for r in LabelStore(copy.rundir.store_file).rows() if r.candidate_id in
              {q.candidate_id for q in reqs}}
    assert splits == {"calibration-0": "valid", "calibration-1": "valid", "calibration-2": hashed[2]}
