"""The report of a campaign (``[[systems]]``): a section per system (coverage map, grid table,
deviation histograms, parity of its own held-out labels, attributed by id prefix), diffusion with
system and region columns, an Arrhenius figure per (system, species) with a line and band per region
whose curves are the recorded laws, the laws not fitted with their reason, and the W-isotope hand-off
from the run's own grain-boundary law; every figure passes the figure checks."""

import html
import json
import re

import numpy as np
import pytest
from campaign_run import SYSTEMS
from test_report_page import NUMBER, Tables

from deepearth.report import data
from deepearth.report.figure_checks import assert_figure_ok
from deepearth.report.figures import capture_figures
from deepearth.report.html import write_report
from deepearth.report.run_figures import arrhenius_group_panels
from deepearth.units import R_J_PER_MOL_K

NAMES = [s[0] for s in SYSTEMS]


@pytest.fixture(scope="module")
def written(synthetic_campaign):
    """The campaign's page and the figures drawn for it (captured)."""
    rundir, summary, recipe = synthetic_campaign
    with capture_figures() as figs:
        write_report(rundir, summary, recipe)
    return (rundir.report_dir / "index.html").read_text(), {f.get_label(): f for f in figs}


def _section(page: str, name: str) -> str:
    parts = re.split(r"<h2 id='system-", page)
    own = next(p for p in parts if p.startswith(f"{name}'>"))
    return own.split("<h2>")[0]


def test_a_section_per_system_with_its_own_figures(written):
    page, figs = written
    for fig in figs.values():
        assert_figure_ok(fig)
    per_system = {f"{kind}_{n}.png" for n in NAMES for kind in ("coverage", "deviation")}
    assert per_system | {"parity_cu.png", "arrhenius_cu-gb_Cu.png", "arrhenius_cu-liq_Cu.png", "w_isotopes.png",
                         "msd.png", "parity.png"} <= set(figs)
    assert "arrhenius_cu_Cu.png" not in figs  # the crystal's law was not fitted
    for name in NAMES:
        sec = _section(page, name)
        assert f"src='coverage_{name}.png'" in sec and f"src='deviation_{name}.png'" in sec
        assert "Exploration grid points" in sec and f"Held-out labels of {name} in the final model" in sec
    # the single-system pieces are not drawn for a campaign
    assert "coverage.png" not in figs and "deviation.png" not in figs
    assert page.count("<img") == len(figs)
    assert "The last 6 of 7 state points are drawn (the table has them all)." in page  # MSD panels: 7 (system, P, T)


def test_labels_points_and_candidates_belong_to_their_system(synthetic_campaign, written):
    rundir, summary, recipe = synthetic_campaign
    assert data.system_of_id("cu-gb-init-0001", NAMES) == "cu-gb"  # the longest name, not "cu"
    assert data.system_of_id("cu-init-0001 (initial:-1)", NAMES) == "cu"
    assert data.system_of_id("cux-init-0001", NAMES) == "" and data.system_of_id("init-0001", NAMES) == ""
    store = data.store_labels(rundir)
    systems = {s["name"]: s for s in data.campaign_systems(recipe)}
    expected = {"cu": (5 + 16 + 1, 0), "cu-gb": (5 + 8 + 1, 0), "cu-liq": (7 + 1, 1)}  # (ok, failed): see campaign_run
    for name, (n_ok, n_bad) in expected.items():
        s = systems[name]
        cov = data.coverage(rundir, s["pressures_GPa"], s["temperatures_K"], [0, 1], system=name, names=NAMES,
                            labels=store, liquid=s["builder"] == "liquid")
        assert all(data.system_of_id(lab["id"], NAMES) == name for lab in cov["labels"])
        assert (sum(lab["ok"] for lab in cov["labels"]), sum(not lab["ok"] for lab in cov["labels"])) == (n_ok, n_bad)
        explored = next(p for n, p, *_ in SYSTEMS if n == name)
        assert sorted({(e["P_GPa"], e["T_K"]) for e in cov["explored"]}) == sorted(explored)
        assert len(cov["chosen"]) == 1 and (cov["chosen"][0]["P_GPa"], cov["chosen"][0]["T_K"]) == explored[0]
        assert f"{n_ok} ok, {n_bad} failed" in _section(written[0], name)
    liq = data.coverage(rundir, [5.0], [2000.0], [0, 1], system="cu-liq", names=NAMES, labels=store, liquid=True)
    assert {lab["kind"] for lab in liq["labels"]} == {data.LIQUID_SEED, data.MD}  # no EOS scan of its own
    assert "no reference EOS scan of its own" in _section(written[0], "cu-liq")
    # the crystal's ramp never reached 1200 K: its grid rows say so
    cu = data.coverage(rundir, [5.0, 10.0], [600.0, 1200.0], [0, 1], system="cu", names=NAMES, labels=store)
    rows = data.grid_rows(summary.iterations, cu, system="cu")
    assert [(r["P_GPa"], r["T_K"], len(r["history"])) for r in rows] == [(5.0, 600.0, 2), (5.0, 1200.0, 0),
                                                                         (10.0, 600.0, 2), (10.0, 1200.0, 0)]
    assert _section(written[0], "cu").count("<td>not explored</td>") == 2


