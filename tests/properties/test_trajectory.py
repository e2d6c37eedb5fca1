"""Trajectory input: LAMMPS dumps (image flags, unwrapped and scaled columns, triclinic boxes, time
axis, malformed files), extxyz time axes, and region (grain-boundary slab) selection."""

import gzip

import numpy as np
import pytest
from ase import Atoms
from ase.io import write

from deepearth.properties.diffusion import diffusion_coefficient
from deepearth.properties.trajectory import Region, Trajectory, read_lammps_dump, read_trajectory, unwrap_positions
from deepearth.units import A2_PER_PS_TO_M2_PER_S


def write_dump(path, steps, positions, cell, columns, types=None, origin=(0.0, 0.0, 0.0), shuffle_seed=None,
               images=None):
    """LAMMPS text dump. ``cell`` rows a, b, c (a along x, b in xy: LAMMPS's restricted triclinic);
    ``positions`` (T, N, 3) are written as given in Cartesian (x y z / xu yu zu) or converted to
    scaled (xs ys zs). Atoms are written in a shuffled order to exercise the sort by id."""
    cell = np.asarray(cell, dtype=float)
    lx, ly, lz = cell[0, 0], cell[1, 1], cell[2, 2]
    xy, xz, yz = cell[1, 0], cell[2, 0], cell[2, 1]
    xlo, ylo, zlo = origin
    triclinic = bool(xy or xz or yz)
    n = positions.shape[1]
    types = np.ones(n, dtype=int) if types is None else np.asarray(types)
    rng = np.random.default_rng(shuffle_seed)
    lines = []
    for f, step in enumerate(steps):
        lines += ["ITEM: TIMESTEP", str(step), "ITEM: NUMBER OF ATOMS", str(n)]
        if triclinic:
            lines.append("ITEM: BOX BOUNDS xy xz yz pp pp pp")
            lines.append(f"{xlo + min(0, xy, xz, xy + xz)} {xlo + lx + max(0, xy, xz, xy + xz)} {xy}")
            lines.append(f"{ylo + min(0, yz)} {ylo + ly + max(0, yz)} {xz}")
            lines.append(f"{zlo} {zlo + lz} {yz}")
        else:
            lines += ["ITEM: BOX BOUNDS pp pp pp", f"{xlo} {xlo + lx}", f"{ylo} {ylo + ly}", f"{zlo} {zlo + lz}"]
        lines.append("ITEM: ATOMS " + " ".join(columns))
        order = rng.permutation(n) if shuffle_seed is not None else np.arange(n)
        for i in order:
            vals = {"id": i + 1, "type": types[i]}
            r = positions[f, i]
            s = np.linalg.solve(cell.T, r - np.asarray(origin))
            for k, ax in enumerate("xyz"):
                vals[ax] = vals[ax + "u"] = r[k]
                vals[ax + "s"] = s[k]
                if images is not None:
                    vals["i" + ax] = images[f, i, k]
            lines.append(" ".join(f"{vals[c]:.10f}" if isinstance(vals[c], float) else str(vals[c]) for c in columns))
    text = "\n".join(lines) + "\n"
    if str(path).endswith(".gz"):
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def jumpy_paths(cell, n_frames=30, n_atoms=6, seed=0):
    """Unwrapped paths whose frame-to-frame steps exceed half a box: minimum-image unwrapping fails."""
    rng = np.random.default_rng(seed)
    frac_steps = rng.uniform(-1.4, 1.4, (n_frames - 1, n_atoms, 3))
    frac = np.concatenate([rng.uniform(0, 1, (1, n_atoms, 3)), frac_steps]).cumsum(axis=0)
    return frac @ cell


def wrap_with_images(unwrapped, cell):
    frac = np.linalg.solve(cell.T, unwrapped.reshape(-1, 3).T).T.reshape(unwrapped.shape)
    images = np.floor(frac).astype(int)
    return (frac - images) @ cell, images


@pytest.mark.parametrize("cell", [np.diag([10.0, 12.0, 9.0]),
                                  np.array([[10.0, 0, 0], [2.5, 11.0, 0], [-1.5, 1.0, 9.0]])],
                         ids=["orthogonal", "triclinic"])
