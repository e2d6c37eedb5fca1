"""Universal (foundation) ML potentials as *baselines*: CHGNet and SevenNet, pretrained on MPtrj.

They answer "how far would an off-the-shelf potential get without our data?" — their error is shown
next to ours (``deepearth validate --baseline NAME``), never used silently as a reference: every
label they make carries ``provenance["baseline"] = True`` and names the model and its training set.

* CHGNet (Deng et al., Nat. Mach. Intell. 5, 1031 (2023)), ``pip install chgnet==0.4.2``: weights
  0.3.0, 0.2.0 (the paper's) and r2scan ship inside the wheel.
* SevenNet (Park et al., J. Chem. Theory Comput. 20, 4857 (2024)), ``pip install sevenn==0.13.0``:
  7net-0, 7net-l3i5 and 7net-mf-0 ship inside the wheel (the newer 7net-omat/-mf-ompa/-omni are
  downloaded on first use and are not offered). Install ``torch==2.13.0`` first, explicitly.

Units as everywhere in deepearth: energy eV, forces eV/Å, stress eV/Å³ in the ASE sign (positive =
tensile), virial eV (``virial = −stress·V``, the convention of the DeePMD and POD evaluators and of
:func:`deepearth.potentials.validation.validation_errors`, which takes model stress = −virial/V).

Energy zero: these models are not on the energy zero of our DFT data (different PAW sets, cutoffs,
and for CHGNet the MP2020 anion corrections in its MPtrj training energies: its 8-atom MgO cell lies
2.7 eV below SevenNet-0's). Compare energies only after removing a per-element shift
(:func:`shifted_energy_rmse`); forces and stresses need no shift.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import warnings
from dataclasses import dataclass
from functools import cache, partial

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator

from deepearth.reference.labeller import CalculatorLabeller

CHGNET_REF = "Deng et al., Nat. Mach. Intell. 5, 1031 (2023)"
SEVENNET_REF = "Park et al., J. Chem. Theory Comput. 20, 4857 (2024)"
MPTRJ = "MPtrj (Materials Project relaxation trajectories) PBE/PBE+U"


class BaselineUnavailable(ImportError, ValueError):
    """The package a baseline needs is not installed (a ValueError too, so the CLI prints one line)."""


@dataclass(frozen=True)
class Baseline:
    """One pretrained universal potential: the package that runs it and the loader's model key."""

    name: str
    package: str  # import name: "chgnet" or "sevenn"
    pip: str  # what to install
    model: str  # the package's own name of the weights
    trained_on: str
    reference: str
    modal: str | None = None  # SevenNet multi-fidelity head
    note: str = ""

    @property
    def loader(self) -> str:
        """The loader call, for the record."""
        if self.package == "chgnet":
            return f"chgnet.model.CHGNet.load(model_name={self.model!r})"
        modal = f", modal={self.modal!r}" if self.modal else ""
        return f"sevenn.calculator.SevenNetCalculator({self.model!r}{modal})"


_CHGNET_PIP = "pip install -e '.[baselines]' (or chgnet==0.4.2 after torch==2.13.0)"
_SEVENN_PIP = "pip install -e '.[baselines]' (or sevenn==0.13.0 after torch==2.13.0)"

#: The baselines whose weights ship inside their pip package (no download at run time).
BASELINES: dict[str, Baseline] = {b.name: b for b in (
    Baseline("chgnet-0.3.0", "chgnet", _CHGNET_PIP, "0.3.0", f"{MPTRJ}, MP2020-corrected energies", CHGNET_REF,
             note="CHGNet's default weights (atom-graph cutoff 6 Å)"),
    Baseline("chgnet-0.2.0", "chgnet", _CHGNET_PIP, "0.2.0", f"{MPTRJ}, MP2020-corrected energies", CHGNET_REF,
             note="the weights of the CHGNet paper"),
    Baseline("chgnet-r2scan", "chgnet", _CHGNET_PIP, "r2scan", "MP r2SCAN, transfer-learned from CHGNet on MPtrj",
             CHGNET_REF, note="r2SCAN, not PBE: differs from a PBE reference by the functional too"),
    Baseline("sevennet-0", "sevenn", _SEVENN_PIP, "7net-0", MPTRJ, SEVENNET_REF,
             note="SevenNet-0 (11 Jul 2024 weights)"),
    Baseline("sevennet-l3i5", "sevenn", _SEVENN_PIP, "7net-l3i5", MPTRJ, SEVENNET_REF,
             note="SevenNet-0 architecture with l_max = 3 and 5 interaction layers"),
    Baseline("sevennet-mf-0", "sevenn", _SEVENN_PIP, "7net-mf-0",
             "MPtrj PBE/PBE+U + MP r2SCAN (multi-fidelity); the PBE head is used", SEVENNET_REF, modal="PBE",
             note="multi-fidelity SevenNet (Kim et al., J. Am. Chem. Soc. 147, 1042 (2025)), PBE modal"),
)}