def test_per_system_parity_adds_up_to_the_pooled_held_out_errors(synthetic_campaign):
    rundir, _, _ = synthetic_campaign
    val = json.loads(rundir.validation_file(1).read_text())
    labels = data.store_labels(rundir)[0]
    subs = {n: data.system_validation(val, n, NAMES, labels) for n in NAMES}
    assert all(notes == [] for _, notes in subs.values())
    n = {name: sub["n_frames"] for name, (sub, _) in subs.items()}
    assert n == {s[0]: s[3] for s in SYSTEMS} and sum(n.values()) == val["n_frames"]
    atoms = {s[0]: 4 * int(np.prod(s[2])) for s in SYSTEMS}
    for name, (sub, _) in subs.items():  # the force components of a frame: 3 × its own atom count
        assert len(sub["parity"]["force_eV_per_A"][0]) == 3 * atoms[name] * n[name]
        assert len(sub["parity"]["stress_GPa"][0]) == 9 * n[name]
    # the pooled RMSE of validation_errors is the frame- (energy) or component-weighted mean square of the parts
    for key, weight in (("rmse_energy_meV_per_atom", lambda s: n[s]),
                        ("rmse_force_eV_per_A", lambda s: 3 * atoms[s] * n[s]), ("rmse_stress_GPa", lambda s: 9 * n[s])):
        pooled = np.sqrt(sum(weight(s) * subs[s][0][key] ** 2 for s in NAMES) / sum(weight(s) for s in NAMES))
        assert pooled == pytest.approx(val[key], rel=1e-9)
    # a record without frame ids cannot be split: said, not guessed
    bare = {**val, "parity": {k: v for k, v in val["parity"].items() if k != "frames"}}
    sub, notes = data.system_validation(bare, "cu", NAMES, labels)
    assert sub == {} and "carries no frame ids" in notes[0]


def test_diffusion_table_has_system_and_region_columns(written):
    page, _ = written
    parser = Tables()
    parser.feed(page)
    table = next(t for t in parser.tables if "D (m²/s), ± 1σ or upper bound" in t[0])
    head = table[0]
    assert head[:4] == ["system", "species", "region (atoms counted)", "P (GPa)"]
    rows = {(r[0], r[2].split(" (")[0], r[4]) for r in table[1:]}
    assert ("cu-gb", "grain-boundary slab", "1400") in rows and ("cu-liq", "all atoms", "2500") in rows
    assert {r[1] for r in table[1:]} == {"Cu"}  # the element, the region's description in its own column
    assert "grain interior (outside the z-slab 10.91±3.92 Å ×2)" in html.unescape(page)


def test_arrhenius_figures_draw_the_recorded_laws_one_line_per_region(synthetic_campaign, written):
    rundir, _, _ = synthetic_campaign
    page, figs = written
    laws = {(x["system"], x["region"]): x for x in rundir.read_result("arrhenius")}
    ax = figs["arrhenius_cu-gb_Cu.png"].axes[0]
    lines = {ln.get_label(): ln for ln in ax.get_lines() if " law" in ln.get_label()}
    assert sorted(k.split(" law")[0] for k in lines) == ["grain interior", "grain-boundary slab"]
    for region, words in (("gb", "grain-boundary slab"), ("grain", "grain interior")):
        law = laws[("cu-gb", region)]
        line = next(ln for k, ln in lines.items() if k.startswith(words))
        T = 1e4 / line.get_xdata()
        expected = np.exp(law["lnD0"] - law["activation_kJ_per_mol"] * 1e3 / (R_J_PER_MOL_K * T))  # eq. 3
        assert np.allclose(line.get_ydata(), expected, rtol=1e-9)
        assert T.min() == pytest.approx(law["T_range_K"][0]) and T.max() == pytest.approx(law["T_range_K"][1])
    # the grain interior's 1200 K point had no diffusive regime: drawn as its upper bound, not fitted
    assert any("not diffusive, 2σ upper bound" in ln.get_label() for ln in ax.get_lines())
    assert laws[("cu-gb", "grain")]["n_points"] == 2
    text = html.unescape(page)
    assert "Not fitted:" in text
    assert "cu: Cu: diffusive at 0 of 2 state points: an Arrhenius law needs 2 temperatures" in text
    assert "Arrhenius plot: cu-gb, Cu (grain-boundary slab, grain interior)" in text


