"""Issue 16 (reliability): every estimator refuses non-finite input, degenerate series and corrupt
trajectory files with one clear line (a ValueError naming the input and what is wrong) — never
``nan ± 0``, a denormal viscosity, numpy's "Singular matrix" or a traceback from inside ASE."""

import numpy as np
import pytest
from ase import Atoms
from ase.io import write

from deepearth.properties import (arrhenius_fit, diffusion_coefficient, ionic_conductivity, read_trajectory,
                                  thermal_conductivity, viscosity, yeh_hummer_correction)
from deepearth.properties.checks import require_finite, require_finite_result, require_varies
from deepearth.properties.eos import fit_birch_murnaghan3
from deepearth.properties.table import select_columns
from deepearth.properties.trajectory import Trajectory, unwrap_positions

pytestmark = pytest.mark.reliability("bad input")


def one_line(excinfo) -> str:
    msg = str(excinfo.value)
    assert "\n" not in msg and msg.strip() == msg
    return msg


def walk(n_frames=60, n_atoms=8, seed=0):
    rng = np.random.default_rng(seed)
    return 5.0 + np.cumsum(rng.standard_normal((n_frames, n_atoms, 3)) * 0.3, axis=0)


def frames(pos, cell=(30.0, 30.0, 30.0), dt=0.1):
    out = []
    for i, x in enumerate(pos):
        a = Atoms("Ar" * len(x), positions=x, cell=cell, pbc=cell is not None)
        a.info["time_ps"] = i * dt
        out.append(a)
    return out


def write_dump(path, pos, cell=20.0):
    lines = []
    for t, x in enumerate(pos):
        lines += ["ITEM: TIMESTEP", str(10 * t), "ITEM: NUMBER OF ATOMS", str(len(x)), "ITEM: BOX BOUNDS pp pp pp"]
        lines += [f"0 {cell}"] * 3 + ["ITEM: ATOMS id type xu yu zu"]
        lines += [f"{i + 1} 1 {a[0]} {a[1]} {a[2]}" for i, a in enumerate(x)]
    path.write_text("\n".join(lines) + "\n")
    return lines


# ---------------------------------------------------------------------------------------------------------------
# diffusion
# ---------------------------------------------------------------------------------------------------------------

def test_nan_coordinate_is_named_by_frame_and_atom(tmp_path):
    pos = walk()
    pos[50, 3, 1] = np.nan
    with pytest.raises(ValueError) as e:
        diffusion_coefficient(pos, dt_ps=0.1)
    assert "frame 50, atom 3, y" in one_line(e)
    path = tmp_path / "nan.extxyz"
    write(path, frames(pos))
    with pytest.raises(ValueError) as e:  # in the file: named before unwrapping smears it over later frames
        read_trajectory(path)
    assert str(path) in one_line(e) and "frame 50, atom 3, y" in str(e.value)


def test_single_atom_short_trajectory_is_a_clear_error_not_singular_matrix():
    # one atom, 10 frames: with its drift removed it never moves; this used to raise numpy's "Singular matrix"
    pos = walk(10, 1)
    with pytest.raises(ValueError) as e:
        diffusion_coefficient(pos, dt_ps=0.001)
    msg = one_line(e)
    assert "Singular matrix" not in msg and "immobile" in msg and "remove_com_drift=False" in msg


def test_too_few_frames_states_the_minimum_and_why():
    with pytest.raises(ValueError) as e:
        diffusion_coefficient(walk(6), dt_ps=0.1)
    assert "6 frames; at least 10 needed (an MSD is fitted over lags up to half the run" in one_line(e)


@pytest.mark.parametrize("method", ["gls", "ols"])
def test_immobile_atoms_are_refused(method):
    pos = np.broadcast_to(walk(1, 8), (50, 8, 3)).copy()  # nothing moves: D was 0 ± 5e-25
    with pytest.raises(ValueError, match="all selected atoms are immobile"):
        diffusion_coefficient(pos, dt_ps=0.1, method=method)


