"""The dump reader on dumps LAMMPS wrote itself: a hot Lennard-Jones fluid in a triclinic box that
is sheared and compressed while it runs (each frame has its own box), dumped gzipped with wrapped,
scaled and unwrapped coordinates and image flags. Unwrapping ``x y z``/``xs ys zs`` with the image
flags must give LAMMPS's own ``xu yu zu``."""

from __future__ import annotations

import gzip
import os

import numpy as np
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

from deepearth.lammps import LammpsBox, read_dump, run_in_process

N_FRAMES = 11
FLOAT = "dump_modify {} sort id format float %.16g"  # full precision: the comparison is to 1e-9


@pytest.fixture(scope="module")
def dumps(tmp_path_factory):
    wd = tmp_path_factory.mktemp("lj-dump")
    cmds = [
        "units lj", "atom_style atomic", "boundary p p p",
        "lattice fcc 0.7", "region box prism 0 4 0 4 0 4 0.8 -0.6 0.5", "create_box 2 box",
        "create_atoms 1 box", "set type 1 type/fraction 2 0.3 7", "mass * 1.0",
        "velocity all create 3.0 4928 loop geom",
        "pair_style lj/cut 2.5", "pair_coeff * * 1.0 1.0",
        "neighbor 0.3 bin", "neigh_modify every 1 delay 0 check yes",
        "fix 1 all nve",
        # the box changes every step: frames have their own cells (remap x keeps atoms with the box)
        "fix 2 all deform 1 xy erate 0.02 z erate -0.01 remap x",
        "dump w all custom 40 wrapped.dump.gz id type x y z ix iy iz", FLOAT.format("w"),
        "dump s all custom 40 scaled.dump.gz id type xs ys zs ix iy iz vx", FLOAT.format("s"),
        "dump u all custom 40 unwrapped.dump id type element xu yu zu", FLOAT.format("u"),
        "dump_modify u element Ar Kr",
        f"run {40 * (N_FRAMES - 1)}",
    ]
    run = run_in_process(cmds, wd, final_thermo=["lx", "ly", "lz", "xy", "xz", "yz", "xlo"])
    return wd, run


def test_files_are_what_the_test_says(dumps):
    wd, _ = dumps
    with open(wd / "wrapped.dump.gz", "rb") as fh:
        assert fh.read(2) == b"\x1f\x8b"  # gzip
    with gzip.open(wd / "wrapped.dump.gz", "rt") as fh:
        head = [fh.readline() for _ in range(6)]
    assert head[4].startswith("ITEM: BOX BOUNDS xy xz yz")  # triclinic


def test_image_flags_unwrap_to_lammps_unwrapped_coordinates(dumps):
    wd, run = dumps
    wrapped, scaled, unwrapped = (read_dump(wd / name) for name in
                                  ("wrapped.dump.gz", "scaled.dump.gz", "unwrapped.dump"))
    for d in (wrapped, scaled, unwrapped):
        assert d.n_frames == N_FRAMES and d.n_atoms == run.natoms == 256 and d.unwrapped
        np.testing.assert_array_equal(d.steps, np.arange(0, 40 * N_FRAMES, 40))
        np.testing.assert_array_equal(d["id"][0], np.arange(1, 257))  # sorted by id
    assert wrapped.coordinates == ("x", "y", "z") and scaled.coordinates == ("xs", "ys", "zs")
    assert unwrapped.coordinates == ("xu", "yu", "zu")
    images = np.stack([wrapped[c] for c in ("ix", "iy", "iz")], axis=-1)
    assert np.count_nonzero(images[-1]) > 50  # atoms crossed the boundaries: the test means something
    ref = unwrapped.positions()
    assert np.abs(ref[-1] - ref[0]).max() > 2.0
    np.testing.assert_allclose(wrapped.positions(), ref, atol=1e-9)
    np.testing.assert_allclose(scaled.positions(), ref, atol=1e-9)
    # the boxes: triclinic, changing every frame, the last one LAMMPS's own final box
    cells = wrapped.cells
    assert not np.allclose(cells[0], cells[-1]) and np.all(cells[:, 1, 0] > 0) and np.all(cells[:, 2, 0] < 0)
    np.testing.assert_allclose(scaled.cells, cells, atol=1e-12)
    f = run.final
    last = LammpsBox(f["xlo"], f["xlo"] + f["lx"], 0, f["ly"], 0, f["lz"], f["xy"], f["xz"], f["yz"])
    np.testing.assert_allclose(cells[-1], last.cell, rtol=1e-12, atol=1e-12)
    # other columns: types, velocities, element names
    np.testing.assert_array_equal(wrapped["type"], scaled["type"])
    assert set(np.unique(wrapped["type"])) == {1.0, 2.0} and np.isfinite(scaled["vx"]).all()
    assert set(unwrapped["element"][0]) == {"Ar", "Kr"}
    np.testing.assert_array_equal(unwrapped["element"][0] == "Kr", unwrapped["type"][0] == 2)


def test_stride_and_wrapped_only(dumps, tmp_path):
    wd, _ = dumps
    full = read_dump(wd / "wrapped.dump.gz")
    every3 = read_dump(wd / "wrapped.dump.gz", stride=3)
    np.testing.assert_array_equal(every3.steps, full.steps[::3])
    np.testing.assert_array_equal(every3.data, full.data[::3])
    # wrapped coordinates without image flags stay wrapped, and say so
    with gzip.open(wd / "wrapped.dump.gz", "rt") as fh:
        text = fh.read().replace("ITEM: ATOMS id type x y z ix iy iz", "ITEM: ATOMS id type x y z a b c")
    (tmp_path / "noimg.lammpstrj").write_text(text)
    d = read_dump(tmp_path / "noimg.lammpstrj")
    assert not d.unwrapped and not d.has_images
    np.testing.assert_array_equal(d.positions(), np.stack([full[c] for c in "xyz"], axis=-1))


def test_errors_name_file_and_line(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        read_dump(tmp_path / "nope.dump")
    bad = tmp_path / "bad.dump"
    bad.write_text("ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n2\nITEM: BOX BOUNDS pp pp pp\n0 1\n0 1\n0 1\n"
                   "ITEM: ATOMS id x y z\n1 0.1 0.2 0.3\n2 0.4 zero 0.6\n")
    with pytest.raises(ValueError, match=r"bad\.dump: line 11: non-numeric value 'zero' in column y"):
        read_dump(bad)
    bad.write_text(bad.read_text().replace("2 0.4 zero 0.6", "2 0.4 0.6"))
    with pytest.raises(ValueError, match=r"bad\.dump: line 11: expected 4 columns"):
        read_dump(bad)
    bad.write_text(bad.read_text().replace("2 0.4 0.6", "1 0.4 0.5 0.6"))
    with pytest.raises(ValueError, match=r"line 10: duplicate atom ids"):
        read_dump(bad)
    bad.write_text(bad.read_text().replace("ITEM: ATOMS id x y z", "ITEM: ATOMS id vx vy vz").replace("1 0.4", "2 0.4"))
    with pytest.raises(ValueError, match="no coordinate columns"):
        read_dump(bad).positions()