def test_an_eq4_law_is_drawn_at_each_pressure(tmp_path):
    from deepearth.properties import arrhenius_fit

    T = np.array([1500.0, 2000.0, 2500.0, 1500.0, 2000.0, 2500.0])
    P = np.array([10.0, 10.0, 10.0, 40.0, 40.0, 40.0])
    D = 1e-7 * np.exp(-(80.0 + P * 1.5) * 1e3 / (R_J_PER_MOL_K * T))
    law = {"system": "", "species": "Mg", "region": "all",
           **arrhenius_fit(T, D, 0.05 * D, P_GPa=P, species="Mg").to_dict(), "n_points": 6}
    rows = [{"species": "Mg", "region": "all", "T_K": t, "P_GPa": p, "D_m2_per_s": d, "D_stderr_m2_per_s": 0.05 * d,
             "diffusive": True} for t, p, d in zip(T, P, D)]
    (group,) = data.arrhenius_groups([law], rows)
    curves = group["regions"][0]["curves"]
    assert [c["P_GPa"] for c in curves] == [10.0, 40.0]
    for c in curves:  # D0 exp(−(ΔE + PΔV)/RT), eq. 4, from the fit's parameters
        Tc = np.asarray(c["T_K"])
        lnD0, dE, dV = law["params"]
        assert np.allclose(c["D_m2_per_s"], np.exp(lnD0 - (dE + c["P_GPa"] * dV) * 1e3 / (R_J_PER_MOL_K * Tc)))
    with capture_figures() as figs:
        ((_, path),) = arrhenius_group_panels([group], tmp_path)
    assert path.name == "arrhenius_Mg.png"  # a single-[system] run keeps its file name
    assert_figure_ok(figs[0])
    assert sum(" law at " in ln.get_label() for ln in figs[0].axes[0].get_lines()) == 2


def test_w_isotopes_hand_off(synthetic_campaign, written):
    rundir, _, _ = synthetic_campaign
    page, figs = written
    rec = rundir.read_result("w_isotopes")
    text = html.unescape(page)
    assert "Geophysics hand-off: W isotopes" in text and "Extrapolated: yes" in re.sub(r"<[^>]+>", "", text)
    parser = Tables()
    parser.feed(page)
    table = next(t for t in parser.tables if t[0][0] == "PGZ height (km)")
    assert [r[0] for r in table[1:]] == [f"{h:g}" for h in rec["pgz_height_km"]]
    first = rec["results"][0]
    assert table[1][2].startswith(f"{first['D_eff_m2_per_s']['median']:.3g} [")
    assert table[1][3].startswith(f"{first['diffusion_length_m']['median']:.3g} [")
    # the band is the model at the recorded D_eff quantiles: it passes through every recorded height's range
    band = data.w_isotopes_band(rec)
    for row in rec["results"]:
        h, mu = np.log(row["pgz_height_km"]), row["oib_mu182w"]
        for q in ("lower", "median", "upper"):
            assert np.interp(h, np.log(band["pgz_height_km"]), band[q]) == pytest.approx(mu[q], rel=1e-4)
    assert "EXTRAPOLATED" in figs["w_isotopes.png"].axes[0].get_title()


def test_campaign_page_keeps_the_page_rules(written):
    page, _ = written
    prose = re.sub(r"<style>.*?</style>|<pre>.*?</pre>", "", page, flags=re.S)
    assert "None" not in prose and not re.search(r"\b(True|False)\b", prose)
    assert "{" not in prose and "}" not in prose
    assert "Committee spread not calibrated: 15 held-out frames &lt; 20: not calibrated" in page
    parser = Tables()
    parser.feed(page)
    for rows in parser.tables:
        for j, title in enumerate(rows[0]):
            cells = [r[j] for r in rows[1:] if j < len(r) and r[j] not in ("–", "")]
            if cells and all(NUMBER.match(c) for c in cells) and title not in ("iteration", "rank"):
                assert re.search(r"\(.+\)", title), f"number column {title!r} has no unit"


def test_campaign_page_images_load_in_a_browser(synthetic_campaign, written):
    from browser import check_page

    rundir, _, _ = synthetic_campaign
    seen = check_page(rundir.report_dir / "index.html")
    assert len(seen["images"]) == len(written[1]) and seen["broken_images"] == [] and seen["broken_links"] == []
