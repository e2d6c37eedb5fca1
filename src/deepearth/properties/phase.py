"""Phase identity of an MD run: crystal, liquid or superionic, from per-species diffusion and
per-sublattice order, with the evidence.

Per species (sublattice):

* **mobile**: its self-diffusion coefficient (:func:`deepearth.properties.diffusion_coefficient`,
  GLS on the diffusive regime) is diffusive and D > ``D_threshold`` (1e-9 m²/s: the superionic
  criterion of the deep-Earth literature, e.g. the hydrogen of superionic FeH_x and ice; liquid metals
  and silicate melts near melting have 1e-9 to 1e-8 m²/s, crystals ≲ 1e-12);
* **ordered**: the mean Lechner–Dellago q̄6 of the sublattice on itself (neighbours of the same
  species within the first minimum of their partial g(r)) reaches ``q6_threshold`` (0.25). Why 0.25:
  the q̄6 of crystals near melting is 0.3–0.5 (fcc/hcp ≈ 0.4–0.5, bcc ≈ 0.35), of liquids 0.1–0.2
  (Lechner & Dellago, J. Chem. Phys. 129, 114707 (2008), Fig. 3); the equal-error point between
  crystal and liquid atoms of Mishin's Cu at its melting point measured by
  :mod:`deepearth.pipeline.melting` is 0.22–0.26. A species with fewer than ``MIN_SUBLATTICE`` atoms
  (a solute) is judged by its diffusion only.

Phase: every sublattice immobile and ordered → ``crystal``; every one mobile and disordered →
``liquid``; at least one mobile while another stays immobile and ordered → ``superionic`` (Hull,
Rep. Prog. Phys. 67, 1233 (2004): one sublattice diffusing through the crystalline other); immobile
and disordered everywhere → ``amorphous``; anything else → ``undetermined`` (the evidence says why).
Units: m²/s, K, GPa.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from deepearth.properties.diffusion import diffusion_coefficient
from deepearth.properties.structure import steinhardt
from deepearth.properties.trajectory import Trajectory

__all__ = ["D_THRESHOLD", "MIN_SUBLATTICE", "PhaseResult", "Q6_THRESHOLD", "SpeciesState", "identify_phase"]

#: Diffusing above this (m²/s).
D_THRESHOLD = 1e-9
#: Ordered sublattice at or above this mean q̄6.
Q6_THRESHOLD = 0.25
#: Fewer atoms of a species than this: no sublattice order parameter.
MIN_SUBLATTICE = 16
#: Frames used for the order parameter (evenly spaced over the run).
ORDER_FRAMES = 20


@dataclass
class SpeciesState:
    """One species: diffusion (D ± stderr, whether a diffusive regime was found, the 2σ bound when
    not), sublattice order (q̄6 mean ± scatter of frame means, None for a solute) and the verdicts."""

    species: str
    n_atoms: int
    D_m2_per_s: float
    D_stderr_m2_per_s: float
    diffusive: bool
    D_upper_m2_per_s: float | None
    mobile: bool
    q6_mean: float | None
    q6_stderr: float | None
    ordered: bool | None
    neighbours: str


@dataclass
class PhaseResult:
    """``phase`` (crystal | liquid | superionic | amorphous | undetermined), per-species states and
    the evidence in words."""

    phase: str
    species: list[SpeciesState]
    evidence: list[str]
    D_threshold_m2_per_s: float
    q6_threshold: float
    T_K: float | None = None
    P_GPa: float | None = None
    source: str = ""
    units: dict = field(default_factory=lambda: {"D": "m^2/s", "q6": "1"})

    def to_dict(self) -> dict:
        """JSON-safe dict."""
        return asdict(self)


def _order(traj: Trajectory, species: str) -> tuple[float, float, str]:
    frames = np.unique(np.linspace(0, traj.n_frames - 1, min(ORDER_FRAMES, traj.n_frames)).astype(int))
    pos, cells = traj.positions_A[frames], traj.cells_A[frames]
    try:
        res = steinhardt(pos, cells, traj.symbols, l=6, average=True, species=species)
    except ValueError as exc:
        if "no first minimum" not in str(exc):
            raise
        res = steinhardt(pos, cells, traj.symbols, l=6, average=True, species=species, num_neighbors=12)
    means = res.frame_means
    err = float(means.std(ddof=1) / np.sqrt(len(means))) if len(means) > 1 else 0.0
    return float(means.mean()), err, res.neighbour_rule


def identify_phase(traj: Trajectory | Sequence[Trajectory], *, D_threshold: float = D_THRESHOLD,
                   q6_threshold: float = Q6_THRESHOLD, T_K: float | None = None, P_GPa: float | None = None,
                   min_fit_start_ps: float = 0.1) -> PhaseResult:
    """Crystal, liquid or superionic (module docstring) from an unwrapped trajectory with cells and
    chemical symbols (``read_trajectory``); several replicas share the diffusion estimate, the order
    parameter is read on the first. At least 10 frames."""
    replicas = [traj] if isinstance(traj, Trajectory) else list(traj)
    if not replicas or not all(isinstance(r, Trajectory) for r in replicas):
        raise ValueError("traj must be a Trajectory (read_trajectory) or a list of them")
    first = replicas[0]
    if not np.all(np.abs(np.linalg.det(first.cells_A)) > 1e-6):
        raise ValueError(f"{first.source or 'trajectory'}: frames without a periodic cell; the order parameter "
                         "needs one")
    states, evidence = [], []
    for sp in sorted(set(first.symbols)):
        d = diffusion_coefficient(replicas, species=sp, min_fit_start_ps=min_fit_start_ps, T_K=T_K, P_GPa=P_GPa)
        n = int(np.sum(np.array(first.symbols) == sp))
        mobile = bool(d.diffusive and d.D_m2_per_s > D_threshold)
        if n >= MIN_SUBLATTICE:
            q, qe, rule = _order(first, sp)
            ordered = bool(q >= q6_threshold)
        else:
            q = qe = ordered = None
            rule = f"fewer than {MIN_SUBLATTICE} atoms: no sublattice order parameter"
        states.append(SpeciesState(sp, n, d.D_m2_per_s, d.D_stderr_m2_per_s, d.diffusive, d.D_upper_m2_per_s,
                                   mobile, q, qe, ordered, rule))
        d_text = (f"D = {d.D_m2_per_s:.3g} ± {d.D_stderr_m2_per_s:.2g} m²/s" if d.diffusive
                  else f"no diffusive regime, D < {d.D_upper_m2_per_s:.2g} m²/s")
        o_text = ("" if q is None else
                  f"; sublattice q̄6 = {q:.3f} ± {qe:.3f} {'≥' if ordered else '<'} {q6_threshold:g}: "
                  f"{'ordered' if ordered else 'disordered'}")
        evidence.append(f"{sp} ({n} atoms): {d_text} ({'mobile' if mobile else 'immobile'}, threshold "
                        f"{D_threshold:g}){o_text}")
    judged = [s for s in states if s.ordered is not None]
    mobile = [s for s in states if s.mobile]
    crystalline = [s for s in judged if s.ordered and not s.mobile]
    if not judged:
        phase = "liquid" if len(mobile) == len(states) else "crystal" if not mobile else "undetermined"
        evidence.append("no species has enough atoms for a sublattice order parameter: judged by diffusion only")
    elif not mobile and len(crystalline) == len(judged):
        phase = "crystal"
    elif len(mobile) == len(states) and not any(s.ordered for s in judged):
        phase = "liquid"
    elif mobile and crystalline:
        phase = "superionic"
        evidence.append(f"{', '.join(s.species for s in mobile)} diffus{'es' if len(mobile) == 1 else 'e'} through "
                        f"the crystalline {', '.join(s.species for s in crystalline)} sublattice")
    elif not mobile and not any(s.ordered for s in judged):
        phase = "amorphous"
    else:
        phase = "undetermined"
        evidence.append("mobility and order disagree (a mobile ordered sublattice, or an immobile sublattice that "
                        "is partly ordered): run longer or check the thresholds")
    return PhaseResult(phase, states, evidence, float(D_threshold), float(q6_threshold), T_K, P_GPa, first.source)