@pytest.mark.parametrize("scaled", [False, True], ids=["cartesian", "scaled"])
def test_lammps_image_flags_unwrap_exactly(tmp_path, cell, scaled):
    true = jumpy_paths(cell)
    wrapped, images = wrap_with_images(true, cell)
    cols = ["id", "type", "xs", "ys", "zs", "ix", "iy", "iz"] if scaled else ["id", "type", "x", "y", "z", "ix", "iy", "iz"]
    path = write_dump(tmp_path / "run.lammpstrj", np.arange(0, 300, 10), wrapped, cell, cols, shuffle_seed=1,
                      images=images)
    traj = read_trajectory(path, timestep_ps=0.001)
    assert np.allclose(traj.positions_A, true, atol=1e-7)
    assert np.allclose(traj.cells_A[0], cell)
    assert traj.dt_ps == pytest.approx(0.01) and traj.times_ps[-1] == pytest.approx(0.29)
    assert traj.symbols == ["1"] * 6
    # the test is meaningful: minimum-image unwrapping of the same wrapped data is wrong
    assert not np.allclose(unwrap_positions(wrapped, cell), true, atol=1e-3)


def test_lammps_unwrapped_columns_used_directly_and_type_map(tmp_path):
    cell = np.diag([8.0, 8.0, 8.0])
    true = jumpy_paths(cell, n_frames=12, n_atoms=4, seed=3)
    path = write_dump(tmp_path / "dump.gz", [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55], true, cell,
                      ["id", "type", "xu", "yu", "zu"], types=[1, 2, 2, 1], shuffle_seed=2)
    traj = read_lammps_dump(path, dt_ps=0.05, type_to_symbol={1: "Mg", 2: "O"})
    assert np.allclose(traj.positions_A, true, atol=1e-7)
    assert traj.symbols == ["Mg", "O", "O", "Mg"]
    assert traj.masses_amu[0] == pytest.approx(24.305, abs=0.01)
    assert list(traj.select("O")) == [1, 2]
    strided = read_trajectory(path, format="lammps-dump-text", dt_ps=0.05, stride=3, type_to_symbol={1: "Mg", 2: "O"})
    assert strided.n_frames == 4 and strided.dt_ps == pytest.approx(0.15)
    assert np.allclose(strided.positions_A, true[::3], atol=1e-7)
    with pytest.raises(ValueError, match=r"no symbol for LAMMPS type\(s\) \[2\]"):
        read_lammps_dump(path, dt_ps=0.05, type_to_symbol={1: "Mg"})


def test_lammps_wrapped_without_images_falls_back_to_minimum_image(tmp_path):
    cell = np.diag([10.0, 10.0, 10.0])
    rng = np.random.default_rng(4)
    true = rng.uniform(0, 10, (1, 5, 3)) + rng.normal(0, 0.3, (20, 5, 3)).cumsum(axis=0)
    path = write_dump(tmp_path / "a.dump", range(0, 2000, 100), true % 10.0, cell, ["id", "type", "x", "y", "z"])
    traj = read_trajectory(path, timestep_ps=0.002)
    assert np.allclose(traj.positions_A - traj.positions_A[0], true - true[0], atol=1e-7)
    assert traj.dt_ps == pytest.approx(0.2)


def test_lammps_time_axis_errors(tmp_path):
    cell = np.diag([10.0, 10.0, 10.0])
    pos = np.random.default_rng(5).uniform(0, 10, (4, 3, 3))
    uneven = write_dump(tmp_path / "uneven.lammpstrj", [0, 10, 20, 40], pos, cell, ["id", "type", "xu", "yu", "zu"])
    with pytest.raises(ValueError, match="not evenly spaced"):
        read_trajectory(uneven, timestep_ps=0.001)
    back = write_dump(tmp_path / "back.lammpstrj", [0, 10, 5, 15], pos, cell, ["id", "type", "xu", "yu", "zu"])
    with pytest.raises(ValueError, match="not increasing"):
        read_trajectory(back, timestep_ps=0.001)
    with pytest.raises(ValueError, match="pass dt_ps .* or timestep_ps"):
        read_trajectory(uneven)
    read_trajectory(uneven, dt_ps=0.01)  # an explicit dt is trusted (the step numbers are not used)


