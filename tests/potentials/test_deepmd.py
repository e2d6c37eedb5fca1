"""DeePMD backend: the training input carries the paper's loss ramp; training is reproducible."""

import json

import numpy as np
import pytest
from ase.build import bulk

from deepearth import load_potential
from deepearth.potentials.deepmd import DeepMDPotential, deepmd_input
from deepearth.store import write_deepmd_npy


def test_input_has_the_energy_force_virial_prefactor_ramp(tmp_path):
    inp = deepmd_input(["Mg", "O"], [tmp_path / "train"], [tmp_path / "valid"], seed=3, training_steps=500)
    loss = inp["loss"]
    assert (loss["start_pref_e"], loss["limit_pref_e"]) == (0.02, 1.0)
    assert (loss["start_pref_f"], loss["limit_pref_f"]) == (1000.0, 1.0)
    assert (loss["start_pref_v"], loss["limit_pref_v"]) == (0.02, 1.0)
    assert inp["training"]["numb_steps"] == 500 and inp["model"]["type_map"] == ["Mg", "O"]
    assert all(s.startswith("/") for s in inp["training"]["training_data"]["systems"])  # absolute paths
    assert inp["model"]["descriptor"]["seed"] == 3


def test_load_potential_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such model file"):
        load_potential(tmp_path / "missing.pb")
    (tmp_path / "m.xyz").write_text("")
    with pytest.raises(ValueError, match="unknown model format"):
        load_potential(tmp_path / "m.xyz")


def _toy_data(folder, n=6, seed=0):
    """Frames labelled by a Morse pair potential (cheap; the point is the training machinery)."""
    from ase.calculators.morse import MorsePotential

    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(n):
        a = bulk("MgO", "rocksalt", a=4.0, cubic=True)
        a.rattle(0.08, rng=rng)
        a.calc = MorsePotential(epsilon=0.5, r0=2.0, rho0=4.0, rcut1=3.5, rcut2=4.5)
        a.get_potential_energy()
        frames.append(a)
    write_deepmd_npy(folder, frames, ["Mg", "O"])
    return frames


@pytest.mark.slow
def test_same_seed_same_model_and_resume_skips(tmp_path):
    frames = _toy_data(tmp_path / "data")
    backend = DeepMDPotential(["Mg", "O"], training_steps=60, rcut_A=4.0, rcut_smooth_A=0.5)
    m1 = backend.train(tmp_path / "a", [tmp_path / "data"], [], seed=5)
    m2 = backend.train(tmp_path / "b", [tmp_path / "data"], [], seed=5)
    ev1, ev2 = backend.evaluator(m1), backend.evaluator(m2)
    a = frames[0]
    r1 = ev1.evaluate(a.positions, a.cell.array, a.get_chemical_symbols())
    r2 = ev2.evaluate(a.positions, a.cell.array, a.get_chemical_symbols())
    assert r1[0] == r2[0] and np.array_equal(r1[1], r2[1])
    # a finished member is not retrained
    mtime = m1.stat().st_mtime_ns
    assert backend.train(tmp_path / "a", [tmp_path / "data"], [], seed=5) == m1
    assert m1.stat().st_mtime_ns == mtime
    assert json.loads((tmp_path / "a" / "input.json").read_text())["training"]["seed"] == 5
    # the ASE calculator of the same model agrees with the direct evaluator
    a.calc = load_potential(m1)
    assert a.get_potential_energy() == pytest.approx(r1[0], abs=1e-6)
    assert np.allclose(a.get_forces(), r1[1], atol=1e-6)
    # ... and the model runs in the LAMMPS engine (pair_style deepmd through the plugin) with the
    # same dynamics as in the ASE engine
    from deepearth.md.engine import ASEEngine, MDSettings
    from deepearth.md.lammps_engine import LammpsEngine

    seen = {}
    for engine in (LammpsEngine(), ASEEngine()):
        rows = seen.setdefault(engine.name, [])
        engine.run(frames[1].copy(), load_potential(m1),
                   MDSettings("nve", 500.0, 40, 1.0, seed=2, observers=[(lambda at, s, rows=rows: rows.append(at.positions.copy()), 20)]))
    assert len(seen["lammps"]) == len(seen["ase"]) == 3
    assert np.abs(seen["lammps"][-1] - seen["ase"][-1]).max() < 1e-5
