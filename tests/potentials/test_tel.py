"""T_el as a model input (issue #4 item 2): the T_el-blind model carries the electronic-entropy error
that the T_el-aware (numb_fparam) model removes — the demonstration (``benchmarks/tel_demo.py``) at
small size, and the library's T_el-aware calculator (:class:`deepearth.potentials.tel.TelDP`) on its models."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from deepearth.potentials.deepmd import DeepMDEvaluator, DeepMDPotential, deepmd_input
from deepearth.potentials.tel import TelDP


def _benchmark(name: str):
    """A module of ``benchmarks/`` (not a package), loaded from its file."""
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[2] / "benchmarks" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the file executes
        spec.loader.exec_module(module)
    return sys.modules[name]


electronic_temperature_demo = _benchmark("tel_demo").electronic_temperature_demo

T_EL = (300, 3000, 6000, 10000)


def test_input_numb_fparam(tmp_path):
    inp = deepmd_input(["Mg", "O"], [tmp_path], [], seed=0, numb_fparam=1, loss_prefactors={"v": (0.0, 0.0)})
    assert inp["model"]["fitting_net"]["numb_fparam"] == 1
    assert (inp["loss"]["start_pref_v"], inp["loss"]["start_pref_e"]) == (0.0, 0.02)
    assert "numb_fparam" not in deepmd_input(["Mg", "O"], [tmp_path], [], seed=0)["model"]["fitting_net"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return electronic_temperature_demo(tmp_path_factory.mktemp("tel"), n_configs=12, T_el_K=T_EL,
                                       training_steps=2000, multi_model=False, descriptor_neurons=(8, 16),
                                       fitting_neurons=(32, 32), rcut_A=4.0)  # ~55 s; cost is start-up, not net size


@pytest.mark.slow
def test_blind_model_carries_the_entropy_error_the_aware_model_removes(demo):
    print("\n" + demo.table())
    s = demo.entropy_meV_per_atom
    # GFN1-xTB MgO: the Mermin free energy falls with T_el by tens to hundreds of meV/atom
    assert s["300"] == 0.0 and s["10000"] < s["6000"] < s["3000"] < -20.0
    blind, aware = demo.errors["blind"], demo.errors["aware"]
    mean_shift = np.mean(list(s.values()))
    for T in ("300", "10000"):  # the extremes of the T_el range
        assert blind[T]["rmse_energy_meV_per_atom"] >= 3 * aware[T]["rmse_energy_meV_per_atom"]
        # the blind error is the distance of F(T) from the T_el-average it was fitted to
        spread = abs(s[T] - mean_shift)
        assert 0.4 * spread < blind[T]["rmse_energy_meV_per_atom"] < 1.6 * spread + aware[T]["rmse_energy_meV_per_atom"]
    assert blind["10000"]["mean_energy_error_meV_per_atom"] > 0 > blind["300"]["mean_energy_error_meV_per_atom"]


@pytest.mark.slow
def test_aware_model_needs_T_el(demo):
    from ase.build import bulk

    ev = DeepMDEvaluator(demo.models["aware"])
    a = bulk("MgO", "rocksalt", a=4.05, cubic=True)
    args = (a.positions, a.cell.array, a.get_chemical_symbols())
    with pytest.raises(ValueError, match="frame parameter.*T_el.*fparam="):
        ev.evaluate(*args)
    e_cold, e_hot = ev.evaluate(*args, fparam=300.0)[0], ev.evaluate(*args, fparam=[10000.0])[0]
    assert e_hot < e_cold
    # the blind model ignores fparam
    blind = DeepMDEvaluator(demo.models["blind"])
    assert blind.evaluate(*args)[0] == blind.evaluate(*args, fparam=[10000.0])[0]
    # ASE: T_el fixed, or following the ionic temperature
    backend = DeepMDPotential(["Mg", "O"])
    with pytest.raises(ValueError, match="T_el_K"):
        TelDP(demo.models["aware"])
    a.calc = backend.calculator(demo.models["aware"], T_el_K=10000.0)
    assert a.get_potential_energy() == pytest.approx(e_hot, abs=1e-6)
    calc = backend.calculator(demo.models["aware"], follow_ionic=True, T_el_K=300.0)
    a.calc = calc
    assert a.get_potential_energy() == pytest.approx(e_cold, abs=1e-6) and calc.last_T_el_K == 300.0  # at rest: floor
    a.set_momenta(np.random.default_rng(1).normal(0.0, 4.0, (len(a), 3)))  # hot ions (~4000 K)
    assert a.get_temperature() > 1000
    e_md = a.get_potential_energy()  # momenta changed -> recomputed at the kinetic temperature
    assert calc.last_T_el_K == pytest.approx(a.get_temperature())
    assert e_md == pytest.approx(ev.evaluate(*args, fparam=a.get_temperature())[0], abs=1e-6)
