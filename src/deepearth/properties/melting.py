"""Melting by two-phase coexistence: atoms classified solid or liquid, the solid fraction over time at
each temperature, and the melting temperature bracketed at fixed pressure with an error budget.

Method (Morris, Wang, Ho & Chan, Phys. Rev. B 49, 3109 (1994); Morris & Song, J. Chem. Phys. 116,
9352 (2002)): a cell half crystal, half liquid, run at fixed (T, P) with the barostat on the axis
normal to the interfaces. Above T_m the interfaces move into the crystal (the solid fraction falls),
below it into the liquid. T_m lies between the highest T at which the crystal grows and the lowest at
which it melts.

Per atom (:func:`solid_fraction_series`): the Lechner–Dellago averaged q̄6 (J. Chem. Phys. 129,
114707 (2008); :func:`deepearth.properties.structure.steinhardt` through freud; neighbours within
the first minimum of g(r)). Averaging the q_6m over the first shell separates crystal and liquid far
better than q6 itself (Lechner & Dellago, Fig. 3: the q6 distributions of fcc and the LJ liquid
overlap, the q̄6 ones barely do). The threshold is not a universal number (q̄6 of a crystal near its
melting point depends on its structure and temperature: fcc ≈ 0.4–0.5, bcc ≈ 0.3–0.4, a liquid
0.1–0.2): it is set on the run itself — the equal-error point between the q̄6 of the atoms known to
be solid and liquid in the first frame (``labels``, e.g. the halves as built, or the lattice-match
order of :mod:`deepearth.structures.coexistence`), where the fraction of solid atoms called liquid
equals the fraction of liquid atoms called solid (:func:`equal_error_threshold`), or, without labels,
Otsu's threshold of the first frame's bimodal q̄6 histogram (Otsu, IEEE Trans. Syst. Man Cybern. 9,
62 (1979)). The misclassification rate at that point is reported.

Per run: the series is cut into ``n_blocks`` blocks of consecutive frames; the change of the solid
fraction is (last block mean − first block mean) with a standard error from the blocks' scatter
corrected for correlation between frames (statistical inefficiency of the series about its block
means: Chodera et al., J. Chem. Theory Comput. 3, 26 (2007), eq. 7). Verdict: ``melts`` or
``crystallises`` when the change exceeds both 2σ and ``MIN_CHANGE`` (2 % of the atoms), else
``coexists`` (no motion resolved). Interface velocity = change / Δt × L/2 (two interfaces, L the cell
length along the normal). Replicas at one T are combined: when every replica has the same verdict
(melts, or crystallises) that is the verdict; otherwise the mean change against an error that is the
larger of the propagated one and the replicas' scatter / √n.

Bracket (:func:`melting_bracket`): per cell size and committee member, T_lo = highest T that
crystallises, T_hi = lowest T that melts, T_m = (T_lo + T_hi)/2 with σ_bracket = (T_hi − T_lo)/√12
(a uniform distribution over the bracket). Error budget of the reported T_m (the largest cell, the
mean over members): σ² = σ_bracket² + σ_committee² + Δ_size², σ_committee the standard deviation of
the members' T_m (the committee's spread propagated by running every member), Δ_size the difference
between the two largest sizes (a systematic, added in quadrature, not divided by anything). Every
term that could not be assessed is named in ``error_budget``. No T crystallises (or none melts): no
bracket, and one line saying so and which T to try next.
Units: K, ps, Å, GPa.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from deepearth.properties.checks import require_at_least, require_finite, require_positive
from deepearth.properties.structure import as_frames, steinhardt, widths
from deepearth.properties.trajectory import Trajectory

__all__ = ["Classification", "MIN_BLOCKS", "MIN_CHANGE", "MeltingBracket", "SolidFractionSeries",
           "TemperatureVerdict", "classify_frames", "equal_error_threshold", "fraction_series", "melting_bracket",
           "otsu_threshold", "solid_fraction_series", "statistical_inefficiency"]

#: A change of the solid fraction smaller than this is no verdict, however small its error bar.
MIN_CHANGE = 0.02
#: Fewest blocks (of at least two frames) for an error bar.
MIN_BLOCKS = 4
#: Verdicts need the change beyond this many standard errors.
N_SIGMA = 2.0
#: A final solid fraction below this (or above 1 − this), or within twice the misclassification rate of
#: it, is a fully melted (frozen) cell.
FULL = 0.05


def equal_error_threshold(q_solid: np.ndarray, q_liquid: np.ndarray) -> tuple[float, float]:
    """The threshold t where the fraction of ``q_solid`` below t equals the fraction of ``q_liquid``
    at or above t, and that misclassification rate (Fawcett, Pattern Recogn. Lett. 27, 861 (2006):
    the equal-error point of the ROC curve)."""
    s = np.sort(require_finite("q_solid", q_solid))
    q_l = np.sort(require_finite("q_liquid", q_liquid))
    require_at_least("q_solid", len(s), 1, "values", "a threshold needs both phases")
    require_at_least("q_liquid", len(q_l), 1, "values", "a threshold needs both phases")
    cand = np.unique(np.r_[s, q_l, 0.5 * (s.mean() + q_l.mean())])
    miss_s = np.searchsorted(s, cand, side="left") / len(s)  # solid called liquid (q < t)
    miss_l = 1.0 - np.searchsorted(q_l, cand, side="left") / len(q_l)  # liquid called solid (q >= t)
    k = int(np.argmin(np.abs(miss_s - miss_l) + 1e-9 * np.abs(cand - 0.5 * (s.mean() + q_l.mean()))))
    return float(cand[k]), float(0.5 * (miss_s[k] + miss_l[k]))


def otsu_threshold(values: np.ndarray, bins: int = 200) -> float:
    """Otsu's threshold of a bimodal sample: the cut maximising the between-class variance
    (Otsu, IEEE Trans. Syst. Man Cybern. 9, 62 (1979), eq. 18)."""
    v = require_finite("values", values).ravel()
    require_at_least("values", len(v), 2, "values", "a threshold needs a sample")
    hist, edges = np.histogram(v, bins=bins)
    p = hist / hist.sum()
    centres = 0.5 * (edges[1:] + edges[:-1])
    w0 = np.cumsum(p)
    mu = np.cumsum(p * centres)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu[-1] * w0 - mu) ** 2 / (w0 * (1 - w0))
    return float(edges[1:][int(np.nanargmax(between[:-1]))])


def statistical_inefficiency(x: np.ndarray) -> float:
    """g = 1 + 2 Σ_k (1 − k/N) ρ_k, summed until the autocorrelation ρ_k first drops to ≤ 0
    (Chodera, Swope, Pitera, Seok & Dill, J. Chem. Theory Comput. 3, 26 (2007), eq. 7); ≥ 1."""
    x = np.asarray(x, dtype=float) - np.mean(x)
    n, var = len(x), float(np.dot(x, x) / len(x))
    if n < 3 or var <= 0:
        return 1.0
    g = 1.0
    for k in range(1, n - 1):
        rho = float(np.dot(x[:-k], x[k:]) / ((n - k) * var))
        if rho <= 0:
            break
        g += 2.0 * (1 - k / n) * rho
    return max(1.0, g)


@dataclass
class SolidFractionSeries:
    """The solid fraction of one coexistence run over time, and what it says (module docstring).

    ``change`` = last − first block mean of ``solid_fraction`` (± ``change_stderr``; from the first
    frame instead when the cell melted or froze completely within the first block: ``verdict_basis``);
    ``interface_velocity_A_per_ps`` > 0 when the crystal grows (interfaces move into the liquid);
    ``verdict`` ``crystallises`` | ``melts`` | ``coexists``; ``final_state`` ``solid`` | ``liquid`` |
    ``two-phase``. ``replica`` and ``member`` (committee member / model label) tag the run; its cell
    size is ``n_atoms``.
    """

    T_K: float
    times_ps: list[float]
    solid_fraction: list[float]
    n_atoms: int
    threshold: float
    threshold_rule: str
    misclassified_fraction: float | None
    order_parameter: str
    axis: int
    axis_length_A: float
    n_blocks: int
    statistical_inefficiency: float
    f_start: float
    f_end: float
    change: float
    change_stderr: float
    interface_velocity_A_per_ps: float
    interface_velocity_stderr_A_per_ps: float
    verdict: str
    final_state: str
    direction: str
    verdict_basis: str = "first and last blocks"
    replica: int = 0
    member: str = ""
    P_GPa: float | None = None
    units: dict = field(default_factory=lambda: {"T": "K", "time": "ps", "velocity": "Å/ps", "fraction": "1"})

    def to_dict(self, curves: bool = True) -> dict:
        """JSON-safe dict (without the time series unless ``curves``)."""
        d = asdict(self)
        if not curves:
            d.pop("times_ps")
            d.pop("solid_fraction")
        return d


def _verdict(change: float, err: float, min_change: float) -> str:
    if change > max(N_SIGMA * err, min_change):
        return "crystallises"
    if change < -max(N_SIGMA * err, min_change):
        return "melts"
    return "coexists"


_DIRECTION = {"crystallises": "interfaces move into the liquid (the crystal grows)",
              "melts": "interfaces move into the crystal (it melts)",
              "coexists": "no interface motion resolved"}


@dataclass
class Classification:
    """Per-frame solid (True) / liquid labels ``solid`` (F, N_selected) of the atoms ``atoms``, the q̄6
    values behind them, the threshold and how it was set (module docstring)."""

    solid: np.ndarray
    q: np.ndarray
    atoms: np.ndarray
    threshold: float
    rule: str
    misclassified: float | None
    order_parameter: str


def classify_frames(data, cells=None, symbols: Sequence[str] | None = None, *, threshold: float | None = None,
                    labels: np.ndarray | None = None, r_max: float | None = None, num_neighbors: int | None = None,
                    species: str | None = None) -> Classification:
    """Every atom of every frame solid or liquid by its Lechner–Dellago q̄6 (J. Chem. Phys. 129, 114707
    (2008)) against a threshold: ``threshold`` if given, else the equal-error point against
    ``labels`` (bool per atom, True = solid, in the first frame), else Otsu's threshold of the first
    frame (module docstring). ``species``: one sublattice only."""
    pos, cells, symbols = as_frames(data, cells, symbols)
    order = steinhardt(pos, cells, symbols, l=6, average=True, r_max=r_max, num_neighbors=num_neighbors,
                       species=species)
    q = order.values
    misclassified = None
    if threshold is not None:
        threshold, rule = float(threshold), "given"
    elif labels is not None:
        lab = np.asarray(labels, dtype=bool)
        if lab.shape != (pos.shape[1],):
            raise ValueError(f"labels must be one bool per atom ({pos.shape[1]}), got shape {lab.shape}")
        lab = lab[order.atoms]
        if lab.all() or not lab.any():
            raise ValueError("labels: need atoms of both phases in the first frame (True = solid)")
        threshold, misclassified = equal_error_threshold(q[0][lab], q[0][~lab])
        rule = (f"equal-error point of the first frame's q̄6 of the {int(lab.sum())} atoms labelled solid and "
                f"{int((~lab).sum())} labelled liquid ({misclassified:.1%} misclassified)")
    else:
        threshold = otsu_threshold(q[0])
        rule = "Otsu's threshold of the first frame's q̄6 histogram"
    return Classification(q >= threshold, q, order.atoms, float(threshold), rule, misclassified,
                          f"Lechner–Dellago q̄6 (freud), neighbours {order.neighbour_rule}"
                          + (f", {species} sublattice" if species else ""))


def solid_fraction_series(data, cells=None, T_K: float | None = None, *, symbols: Sequence[str] | None = None,
                          times_ps: Sequence[float] | None = None, dt_ps: float | None = None,
                          threshold: float | None = None, labels: np.ndarray | None = None, axis: int = 2,
                          r_max: float | None = None, num_neighbors: int | None = None, species: str | None = None,
                          n_blocks: int = 5, min_change: float = MIN_CHANGE, replica: int = 0, member: str = "",
                          P_GPa: float | None = None) -> SolidFractionSeries:
    """Classify every atom of every frame of a coexistence run at ``T_K`` as solid or liquid by its
    Lechner–Dellago q̄6 and follow the solid fraction (module docstring for the method and the
    threshold).

    ``data``: a Trajectory or positions (F, N, 3) Å with ``cells`` (F, 3, 3); frame times from
    ``times_ps`` or ``dt_ps`` (a Trajectory's own ``dt_ps`` otherwise). ``threshold`` fixes the q̄6
    cut; else ``labels`` (bool (N,), True = solid, for the first frame) give the equal-error point;
    else Otsu's threshold of the first frame. ``species`` classifies one sublattice only (its atoms
    are the ones counted); ``axis`` is the cell vector normal to the interfaces. At least
    ``MIN_BLOCKS`` × 2 frames are needed for an error bar.
    """
    T_K = require_positive("T_K", T_K, "K")
    if isinstance(axis, bool) or axis not in (0, 1, 2):
        raise ValueError(f"axis must be 0, 1 or 2, got {axis!r}")
    if isinstance(data, Trajectory) and dt_ps is None and times_ps is None:
        dt_ps = data.dt_ps
    pos, cells, symbols = as_frames(data, cells, symbols)
    n_frames = pos.shape[0]
    if isinstance(n_blocks, bool) or not isinstance(n_blocks, (int, np.integer)) or n_blocks < MIN_BLOCKS:
        raise ValueError(f"n_blocks must be an integer >= {MIN_BLOCKS}, got {n_blocks!r}")
    if n_frames < 2 * n_blocks:  # before any q6 is computed
        raise ValueError(f"too few frames for an error bar at {T_K:g} K: {n_frames} frames, at least "
                         f"{2 * n_blocks} needed ({n_blocks} blocks of 2); save frames more often or run longer")
    if times_ps is not None:
        t = require_finite("times_ps", times_ps)
        if t.shape != (n_frames,):
            raise ValueError(f"times_ps: {t.size} times for {n_frames} frames")
    elif dt_ps is not None:
        t = np.arange(n_frames) * require_positive("dt_ps", dt_ps, "ps")
    else:
        raise ValueError("give times_ps or dt_ps (the time between frames, ps)")
    c = classify_frames(pos, cells, symbols, threshold=threshold, labels=labels, r_max=r_max,
                        num_neighbors=num_neighbors, species=species)
    length = float(np.mean([widths(c)[axis] for c in cells]))
    return fraction_series(T_K, t, c.solid.mean(axis=1), c.solid.shape[1], axis_length_A=length, axis=axis,
                           n_blocks=n_blocks, min_change=min_change, threshold=c.threshold, threshold_rule=c.rule,
                           misclassified_fraction=c.misclassified, order_parameter=c.order_parameter,
                           replica=replica, member=member, P_GPa=P_GPa)


def fraction_series(T_K: float, times_ps: Sequence[float], solid_fraction: Sequence[float], n_atoms: int, *,
                    axis_length_A: float, axis: int = 2, n_blocks: int = 5, min_change: float = MIN_CHANGE,
                    threshold: float = float("nan"), threshold_rule: str = "",
                    misclassified_fraction: float | None = None,
                    order_parameter: str = "", replica: int = 0, member: str = "", P_GPa: float | None = None
                    ) -> SolidFractionSeries:
    """The statistics of a solid-fraction time series (``solid_fraction`` per frame at ``times_ps``,
    of ``n_atoms`` classified atoms in a cell ``axis_length_A`` Å long across the interfaces): block
    means, the change with its correlation-corrected error, the interface velocity and the verdict
    (module docstring). :func:`solid_fraction_series` classifies the atoms and calls this."""
    T_K = require_positive("T_K", T_K, "K")
    f = require_finite("solid_fraction", solid_fraction)
    t = require_finite("times_ps", times_ps)
    n_frames = len(f)
    if isinstance(n_blocks, bool) or not isinstance(n_blocks, (int, np.integer)) or n_blocks < MIN_BLOCKS:
        raise ValueError(f"n_blocks must be an integer >= {MIN_BLOCKS}, got {n_blocks!r}")
    if n_frames < 2 * n_blocks:
        raise ValueError(f"too few frames for an error bar at {T_K:g} K: {n_frames} frames, at least "
                         f"{2 * n_blocks} needed ({n_blocks} blocks of 2); save frames more often or run longer")
    if t.shape != f.shape or np.any(np.diff(t) <= 0):
        raise ValueError(f"times_ps must be {n_frames} increasing times (ps), got shape {t.shape}")
    if np.any((f < 0) | (f > 1)):
        raise ValueError("solid_fraction: values must lie in [0, 1]")
    length = require_positive("axis_length_A", axis_length_A, "Å")
    blocks = np.array_split(np.arange(n_frames), n_blocks)
    means = np.array([f[b].mean() for b in blocks])
    g = statistical_inefficiency(np.concatenate([f[b] - f[b].mean() for b in blocks]))
    floor = 1.0 / max(int(n_atoms), 1)  # one atom
    errs = [max(float(np.std(f[b], ddof=1)) * np.sqrt(g / len(b)), floor) for b in (blocks[0], blocks[-1])]
    change, change_err = float(means[-1] - means[0]), float(np.hypot(*errs))
    f_start, dt = float(means[0]), float(t[blocks[-1]].mean() - t[blocks[0]].mean())
    verdict = _verdict(change, change_err, float(min_change))
    full = max(FULL, 2 * (misclassified_fraction or 0.0))
    final = "liquid" if means[-1] < full else "solid" if means[-1] > 1 - full else "two-phase"
    basis = "first and last blocks"
    if verdict == "coexists" and final != "two-phase":
        # it melted (froze) completely within the first block: measure from the first frame, whose error is
        # the binomial scatter of one frame's fraction
        f_start = float(f[0])
        change = float(means[-1] - f_start)
        change_err = float(np.hypot(errs[-1], max(np.sqrt(f_start * (1 - f_start) / max(int(n_atoms), 1)), floor)))
        dt = float(t[blocks[-1]].mean() - t[0])
        verdict = _verdict(change, change_err, float(min_change))
        basis = f"first frame and last block (fully {final} within the first block)"
    return SolidFractionSeries(
        T_K=T_K, times_ps=t.tolist(), solid_fraction=f.tolist(), n_atoms=int(n_atoms), threshold=float(threshold),
        threshold_rule=threshold_rule, misclassified_fraction=misclassified_fraction, order_parameter=order_parameter,
        axis=int(axis), axis_length_A=length, n_blocks=int(n_blocks), statistical_inefficiency=g,
        f_start=f_start, f_end=float(means[-1]), change=change, change_stderr=change_err, verdict_basis=basis,
        interface_velocity_A_per_ps=change / dt * length / 2.0,
        interface_velocity_stderr_A_per_ps=change_err / dt * length / 2.0, verdict=verdict, final_state=final,
        direction=_DIRECTION[verdict], replica=int(replica), member=str(member),
        P_GPa=None if P_GPa is None else float(P_GPa))


@dataclass
class TemperatureVerdict:
    """The replicas at one T (one cell size, one member) combined."""

    T_K: float
    n_atoms: int
    member: str
    n_replicas: int
    change: float
    change_stderr: float
    interface_velocity_A_per_ps: float
    verdict: str
    replica_verdicts: list[str]
    final_states: list[str]


def _combine(runs: list[SolidFractionSeries], min_change: float) -> TemperatureVerdict:
    ch = np.array([r.change for r in runs])
    err = np.array([r.change_stderr for r in runs])
    mean = float(ch.mean())
    sigma = float(np.sqrt(np.sum(err**2)) / len(ch))
    if len(ch) >= 2:
        sigma = max(sigma, float(ch.std(ddof=1) / np.sqrt(len(ch))))
    r0 = runs[0]
    each = [r.verdict for r in runs]
    # replicas that each moved significantly the same way agree on the direction, however different their
    # speeds (one crystallised fully, one half): their scatter says nothing against the sign
    verdict = each[0] if len(set(each)) == 1 and each[0] != "coexists" else _verdict(mean, sigma, min_change)
    return TemperatureVerdict(r0.T_K, r0.n_atoms, r0.member, len(runs), mean, sigma,
                              float(np.mean([r.interface_velocity_A_per_ps for r in runs])), verdict, each,
                              [r.final_state for r in runs])


@dataclass
class MeltingBracket:
    """T_m bracketed at fixed P from coexistence runs at several T (module docstring).

    ``T_m_K`` ± ``T_m_stderr_K`` (None without a bracket); ``T_crystallises_K`` / ``T_melts_K`` the
    bracket of the reported group (largest cell; the members' extremes when several members);
    ``groups``: per (n_atoms, member) bracket; ``error_budget``: each term in K or the reason it is
    missing; ``message``: one line (with the next T to try when there is no bracket).
    """

    P_GPa: float | None
    bracketed: bool
    T_m_K: float | None
    T_m_stderr_K: float | None
    T_crystallises_K: float | None
    T_melts_K: float | None
    consistent: bool
    error_budget: dict
    groups: list[dict]
    verdicts: list[dict]
    message: str
    suggested_T_K: float | None = None
    method: str = ("two-phase coexistence, NPT along the interface normal; T_m = bracket midpoint, "
                   "sigma^2 = (width/sqrt 12)^2 + committee std^2 + size difference^2")
    units: dict = field(default_factory=lambda: {"T": "K", "P": "GPa"})

    def to_dict(self) -> dict:
        """JSON-safe dict."""
        return asdict(self)


def _step(temps: list[float]) -> float:
    d = np.diff(sorted(set(temps)))
    return float(np.median(d)) if len(d) else 0.05 * max(temps)


def _group_bracket(verdicts: list[TemperatureVerdict]) -> dict:
    temps = [v.T_K for v in verdicts]
    lo = [v.T_K for v in verdicts if v.verdict == "crystallises"]
    hi = [v.T_K for v in verdicts if v.verdict == "melts"]
    v0 = verdicts[0]
    out = {"n_atoms": v0.n_atoms, "member": v0.member, "T_K": temps, "T_crystallises_K": max(lo) if lo else None,
           "T_melts_K": min(hi) if hi else None, "T_m_K": None, "sigma_bracket_K": None, "consistent": True}
    step = _step(temps)
    if lo and hi:
        a, b = max(lo), min(hi)
        out["consistent"] = a < b
        out["T_m_K"] = 0.5 * (a + b)
        out["sigma_bracket_K"] = abs(b - a) / np.sqrt(12.0)
        if a > b:
            out["note"] = (f"inconsistent: crystallises at {a:g} K but melts at {b:g} K; the bracket is taken as "
                           "their overlap (run longer or add replicas)")
    elif not lo and not hi:
        out["note"] = ("no run moved its interfaces beyond 2σ at T = " + ", ".join(f"{t:g}" for t in temps)
                       + " K: run longer, or use a bigger spread of T")
        out["suggested_T_K"] = None
    else:
        below = not lo  # no T crystallised: T_m lies below the lowest T that melts
        moved, word, state = (hi, "melted", "liquid") if below else (lo, "crystallised", "solid")
        nxt = min(temps) - step if below else max(temps) + step
        still = [t for t in temps if t not in moved]
        if still:
            head = (f"no run {'crystallised' if below else 'melted'} ({word} at " + ", ".join(f"{t:g}" for t in moved)
                    + " K, no motion resolved at " + ", ".join(f"{t:g}" for t in still) + " K)")
        else:
            full = all(s == state for v in verdicts for s in v.final_states)
            head = (f"every run {('melted' if below else 'froze') + ' completely' if full else word} (T = "
                    + ", ".join(f"{t:g}" for t in temps) + " K)")
        bound = f"below {min(moved):g} K" if below else f"above {max(moved):g} K"
        out["note"] = f"{head}: T_m is {bound}; try T = {nxt:.0f} K"
        out["suggested_T_K"] = nxt
    return out


def melting_bracket(series: Sequence[SolidFractionSeries], P_GPa: float | None = None,
                    min_change: float = MIN_CHANGE) -> MeltingBracket:
    """Bracket T_m from coexistence runs (:func:`solid_fraction_series` results) at several T.

    Runs are grouped by cell size (``n_atoms``) and committee member (``member``); replicas at one T
    are combined. The reported T_m is that of the largest cell, averaged over members, with the
    error budget of the module docstring (bracket width, committee spread, size difference).
    Without a bracket ``bracketed`` is False and ``message`` says why and which T to try next.
    """
    series = list(series)
    if not series:
        raise ValueError("series: no coexistence runs given")
    if P_GPa is None:
        ps = [s.P_GPa for s in series if s.P_GPa is not None]
        P_GPa = float(np.mean(ps)) if ps else None
    runs: dict[tuple, list[SolidFractionSeries]] = {}
    for s in series:
        runs.setdefault((s.n_atoms, s.member, s.T_K), []).append(s)
    verdicts = [_combine(r, min_change) for _, r in sorted(runs.items())]
    groups_v: dict[tuple, list[TemperatureVerdict]] = {}
    for v in verdicts:
        groups_v.setdefault((v.n_atoms, v.member), []).append(v)
    groups = [_group_bracket(sorted(vs, key=lambda v: v.T_K)) for _, vs in sorted(groups_v.items())]
    sizes = sorted({g["n_atoms"] for g in groups})
    top = [g for g in groups if g["n_atoms"] == sizes[-1]]
    budget: dict = {}
    vds = [asdict(v) for v in verdicts]
    unbracketed = [g for g in top if g["T_m_K"] is None]
    if unbracketed:
        g = unbracketed[0]
        who = f" (member {g['member']})" if g["member"] else ""
        return MeltingBracket(P_GPa, False, None, None, g["T_crystallises_K"], g["T_melts_K"], True,
                              {"note": "no bracket"}, groups, vds, f"no melting bracket{who}: {g['note']}",
                              g.get("suggested_T_K"))
    tm = np.array([g["T_m_K"] for g in top])
    sig_b = float(np.sqrt(np.mean([g["sigma_bracket_K"] ** 2 for g in top])))
    budget["bracket_K"] = sig_b
    if len(top) >= 2:
        budget["committee_K"] = float(tm.std(ddof=1))
        budget["committee_members"] = [g["member"] for g in top]
    else:
        budget["committee_K"] = None
        budget["committee_note"] = "one model only: the committee's spread is not in the error bar"
    if len(sizes) >= 2:
        second = [g for g in groups if g["n_atoms"] == sizes[-2] and g["T_m_K"] is not None]
        if second:
            budget["size_K"] = float(abs(tm.mean() - np.mean([g["T_m_K"] for g in second])))
            budget["sizes_atoms"] = sizes[-2:]
        else:
            budget["size_K"] = None
            budget["size_note"] = f"the {sizes[-2]}-atom cells gave no bracket"
    else:
        budget["size_K"] = None
        budget["size_note"] = "one cell size only: the size dependence is not in the error bar"
    n_rep = sorted({v.n_replicas for v in verdicts})
    disagree = sum(len(set(v.replica_verdicts)) > 1 for v in verdicts)
    budget["replicas"] = (f"{'/'.join(map(str, n_rep))} replica(s) per T; replica verdicts disagree at "
                          f"{disagree} of {len(verdicts)} (T, size, member) points")
    sigma = float(np.sqrt(sig_b**2 + (budget["committee_K"] or 0.0) ** 2 + (budget["size_K"] or 0.0) ** 2))
    consistent = all(g["consistent"] for g in top)
    lo = max(g["T_crystallises_K"] for g in top)
    hi = min(g["T_melts_K"] for g in top)
    p = "" if P_GPa is None else f" at {P_GPa:g} GPa"
    msg = (f"T_m{p} = {tm.mean():.0f} ± {sigma:.0f} K (crystallises at {lo:g} K, melts at {hi:g} K; "
           f"{sizes[-1]} atoms" + (f", {len(top)} members" if len(top) > 1 else "") + ")"
           + ("" if consistent else "; verdicts inconsistent between T, see groups"))
    return MeltingBracket(P_GPa, True, float(tm.mean()), sigma, lo, hi, consistent, budget, groups, vds, msg)