def baseline(name: str) -> Baseline:
    """The registry entry of ``name``; ValueError listing the known names otherwise."""
    try:
        return BASELINES[name]
    except KeyError:
        raise ValueError(f"unknown baseline {name!r} (known: {', '.join(BASELINES)})") from None


def _require(spec: Baseline) -> None:
    if importlib.util.find_spec(spec.package) is None:
        raise BaselineUnavailable(f"baseline {spec.name!r} needs the {spec.package} package: {spec.pip}")


def _chgnet_calculator(spec: Baseline, device: str) -> Calculator:
    from ase.stress import full_3x3_to_voigt_6_stress
    from chgnet.model import CHGNet, CHGNetCalculator

    class _CHGNetVoigt(CHGNetCalculator):
        """CHGNet's calculator stores a 3×3 stress; ASE wants Voigt (and warns on every call otherwise)."""

        def calculate(self, *args, **kwargs):
            super().calculate(*args, **kwargs)
            stress = np.asarray(self.results["stress"], dtype=float)
            if stress.shape == (3, 3):
                self.results["stress"] = full_3x3_to_voigt_6_stress(stress)

    with contextlib.redirect_stdout(io.StringIO()):  # CHGNet prints its version and device
        model = CHGNet.load(model_name=spec.model, use_device=device, verbose=False)
        return _CHGNetVoigt(model, use_device=device)


def _sevenn_calculator(spec: Baseline, device: str) -> Calculator:
    from sevenn.calculator import SevenNetCalculator

    with warnings.catch_warnings():  # "no tensor-product accelerator" on every CPU load
        warnings.simplefilter("ignore")
        return SevenNetCalculator(spec.model, device=device, modal=spec.modal)


def universal_calculator(name: str, device: str = "cpu") -> Calculator:
    """A fresh ASE calculator of baseline ``name`` (energy eV, forces eV/Å, stress eV/Å³ ASE sign).

    ``device``: ``"cpu"`` (default, reproducible), ``"cuda"``... as the package understands it.
    Raises ValueError for an unknown name and :class:`BaselineUnavailable` (an ImportError and a
    ValueError) naming the model and the pip command when its package is missing.
    """
    spec = baseline(name)
    _require(spec)
    if device == "cpu":
        os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is first imported, as the other backends
    if spec.package == "chgnet":
        return _chgnet_calculator(spec, device)
    return _sevenn_calculator(spec, device)


@cache
def _shared_calculator(name: str, device: str) -> Calculator:
    return universal_calculator(name, device)


def provenance(name: str) -> dict:
    """What a baseline label records: code and version, model, ``baseline: True``, training set."""
    from importlib.metadata import PackageNotFoundError, version

    spec = baseline(name)
    try:
        code = f"{spec.package} {version(spec.package)}"
    except PackageNotFoundError:
        code = f"{spec.package} (not installed)"
    prov = {"method": f"{name} (universal ML potential baseline, not first principles)", "code": code,
            "model": spec.model, "loader": spec.loader, "baseline": True, "trained_on": spec.trained_on,
            "reference": spec.reference}
    if spec.modal:
        prov["modal"] = spec.modal
    return prov


def universal_labeller(name: str, device: str = "cpu") -> CalculatorLabeller:
    """A labeller running baseline ``name``; its labels carry ``provenance["baseline"] = True``.

    One calculator per process is shared by all configurations: an ML potential has no SCF
    history, so labels do not depend on call order (loading SevenNet takes ≈ 1 s).
    """
    spec = baseline(name)
    _require(spec)
    return CalculatorLabeller(partial(_shared_calculator, name, device), name=name, provenance=provenance(name))


