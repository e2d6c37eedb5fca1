"""Liquids by melt–quench, and the check that a configuration called liquid is one.

:func:`melt_quench` melts a cell far above its melting point, quenches it to the target (T, P) with
isotropic MTK NPT, equilibrates, then runs an NVT window at the mean equilibrated volume and checks
that the result is a liquid (:func:`check_liquid`). All MD goes through the project's
:class:`~deepearth.md.engine.Engine` protocol (``engine=None`` is :class:`~deepearth.md.engine.ASEEngine`).

The liquid check (:func:`assess_liquid`, on an unwrapped trajectory) has two criteria, both needed:

- **diffusive**: the mean squared displacement (averaged over time origins, centre-of-mass drift
  removed) is fitted by a straight line over the second half of its lags (lags up to half the
  window, so every lag has at least half the frames as origins). The slope must be positive, the
  growth over the longest lag ``slope × t_max`` at least ``min_msd_growth`` (0.1) × r₁² (r₁ the
  first-shell distance, the first peak of g(r)), and the log–log slope of the MSD over the fitted
  lags at least ``min_msd_exponent`` (0.5; 1 is free diffusion, ~0 a vibrating solid). 0.1 r₁² is
  5–10 × the MSD plateau of a solid at its melting point (Lindemann: rms displacement 0.1–0.15 r₁),
  so a vibrating crystal cannot reach it, while a liquid with D ≳ 10⁻⁹ m²/s does within ~1 ps.
- **no crystalline peaks**: beyond the first minimum of g(r) the (lightly smoothed) g(r) stays below
  ``max_g_after_first_shell`` (1.6; the second peak of simple and ionic liquids is 1.1–1.4, a crystal
  near its melting point has shells of 2 and more), and the second shell is not split (two maxima,
  each rising ``split_prominence`` (0.1) above the dip between them, both above g = 1, closer than
  20 % of their distance: the glass signature; crystal shells are also caught by the height). With
  several elements this holds for the total g(r) and for every partial g_ab(r) with at least 200
  pairs per frame: in a binary crystal the like–like shells are diluted in the total (rock-salt
  MgO at 5000 K: total 1.68–1.77, barely over the limit; its partials 1.9–2.6). g(r) runs to about
  three neighbour distances with the cell's periodic images, so 64-atom cells are judged too.

On a failure :func:`check_liquid` (and so :func:`melt_quench`) raises ``RuntimeError`` naming the
criterion and its numbers; a crystal is never returned labelled liquid.
Units: K, GPa, fs (timesteps), ps (times), Å.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.data import chemical_symbols

from deepearth.md.engine import ASEEngine, Engine, MDBlowUp, MDSettings
from deepearth.properties.structure import first_shell
from deepearth.structures.checks import check_timestep
from deepearth.units import stress_to_pressure_gpa

#: Default thresholds of the liquid check (see the module docstring for why).
MIN_MSD_GROWTH = 0.1
MIN_MSD_EXPONENT = 0.5
MAX_G_AFTER_FIRST_SHELL = 1.6
SPLIT_PROMINENCE = 0.1
SPLIT_MAX_SEPARATION = 0.2
#: Partial g(r) are judged only with at least this many pairs per frame (noise).
MIN_PARTIAL_PAIRS = 200


def require_positive(name: str, value) -> float:
    """``value`` as a float, or a ``ValueError`` naming the argument when it is not finite and > 0."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return v


