"""The LAMMPS runner, and LJ transport coefficients through it held against published values.

Fast tests check the runner itself (thermo capture, tables, dumps, errors, import hygiene). The slow
ones run LAMMPS (one process, one thread) on the Lennard-Jones fluid in reduced units with the
input builders and estimators of ``benchmarks/lj_transport.py`` (shorter runs than the benchmark)
and compare with published numbers within the estimator's standard error plus stated allowances.
Budget: ≈ 2.5 min on one free core of the 2-core CI machine. Statistical errors at these lengths
(measured): η* triple point ±4–6 %, 2-D η* ±20 %, κ* ±2–4 % per size, D* ±0.5–1 %.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

from deepearth.lammps import LammpsError, read_lammps_table, split_commands
from deepearth.md.lammps_runner import ave_time_fix, run_lammps

ROOT = Path(__file__).resolve().parents[2]


def _load_benchmark():
    name = "deepearth_bench_lj_transport"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "lj_transport.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


TINY = """
atom_style atomic
lattice fcc 0.8442
region box block 0 3 0 3 0 3
create_box 1 box
create_atoms 1 box
mass 1 1.0
velocity all create 1.44 87287 loop geom
pair_style lj/cut 2.5
pair_coeff 1 1 1.0 1.0 2.5
neighbor 0.3 bin
neigh_modify every 1 delay 0 check yes   # comment
fix 1 all nve
thermo_style custom step temp pe etotal &
             press