def test_malformed_lammps_dump_names_file_and_line(tmp_path):
    cell = np.diag([10.0, 10.0, 10.0])
    pos = np.random.default_rng(6).uniform(0, 10, (3, 4, 3))
    good = write_dump(tmp_path / "good.lammpstrj", [0, 1, 2], pos, cell, ["id", "type", "x", "y", "z", "ix", "iy", "iz"],
                      images=np.zeros((3, 4, 3), dtype=int))
    lines = good.read_text().splitlines()
    truncated = tmp_path / "truncated.lammpstrj"
    truncated.write_text("\n".join(lines[:-2]) + "\n")
    with pytest.raises(ValueError, match=r"truncated\.lammpstrj: line \d+: file ends inside the frame starting at line 27"):
        read_trajectory(truncated, dt_ps=0.1)
    short_row = list(lines)
    short_row[10] = "2 1 0.5 0.5"
    bad = tmp_path / "bad.lammpstrj"
    bad.write_text("\n".join(short_row) + "\n")
    with pytest.raises(ValueError, match=r"bad\.lammpstrj: line 11: expected 8 columns"):
        read_trajectory(bad, dt_ps=0.1)
    no_coords = tmp_path / "nocoords.lammpstrj"
    no_coords.write_text("\n".join(lines).replace("x y z ix iy iz", "vx vy vz ix iy iz") + "\n")
    with pytest.raises(ValueError, match="no coordinate columns"):
        read_trajectory(no_coords, dt_ps=0.1)
    garbage = tmp_path / "garbage.lammpstrj"
    garbage.write_text("ITEM: TIMESTEP\nabc\n")
    with pytest.raises(ValueError, match=r"garbage\.lammpstrj: line 2: expected an integer timestep"):
        read_trajectory(garbage, dt_ps=0.1)


def test_extxyz_time_axis_is_checked(tmp_path):
    path = tmp_path / "t.extxyz"
    for k, t in enumerate([0.0, 0.1, 0.2, 0.15]):
        a = Atoms("Ar2", positions=[[0, 0, 0], [1, 1, 1]], cell=[5, 5, 5], pbc=True)
        a.info["time_ps"] = t
        write(path, a, format="extxyz", append=k > 0)
    with pytest.raises(ValueError, match="not increasing"):
        read_trajectory(path)


def test_region_membership_is_periodic_and_follows_the_cell():
    cells = np.array([np.diag([10.0, 10.0, 20.0]), np.diag([10.0, 10.0, 30.0])])
    pos = np.array([[[0, 0, 1.0], [0, 0, 19.5], [0, 0, 10.0], [0, 0, 41.0]]] * 2)
    inside = Region("z", 0.0, 4.0).contains(pos, cells)
    assert inside[0].tolist() == [True, True, False, True]  # 19.5 ≡ -0.5; 41 ≡ 1 (mod 20)
    assert inside[1].tolist() == [True, False, False, False]  # box now 30 Å high: 19.5 and 41 ≡ 11 are far
    with pytest.raises(ValueError, match="axis"):
        Region("w", 0.0, 1.0)
    with pytest.raises(ValueError, match="needs the simulation cell"):
        Region("z", 0.0, 1.0).contains(pos, np.zeros((2, 3, 3)))


def grain_boundary_system(n_frames=300, dt=0.02, seed=8):
    """A 'GB' slab (|z - 20| < 5 Å) whose atoms diffuse fast in-plane (D = 1 Å²/ps) and stay in it,
    and bulk atoms (|z| < 8 Å, periodic in a 40 Å box) diffusing slowly in 3D (D = 0.1 Å²/ps)."""
    rng = np.random.default_rng(seed)
    n_gb, n_bulk, box = 48, 48, 40.0
    gb = rng.normal(0, np.sqrt(2 * 1.0 * dt), (n_frames, n_gb, 3))
    gb[:, :, 2] = 0.0
    gb[0] = np.column_stack([rng.uniform(0, box, (n_gb, 2)), rng.uniform(17, 23, n_gb)])
    bulk = rng.normal(0, np.sqrt(2 * 0.1 * dt), (n_frames, n_bulk, 3))
    bulk[0] = np.column_stack([rng.uniform(0, box, (n_bulk, 2)), rng.uniform(-6, 6, n_bulk) % box])
    pos = np.concatenate([gb, bulk], axis=1).cumsum(axis=0)
    cells = np.broadcast_to(np.eye(3) * box, (n_frames, 3, 3))
    return Trajectory(pos, cells.copy(), ["Fe"] * (n_gb + n_bulk), np.full(n_gb + n_bulk, 56.0), dt)