def test_atom_count_change_in_position_arrays():
    frames_ = [np.zeros((4, 3))] * 5 + [np.zeros((3, 3))] + [np.zeros((4, 3))] * 10
    with pytest.raises(ValueError) as e:  # one replica given as a list of frames (a list at the top = replicas)
        diffusion_coefficient([frames_], dt_ps=0.1)
    assert "frame 5 has 3 atoms, frame 0 has 4" in one_line(e)


@pytest.mark.parametrize("dt", [0.0, -0.1, float("nan")])
def test_non_positive_timestep(dt):
    with pytest.raises(ValueError, match="dt_ps"):
        diffusion_coefficient(walk(), dt_ps=dt)


@pytest.mark.parametrize("T", [0.0, -300.0, float("nan")])
def test_non_positive_temperature_label(T):
    with pytest.raises(ValueError, match="T_K must be a finite number > 0"):
        diffusion_coefficient(walk(), dt_ps=0.1, T_K=T)


def test_ols_single_atom_has_no_per_atom_error_bar():
    with pytest.raises(ValueError, match=">= 2 selected atoms"):
        diffusion_coefficient(walk(60, 1), dt_ps=0.1, method="ols", remove_com_drift=False)


def test_identical_replicas_give_no_ols_error_bar():
    t = Trajectory(walk(), np.zeros((60, 3, 3)), ["Ar"] * 8, np.ones(8), 0.1, "a")
    with pytest.raises(ValueError, match="replicas give identical D"):
        diffusion_coefficient([t, t], method="ols")


def test_yeh_hummer_refuses_non_finite_input():
    with pytest.raises(ValueError, match="D must be finite"):
        yeh_hummer_correction(float("nan"), 1e-3, 30.0, 300.0)
    with pytest.raises(ValueError, match="viscosity"):
        yeh_hummer_correction(1e-9, float("inf"), 30.0, 300.0)


# ---------------------------------------------------------------------------------------------------------------
# corrupt or inconsistent trajectory files
# ---------------------------------------------------------------------------------------------------------------

def test_truncated_extxyz_names_the_line(tmp_path):
    good = tmp_path / "good.extxyz"
    write(good, frames(walk(20, 8)))
    lines = good.read_text().splitlines()
    bad = tmp_path / "cut.extxyz"
    bad.write_text("\n".join(lines[:-4]) + "\n")
    with pytest.raises(ValueError) as e:
        read_trajectory(bad)
    assert f"{bad}: truncated at line {len(lines) - 4}: frame 19" in one_line(e)
    assert "declares 8 atoms, the file ends after 4" in str(e.value)


def test_atom_count_change_in_extxyz(tmp_path):
    fr = frames(walk(20, 64))
    fr[12] = fr[12][:-1]
    path = tmp_path / "count.extxyz"
    write(path, fr)
    with pytest.raises(ValueError) as e:
        read_trajectory(path)
    assert f"{path}: frame 12 has 63 atoms, frame 0 has 64" in one_line(e)
    with pytest.raises(ValueError, match="frame 12 has 63 atoms"):  # numbered as in the file when striding
        read_trajectory(path, stride=2)


def test_non_numeric_coordinate_in_extxyz(tmp_path):
    path = tmp_path / "garbage.extxyz"
    write(path, frames(walk(20, 8)))
    lines = path.read_text().splitlines()
    row = 10 * 10 + 2 + 3  # frame 10, atom 3
    tokens = lines[row].split()
    tokens[2] = "abc"
    lines[row] = " ".join(tokens)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError) as e:
        read_trajectory(path)
    assert f"line {row + 1} (frame 10, atom 3): column 3 is 'abc', not a number" in one_line(e)


