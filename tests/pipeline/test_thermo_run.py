"""``deepearth run`` measures the thermodynamic properties a recipe asks for (deepearth.pipeline.thermo):
an EMT-copper run (tests/emt_copper.py) with tiny ``[properties.eos]``, ``[properties.elastic]``,
``[properties.melting]`` and ``[properties.phase]`` sections: the results files, the report's sections
and figures, a resume that reuses every result and a changed section that is recomputed alone.

The EOS, elastic and phase stages run their real workflows (LAMMPS, the run's POD model). The melting
stage runs a stand-in for :func:`deepearth.pipeline.melting.coexistence_melting` built from the real
estimators (``fraction_series``, ``melting_bracket``): a real coexistence run of the toy model takes
≈ 40 s (512 atoms; smaller cells fail the workflow's liquid-shape check), too long for this suite —
the workflow itself is tested in tests/pipeline/test_melting_workflow.py.
"""

import json

import numpy as np
import pytest

from emt_copper import EMT_RECIPE, POD_SMALL, write_copper
from deepearth.parallel import InProcessExecutor
from deepearth.pipeline import melting as melting_workflow
from deepearth.pipeline import run_recipe
from deepearth.properties.melting import fraction_series, melting_bracket
from deepearth.recipe import load_recipe
from deepearth.report.figure_checks import figure_problems
from deepearth.report.figures import capture_figures
from deepearth.rundir import RunDir

pytestmark = pytest.mark.slow  # ≈ 35 s: one EMT run and three resumes, the only proof of the stages

THERMO = """
[properties.eos]
pressures_GPa = [2.0, 4.0, 6.0, 8.0]
temperatures_K = [300.0, 900.0]
equilibration_steps = 50
steps = 100
timestep_fs = 2.0
sample_interval = 5
n_blocks = 4
[properties.elastic]
P_GPa = [5.0]
temperatures_K = [300.0]
symmetry = "cubic"
components = [0, 3]
npt_equilibration_steps = 50
npt_steps = 100
nvt_equilibration_steps = 20
nvt_steps = 100
sample_interval = 5
n_blocks = 4
[properties.melting]
P_GPa = 5.0
temperatures_K = [900.0, 1800.0]
layer = [1, 1]
n_layers = 4
[properties.phase]
"""
NAMES = ("eos", "elastic", "melting", "phase")


def fake_melting(calls: list):
    """A stand-in for coexistence_melting: the crystal grows at the lowest T and melts at the highest."""

    def run(layer, calculators, P_GPa, temperatures_K, *, settings, engine, replicas, seed, out_dir):
        calls.append({"layer": layer, "P_GPa": P_GPa, "temperatures_K": list(temperatures_K), "settings": settings})
        t = np.linspace(0, 2, 20)
        series = [fraction_series(T, t, np.clip(0.5 + (0.1 if T == min(temperatures_K) else -0.1) * t, 0, 1),
                                  len(layer) * settings.n_layers, axis_length_A=30.0, P_GPa=P_GPa)
                  for T in temperatures_K]
        return melting_workflow.MeltingRun(melting_bracket(series, P_GPa), series, [], {"n_layers": settings.n_layers})

    return run


def no_melting(*args, **kwargs):
    raise AssertionError("the melting workflow ran again")


def records(rundir: RunDir) -> dict:
    return {n: rundir.result_file(n).read_text() for n in NAMES}


@pytest.fixture(scope="module")
def thermo_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("thermo")
    write_copper(root / "cu.vasp")
    (root / "recipe.toml").write_text(EMT_RECIPE.format(run_dir=root / "run", pod=POD_SMALL) + THERMO)
    recipe = load_recipe(root / "recipe.toml")
    calls: list = []
    with pytest.MonkeyPatch.context() as mp, capture_figures() as figures:
        mp.setattr(melting_workflow, "coexistence_melting", fake_melting(calls))
        summary = run_recipe(recipe, executor=InProcessExecutor())
    return recipe, summary, RunDir(root / "run"), calls, figures


