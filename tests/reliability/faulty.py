"""Labellers that misbehave in every way a reference code can (module level: they cross to spawned
worker processes by pickle). A configuration is marked for a fault by ``atoms.info["fault"]``."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT

from deepearth.reference.labeller import CalculatorLabeller, Label

PROVENANCE = {"labeller": "faulty", "method": "EMT"}


def copper(i: int, fault: str = "") -> Atoms:
    """A rattled 2×2×2 fcc copper cell (32 atoms), distinct for each ``i``."""
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
    atoms.rattle(0.02, seed=i)
    if fault:
        atoms.info["fault"] = fault
    return atoms


class FaultyLabeller:
    """EMT labels, except for configurations marked with ``info["fault"]``:

    ``raise`` (the code reports an error), ``hang`` (a Python loop that never returns), ``hang-c``
    (a hang inside compiled code: ``time.sleep`` in C, signals only at its end), ``nan`` (NaN
    forces claimed as success), ``shape`` (one atom's forces missing), ``huge`` (forces in the wrong
    units: ×10⁶), ``die`` (the process is killed: segfault), ``flaky:<dir>`` (fails on the first try
    of each configuration, then works: a counter file per configuration in ``<dir>``).
    """

    name = "faulty"
    provenance = PROVENANCE

    def label(self, atoms) -> Label:
        fault = atoms.info.get("fault", "")
        good = CalculatorLabeller(EMT, "faulty", {"method": "EMT"}).label(atoms)
        if fault == "raise":
            raise RuntimeError("SCF did not converge in 100 iterations")
        if fault == "hang":
            while True:
                sum(range(1000))
        if fault == "hang-c":
            time.sleep(3600)
        if fault == "nan":
            good.forces_eV_per_A[3, 1] = np.nan
        if fault == "shape":
            good.forces_eV_per_A = good.forces_eV_per_A[:-1]
        if fault == "huge":
            good.forces_eV_per_A = good.forces_eV_per_A * 1e6 + 1e4
        if fault == "die":
            os.kill(os.getpid(), 11)
        if fault.startswith("flaky:"):
            marker = Path(fault[6:]) / f"{hashlib.sha1(atoms.positions.tobytes()).hexdigest()}.tried"
            if not marker.exists():
                marker.write_text("1")
                raise OSError("node lost (transient)")
        return good