def require_steps(name: str, value, minimum: int = 0) -> int:
    """``value`` as an int ≥ ``minimum``, or a ``ValueError`` naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def require_calculator(calculator) -> None:
    """A ``ValueError`` naming ``calculator`` when there is none."""
    if calculator is None:
        raise ValueError("calculator is required (an ASE calculator, e.g. deepearth.load_potential(path))")
    if not hasattr(calculator, "get_property") and not hasattr(calculator, "calculate"):
        raise ValueError(f"calculator must be an ASE calculator, got {type(calculator).__name__}")


def require_atoms(name: str, atoms) -> None:
    """A ``ValueError`` naming the argument unless ``atoms`` is a periodic, non-empty ``Atoms``."""
    if not isinstance(atoms, Atoms) or len(atoms) == 0:
        raise ValueError(f"{name} must be a non-empty ase.Atoms, got {type(atoms).__name__}")
    if not atoms.pbc.all() or atoms.cell.rank < 3:
        raise ValueError(f"{name} must be periodic in all three directions with a full cell")


# ------------------------------------------------------------------------------ analysis (numpy)

def radial_distribution(positions: np.ndarray, cell: np.ndarray, r_max: float | None = None,
                        dr: float = 0.05, pair: tuple[np.ndarray, np.ndarray] | None = None,
                        ) -> tuple[np.ndarray, np.ndarray]:
    """g(r) averaged over frames for ``positions`` (F, N, 3) Å in ``cell`` (3, 3), periodic images included.

    The total g(r), or with ``pair = (mask_a, mask_b)`` (boolean masks over atoms) the partial
    g_ab(r), normalised by (n_a n_b − n_ab) / V (an atom's own images are left out). ``r_max``
    defaults to the larger of half the shortest cell width and 3.5 (V/N)^(1/3) (about three
    neighbour distances): past half the width the images repeat the cell, which a crystal shows as
    its shells and a liquid as a flat g(r) ≈ 1, so small cells can still be judged. Returns bin
    centres (Å) and g(r).
    """
    pos = np.asarray(positions, dtype=float)
    if pos.ndim == 2:
        pos = pos[None]
    cell = np.asarray(cell, dtype=float)
    n_frames, n = pos.shape[:2]
    volume = abs(np.linalg.det(cell))
    widths = volume / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
    if r_max is None:
        r_max = max(0.499 * widths.min(), 3.5 * (volume / n) ** (1 / 3))
    a_mask = np.ones(n, bool) if pair is None else np.asarray(pair[0], dtype=bool)
    b_mask = np.ones(n, bool) if pair is None else np.asarray(pair[1], dtype=bool)
    iu, ju = np.triu_indices(n, k=1)
    # ordered pairs (i in a, j in b) that each unordered pair i < j stands for
    w = (a_mask[iu] & b_mask[ju]).astype(float) + (b_mask[iu] & a_mask[ju])
    iu, ju, w = iu[w > 0], ju[w > 0], w[w > 0]
    # the images within r_max of a minimum-image vector
    m = np.ceil(r_max / widths - 0.5).astype(int)
    shifts = np.stack(np.meshgrid(*[np.arange(-k, k + 1) for k in m], indexing="ij"), -1).reshape(-1, 3)
    shifts = shifts.astype(float) @ cell
    inv = np.linalg.inv(cell)
    edges = dr * np.arange(int(r_max / dr) + 1)
    counts = np.zeros(len(edges) - 1)
    chunk = max(1, 2_000_000 // len(shifts))
    for frame in pos:
        for lo in range(0, len(iu), chunk):
            i, j = iu[lo:lo + chunk], ju[lo:lo + chunk]
            f = (frame[j] - frame[i]) @ inv
            d = (f - np.round(f)) @ cell
            r = np.linalg.norm(d[:, None, :] + shifts[None], axis=-1)
            counts += np.histogram(r.ravel(), bins=edges, weights=np.repeat(w[lo:lo + chunk], len(shifts)))[0]
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    ideal = n_frames * (a_mask.sum() * b_mask.sum() - (a_mask & b_mask).sum()) / volume * shell
    return 0.5 * (edges[1:] + edges[:-1]), counts / ideal


def mean_squared_displacement(positions: np.ndarray, masses: np.ndarray | None = None,
                              max_lag: int | None = None) -> np.ndarray:
    """MSD (Å²) for lags 0..max_lag (frames) of unwrapped ``positions`` (F, N, 3), averaged over atoms
    and all time origins, with the centre-of-mass drift removed. ``max_lag`` defaults to F // 2."""
    pos = np.asarray(positions, dtype=float)
    w = np.ones(pos.shape[1]) if masses is None else np.asarray(masses, dtype=float)
    pos = pos - (np.einsum("n,fnk->fk", w, pos) / w.sum())[:, None, :]
    max_lag = pos.shape[0] // 2 if max_lag is None else max_lag
    out = np.zeros(max_lag + 1)
    for lag in range(1, max_lag + 1):
        out[lag] = np.mean(np.sum((pos[lag:] - pos[:-lag]) ** 2, axis=-1))
    return out


def _smooth(g: np.ndarray, sigma_bins: float) -> np.ndarray:
    half = int(np.ceil(4 * sigma_bins))
    x = np.arange(-half, half + 1)
    k = np.exp(-0.5 * (x / sigma_bins) ** 2)
    k /= k.sum()
    padded = np.pad(g, half, mode="edge")
    return np.convolve(padded, k, mode="valid")


def _split_second_peak(r: np.ndarray, gs: np.ndarray, start: int, prominence: float,
                       max_separation: float) -> bool:
    """Two neighbouring maxima beyond ``start``, both above g = 1, each ``prominence`` above the dip
    between them, closer than ``max_separation`` × the first one's r."""
    seg = gs[start:]
    peaks = [k for k in range(1, len(seg) - 1) if seg[k] > seg[k - 1] and seg[k] >= seg[k + 1]]
    for a, b in zip(peaks, peaks[1:]):
        dip = seg[a:b + 1].min()
        if (min(seg[a], seg[b]) > 1.0 and min(seg[a], seg[b]) - dip >= prominence
                and r[start + b] - r[start + a] < max_separation * r[start + a]):
            return True
    return False


def assess_liquid(positions: np.ndarray, cell: np.ndarray, frame_interval_ps: float,
                  masses: np.ndarray | None = None, numbers: np.ndarray | None = None, *,
                  min_msd_growth: float = MIN_MSD_GROWTH, min_msd_exponent: float = MIN_MSD_EXPONENT,
                  max_g_after_first_shell: float = MAX_G_AFTER_FIRST_SHELL,
                  split_prominence: float = SPLIT_PROMINENCE,
                  split_max_separation: float = SPLIT_MAX_SEPARATION) -> dict:
    """The liquid criteria on an unwrapped NVT trajectory ``positions`` (F, N, 3) Å in a fixed ``cell``.

    Returns a dict: ``msd_slope_A2_per_ps`` (fit over the second half of lags), ``msd_growth_over_r1_sq``,
    ``msd_exponent``, ``diffusive``, ``first_shell_A``, ``first_minimum_A`` (of the total g(r)),
    ``rdf_max_g_after_first_shell`` (the largest over the total and the partials, ``rdf_max_g_pair``
    says which), ``rdf_by_pair`` (each one's shells), ``split_second_peak``, ``crystalline_peaks``, ``is_liquid``,
    ``failed`` (the criteria that failed, in words with numbers), and, with ``numbers``, the
    per-element slopes ``msd_slope_by_element_A2_per_ps``.
    """
    pos = np.asarray(positions, dtype=float)
    if pos.ndim != 3 or pos.shape[0] < 8:
        raise ValueError(f"positions must be (frames >= 8, atoms, 3), got shape {pos.shape}")
    dt = require_positive("frame_interval_ps", frame_interval_ps)
    sample = pos[:: max(1, pos.shape[0] // 40)]

    def shells(pair=None):
        r, g = radial_distribution(sample, cell, pair=pair)
        gs = _smooth(g, sigma_bins=0.06 / (r[1] - r[0]))
        r1, rmin = first_shell(r, gs)
        start = int(np.searchsorted(r, rmin)) if np.isfinite(rmin) else len(r)
        g_after = float(gs[start:].max()) if start < len(r) else float("nan")
        split = bool(start < len(r) and _split_second_peak(r, gs, start, split_prominence, split_max_separation))
        return {"first_shell_A": r1, "first_minimum_A": rmin, "max_g_after_first_shell": g_after,
                "split_second_peak": split}

    by_pair = {"total": shells()}
    if numbers is not None and len(np.unique(numbers)) > 1:
        # partials too: in a binary crystal the like–like shells are diluted in the total g(r)
        zs = np.unique(numbers)
        for k, za in enumerate(zs):
            for zb in zs[k:]:
                na, nb = (numbers == za).sum(), (numbers == zb).sum()
                if (na * (na - 1) / 2 if za == zb else na * nb) >= MIN_PARTIAL_PAIRS:
                    by_pair[f"{chemical_symbols[za]}-{chemical_symbols[zb]}"] = shells((numbers == za, numbers == zb))
    r1, rmin = by_pair["total"]["first_shell_A"], by_pair["total"]["first_minimum_A"]
    worst = max(by_pair, key=lambda k: np.nan_to_num(by_pair[k]["max_g_after_first_shell"], nan=np.inf))
    g_after = by_pair[worst]["max_g_after_first_shell"]
    # the split second peak (glass, close packing) is read on the total g(r) only: the partials of a few
    # hundred pairs are too noisy for it (a 135-atom CaSiO3 melt's 351 Si–Si pairs showed false splits)
    split_in = ["total"] if by_pair["total"]["split_second_peak"] else []
    split = bool(split_in)
    crystalline = bool(not np.isfinite(g_after) or g_after >= max_g_after_first_shell or split)

    msd = mean_squared_displacement(pos, masses)
    lags = np.arange(len(msd)) * dt
    lo = max(1, len(msd) // 2)
    slope, intercept = np.polyfit(lags[lo:], msd[lo:], 1)
    t_max = lags[-1]
    growth = float(slope * t_max / r1**2) if np.isfinite(r1) else float("nan")
    sel = msd[lo:] > 0
    exponent = float(np.polyfit(np.log(lags[lo:][sel]), np.log(msd[lo:][sel]), 1)[0]) if sel.sum() >= 2 else 0.0
    diffusive = bool(slope > 0 and growth >= min_msd_growth and exponent >= min_msd_exponent)

    failed = []
    if not diffusive:
        failed.append(f"MSD not diffusive: slope {slope:.4g} Å²/ps over lags {lags[lo]:.3g}–{t_max:.3g} ps "
                      f"grows {growth:.3g} r1² (need >= {min_msd_growth}, r1 = {r1:.3g} Å), "
                      f"log-log exponent {exponent:.2f} (need >= {min_msd_exponent})")
    if crystalline:
        if not np.isfinite(g_after) or g_after >= max_g_after_first_shell:
            why = (f"max g = {g_after:.3g} >= {max_g_after_first_shell} in g_{worst}(r) beyond its first "
                   f"minimum ({by_pair[worst]['first_minimum_A']:.3g} Å)")
        else:
            why = f"a split second peak in g_{', g_'.join(split_in)}(r)"
        failed.append(f"RDF has crystalline peaks beyond the first shell: {why}")
    out = {
        "msd_slope_A2_per_ps": float(slope),
        "msd_fit_lags_ps": [float(lags[lo]), float(t_max)],
        "msd_growth_over_r1_sq": growth,
        "msd_exponent": exponent,
        "diffusive": diffusive,
        "first_shell_A": r1,
        "first_minimum_A": rmin,
        "rdf_max_g_after_first_shell": g_after,
        "rdf_max_g_pair": worst,
        "rdf_by_pair": by_pair,
        "split_second_peak": split,
        "crystalline_peaks": crystalline,
        "is_liquid": diffusive and not crystalline,
        "failed": failed,
    }
    if numbers is not None:
        numbers = np.asarray(numbers)
        by = {}
        for z in np.unique(numbers):
            m = mean_squared_displacement(pos[:, numbers == z], None if masses is None else masses[numbers == z])
            by[chemical_symbols[z]] = float(np.polyfit(lags[lo:], m[lo:], 1)[0])
        out["msd_slope_by_element_A2_per_ps"] = by
    return out


# ---------------------------------------------------------------------------------------- MD

class _Recorder:
    """Observer: unwrapped positions, temperature, pressure and volume every call."""

    def __init__(self, positions: bool = True):
        self.keep_positions = positions
        self.positions, self.T, self.P, self.V = [], [], [], []

    def __call__(self, atoms: Atoms, step: int) -> None:
        if self.keep_positions:
            self.positions.append(atoms.get_positions())
        self.T.append(atoms.get_temperature())
        self.P.append(stress_to_pressure_gpa(atoms.get_stress(include_ideal_gas=True)))
        self.V.append(atoms.get_volume())


def check_liquid(atoms: Atoms, calculator: Calculator, T_K: float, steps: int = 1000, *,
                 engine: Engine | None = None, timestep_fs: float = 1.0, sample_every: int = 10,
                 seed: int = 0, init_velocities: bool = False, raise_on_failure: bool = True,
                 **thresholds) -> dict:
    """Run an NVT window of ``steps`` at ``T_K`` on ``atoms`` (in place) and apply :func:`assess_liquid`.

    Returns the check's dict plus ``T_mean_K``, ``P_mean_GPa`` (with the kinetic part) and
    ``volume_A3`` over the window; raises ``RuntimeError`` naming the failed criteria unless
    ``raise_on_failure`` is false.
    """
    require_atoms("atoms", atoms)
    require_calculator(calculator)
    T_K = require_positive("T_K", T_K)
    steps = require_steps("steps", steps, 8)
    sample_every = require_steps("sample_every", sample_every, 1)
    if steps // sample_every < 16:
        raise ValueError(f"steps // sample_every must be >= 16 frames, got {steps} // {sample_every}")
    engine = ASEEngine() if engine is None else engine
    rec = _Recorder()
    engine.run(atoms, calculator, MDSettings("nvt", T_K, steps, timestep_fs=timestep_fs, seed=seed,
                                             init_velocities=init_velocities,
                                             observers=[(rec, sample_every)]))
    out = assess_liquid(np.array(rec.positions), atoms.cell.array, sample_every * timestep_fs / 1000.0,
                        atoms.get_masses(), atoms.numbers, **thresholds)
    out.update(T_mean_K=float(np.mean(rec.T)), P_mean_GPa=float(np.mean(rec.P)),
               volume_A3=float(atoms.get_volume()), T_target_K=T_K, window_ps=steps * timestep_fs / 1000.0)
    if raise_on_failure and out["failed"]:
        raise RuntimeError(f"not a liquid at {T_K:g} K (V = {out['volume_A3']:.4g} Å³, "
                           f"P = {out['P_mean_GPa']:.3g} GPa): " + "; ".join(out["failed"]))
    return out


def melt_quench(atoms: Atoms, calculator: Calculator, T_melt_K: float, T_K: float, P_GPa: float = 0.0,
                engine: Engine | None = None, melt_steps: int = 2000, quench_steps: int = 2000,
                equilibrate_steps: int = 1000, timestep_fs: float = 1.0, seed: int = 0, *,
                check_steps: int = 1000, melt_ensemble: str = "npt", quench_stages: int = 4,
                sample_every: int = 10, **thresholds) -> Atoms:
    """A liquid at (``T_K``, ``P_GPa``) made from ``atoms`` (a copy; the input is not changed).

    1. melt: ``melt_steps`` at ``T_melt_K`` (``melt_ensemble`` "npt": isotropic MTK at ``P_GPa``, or
       "nvt": Nosé–Hoover at the input volume), far above melting;
    2. quench: ``quench_steps`` of NPT at ``P_GPa`` in ``quench_stages`` steps of temperature from
       ``T_melt_K`` down to ``T_K`` (velocities carried over);
    3. equilibrate: ``equilibrate_steps`` of NPT at (``T_K``, ``P_GPa``); the cell is then scaled to
       the mean volume of the second half of this run;
    4. check: ``check_steps`` of NVT at ``T_K`` with :func:`check_liquid` (``thresholds`` pass to
       :func:`assess_liquid`); raises ``RuntimeError`` if it is not liquid.

    Returns the final Atoms, with ``info["liquid_check"]`` (the check's dict, with the NPT mean
    pressure ``P_npt_mean_GPa`` of step 3 and the melt's MSD slope ``melt_msd_slope_A2_per_ps`` and
    growth over r₁² ``melt_msd_growth_over_r1_sq``, which the error message uses to say whether the
    melt melted) and ``info["melt_quench"]`` (the protocol).
    """
    require_atoms("atoms", atoms)
    require_calculator(calculator)
    T_melt_K = require_positive("T_melt_K", T_melt_K)
    T_K = require_positive("T_K", T_K)
    if T_melt_K <= T_K:
        raise ValueError(f"T_melt_K ({T_melt_K:g}) must be above T_K ({T_K:g})")
    if not np.isfinite(float(P_GPa)):
        raise ValueError(f"P_GPa must be finite, got {P_GPa!r}")
    timestep_fs = require_positive("timestep_fs", timestep_fs)
    check_timestep(timestep_fs, atoms.get_chemical_symbols(), "timestep_fs")
    melt_steps = require_steps("melt_steps", melt_steps, 1)
    quench_steps = require_steps("quench_steps", quench_steps, 0)
    equilibrate_steps = require_steps("equilibrate_steps", equilibrate_steps, 2)
    quench_stages = require_steps("quench_stages", quench_stages, 1)
    if melt_ensemble not in ("npt", "nvt"):
        raise ValueError(f"melt_ensemble must be 'npt' or 'nvt', got {melt_ensemble!r}")
    engine = ASEEngine() if engine is None else engine

    def run(stage: str, settings: MDSettings) -> None:
        try:
            engine.run(liq, calculator, settings)
        except MDBlowUp as exc:
            raise MDBlowUp(f"melt-quench, {stage} ({settings.ensemble.upper()} at {settings.temperature_K:g} K, "
                           f"{settings.pressure_GPa:g} GPa): {exc}") from exc

    liq = atoms.copy()
    liq.set_constraint()
    common = dict(timestep_fs=timestep_fs, pressure_GPa=float(P_GPa), seed=seed)

    melt_frames = []
    every = max(1, melt_steps // 100)
    run("melt", MDSettings(melt_ensemble, T_melt_K, melt_steps, init_velocities=True,
                           observers=[(lambda a, s: melt_frames.append(a.get_positions()), every)], **common))
    # did the melt melt? the MSD slope over the second half of its lags (a diagnostic for the report)
    melt_msd = mean_squared_displacement(np.array(melt_frames), liq.get_masses())
    melt_lags = np.arange(len(melt_msd)) * every * timestep_fs / 1000.0
    lo = max(1, len(melt_msd) // 2)
    melt_slope = float(np.polyfit(melt_lags[lo:], melt_msd[lo:], 1)[0]) if len(melt_msd) > lo + 1 else float("nan")
    if quench_steps:
        temps = np.linspace(T_melt_K, T_K, quench_stages + 1)[1:]
        per = np.diff(np.linspace(0, quench_steps, quench_stages + 1).round().astype(int))
        for k, (t, n) in enumerate(zip(temps, per)):
            if n:
                run(f"quench stage {k + 1}", MDSettings("npt", float(t), int(n), init_velocities=False,
                                                        **{**common, "seed": seed + 1 + k}))
    rec = _Recorder(positions=False)
    run("equilibration", MDSettings("npt", T_K, equilibrate_steps, init_velocities=False,
                                    observers=[(rec, max(1, equilibrate_steps // 100))], **common))
    half = len(rec.V) // 2
    v_mean, p_npt = float(np.mean(rec.V[half:])), float(np.mean(rec.P[half:]))
    liq.set_cell(liq.cell.array * (v_mean / liq.get_volume()) ** (1 / 3), scale_atoms=True)
    check = check_liquid(liq, calculator, T_K, check_steps, engine=engine, timestep_fs=timestep_fs,
                         sample_every=sample_every, seed=seed, init_velocities=False,
                         raise_on_failure=False, **thresholds)
    check["P_npt_mean_GPa"] = p_npt
    r1 = check["first_shell_A"]
    melt_growth = melt_slope * melt_lags[-1] / r1**2 if np.isfinite(r1) and len(melt_lags) > 1 else float("nan")
    check["melt_msd_slope_A2_per_ps"] = melt_slope
    check["melt_msd_growth_over_r1_sq"] = float(melt_growth)
    check["P_target_GPa"] = float(P_GPa)
    liq.info["liquid_check"] = check
    liq.info["melt_quench"] = {"T_melt_K": T_melt_K, "T_K": T_K, "P_GPa": float(P_GPa),
                               "melt_steps": melt_steps, "melt_ensemble": melt_ensemble,
                               "quench_steps": quench_steps, "quench_stages": quench_stages,
                               "equilibrate_steps": equilibrate_steps, "check_steps": check_steps,
                               "timestep_fs": timestep_fs, "seed": seed, "engine": getattr(engine, "name", "?")}
    if check["failed"]:
        raise RuntimeError(f"melt-quench to {T_K:g} K, {float(P_GPa):g} GPa did not give a liquid "
                           f"(V = {check['volume_A3']:.4g} Å³, NVT P = {check['P_mean_GPa']:.3g} GPa): "
                           + "; ".join(check["failed"])
                           + f" [the melt at {T_melt_K:g} K: MSD slope {melt_slope:.3g} Å²/ps, growth "
                           f"{melt_growth:.3g} r1² ("
                           f"{'it melted' if melt_growth >= MIN_MSD_GROWTH else 'it may never have melted'})]")
    return liq