def test_each_section_writes_its_result_with_the_section_and_the_model(thermo_run):
    recipe, summary, rundir, calls, _ = thermo_run
    recs = {n: json.loads(rundir.result_file(n).read_text()) for n in NAMES}
    for name in ("eos", "elastic", "melting"):
        rec = recs[name]
        assert rec["section"] == getattr(recipe.properties, name).model_dump(mode="json")
        assert (rundir.root / rec["model"]).resolve() == (rundir.root / summary.final_model).resolve()
        assert rec["system"] == "system" and rec["model_converged"] is False and "error" not in rec
    # EOS: every point near its target pressure, denser under pressure, larger when hotter
    eos = recs["eos"]
    assert len(eos["points"]) == 8 and all(p["replicas"] == 1 for p in eos["points"])
    for p in eos["points"]:
        assert abs(p["P_GPa"] - p["P_target_GPa"]) < 3 * p["P_stderr_GPa"] + 1.0
    V = {(p["P_target_GPa"], p["T_K"]): p["V_A3"] for p in eos["points"]}
    assert all(V[(P, 300.0)] > V[(P + 2, 300.0)] and V[(P, 900.0)] > V[(P, 300.0)] for P in (2.0, 4.0, 6.0))
    assert [f["T_K"] for f in eos["isotherms"]] == [300.0, 900.0] and not any("error" in f for f in eos["isotherms"])
    assert eos["thermal"]["T_K"] == [300.0, 900.0] and (rundir.root / eos["table"]).is_file()
    # elastic: a stable cubic crystal; the model's static K at 5 GPa agrees with the reference's own EOS
    (md,), (static,) = recs["elastic"]["points"], recs["elastic"]["static"]
    assert recs["elastic"]["complete"] and (md["P_GPa"], md["T_K"], static["P_GPa"]) == (5.0, 300.0, 5.0)
    c11, c12, c44 = (md["independent"][k][0] for k in ("C11", "C12", "C44"))
    assert c11 > c12 > 0 and c44 > 0 and md["stability"]["stable"] and md["thermodynamic"] == "isothermal"
    ref = rundir.read_result("reference_eos")  # BM3 of the EMT labels: K(P) = -V dP/dV at V(5 GPa)
    v = np.linspace(0.8, 1.1, 4001) * ref["V0_A3"]
    x = (ref["V0_A3"] / v) ** (2 / 3)
    p = 1.5 * ref["K0_GPa"] * (x ** 3.5 - x ** 2.5) * (1 + 0.75 * (ref["K0_prime"] - 4) * (x - 1))
    k_ref = float(np.interp(5.0, p[::-1], (-v * np.gradient(p, v))[::-1]))
    assert abs(static["moduli"]["K_vrh"] / k_ref - 1) < 0.1, (static["moduli"]["K_vrh"], k_ref)
    assert (rundir.root / "properties" / "elastic" / "P5-T300" / "strain_00.dat").is_file()
    # melting: one layer = the structure's cell at the reference's static volume per atom for P
    (call,) = calls
    per_atom = call["layer"].get_volume() / len(call["layer"])
    assert len(call["layer"]) == 32 and call["temperatures_K"] == [900.0, 1800.0] and call["settings"].n_layers == 4
    assert per_atom == pytest.approx(float(np.interp(5.0, p[::-1], v[::-1])) / 32, rel=1e-3)
    assert recs["melting"]["bracket"]["bracketed"] and recs["melting"]["members"] == ["member-0"]
    # phase: the production replicas at 1200 K are a crystal
    (ph,) = recs["phase"]["points"]
    assert (ph["P_GPa"], ph["T_K"], ph["phase"]) == (5.0, 1200.0, "crystal")


