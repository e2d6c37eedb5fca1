"""Partitioning of a solute between coexisting solid and liquid: D = c_solid / c_liquid.

Atoms are classified solid or liquid in every frame (:func:`deepearth.properties.melting.classify_frames`,
Lechner–Dellago q̄6 — the solute by its own environment). The concentration in each phase is a
ratio of atom counts summed over frames,

    c_phase = Σ_t n_solute,phase(t) / Σ_t n_basis,phase(t),

with ``basis`` the species the solute substitutes for, solute included (default: every cation, i.e.
every species but the anions O, S, F, Cl, Br, I, N, Se, Te; so for W in ferropericlase c = W/(Mg + Fe
+ W), a cation fraction; give ``basis`` = all species for an atomic fraction). D = c_solid /
c_liquid (Nernst partition coefficient; e.g. Peng, Yoshino & Deng 2025 for W between ferropericlase
and melt). Errors: block jackknife over ``n_blocks`` blocks of consecutive frames (Efron & Stein,
Ann. Stat. 9, 586 (1981); blocks so that correlated frames stay together) for c_solid, c_liquid and D
— the jackknife handles the ratio and the anticorrelation of the two phases' counts.
Units: concentrations are fractions (1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from deepearth.properties.checks import require_at_least
from deepearth.properties.melting import classify_frames
from deepearth.properties.structure import as_frames

__all__ = ["ANIONS", "PartitionResult", "partition_coefficient", "partitioning"]

#: Species never counted as cations in the default basis.
ANIONS = ("O", "S", "F", "Cl", "Br", "I", "N", "Se", "Te")


@dataclass
class PartitionResult:
    """c_solid, c_liquid and D = c_solid / c_liquid with block-jackknife standard errors; the mean
    numbers of solute and basis atoms per frame in each phase; the basis in words."""

    solute: str
    basis: list[str]
    concentration: str
    c_solid: float
    c_solid_stderr: float
    c_liquid: float
    c_liquid_stderr: float
    D: float
    D_stderr: float
    n_frames: int
    n_blocks: int
    solute_in_solid_per_frame: float
    solute_in_liquid_per_frame: float
    basis_in_solid_per_frame: float
    basis_in_liquid_per_frame: float
    classification: str = ""
    note: str = ""
    method: str = "ratio of summed counts; block jackknife errors (Efron & Stein 1981)"

    @property
    def value(self) -> float:
        """D (1)."""
        return self.D

    @property
    def stderr(self) -> float:
        """Standard error of D."""
        return self.D_stderr

    def to_dict(self) -> dict:
        """JSON-safe dict."""
        return asdict(self)


def _jackknife(num: np.ndarray, den: np.ndarray) -> tuple[float, float]:
    """Ratio Σnum/Σden over blocks and its leave-one-block-out jackknife error."""
    total = num.sum() / den.sum()
    b = len(num)
    loo = (num.sum() - num) / (den.sum() - den)
    return float(total), float(np.sqrt((b - 1) / b * np.sum((loo - loo.mean()) ** 2)))


def partition_coefficient(solid: np.ndarray, symbols: Sequence[str], solute: str,
                          basis: Sequence[str] | None = None, n_blocks: int = 5, classification: str = ""
                          ) -> PartitionResult:
    """D = c_solid / c_liquid of ``solute`` from per-frame solid labels ``solid`` (F, N) bool (True =
    solid) of atoms with chemical ``symbols`` (module docstring for the concentration and the errors).
    ``basis``: the species the concentration is taken over (default: every cation, solute included).
    """
    lab = np.asarray(solid)
    sym = np.array([str(s) for s in symbols])
    if lab.ndim != 2 or lab.shape[1] != len(sym):
        raise ValueError(f"solid must be (frames, {len(sym)}) labels for the {len(sym)} atoms, got shape {lab.shape}")
    lab = lab.astype(bool)
    present = sorted(set(sym))
    if solute not in present:
        raise ValueError(f"solute {solute!r}: no such atoms (present: {present})")
    basis = [s for s in present if s not in ANIONS] if basis is None else [str(b) for b in basis]
    missing = [b for b in basis if b not in present]
    if missing:
        raise ValueError(f"basis: species {missing} not in the frames (present: {present})")
    if solute not in basis:
        basis = [solute, *basis]
    if isinstance(n_blocks, bool) or not isinstance(n_blocks, (int, np.integer)) or n_blocks < 3:
        raise ValueError(f"n_blocks must be an integer >= 3, got {n_blocks!r}")
    require_at_least("solid", lab.shape[0], int(n_blocks), "frames",
                     f"too few frames for an error bar: the jackknife needs {n_blocks} blocks of at least one frame")
    is_sol = sym == solute
    in_basis = np.isin(sym, basis)
    counts = {
        "sol_s": (lab & is_sol).sum(axis=1), "sol_l": (~lab & is_sol).sum(axis=1),
        "bas_s": (lab & in_basis).sum(axis=1), "bas_l": (~lab & in_basis).sum(axis=1),
    }
    if counts["bas_s"].sum() == 0 or counts["bas_l"].sum() == 0:
        which = "solid" if counts["bas_s"].sum() == 0 else "liquid"
        raise ValueError(f"solid: no {'/'.join(basis)} atom is {which} in any frame; there is no coexistence to "
                         "partition between")
    if counts["sol_l"].sum() == 0:
        raise ValueError(f"solute {solute}: no {solute} atom is liquid in any frame, so D = c_solid/c_liquid has no "
                         "finite estimate; run longer or with more solute")
    blocks = np.array_split(np.arange(lab.shape[0]), int(n_blocks))
    b = {k: np.array([v[i].sum() for i in blocks], dtype=float) for k, v in counts.items()}
    if np.any(b["bas_s"] == b["bas_s"].sum()) or np.any(b["sol_l"] == b["sol_l"].sum()):
        # leaving out the only block with solid atoms (or liquid solute) divides by zero
        raise ValueError(f"solid: the {'solid phase' if np.any(b['bas_s'] == b['bas_s'].sum()) else 'liquid solute'} "
                         "appears in one block of frames only; too few frames for an error bar")
    c_s, e_s = _jackknife(b["sol_s"], b["bas_s"])
    c_l, e_l = _jackknife(b["sol_l"], b["bas_l"])
    n = len(blocks)
    loo = ((b["sol_s"].sum() - b["sol_s"]) / (b["bas_s"].sum() - b["bas_s"])) / (
        (b["sol_l"].sum() - b["sol_l"]) / (b["bas_l"].sum() - b["bas_l"]))
    d = c_s / c_l
    d_err = float(np.sqrt((n - 1) / n * np.sum((loo - loo.mean()) ** 2)))
    note = ""
    if counts["sol_s"].sum() == 0:
        note = (f"no {solute} atom was solid in any frame: D = 0 here, below about "
                f"{1.0 / counts['bas_s'].sum() / c_l:.2g} (one solute atom in one frame)")
    f = lab.shape[0]
    return PartitionResult(solute, list(basis), f"{solute}/({' + '.join(basis)}) atoms in each phase", c_s, e_s, c_l,
                           e_l, d, d_err, f, n, float(counts["sol_s"].sum() / f), float(counts["sol_l"].sum() / f),
                           float(counts["bas_s"].sum() / f), float(counts["bas_l"].sum() / f), classification, note)


def partitioning(data, cells=None, symbols: Sequence[str] | None = None, *, solute: str,
                 basis: Sequence[str] | None = None, threshold: float | None = None, labels: np.ndarray | None = None,
                 r_max: float | None = None, n_blocks: int = 5) -> PartitionResult:
    """Classify the atoms of a coexistence run (a Trajectory or positions (F, N, 3) Å with ``cells``
    and ``symbols``) by q̄6 (:func:`~deepearth.properties.melting.classify_frames`: ``threshold``,
    or the equal-error point against ``labels``, or Otsu) and return :func:`partition_coefficient`."""
    pos, cells, symbols = as_frames(data, cells, symbols)
    if symbols is None:
        raise ValueError("symbols: the chemical symbol of every atom is needed to count a solute")
    c = classify_frames(pos, cells, symbols, threshold=threshold, labels=labels, r_max=r_max)
    return partition_coefficient(c.solid, symbols, solute, basis, n_blocks,
                                 classification=f"{c.order_parameter}; threshold {c.threshold:.3f} ({c.rule})")