def test_truncated_ase_traj_names_the_frame(tmp_path):
    good = tmp_path / "good.traj"
    write(good, frames(walk(20, 8)))
    data = good.read_bytes()
    bad = tmp_path / "cut.traj"
    bad.write_bytes(data[: int(len(data) * 0.9)])
    with pytest.raises(ValueError) as e:
        read_trajectory(bad)
    assert str(bad) in one_line(e) and "cannot be read: the .traj file is truncated or corrupt" in str(e.value)
    junk = tmp_path / "junk.traj"
    junk.write_bytes(b"not a trajectory at all " * 20)
    with pytest.raises(ValueError, match="not a readable ASE .traj file"):
        read_trajectory(junk)


def test_cellless_xyz_is_read_without_unwrapping(tmp_path):
    # a plain xyz (no cell): used to fail in minimum-image unwrapping with numpy's "Singular matrix"
    path = tmp_path / "cluster.xyz"
    write(path, frames(walk(40, 4), cell=None), format="xyz")
    traj = read_trajectory(path, dt_ps=0.1)
    assert traj.n_frames == 40 and np.allclose(traj.positions_A, walk(40, 4), atol=1e-5)
    with pytest.raises(ValueError, match="the cell of frame 0 has volume 0"):
        unwrap_positions(walk(3, 2), np.zeros((3, 3, 3)))


def test_lammps_dump_nan_and_truncation(tmp_path):
    pos = walk(12, 5)
    pos[7, 2, 0] = np.nan
    path = tmp_path / "nan.lammpstrj"
    write_dump(path, pos)
    with pytest.raises(ValueError) as e:
        read_trajectory(path, dt_ps=0.01)
    assert "frame 7, atom 2, x" in one_line(e)
    cut = tmp_path / "cut.lammpstrj"
    lines = write_dump(cut, walk(12, 5))
    cut.write_text("\n".join(lines[:-2]) + "\n")
    with pytest.raises(ValueError) as e:
        read_trajectory(cut, dt_ps=0.01)
    assert str(cut) in one_line(e) and "file ends inside the frame" in str(e.value)


# ---------------------------------------------------------------------------------------------------------------
# Green–Kubo
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [0.0, 1.0])
def test_constant_stress_gives_no_viscosity(value):
    # zeros used to give 3e-318 Pa s; ones "only 6 frequencies below f*"
    with pytest.raises(ValueError) as e:
        viscosity(np.full((2000, 6), value), 0.001, 1000.0, 3000.0)
    assert "pressure_tensor: shear component P_xy is constant" in one_line(e)


def test_one_constant_shear_component_is_named():
    p = np.random.default_rng(0).standard_normal((2000, 6))
    p[:, 1] = p[:, 0]  # P_yy = P_xx: (P_xx - P_yy)/2 has no fluctuations
    with pytest.raises(ValueError, match=r"\(P_xx - P_yy\)/2 is constant"):
        viscosity(p, 0.001, 1000.0, 3000.0)


def test_constant_heat_flux_and_charge_current():
    with pytest.raises(ValueError, match="heat_flux: J_x is constant"):
        thermal_conductivity(np.zeros((2000, 3)), 0.001, 1000.0, 3000.0)
    noise = np.random.default_rng(1).standard_normal((2000, 3))
    with pytest.raises(ValueError, match=r"extra_fluxes\[0\]: J_z is constant"):
        thermal_conductivity(noise, 0.001, 1000.0, 3000.0, extra_fluxes=[np.column_stack([noise[:, :2], np.ones(2000)])])
    with pytest.raises(ValueError, match="charge current: J_x is constant"):
        ionic_conductivity(np.ones((2000, 3)), 0.001, 1000.0, 3000.0)
    with pytest.raises(ValueError, match="charge current: J_x is constant"):  # all charges zero
        ionic_conductivity(np.random.default_rng(2).standard_normal((500, 4, 3)), 0.001, 1000.0, 3000.0,
                           charges=np.zeros(4))