class UniversalEvaluator:
    """The ``ForceEvaluator`` of a baseline (see :mod:`deepearth.potentials.base`), so that
    :func:`~deepearth.potentials.validation.validation_errors` scores it on any labelled frames.

    ``evaluate`` → (energy eV, forces (N, 3) eV/Å, virial (3, 3) eV) with virial = −stress·V
    (stress in the ASE sign, V in Å³). Periodic cells only.
    """

    def __init__(self, name: str, device: str = "cpu"):
        self.name = name
        self.spec = baseline(name)
        self.calc = universal_calculator(name, device)
        self.provenance = provenance(name)

    def _atoms(self, positions, cell, symbols) -> Atoms:
        atoms = Atoms(symbols=list(symbols), positions=np.reshape(positions, (-1, 3)), cell=np.reshape(cell, (3, 3)),
                      pbc=True)
        atoms.calc = self.calc
        return atoms

    def evaluate(self, positions, cell, symbols) -> tuple[float, np.ndarray, np.ndarray]:
        """(energy eV, forces (N, 3) eV/Å, virial (3, 3) eV)."""
        atoms = self._atoms(positions, cell, symbols)
        with warnings.catch_warnings():  # CHGNet: "Consider using tensor.detach()" from inside its graph code
            warnings.simplefilter("ignore", UserWarning)
            energy = float(atoms.get_potential_energy())
            forces = np.array(atoms.get_forces(), dtype=float)
            stress = np.array(atoms.get_stress(voigt=False), dtype=float)
        return energy, forces, -stress * atoms.get_volume()

    def descriptor(self, positions, cell, symbols) -> np.ndarray:
        """Per-atom features (N, d): CHGNet's final atom features (d = 64); SevenNet's invariant node
        features entering its energy read-out (d = 128 for 7net-0)."""
        atoms = self._atoms(positions, cell, symbols)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            if self.spec.package == "chgnet":
                from pymatgen.io.ase import AseAtomsAdaptor

                pred = self.calc.model.predict_structure(AseAtomsAdaptor.get_structure(atoms), task="e",
                                                         return_atom_feas=True)
                return np.asarray(pred["atom_fea"], dtype=float).reshape(len(atoms), -1)
            from sevenn import _keys as KEY

            seen = []
            hook = self.calc.model._modules["reduce_input_to_hidden"].register_forward_pre_hook(
                lambda _module, inputs: seen.append(inputs[0][KEY.NODE_FEATURE].detach().cpu().numpy()))
            try:
                self.calc.reset()
                atoms.get_potential_energy()
            finally:
                hook.remove()
                self.calc.reset()
            return np.asarray(seen[-1], dtype=float)[: len(atoms)].reshape(len(atoms), -1)


def shifted_energy_rmse(frames: list[Atoms], e_ref_per_atom, e_mod_per_atom, bins: list[str] | None = None) -> dict:
    """Energy RMSE (meV/atom) after removing the least-squares per-element energy shift μ_s (eV/atom):
    model energy − reference energy ≈ Σ_s n_s μ_s over the frames given (one composition: the mean
    offset per atom). Fitted on the same frames, so slightly optimistic (one parameter per species).

    Returns ``rmse_energy_shifted_meV_per_atom``, ``energy_shift_meV_per_atom`` (mean of the fitted
    shift per atom over the frames) and, with ``bins`` (a label per frame), the shifted RMSE per bin.
    """
    species = sorted({s for a in frames for s in a.get_chemical_symbols()})
    x = np.array([[a.get_chemical_symbols().count(s) / len(a) for s in species] for a in frames])
    d = np.asarray(e_mod_per_atom, dtype=float) - np.asarray(e_ref_per_atom, dtype=float)
    mu, *_ = np.linalg.lstsq(x, d, rcond=None)
    shift = x @ mu
    res = d - shift
    out = {"rmse_energy_shifted_meV_per_atom": 1000.0 * float(np.sqrt(np.mean(res ** 2))),
           "energy_shift_meV_per_atom": 1000.0 * float(np.mean(shift))}
    if bins is not None:
        labels = np.asarray(bins)
        out["bins"] = {lab: 1000.0 * float(np.sqrt(np.mean(res[labels == lab] ** 2))) for lab in sorted(set(bins))}
    return out
