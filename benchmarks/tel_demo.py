"""Electronic temperature as a model input (issue #4 item 2): T_el-blind vs T_el-aware vs per-T_el models.

    python benchmarks/tel_demo.py [--workdir runs/benchmarks/tel] [--configs 36] [--steps 4000] [--no-multi]

The same rattled 8-atom MgO cells (a0 3.9, 4.05, 4.2 Å) labelled by GFN1-xTB at T_el = 300, 3000,
6000, 10000 K (label = Mermin free energy); one third of the configurations held out (all their
T_el). Prints, per T_el, the electronic-entropy scale F(T) − F(300 K) and the held-out energy and
force RMSE of each model; writes ``result.json`` and the figures (``deepearth.report.tel_figures``) in the
work directory. GFN1-xTB's near-zero MgO gap makes the entropy term unphysically large (PBE: ~0 at
5000 K): this shows the machinery, not MgO physics; with the 8-atom Γ-point cells used here the effect
is larger still than in 64-atom cells.

The library part — the T_el-aware calculator :class:`deepearth.potentials.tel.TelDP` and DeePMD's
``numb_fparam`` — is in ``deepearth``; the demonstration (labels, the three models, the table) is here.
``tests/potentials/test_tel.py`` runs it at small size.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

for key in ("OMP_NUM_THREADS", "DP_INTRA_OP_PARALLELISM_THREADS", "DP_INTER_OP_PARALLELISM_THREADS"):
    os.environ.setdefault(key, "1")

import numpy as np  # noqa: E402
from ase import Atoms  # noqa: E402

TYPE_MAP = ["Mg", "O"]
#: Loss prefactors (start, limit) of the demo: energy-weighted from the start (the point is the energy
#: offset between T_el; the paper's ramp p_e 0.02 → 1 learns energies late), virial not fitted.
DEMO_LOSS_PREFACTORS = {"e": (1.0, 1.0), "f": (10.0, 1.0), "v": (0.0, 0.0)}


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


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workdir", default="runs/benchmarks/tel")
    p.add_argument("--configs", type=int, default=36)
    p.add_argument("--steps", type=int, default=4000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-multi", action="store_true", help="skip the one-model-per-T_el alternative")
    args = p.parse_args(argv)
    res = electronic_temperature_demo(args.workdir, n_configs=args.configs, training_steps=args.steps,
                                      seed=args.seed, multi_model=not args.no_multi)
    res.to_json(Path(args.workdir) / "result.json")
    print(f"# {datetime.date.today()} {platform.node()} {platform.processor() or platform.machine()}, one thread")
    print(res.method)
    print(res.table())
    print("seconds:", {k: round(v, 1) for k, v in res.seconds.items()})
    from deepearth.report.tel_figures import make_figures

    for f in make_figures(res, Path(args.workdir)):
        print("figure:", f)


if __name__ == "__main__":
    main()
