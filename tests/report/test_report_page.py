"""The report page: no ``None``, no Python ``True``/``False`` for flags, provenance as a table (no JSON
braces), a unit on every number column, "not diffusive" results as an upper bound (never a D value,
negative or not), value ± error from the records, run time said for what it is, flags first."""

import html
import json
import re
from html.parser import HTMLParser

import pytest

from deepearth.report.fmt import diffusion_text, diffusion_upper_bound
from deepearth.report.html import write_report

# index columns: numbers without a unit by nature
INDEX_COLUMNS = {"iteration", "rank"}
NUMBER = re.compile(r"^[<>]?\s*[-+]?\d[\d.]*(e[-+]?\d+)?( ± [\d.]+(e[-+]?\d+)?)?( → [-+]?\d[\d.]*)*$")


class Tables(HTMLParser):
    """The page's tables as lists of rows of cell texts (header row first)."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


@pytest.fixture(scope="module")
def page(synthetic_run) -> str:
    """The synthetic run's page, written once."""
    rundir, summary, recipe = synthetic_run
    write_report(rundir, summary, recipe)
    return (rundir.report_dir / "index.html").read_text()


def _prose(page: str) -> str:
    """The page without its style sheet and the recipe's text (TOML has braces of its own)."""
    return re.sub(r"<style>.*?</style>|<pre>.*?</pre>", "", page, flags=re.S)


def test_no_none_no_python_flags_no_json(page):
    text = _prose(page)
    assert "None" not in text and "nan" not in text.lower().split()
    assert not re.search(r"\b(True|False)\b", text)
    assert "{" not in text and "}" not in text  # provenance is a table, not a JSON dict
    assert "<th>setting</th><th>value</th>" in text and "<td>method</td><td>EMT</td>" in text
    # the code's version the run did not record comes from importlib.metadata, said to be so
    assert re.search(r"ase \(the run recorded no version; [\d.]+ is installed now", text)
    assert "ase ?" not in text


def test_every_number_column_has_a_unit(page):
    parser = Tables()
    parser.feed(page)
    checked = 0
    for rows in parser.tables:
        head, body = rows[0], rows[1:]
        for j, title in enumerate(head):
            cells = [r[j] for r in body if j < len(r) and r[j] not in ("–", "")]
            if cells and all(NUMBER.match(c) for c in cells) and title not in INDEX_COLUMNS:
                assert re.search(r"\(.+\)", title), f"number column {title!r} has no unit"
                checked += 1
    assert checked >= 25


def test_not_diffusive_is_an_upper_bound_never_a_value(synthetic_run, page):
    _, summary, _ = synthetic_run
    plateau = next(d for d in summary.diffusion if not d["diffusive"])
    assert plateau["D_m2_per_s"] < 0  # the resumed run's negative fit
    bound = diffusion_upper_bound(plateau)
    assert bound == 2 * plateau["D_stderr_m2_per_s"]
    assert f"&lt; {bound:.2g}" in page and "not diffusive: MSD on a plateau" in page
    assert diffusion_text(plateau) == f"D < {bound:.2g} m²/s (not diffusive: MSD on a plateau)"
    for v in (plateau["D_m2_per_s"], plateau["D_stderr_m2_per_s"]):  # neither the fit nor its bar as a value
        assert f"{v:.3g}" not in _prose(page).split("How each D was estimated")[0]
    good = next(d for d in summary.diffusion if d["diffusive"])
    assert "2.1e-09 ± 1.5e-10" in page
    flags = page.split("Read this first")[1].split("</div>")[0]
    assert "active learning did not converge" in flags and f"D &lt; {bound:.2g} m²/s only" in flags
    assert good["species"] == "Cu"


def test_values_carry_the_records_errors_and_bins_their_unit(synthetic_run, page):
    rundir, _, _ = synthetic_run
    val = json.loads(rundir.validation_file(2).read_text())
    assert f"{val['rmse_force_eV_per_A']:.3g} ± {val['rmse_force_stderr']:.2g}" in page
    for label in val["bins"]:
        assert f"<td>{float(label):.4g} GPa</td>" in page
    assert "pressure bin (GPa, static virial pressure of the label)" in page
    assert "Trust levels" not in page or "(dimensionless)" in page or "eV/Å" in page


def test_run_time_is_labelled_for_what_it_is(synthetic_run, page):
    rundir, summary, recipe = synthetic_run
    assert "this invocation: 7 s" in page and "not the run's total" in html.unescape(page)
    total_dict = {**summary.to_dict(), "wall_time_total_s": 629.0, "n_invocations": 3}

    class WithTotal:  # a summary that records the total (the record issue 18 asks for)
        def to_dict(self):
            return total_dict

    write_report(rundir, WithTotal(), recipe)
    again = (rundir.report_dir / "index.html").read_text()
    assert "compute time 629 s (10.5 min) over 3 invocations (this invocation: 7 s)" in again


def test_page_images_load_in_a_browser(synthetic_run, page):
    from browser import check_page

    rundir, _, _ = synthetic_run
    seen = check_page(rundir.report_dir / "index.html")
    assert len(seen["images"]) == 7 and seen["broken_images"] == [] and seen["broken_links"] == []
