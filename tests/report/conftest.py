"""Fixtures of the report tests: the synthetic run of :mod:`report_run`."""

import pytest
from report_run import build_run


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory):
    """(RunDir, RunSummary, Recipe) of a three-iteration synthetic run (see :mod:`report_run`)."""
    return build_run(tmp_path_factory.mktemp("report") / "synthetic")


@pytest.fixture(scope="module")
def synthetic_campaign(tmp_path_factory):
    """(RunDir, RunSummary, Recipe) of a synthetic three-system campaign (see :mod:`campaign_run`)."""
    from campaign_run import build_campaign

    return build_campaign(tmp_path_factory.mktemp("report-campaign") / "synthetic")
