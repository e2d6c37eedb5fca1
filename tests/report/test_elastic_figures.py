"""Elastic figures (issue 15): Cij vs P with error bars, moduli with bounds, velocities — one point or
several — pass the figure checks; equal constants are drawn once."""

import numpy as np

from deepearth.properties import elastic
from deepearth.report.elastic_figures import elastic_figure, shown_constants
from deepearth.report.figure_checks import figure_problems
from deepearth.report.figures import capture_figures


def result(p, c11, c12, c44, err=5.0, symmetry=None):
    c = elastic.from_independent("cubic", [c11, c12, c44])
    return elastic.elastic_result(c, 3600.0 + 10 * p, np.where(c != 0, err, 0.0), p, 3000.0, symmetry=symmetry).to_dict()


def test_one_point_and_a_pressure_series_pass_the_checks(tmp_path):
    with capture_figures() as figs:
        elastic_figure(result(140.0, 1100.0, 500.0, 350.0), tmp_path / "one.png")
        elastic_figure([result(p, 300 + 4 * p, 95 + 1.7 * p, 155 + 0.9 * p) for p in (100.0, 0.0, 50.0)],
                       tmp_path / "series.png")
    assert [figure_problems(f) for f in figs] == [[], []]
    labels = [t.get_text() for t in figs[1].axes[0].get_legend().get_texts()]
    assert labels == ["C11=C22=C33", "C12=C13=C23", "C44=C55=C66"]
    x = figs[1].axes[0].lines[0].get_xdata()
    assert list(x) == [0.0, 50.0, 100.0]  # sorted by pressure


def test_zero_entries_are_not_drawn():
    r = result(0.0, 300.0, 100.0, 150.0)
    r["C_GPa"][0][3] = 0.5  # noise-level entry: under 1 % of the largest and 3σ
    assert (0, 3) not in shown_constants([r]) and (0, 0) in shown_constants([r])