thermo 50
"""


# --------------------------------------------------------------------------- the runner


def test_thermo_tables_dumps_and_final_values(tmp_path):
    cmds = TINY + "\n".join([
        "run 100",
        ave_time_fix("p", [f"c_thermo_press[{i}]" for i in range(1, 7)], "press.dat", every=5),
        "compute slabs all chunk/atom bin/1d z lower 0.25 units reduced",
        "fix prof all ave/chunk 5 4 20 slabs vx file prof.dat",
        "dump d all custom 50 traj.dump id xu yu zu",
        "run 200",
    ])
    run = run_lammps(cmds, tmp_path / "tiny", units="lj", tables={"p": "press.dat", "prof": "prof.dat"},
                     dumps={"traj": "traj.dump"}, final_thermo=["vol", "temp"])
    assert run.natoms == 108
    assert run.log_file.is_file() and run.units == "lj"
    assert len(run.thermo) == 2
    assert list(run.thermo[0]) == ["Step", "Temp", "PotEng", "TotEng", "Press"]
    np.testing.assert_array_equal(run.thermo[0]["Step"], np.arange(0, 101, 50))
    np.testing.assert_array_equal(run.thermo_all["Step"], [0, 50, 100, 100, 150, 200, 250, 300])
    e = run.thermo_all["TotEng"]
    assert np.ptp(e) < 5e-3 * abs(e.mean())  # NVE conserves energy
    assert run.final["vol"] == pytest.approx(108 / 0.8442, rel=1e-9)
    assert run.final["temp"] == pytest.approx(run.thermo[-1]["Temp"][-1], rel=1e-7)  # log: 8 digits

    p = run.tables["p"]
    assert p.columns[0] == "TimeStep" and p.columns[1] == "c_thermo_press[1]"
    assert p.data.shape == (41, 7) and p.steps is None
    np.testing.assert_array_equal(p["TimeStep"], np.arange(100, 301, 5))
    # pressure = trace/3 of the tensor: compare at the printed thermo steps
    trace = p.data[:, 1:4].mean(axis=1)
    thermo_p = dict(zip(run.thermo[1]["Step"], run.thermo[1]["Press"]))
    for step, value in zip(p["TimeStep"], trace):
        if step in thermo_p:
            assert value == pytest.approx(thermo_p[step], rel=1e-6, abs=1e-9)

    prof = run.tables["prof"]
    assert prof.data.shape == (10, 4, 4) and prof.columns == ["Chunk", "Coord1", "Ncount", "vx"]
    np.testing.assert_array_equal(prof.steps, np.arange(120, 301, 20))
    assert prof["Ncount"].sum(axis=1) == pytest.approx(np.full(10, 108.0))

    traj = run.dumps["traj"]
    assert traj.data.shape == (5, 108, 4) and traj.columns == ["id", "xu", "yu", "zu"]
    np.testing.assert_array_equal(traj["id"][0], np.arange(1, 109))
    assert traj.positions().shape == (5, 108, 3)
    np.testing.assert_allclose(traj.box[0, :, 1] - traj.box[0, :, 0], (108 / 0.8442) ** (1 / 3))


def test_failing_command_names_command_and_log(tmp_path):
    bad = TINY + "fix 2 all nvx\nrun 10\n"
    with pytest.raises(LammpsError) as info:
        run_lammps(bad, tmp_path / "bad", units="lj")
    msg = str(info.value)
    assert "fix 2 all nvx" in msg
    assert str(tmp_path / "bad" / "log.lammps") in msg
    assert "Unrecognized fix style" in msg
    assert info.value.command == "fix 2 all nvx" and info.value.log_file == tmp_path / "bad" / "log.lammps"
    # the failed instance was closed: the next run in this process works
    ok = run_lammps(TINY + "run 10\n", tmp_path / "ok", units="lj")
    assert ok.natoms == 108
    # an error raised during a run (not at parse time) is reported the same way
    lost = TINY.replace("region box block 0 3 0 3 0 3", "region box block 0 3 0 3 0 3\nboundary p p f") + \
        "velocity all set 0 0 100 sum yes\nrun 100\n"
    with pytest.raises(LammpsError, match=r"(?s)command 18/18 'run 100'.*Lost atoms.*log"):
        run_lammps(lost, tmp_path / "lost", units="lj")


def test_units_are_the_callers(tmp_path):
    with pytest.raises(ValueError, match="units"):
        run_lammps("units metal\n" + TINY + "run 0\n", tmp_path / "u", units="lj")
    run = run_lammps("units lj\n" + TINY + "run 0\n", tmp_path / "u2", units="lj")  # same style: fine
    assert run.natoms == 108


def test_split_commands():
    text = "a 1  # c\n\n  b 2 &\n  3\nprint 'x # not a comment'\n"
    assert split_commands(text) == ["a 1", "b 2 3", "print 'x # not a comment'"]
    assert split_commands(["a", "b\nc"]) == ["a", "b", "c"]


def test_read_lammps_table_missing_file_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="was not written"):
        read_lammps_table(tmp_path / "nope.dat")


def test_import_and_run_do_not_load_tensorflow(tmp_path):
    """Importing the runner imports no LAMMPS/DeePMD/TensorFlow; an LJ run loads no TensorFlow."""
    code = textwrap.dedent(f"""
        import sys
        import deepearth.md.lammps_runner as r
        assert not any(m.split('.')[0] in ('lammps', 'deepmd', 'tensorflow') for m in sys.modules), 'import'
        run = r.run_lammps({TINY + 'run 10'!r}, {str(tmp_path / 'sub')!r}, units='lj')
        assert run.natoms == 108
        assert not any(m.split('.')[0] in ('deepmd', 'tensorflow') for m in sys.modules), 'run'
        print('ok')
    """)
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ok")


@pytest.mark.slow  # imports TensorFlow (≈ 10 s)
def test_plugins_load_on_request_after_a_plugin_free_run(tmp_path):
    """plugins=True runs the lammps.plugins entry points (DeePMD-kit's pair_style deepmd) even when
    an earlier run in the process skipped them."""
    code = textwrap.dedent(f"""
        import sys
        import deepearth.md.lammps_runner as r
        r.run_lammps({TINY + 'run 0'!r}, {str(tmp_path / 'a')!r}, units='lj')
        assert 'tensorflow' not in sys.modules
        run = r.run_lammps({TINY + 'plugin list'!r}, {str(tmp_path / 'b')!r}, units='lj', plugins=True)
        print('deepmd' in run.log_file.read_text().split('plugin list')[-1])
    """)
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "True"


# --------------------------------------------------------------------------- physics (slow)


@pytest.fixture(scope="module")
def bench():
    return _load_benchmark()


@pytest.mark.slow
def test_viscosity_near_triple_point(bench, tmp_path):
    """η* at ρ* 0.8442, T* 0.722 (rc 2.5, N 500, 500 τ NVE) vs Meier et al. 2004 (3.258).

    Allowance beyond 2σ: 7 % — the truncation at 2.5σ (the benchmark finds rc 2.5 and 4.0 equal
    within 2 %), the ⟨T⟩ of the NVE run (η* changes ≈ 3 % per 1 % of T here) and N = 500. The
    cepstral cutoff is 1/τ; the estimator's default cutoff (no spectral minimum here: where the PSD
    has fallen e², ≈ 4.5/τ) must pass the same check (it read 10–17 % low when it fell back to Nyquist).
    """
    est = bench.viscosity_gk(tmp_path, 0.8442, 0.722, 500, 2.5, 100_000, sample_every=2, seed=11,
                             melt_temperature=1.5, melt_steps=3000, nvt_steps=10000, fstar=bench.FSTAR_LJ)
    assert est.details["T_mean"] == pytest.approx(0.722, abs=0.01)
    assert abs(est.details["energy_drift_per_atom"]) < 0.01
    assert 0 < est.stderr < 0.1 * est.value
    assert abs(est.value - bench.REF_ETA_TRIPLE_MEIER) < 2 * est.stderr + 0.07 * bench.REF_ETA_TRIPLE_MEIER, \
        f"η* = {est.value:.3f} ± {est.stderr:.3f}"
    default = est.details["default_fstar_result"]
    assert 1.0 < default.fstar_THz < 10.0
    assert abs(default.value - bench.REF_ETA_TRIPLE_MEIER) < 2 * default.stderr + 0.07 * bench.REF_ETA_TRIPLE_MEIER, \
        f"default f* = {default.fstar_THz:.3g}/τ: η* = {default.value:.3f} ± {default.stderr:.3f}"


@pytest.mark.slow
def test_viscosity_lammps_example_state_2d(bench, tmp_path):
    """η* of the 2-D LJ fluid at ρ* 0.6, T* 1.0, rc 2.5 (N 800, 500 τ) — LAMMPS examples/VISCOSITY,
    which is two-dimensional: "about 1.0" (its four methods give 0.95–1.18, GK 1.07). Within
    2σ + 15 %: in 2-D the stress correlation has a 1/t tail, so the value depends on run length."""
    est = bench.viscosity_gk_2d(tmp_path, 0.6, 1.0, (20, 20), 2.5, 100_000, sample_every=5, fstar=bench.FSTAR_LJ)
    assert est.details["natoms"] == 800
    assert est.details["T_mean"] == pytest.approx(1.0, abs=0.03)
    assert 0 < est.stderr < 0.25 * est.value
    assert abs(est.value - bench.REF_ETA_06) < 2 * est.stderr + 0.15, f"η* = {est.value:.3f} ± {est.stderr:.3f}"


@pytest.mark.slow
def test_kappa_muller_plathe_two_lengths(bench, tmp_path):
    """κ* at ρ* 0.6, T* 1.35 by Müller-Plathe NEMD at Lz = 18.8 and 28.2 σ, 1/Lz-extrapolated, vs ≈ 3.4
    (LAMMPS examples/KAPPA NEMD 3.41–3.45, Evans 1986). The swap interval grows with Lz so both
    boxes have ΔT ≈ 1.1 (as in the example). Allowance beyond 2σ: 12 % — the response at ΔT ≈ 1.1
    is not linear (κ* varies along the profile), and the same model's GK value is 3.78."""
    ests = [bench.kappa_muller_plathe(tmp_path / f"nz{nz}", 0.6, 1.35, (5, 5, nz), 2.5, 38_400, swap_every=2 * nz,
                                      n_bins=20, block_steps=1200, seed=13) for nz in (10, 15)]
    for e in ests:
        assert abs(e.details["gradient_asymmetry"]) < 0.15  # both halves carry the same gradient
        assert e.details["T_mean"] == pytest.approx(1.35, abs=0.03)  # steady-state ⟨T⟩ rescaled onto T*
        assert 0 < e.stderr < 0.1 * e.value
        assert abs(e.value - bench.REF_KAPPA_06) < 2 * e.stderr + 0.12 * bench.REF_KAPPA_06
    lz = np.array([e.details["Lz"] for e in ests])
    k_inf, k_err, _ = bench.extrapolate_inverse_length(lz, np.array([e.value for e in ests]),
                                                       np.array([e.stderr for e in ests]))
    assert k_err > max(e.stderr for e in ests)  # extrapolation amplifies the error
    assert abs(k_inf - bench.REF_KAPPA_06) < 2 * k_err + 0.12 * bench.REF_KAPPA_06, f"κ*∞ = {k_inf:.2f} ± {k_err:.2f}"


