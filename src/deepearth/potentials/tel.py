"""Electronic temperature as a model input ("Tel-DP", Wan & Li 2026, §2.3; issue #4 item 2).

Labels computed with Fermi–Dirac smearing at k_B·T_el are the Mermin free energy
``F = E − T_el S_el`` and its forces (tblite returns ``energy`` = ``free_energy`` = F: its forces are
−∂F/∂R, checked by finite differences on MgO to 1e-5 eV/Å at 300–10000 K). The same configuration
has a different F at every T_el; a model that does not know T_el can only fit the average.
Two remedies: one model per T_el ("multi-model"), or T_el as a frame parameter of one model
(DeePMD ``numb_fparam = 1`` with ``fparam.npy``; DeePMD standardises the frame parameter with the
training-data mean and standard deviation, so T_el is given in K unscaled).

:class:`TelDP` is the ASE calculator of such a T_el-aware model, T_el fixed or following the ionic
kinetic temperature. The demonstration (T_el-blind vs T_el-aware vs per-T_el models on GFN1-xTB MgO)
is ``benchmarks/tel_demo.py``.
"""
from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes


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
        from deepearth.parallel import set_single_thread_env

        set_single_thread_env()
        from deepmd.calculator import DP

        from deepearth.potentials.graph_trust import frozen_graph

        self.model = str(frozen_graph(model))  # a .pb only: other formats are unpickled on load
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


__all__ = ["TelDP"]