def test_the_report_has_a_section_per_result_and_clean_figures(thermo_run):
    _, _, rundir, _, figures = thermo_run
    page = (rundir.report_dir / "index.html").read_text()
    for title in ("Results: thermodynamics and phases", "Equation of state (NPT MD)", "Isotherm fits",
                  "Thermal quantities", "Elastic constants (stress–strain MD)", "C44 (GPa)", "0 K (static)",
                  "Melting by two-phase coexistence", "T_m at 5 GPa", "Phase of the production state points"):
        assert title in page, title
    drawn = {f.get_label(): f for f in figures}
    for name in ("thermo_eos_fit.png", "thermo_eos_thermal.png", "thermo_elastic.png", "thermo_melting.png"):
        assert (rundir.report_dir / name).is_file() and f"src='{name}'" in page
        assert figure_problems(drawn[name]) == [], name


def test_a_resume_reuses_every_result(thermo_run, monkeypatch):
    recipe, summary, rundir, _, _ = thermo_run
    before = records(rundir)
    monkeypatch.setattr(melting_workflow, "coexistence_melting", no_melting)
    again = run_recipe(recipe, executor=InProcessExecutor())
    after = records(rundir)
    assert {n: after[n] == before[n] for n in ("eos", "elastic", "melting")} == {n: True for n in ("eos", "elastic",
                                                                                                  "melting")}
    assert again.flags == summary.flags
    # an elastic stage killed after its MD point: the point is kept, the 0 K constants computed
    rec = json.loads(before["elastic"])
    rundir.write_result("elastic", {**rec, "static": [], "complete": False})
    run_recipe(recipe, executor=InProcessExecutor())
    resumed = json.loads(rundir.result_file("elastic").read_text())
    assert resumed["complete"] and resumed["points"] == rec["points"]
    assert [s["P_GPa"] for s in resumed["static"]] == [5.0]
    assert resumed["static"][0]["independent"]["C11"][0] == pytest.approx(rec["static"][0]["independent"]["C11"][0],
                                                                          rel=1e-6)


def test_a_changed_section_is_recomputed_and_the_others_kept(thermo_run, monkeypatch):
    recipe, _, rundir, _, _ = thermo_run
    before = records(rundir)
    eos = recipe.properties.eos.model_copy(update={"temperatures_K": [300.0]})

    def failing(*args, **kwargs):
        raise ValueError("no coexistence run finished: every run blew up")

    melt = recipe.properties.melting.model_copy(update={"temperatures_K": [1000.0, 1600.0]})
    props = recipe.properties.model_copy(update={"eos": eos, "melting": melt})
    changed = recipe.model_copy(update={"properties": props})
    monkeypatch.setattr(melting_workflow, "coexistence_melting", failing)
    summary = run_recipe(changed, executor=InProcessExecutor())
    after = records(rundir)
    assert after["elastic"] == before["elastic"]
    rec = json.loads(after["eos"])
    assert rec["section"]["temperatures_K"] == [300.0] and [f["T_K"] for f in rec["isotherms"]] == [300.0]
    assert rec["thermal"] is None  # one isotherm: no thermal quantities, and the report says so
    melting = json.loads(after["melting"])
    assert melting["error"] == "ValueError: no coexistence run finished: every run blew up"
    assert ("properties.melting: no bracket (ValueError: no coexistence run finished: every run blew up)"
            in summary.flags)
    page = (rundir.report_dir / "index.html").read_text()
    assert "Not measured: ValueError: no coexistence run finished" in page and "two or more fitted isotherms" in page
    assert not (rundir.report_dir / "thermo_melting.png").exists()  # no stale figure of the earlier result
    # an error is never reused: the next run tries again
    calls: list = []
    monkeypatch.setattr(melting_workflow, "coexistence_melting", fake_melting(calls))
    run_recipe(changed, executor=InProcessExecutor())
    assert len(calls) == 1 and json.loads(rundir.result_file("melting").read_text())["bracket"]["bracketed"]