@pytest.mark.slow
def test_diffusion_yeh_hummer_removes_size_dependence(bench, tmp_path):
    """D* near the triple point for N = 256 and 864 (L = 6.72 and 10.08 σ). The raw values differ by
    ≈ 5 % (hydrodynamic self-interaction with periodic images, ∝ 1/L) — by the Yeh–Hummer amount within
    the errors — and after the correction (with η* = 3.258) they agree within their errors."""
    d = {n: bench.self_diffusion(tmp_path / f"n{n}", 0.8442, 0.722, n, 2.5, nb, 4000, frame_every=20, seed=14,
                                 melt_temperature=1.5, melt_steps=3000, nvt_steps=6000)
         for n, nb in ((256, 8), (864, 4))}
    for e in d.values():
        assert e.details["diffusive"]
        assert e.details["T_mean"] == pytest.approx(0.722, abs=0.015)
        assert 0 < e.stderr < 0.03 * e.value
        blocks = np.array(e.details["D_blocks"])
        assert blocks[-len(blocks) // 2:].mean() > 0.9 * blocks[:len(blocks) // 2].mean()  # no crystallisation
    small, large = d[256], d[864]
    err = np.hypot(small.stderr, large.stderr)
    raw_gap = large.value - small.value
    corr = {n: bench.yeh_hummer(e.value, 0.722, bench.REF_ETA_TRIPLE_MEIER, e.details["L"]) for n, e in d.items()}
    corr_gap = corr[864] - corr[256]
    predicted_gap = raw_gap - corr_gap  # the Yeh–Hummer terms: ξ kT / (6π η L), 256 minus 864
    # the diffusion bars hold the replica and time-block scatter (issue 17), ≈ 0.0011 on the gap: the
    # ≈ 0.0016 size effect is not resolved at 2σ by these runs, but it must be there with its sign
    # and size, and the corrected values must agree
    assert raw_gap > 0 and abs(raw_gap - predicted_gap) < 2 * err, \
        f"raw D*: {small.value:.4f} (256) vs {large.value:.4f} (864) ± {err:.4f}, Yeh–Hummer {predicted_gap:.4f}"
    assert abs(corr_gap) < 2 * err + 0.01 * corr[864], f"corrected: {corr[256]:.4f} vs {corr[864]:.4f}"
