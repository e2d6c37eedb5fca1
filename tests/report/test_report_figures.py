"""Every figure of a run's report passes the figure checks (no offset text, every axis labelled with
its unit or marked unitless, every labelled line in a legend), on a synthetic run and on a real
(EMT copper) one; the checks themselves catch each fault; panels with too few points become sentences."""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from report_run import build_run  # noqa: E402

from deepearth.report.figure_checks import assert_figure_ok, figure_problems, mark_unitless  # noqa: E402
from deepearth.report.figures import (capture_figures, heldout_learning_curves, parity, parity_notes,  # noqa: E402
                                      save_figure)
from deepearth.report.html import write_report  # noqa: E402

EXPECTED = {"msd.png", "arrhenius_Cu.png", "learning_curves.png", "coverage.png", "deviation.png", "parity.png",
            "frame_errors.png"}


def test_every_report_figure_passes_the_checks(synthetic_run):
    rundir, summary, recipe = synthetic_run
    with capture_figures() as figs:
        write_report(rundir, summary, recipe)
    assert {f.get_label() for f in figs} == EXPECTED
    for fig in figs:
        assert_figure_ok(fig)
        assert (rundir.report_dir / fig.get_label()).stat().st_size > 5000


def test_checks_catch_offsets_missing_units_and_legends(tmp_path):
    fig, (a, b, c) = plt.subplots(1, 3)
    a.plot([-72.85226, -72.85212], [-72.85226, -72.85212])  # the quickstart's one energy point: offset text
    a.set_xlabel("reference E (eV/atom)")
    a.set_ylabel("model E (eV/atom)")
    a.xaxis.get_major_formatter().set_useOffset(True)
    a.yaxis.get_major_formatter().set_useOffset(True)
    b.plot([0, 1], [0, 1], label="trust_lo")  # a labelled line without a legend
    b.set_xlabel("model deviation")  # no unit
    b.set_ylabel("frames (count)")
    c.plot([0, 1], [1e-12, 2e-12])  # a ×10⁻¹² multiplier is offset text too
    c.set_xlabel("lag time (ps)")
    c.set_ylabel("D [m²/s]")
    fig.savefig(tmp_path / "bad.png")
    problems = " | ".join(figure_problems(fig))
    assert "x axis shows offset text" in problems and "y axis shows offset text" in problems
    assert "x label 'model deviation' has no unit" in problems
    assert "labelled artists not in a legend: ['trust_lo']" in problems
    assert problems.count("offset text") == 3
    with pytest.raises(AssertionError, match="no unit"):
        assert_figure_ok(fig)
    plt.close(fig)

    fig, ax = plt.subplots()  # the same drawn properly: save_figure switches offsets off
    ax.plot([-72.85226, -72.85212], [-72.85226, -72.85212], label="frames")
    ax.set_xlabel("reference E (eV/atom)")
    ax.set_ylabel("iteration")
    mark_unitless(ax, "y")
    ax.legend()
    save_figure(fig, tmp_path / "good.png")
    assert figure_problems(fig) == []


def test_too_few_points_give_a_sentence_not_a_figure(tmp_path):
    rundir, summary, recipe = build_run(tmp_path / "small", n_iterations=1, n_valid=1)
    val = json.loads(rundir.validation_file(0).read_text())
    assert val["n_frames"] == 1
    notes = parity_notes(val)
    assert any(n.startswith("No energy parity plot: 1 point from 1 held-out frame") for n in notes)
    assert any(n.startswith("No stress components parity plot: 9 points") for n in notes)
    with capture_figures() as figs:
        assert parity(val, tmp_path / "p.png") is not None  # forces: 96 components of the one frame
    assert len(figs[0].axes) == 1 and "force" in figs[0].axes[0].get_title()
    assert heldout_learning_curves([{"iteration": 0}], tmp_path / "l.png") is None
    with capture_figures() as figs:
        write_report(rundir, summary, recipe)
    for fig in figs:
        assert_figure_ok(fig)
    page = (rundir.report_dir / "index.html").read_text()
    assert "No learning curve: the run has one iteration" in page
    assert "No energy parity plot" in page and "rest on 1 frame" in page
    assert not (rundir.report_dir / "frame_errors.png").exists()
    assert not (rundir.report_dir / "learning_curves.png").exists()


def test_learning_curve_points_carry_the_records_errors(synthetic_run, tmp_path):
    rundir, summary, _ = synthetic_run
    with capture_figures() as figs:
        from deepearth.report import data

        points = data.learning_points(data.iteration_rows(rundir, summary.iterations))
        heldout_learning_curves(points, tmp_path / "lc.png")
    assert [p["iteration"] for p in points] == [0, 1, 2]
    for p, rec in zip(points, summary.iterations):
        val = json.loads(rundir.validation_file(rec["iteration"]).read_text())
        assert p["energy"] == (rec["rmse_energy_meV_per_atom"], val["rmse_energy_stderr"])
        assert p["n_train"] == rec["n_labelled_total"] - rec["n_validation_frames"]
    bars = [c for ax in figs[0].axes for c in ax.containers]  # an error bar on every point
    assert len(bars) == 6 and all(len(b.lines[2][0].get_segments()) == 3 for b in bars)
    assert np.all(np.diff([p["n_train"] for p in points]) > 0)


@pytest.fixture(scope="module")
def emt_pipeline_run(tmp_path_factory):
    """The real thing: the EMT copper pipeline (seconds), its report redrawn under the figure capture."""
    from emt_copper import EMT_RECIPE, POD_SMALL, write_copper

    from deepearth.parallel import InProcessExecutor
    from deepearth.pipeline import run_recipe
    from deepearth.recipe import load_recipe
    from deepearth.rundir import RunDir

    root = tmp_path_factory.mktemp("emt-report")
    write_copper(root / "cu.vasp")
    (root / "recipe.toml").write_text(EMT_RECIPE.format(run_dir=root / "run", pod=POD_SMALL))
    recipe = load_recipe(root / "recipe.toml")
    summary = run_recipe(recipe, executor=InProcessExecutor())
    return RunDir(root / "run"), summary, recipe


def test_a_real_runs_figures_pass_the_checks(emt_pipeline_run):
    rundir, summary, recipe = emt_pipeline_run
    with capture_figures() as figs:
        write_report(rundir, summary, recipe)
    names = {f.get_label() for f in figs}
    assert {"msd.png", "learning_curves.png", "coverage.png", "deviation.png", "parity.png"} <= names
    for fig in figs:
        assert_figure_ok(fig)
    page = (rundir.report_dir / "index.html").read_text()
    assert page.count("<img") == len(figs)