def test_green_kubo_non_finite_and_bad_scalars():
    p = np.random.default_rng(0).standard_normal((2000, 6))
    p[77, 4] = np.inf
    with pytest.raises(ValueError) as e:
        viscosity(p, 0.001, 1000.0, 3000.0)
    assert "pressure_tensor: inf at sample 77, xz" in one_line(e)
    v = np.random.default_rng(0).standard_normal((100, 4, 3))
    v[9, 2, 2] = np.nan
    with pytest.raises(ValueError, match="velocities: NaN at frame 9, atom 2, z"):
        ionic_conductivity(v, 0.001, 1000.0, 3000.0, charges=np.ones(4))
    with pytest.raises(ValueError, match="temperature_K must be a finite number > 0"):
        viscosity(p, 0.001, 1000.0, 0.0)
    with pytest.raises(ValueError, match="fstar_THz"):
        thermal_conductivity(p[:, :3], 0.001, 1000.0, 3000.0, fstar_THz=-1.0)


def test_cepstral_estimate_refuses_a_constant_flux():
    from deepearth.properties.greenkubo import cepstral_estimate

    with pytest.raises(ValueError, match="flux 0: column 0 is constant"):
        cepstral_estimate(np.zeros((2000, 3)), 0.001)


def test_table_nan_names_line_and_column(tmp_path):
    table = tmp_path / "t.dat"
    table.write_text("# step a b\n0 1.0 2.0\n1 nan 2.0\n2 1.0 2.0\n")
    with pytest.raises(ValueError) as e:
        select_columns(table, ["a", "b"])
    assert f"{table}:3: column 'a' is nan" in one_line(e)


# ---------------------------------------------------------------------------------------------------------------
# Arrhenius and EOS
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (([3000.0, 3000.0, 3000.0], [1e-12, 2e-12, 3e-12]), "all temperatures are equal"),
    (([3000.0, 0.0, 4000.0], [1e-12, 2e-12, 3e-12]), r"T_K\[1\] = 0"),
    (([3000.0, 3500.0, 4000.0], [1e-12, np.nan, 3e-12]), r"D_m2_per_s\[1\] = nan"),
    (([3000.0, 3500.0], [1e-12, 1e-11]), "no degrees of freedom"),
])
def test_arrhenius_degenerate_input(args, message):
    with pytest.raises(ValueError, match=message) as e:
        arrhenius_fit(*args)
    one_line(e)


@pytest.mark.parametrize("v, p, message", [
    ([10.0, 11.0, np.nan, 13.0, 14.0], [5.0, 4.0, 3.0, 2.0, 1.0], r"volumes_A3: NaN at index 2"),
    ([10.0, 10.0, 11.0, 11.0, 12.0], [5.0, 5.0, 3.0, 3.0, 1.0], "3 distinct volumes; at least 4 needed"),
    ([10.0, 11.0, 12.0, 13.0], [3.0, 3.0, 3.0, 3.0], "pressure is constant"),
    ([10.0, -11.0, 12.0, 13.0], [5.0, 4.0, 3.0, 2.0], r"volumes_A3\[1\] = -11"),
])
def test_eos_degenerate_input(v, p, message):
    with pytest.raises(ValueError, match=message) as e:
        fit_birch_murnaghan3(v, p)
    one_line(e)


# ---------------------------------------------------------------------------------------------------------------
# the shared checks
# ---------------------------------------------------------------------------------------------------------------

def test_shared_checks():
    with pytest.raises(ValueError, match="x: NaN at frame 1, atom 0, z"):
        require_finite("x", [[[0, 0, 0]], [[0, 0, np.nan]]], ("frame", "atom"), "xyz")
    with pytest.raises(ValueError, match="column 1 is constant"):
        require_varies("s", np.column_stack([np.arange(5.0), np.full(5, 1e-300)]))
    require_varies("s", np.column_stack([np.arange(5.0), 1.0 + 1e-6 * np.arange(5.0)]))
    for value, err in ((np.nan, 1.0), (1.0, np.nan), (1.0, 0.0), (1.0, -1.0), (np.inf, 1.0)):
        with pytest.raises(ValueError, match="no usable estimate"):
            require_finite_result("q", value, err)
    require_finite_result("q", -1e-12, 1e-13)