def test_region_resolved_D_recovers_slab_and_bulk():
    traj = grain_boundary_system()
    kw = dict(min_fit_start_ps=0.0, remove_com_drift=False, dimensions="xy")
    gb = diffusion_coefficient(traj, region=Region("z", 20.0, 10.0), **kw)
    bulk = diffusion_coefficient(traj, region=Region("z", 0.0, 16.0), **kw)
    for res, D in ((gb, 1.0), (bulk, 0.1)):
        expected = D * A2_PER_PS_TO_M2_PER_S
        assert res.diffusive and res.region is not None and res.dimensions == "xy"
        assert abs(res.D_m2_per_s - expected) < 3 * res.D_stderr_m2_per_s
        assert res.D_m2_per_s == pytest.approx(expected, rel=0.1)
    assert gb.n_atoms_effective == pytest.approx(48, abs=0.5)  # GB atoms never leave
    assert 30 < bulk.n_atoms_effective <= 48  # some bulk atoms wander out of the 16 Å slab
    everything = diffusion_coefficient(traj, **kw)
    assert bulk.D_m2_per_s < everything.D_m2_per_s < gb.D_m2_per_s


def test_empty_region_is_a_clear_error():
    traj = grain_boundary_system(n_frames=40)
    with pytest.raises(ValueError, match="no selected atom is ever inside the region"):
        diffusion_coefficient(traj, region=Region("x", 5.0, 1e-6))
    with pytest.raises(ValueError, match="needs the simulation cell"):
        diffusion_coefficient(traj.positions_A, dt_ps=0.02, region=Region("z", 20.0, 10.0))


def test_region_membership_is_re_evaluated_over_time():
    """Atoms start in the GB slab (fast in-plane, D = 1 Å²/ps) and at a random time move to the bulk
    (slow, D = 0.1 Å²/ps): only (origin, lag) windows spent wholly in a region may count for it."""
    rng = np.random.default_rng(9)
    n_frames, n, dt, box = 300, 64, 0.02, 40.0
    switch = rng.integers(60, 240, n)
    in_gb = np.arange(n_frames)[:, None] < switch[None, :]  # (T, N)
    D = np.where(in_gb, 1.0, 0.1)[:, :, None]
    steps = rng.normal(0, 1, (n_frames, n, 2)) * np.sqrt(2 * D * dt)
    steps[0] = rng.uniform(0, box, (n, 2))
    pos = np.concatenate([steps.cumsum(axis=0), np.where(in_gb, 20.0, 0.0)[:, :, None]], axis=2)
    traj = Trajectory(pos, np.broadcast_to(np.eye(3) * box, (n_frames, 3, 3)).copy(), ["O"] * n, np.full(n, 16.0), dt)
    kw = dict(min_fit_start_ps=0.0, remove_com_drift=False, dimensions="xy")
    gb = diffusion_coefficient(traj, region=Region("z", 20.0, 10.0), **kw)
    bulk = diffusion_coefficient(traj, region=Region("z", 0.0, 10.0), **kw)
    assert gb.D_m2_per_s == pytest.approx(1.0e-8, rel=0.12)
    assert bulk.D_m2_per_s == pytest.approx(0.1e-8, rel=0.12)
    assert abs(gb.D_m2_per_s - 1.0e-8) < 3 * gb.D_stderr_m2_per_s
    assert abs(bulk.D_m2_per_s - 0.1e-8) < 3 * bulk.D_stderr_m2_per_s
