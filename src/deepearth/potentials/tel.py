"""Electronic temperature as a model input ("Tel-DP", SCIENCE.md §2; issue #4 item 2).

Labels computed with Fermi–Dirac smearing at k_B·T_el are the Mermin free energy
``F = E − T_el S_el`` and its forces (tblite returns ``energy`` = ``free_energy`` = F: its forces are
−∂F/∂R, checked by finite differences on MgO to 1e-5 eV/Å at 300–10000 K). The same configuration
has a different F at every T_el; a model that does not know T_el can only fit the average.
Two remedies: one model per T_el ("multi-model"), or T_el as a frame parameter of one model
(DeePMD ``numb_fparam = 1`` with ``fparam.npy``; DeePMD standardises the frame parameter with the
training-data mean and standard deviation, so T_el is given in K unscaled).

* :class:`TelDP` — ASE calculator of a T_el-aware model, T_el fixed or following the ionic
  kinetic temperature;
* :func:`electronic_temperature_demo` — the demonstration: the same MgO configurations labelled by
  GFN1-xTB at several T_el; a T_el-blind model, a T_el-aware model and (optionally) one model per
  T_el, compared on held-out configurations per T_el.

GFN1-xTB caveat (issue #4): it gives MgO an almost zero gap, so its electronic entropy is
unphysically large (PBE: ~0 at 5000 K). The demo shows the machinery, not MgO physics; with the
8-atom Γ-point cells used here the effect is larger still than in 64-atom cells.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes

TYPE_MAP = ["Mg", "O"]
#: Loss prefactors (start, limit) of the demo: energy-weighted from the start (the point is the energy
#: offset between T_el; the paper's ramp p_e 0.02 → 1 learns energies late), virial not fitted.
DEMO_LOSS_PREFACTORS = {"e": (1.0, 1.0), "f": (10.0, 1.0), "v": (0.0, 0.0)}


class TelDP(Calculator):
    """ASE calculator of a DeePMD model trained with T_el as its frame parameter (``numb_fparam=1``).

    ``T_el_K``: the fixed electronic temperature (K). ``follow_ionic=True``: T_el is the ionic
    kinetic temperature of the atoms (``atoms.get_temperature()``, instantaneous — it fluctuates
    as ~T·sqrt(2/3N) in small cells, and in velocity Verlet it is that of the half-step momenta),
    with ``T_el_K`` (if given) as its lower bound (atoms at rest would otherwise get T_el = 0 K,
    outside any training range). The T_el used by the last evaluation is ``last_T_el_K``.
    Wraps :class:`deepmd.calculator.DP`, which reads ``atoms.info["fparam"]``.
    """

    implemented_properties = ["energy", "free_energy", "forces", "virial", "stress"]

    def __init__(self, model, T_el_K: float | None = None, follow_ionic: bool = False, **kwargs):
        if T_el_K is None and not follow_ionic:
            raise ValueError("TelDP needs T_el_K (fixed electronic temperature) or follow_ionic=True")
        Calculator.__init__(self, **kwargs)
        from deepearth.potentials.deepmd import set_single_thread_env

        set_single_thread_env()
        from deepmd.calculator import DP

        self.model = str(model)
        self._dp = DP(model=self.model)
        dim = int(self._dp.dp.get_dim_fparam())
        if dim != 1:
            raise ValueError(f"{self.model}: TelDP needs a model with one frame parameter (T_el), it has {dim}")
        self.T_el_K = None if T_el_K is None else float(T_el_K)
        self.follow_ionic = bool(follow_ionic)
        self.last_T_el_K: float | None = None

    def electronic_temperature(self, atoms: Atoms) -> float:
        """The T_el (K) this calculator uses for ``atoms``."""
        if not self.follow_ionic:
            return self.T_el_K
        T = float(atoms.get_temperature())
        return max(T, self.T_el_K) if self.T_el_K is not None else T

    def check_state(self, atoms, tol=1e-15):
        changes = super().check_state(atoms, tol)
        if self.follow_ionic and self.atoms is not None and not changes:
            if not np.array_equal(atoms.get_momenta(), self.atoms.get_momenta()):
                changes.append("momenta")  # T_el follows the kinetic energy
        return changes

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        Calculator.calculate(self, atoms, properties, system_changes)
        work = self.atoms.copy()
        self.last_T_el_K = self.electronic_temperature(self.atoms)
        work.info["fparam"] = np.array([[self.last_T_el_K]])
        self._dp.calculate(work, list(properties), system_changes)
        self.results = dict(self._dp.results)


# --------------------------------------------------------------------------- demonstration


@dataclass
class TelDemoResult:
    """Held-out errors per T_el of a T_el-blind, a T_el-aware and (optionally) per-T_el models.

    ``entropy_meV_per_atom[T]``: mean over the configurations of F(T) − F(T_min) per atom (meV/atom;
    the electronic-entropy scale the blind model cannot see); ``errors[model][T]``:
    ``{"rmse_energy_meV_per_atom", "rmse_force_eV_per_A", "mean_energy_error_meV_per_atom", "n_frames"}``
    on the held-out configurations labelled at T; ``parity[model]``: (T_el, F_ref, F_model) per atom
    in eV for every held-out frame.
    """

    T_el_K: list[float]
    n_atoms: int
    n_train_configs: int
    n_heldout_configs: int
    entropy_meV_per_atom: dict
    errors: dict
    parity: dict = field(repr=False)
    models: dict
    seconds: dict
    method: str

    def table(self) -> str:
        names = list(self.errors)
        head = "T_el (K) | F(T)-F(Tmin) meV/at | " + " | ".join(f"{n} E meV/at, F eV/Å" for n in names)
        lines = [head, "-" * len(head)]
        for T in self.T_el_K:
            k = f"{T:g}"
            cells = [f"{self.errors[n][k]['rmse_energy_meV_per_atom']:8.2f}, {self.errors[n][k]['rmse_force_eV_per_A']:.3f}"
                     for n in names]
            lines.append(f"{T:8g} | {self.entropy_meV_per_atom[k]:19.1f} | " + " | ".join(f"{c:>18}" for c in cells))
        return "\n".join(lines)

    def to_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=1))


def mgo_configurations(n_configs: int, lattice_A=(3.9, 4.05, 4.2), rattle_A: float = 0.08,
                       seed: int = 0) -> list[Atoms]:
    """``n_configs`` rattled 8-atom rock-salt MgO cells, dealt round-robin over ``lattice_A`` (Å)."""
    from ase.build import bulk

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_configs):
        a = bulk("MgO", "rocksalt", a=float(lattice_A[i % len(lattice_A)]), cubic=True)
        a.positions += rng.normal(0.0, rattle_A, a.positions.shape)
        a.info["config"] = i
        out.append(a)
    return out


def _label_all(configs: list[Atoms], T_el_K, path: Path) -> list[Atoms]:
    """Every configuration labelled by GFN1-xTB at every T_el (cached in ``path``, extxyz)."""
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.io import read, write

    from deepearth.reference.xtb import xtb_labeller

    if path.is_file():
        frames = read(str(path), index=":")
        if len(frames) == len(configs) * len(T_el_K):
            return frames
    frames = []
    for T in T_el_K:
        labeller = xtb_labeller(electronic_temperature_K=float(T))
        for atoms in configs:
            lab = labeller.label(atoms)
            if not lab.ok:
                raise RuntimeError(f"GFN1-xTB failed on config {atoms.info['config']} at T_el={T} K: {lab.error}")
            a = atoms.copy()
            a.calc = SinglePointCalculator(a, energy=lab.energy_eV, forces=lab.forces_eV_per_A,
                                           stress=lab.stress_eV_per_A3)
            a.info.update(config=int(atoms.info["config"]), T_el_K=float(T))
            frames.append(a)
    write(str(path) + ".tmp", frames, format="extxyz")
    Path(str(path) + ".tmp").replace(path)
    return read(str(path), index=":")


def _errors(evaluate, frames: list[Atoms], T_el_K) -> tuple[dict, list]:
    per_T, parity = {}, []
    for T in T_el_K:
        sel = [a for a in frames if a.info["T_el_K"] == float(T)]
        de, f_sq, f_n = [], 0.0, 0
        for a in sel:
            e, f, _ = evaluate(a, float(T))
            n = len(a)
            ref = a.get_potential_energy() / n
            de.append(e / n - ref)
            f_sq += float(np.sum((np.asarray(f) - a.get_forces()) ** 2))
            f_n += f.size
            parity.append((float(T), ref, e / n))
        de = np.array(de)
        per_T[f"{T:g}"] = {"rmse_energy_meV_per_atom": 1000 * float(np.sqrt(np.mean(de ** 2))),
                           "mean_energy_error_meV_per_atom": 1000 * float(np.mean(de)),
                           "rmse_force_eV_per_A": float(np.sqrt(f_sq / f_n)), "n_frames": len(sel)}
    return per_T, parity


def electronic_temperature_demo(workdir: str | Path, n_configs: int = 24, T_el_K=(300, 3000, 6000, 10000),
                                training_steps: int = 2000, heldout_fraction: float = 0.33, seed: int = 0,
                                multi_model: bool = True, lattice_A=(3.9, 4.05, 4.2), rattle_A: float = 0.08,
                                **hyper) -> TelDemoResult:
    """Label the same MgO configurations with GFN1-xTB at each ``T_el_K``; split *configurations*
    (all T_el of a configuration go to the same side) into train and held-out; train

    * ``blind``: one DeePMD model on the training frames of all T_el mixed, without T_el;
    * ``aware``: the same data and hyperparameters with ``numb_fparam=1``, fparam = T_el (K);
    * ``multi`` (``multi_model=True``): one model per T_el on that T_el's training frames;

    and report per-T_el held-out RMSEs. ``hyper``: :func:`~deepearth.potentials.deepmd.deepmd_input`
    settings (defaults: rcut 4 Å, descriptor (8, 16), fitting (32, 32), loss
    :data:`DEMO_LOSS_PREFACTORS`). Everything is cached in
    ``workdir`` (labels, data, models), so a second call resumes.
    """
    from deepearth.potentials.deepmd import DeepMDEvaluator, DeepMDPotential
    from deepearth.store import write_deepmd_npy

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    T_el_K = [float(T) for T in T_el_K]
    if len(T_el_K) < 2:
        raise ValueError("the T_el demonstration needs at least two electronic temperatures")
    seconds = {}
    t0 = time.perf_counter()
    configs = mgo_configurations(n_configs, lattice_A, rattle_A, seed)
    frames = _label_all(configs, T_el_K, workdir / "labels.extxyz")
    seconds["labelling"] = time.perf_counter() - t0

    n_held = max(1, int(round(heldout_fraction * n_configs)))
    if n_held >= n_configs:
        raise ValueError(f"n_configs={n_configs} leaves no training configuration")
    held = set(np.random.default_rng(seed).permutation(n_configs)[:n_held].tolist())
    train = [a for a in frames if a.info["config"] not in held]
    test = [a for a in frames if a.info["config"] in held]

    # electronic-entropy scale: F(T) - F(T_min) per atom on the same configurations
    e_pa = {(a.info["config"], a.info["T_el_K"]): a.get_potential_energy() / len(a) for a in frames}
    T0 = min(T_el_K)
    entropy = {f"{T:g}": 1000 * float(np.mean([e_pa[(c, T)] - e_pa[(c, T0)] for c in range(n_configs)]))
               for T in T_el_K}

    hyper = dict(dict(rcut_A=4.0, rcut_smooth_A=0.5, descriptor_neurons=(8, 16), fitting_neurons=(32, 32),
                      training_steps=training_steps, loss_prefactors=DEMO_LOSS_PREFACTORS), **hyper)
    data = workdir / "data"
    write_deepmd_npy(data / "all-T", train, TYPE_MAP, fparam="T_el_K")
    write_deepmd_npy(data / "all-T-blind", train, TYPE_MAP)

    models, errors, parity = {}, {}, {}

    def fit(name, backend, systems, model_seed):
        t = time.perf_counter()
        models[name] = str(backend.train(workdir / name, systems, [], model_seed))
        seconds[f"train {name}"] = time.perf_counter() - t
        return models[name]

    def ev_of(model):
        ev = DeepMDEvaluator(Path(model))
        return lambda a, T: ev.evaluate(a.get_positions(), a.cell.array, a.get_chemical_symbols(), fparam=[T])

    blind = fit("blind", DeepMDPotential(TYPE_MAP, **hyper), [data / "all-T-blind"], seed)
    aware = fit("aware", DeepMDPotential(TYPE_MAP, numb_fparam=1, **hyper), [data / "all-T"], seed)
    errors["blind"], parity["blind"] = _errors(ev_of(blind), test, T_el_K)
    errors["aware"], parity["aware"] = _errors(ev_of(aware), test, T_el_K)
    if multi_model:
        evs = {}
        for T in T_el_K:
            sel = [a for a in train if a.info["T_el_K"] == T]
            write_deepmd_npy(data / f"T{T:g}", sel, TYPE_MAP)
            evs[T] = ev_of(fit(f"multi/T{T:g}", DeepMDPotential(TYPE_MAP, **hyper), [data / f"T{T:g}"], seed))
        models["multi"] = {f"{T:g}": models.pop(f"multi/T{T:g}") for T in T_el_K}
        errors["multi"], parity["multi"] = _errors(lambda a, T: evs[T](a, T), test, T_el_K)

    method = (f"GFN1-xTB (tblite, Γ point) labels of {n_configs} rattled 8-atom rock-salt MgO cells "
              f"(a0 {', '.join(f'{x:g}' for x in lattice_A)} Å, rattle σ {rattle_A:g} Å) at T_el = "
              f"{', '.join(f'{T:g}' for T in T_el_K)} K; label = Mermin free energy F = E − T_el·S_el and −∂F/∂R "
              f"(Fermi smearing). Split by configuration: {n_configs - n_held} train / {n_held} held-out "
              f"(seed {seed}). DeePMD se_e2_a, rcut {hyper['rcut_A']} Å, descriptor {tuple(hyper['descriptor_neurons'])}, "
              f"fitting {tuple(hyper['fitting_neurons'])}, {hyper['training_steps']} steps, loss prefactors "
              f"{hyper['loss_prefactors']}; blind: no fparam, all T_el "
              "mixed; aware: numb_fparam=1, fparam = T_el in K (standardised by DeePMD); "
              + ("multi: one model per T_el." if multi_model else "multi-model not run."))
    return TelDemoResult(T_el_K, len(frames[0]), n_configs - n_held, n_held, entropy, errors, parity, models,
                         seconds, method)
