"""Melting temperature at fixed pressure by two-phase coexistence: the MD workflow.

For every cell size, committee member, temperature and replica (:func:`coexistence_melting`):

1. **lattice at (T, P)**: the crystal block (``n_layers // 2`` repeats of ``crystal`` along ``axis``)
   is run NPT (``settings.lattice_barostat``: ``iso`` by default, ``aniso`` with the LAMMPS engine
   for a non-cubic crystal) and ``crystal`` is scaled to the mean cell of the second half of that run;
2. **liquid at (T, P)**: :func:`deepearth.structures.liquid.melt_quench` of the other half (melted at
   ``T_melt_factor`` × T, quenched, equilibrated NPT and checked to be a liquid). A liquid that
   cannot be kept at T (it crystallised during the check) is reported in ``notes`` and that run
   skipped;
3. **coexistence cell**: :func:`deepearth.structures.coexistence.coexistence_cell` joins the two at
   the crystal's cross-section (the liquid keeps its density), thermalises the crystal and relaxes
   the join (``join_steps`` of Langevin NVT; the LAMMPS engine does not hold ASE's FixAtoms, so the
   crystal moves too — harmless, both halves are at T). Its lattice-match order (a second,
   independent order parameter) labels solid and liquid atoms at the start;
4. **production**: ``run_steps`` of NPT at (T, P) with the barostat on the interface normal only
   (``barostat="z"`` for ``axis=2``: the cross-section stays the crystal's lattice at (T, P), the
   length takes up the volume change of melting or freezing; LAMMPS engine), frames every
   ``sample_every`` steps;
5. **classification**: :func:`deepearth.properties.melting.solid_fraction_series` (q̄6, threshold at
   the equal-error point against step 3's labels), then :func:`~deepearth.properties.melting.melting_bracket`.

Committee members (``calculators`` as a dict label → calculator) are each run at every T: the spread
of their T_m is the committee's contribution to the error budget. Two or more ``crystals`` (cell
sizes) give the size term. Validated in tests/pipeline/test_melting_workflow.py and benchmarks/melting_lj.py
on Mishin et al.'s Cu EAM (T_m = 1327 K at 0 GPa, Phys. Rev. B 63, 224106 (2001)) and on
Lennard-Jones argon (triple point T* = 0.694, Mastny & de Pablo, J. Chem. Phys. 127, 104504 (2007)).
Units: K, GPa, fs (timestep), ps, Å.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator

from deepearth.md.engine import Engine, MDGuard, MDSettings
from deepearth.md.engines import make_engine
from deepearth.properties.melting import MeltingBracket, SolidFractionSeries, melting_bracket, solid_fraction_series
from deepearth.structures.coexistence import coexistence_cell
from deepearth.structures.liquid import melt_quench, require_atoms
from deepearth.structures.packing import random_packing

__all__ = ["CoexistenceSettings", "MeltingRun", "coexistence_melting"]


@dataclass
class CoexistenceSettings:
    """Steps (of ``timestep_fs``) of each stage (module docstring); ``sample_every``: steps between
    saved frames of the production run; ``T_melt_K`` (if set, else ``T_melt_factor`` × T): where the
    liquid is melted (keep it inside the potential's training range); ``n_blocks``: blocks of the
    solid-fraction statistics;
    ``contact_interval``: steps between the MD guard's close-contact checks in the lattice and
    production runs (an all-pairs check: every 10 steps it cost as much as the MD of a 512-atom
    EAM cell). ``liquid_start``: what the liquid is melted from — ``"crystal"`` (the liquid half's
    crystal), or ``"random"`` (a random packing of its atoms at ``random_volume_factor`` × its volume,
    :func:`deepearth.structures.packing.random_packing`): for a potential that cannot be run hot
    enough to melt a superheated crystal in ``melt_steps`` (the quickstart MgO POD: ≤ 7000 K).
    ``lattice_barostat``: ``"iso"`` (default) scales the crystal at its own shape — exact for cubic
    crystals and far less noisy: a 400-atom Cu block under ``aniso`` NPT fluctuates by 1 % in each
    lattice constant, and a 2 ps mean left x and y 0.5 % apart, a biaxial strain that lowered the
    coexistence T_m; ``"aniso"`` (LAMMPS engine) for non-cubic crystals, with a long ``lattice_steps``."""

    n_layers: int = 8
    timestep_fs: float = 2.0
    lattice_steps: int = 2000
    T_melt_factor: float = 1.6
    T_melt_K: float | None = None
    melt_steps: int = 1000
    quench_steps: int = 500
    equilibrate_steps: int = 500
    check_steps: int = 400
    crystal_steps: int = 200
    join_steps: int = 200
    run_steps: int = 5000
    sample_every: int = 100
    n_blocks: int = 5
    tdamp_fs: float = 100.0
    pdamp_fs: float = 1000.0
    contact_interval: int = 100
    liquid_start: str = "crystal"
    random_volume_factor: float = 1.05
    lattice_barostat: str = "iso"


@dataclass
class MeltingRun:
    """The bracket, every run's solid-fraction series, what was skipped and why, and the protocol."""

    bracket: MeltingBracket
    series: list[SolidFractionSeries]
    notes: list[str]
    protocol: dict
    files: list[str] = field(default_factory=list)

    def to_dict(self, curves: bool = True) -> dict:
        """JSON-safe dict."""
        return {"bracket": self.bracket.to_dict(), "series": [s.to_dict(curves) for s in self.series],
                "notes": list(self.notes), "protocol": dict(self.protocol), "files": list(self.files)}


def _engine_for(engine: str | Engine, calculator: Calculator) -> Engine:
    eng = make_engine(engine) if isinstance(engine, str) else engine
    choose = getattr(eng, "choose", None)
    return choose(calculator) if callable(choose) else eng


def _short(exc: BaseException, head: int = 220, tail: int = 160) -> str:
    """The first line of an error, its middle cut out when long (the end often says why)."""
    text = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= head + tail + 5 else f"{text[:head]} ... {text[-tail:]}"


def _repeat(atoms: Atoms, axis: int, n: int) -> Atoms:
    reps = [1, 1, 1]
    reps[axis] = n
    return atoms.repeat(reps)


def _lattice(crystal: Atoms, calc: Calculator, engine: Engine, T: float, P: float, s: CoexistenceSettings,
             axis: int, seed: int) -> Atoms:
    """``crystal`` scaled to the mean cell of an NPT run of its solid block at (T, P)."""
    n = s.n_layers // 2
    block = _repeat(crystal, axis, n)
    cells = []
    baro = "iso" if engine.name == "ase" else s.lattice_barostat
    engine.run(block, calc, MDSettings("npt", T, s.lattice_steps, timestep_fs=s.timestep_fs, pressure_GPa=P,
                                       seed=seed, barostat=baro, tdamp_fs=s.tdamp_fs, pdamp_fs=s.pdamp_fs,
                                       guard=MDGuard(contact_interval=s.contact_interval),
                                       observers=[(lambda a, k: cells.append(a.cell.array.copy()),
                                                   max(1, s.lattice_steps // 50))]))
    mean = np.mean(cells[len(cells) // 2:], axis=0)
    unit = mean.copy()
    unit[axis] /= n
    out = crystal.copy()
    out.set_cell(unit, scale_atoms=True)
    return out


def _production(cell: Atoms, calc: Calculator, engine: Engine, T: float, P: float, s: CoexistenceSettings,
                barostat: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Atoms]]:
    pos, cells, frames = [], [], []

    def record(atoms: Atoms, step: int) -> None:
        pos.append(atoms.get_positions())
        cells.append(atoms.cell.array.copy())
        snap = Atoms(atoms.numbers, positions=pos[-1], cell=cells[-1], pbc=True)
        snap.info["time_ps"] = step * s.timestep_fs / 1000.0
        frames.append(snap)

    engine.run(cell, calc, MDSettings("npt", T, s.run_steps, timestep_fs=s.timestep_fs, pressure_GPa=P, seed=seed,
                                      init_velocities=False, barostat=barostat, tdamp_fs=s.tdamp_fs,
                                      pdamp_fs=s.pdamp_fs, guard=MDGuard(contact_interval=s.contact_interval),
                                      observers=[(record, s.sample_every)]))
    times = np.arange(len(pos)) * s.sample_every * s.timestep_fs / 1000.0
    return np.array(pos), np.array(cells), times, frames


def _one_run(lattice: Atoms, calc: Calculator, eng: Engine, T: float, P: float, s: CoexistenceSettings, axis: int,
             barostat: str, seed: int, replica: int, label: str) -> tuple[SolidFractionSeries, list[Atoms]]:
    """Liquid, coexistence cell, production and classification of one (T, replica)."""
    n_liq = s.n_layers - s.n_layers // 2
    t_melt = s.T_melt_K if s.T_melt_K is not None else s.T_melt_factor * T
    start = _repeat(lattice, axis, n_liq)
    if s.liquid_start == "random":
        start = random_packing(start, s.random_volume_factor * start.get_volume(), seed)
    liquid = melt_quench(start, calc, T_melt_K=t_melt, T_K=T, P_GPa=P, engine=eng,
                         melt_steps=s.melt_steps, quench_steps=s.quench_steps, equilibrate_steps=s.equilibrate_steps,
                         check_steps=s.check_steps, timestep_fs=s.timestep_fs, seed=seed,
                         sample_every=max(1, s.check_steps // 40))
    cell = coexistence_cell(lattice, liquid, axis=axis, calculator=calc, T_K=T, P_GPa=P, n_layers=s.n_layers,
                            seed=seed, engine=eng, crystal_steps=s.crystal_steps, cool_steps=s.join_steps,
                            run_steps=s.sample_every, ensemble="nvt", timestep_fs=s.timestep_fs,
                            sample_every=s.sample_every, average_frames=1, check=False)
    labels = cell.arrays["phase"] == 0
    pos, cells, times, frames = _production(cell, calc, eng, T, P, s, barostat, seed + 1)
    for f in frames:  # what `deepearth analyze melting` needs to redo the classification from the file
        f.info.update(T_K=float(T), P_GPa=float(P), replica=int(replica))
        if label:  # extxyz cannot hold an empty string (`member=` swallows the next key)
            f.info["member"] = label
    frames[0].arrays["solid_label"] = labels.astype(int)
    sf = solid_fraction_series(pos, cells, T, symbols=cell.get_chemical_symbols(), times_ps=times, labels=labels,
                               axis=axis, n_blocks=s.n_blocks, replica=replica, member=label, P_GPa=P)
    return sf, frames


def coexistence_melting(crystal: Atoms | Sequence[Atoms], calculators: Calculator | Mapping[str, Calculator],
                        P_GPa: float, temperatures_K: Sequence[float], *, settings: CoexistenceSettings | None = None,
                        engine: str | Engine = "auto", replicas: int = 1, axis: int = 2, seed: int = 0,
                        out_dir: str | Path | None = None, log: Callable[[str], None] | None = None) -> MeltingRun:
    """T_m at ``P_GPa`` bracketed by coexistence runs at ``temperatures_K`` (module docstring).

    ``crystal``: the repeat unit of one layer (its in-plane size is the interface's; e.g. a 4×4×1
    fcc supercell for a (001) interface with ``axis=2``), or several of them (cell sizes).
    ``calculators``: one calculator, or committee members by label. ``engine``: a name for
    :func:`deepearth.md.engines.make_engine` or an engine; the barostat on one axis needs the LAMMPS
    engine (the ASE engine falls back to isotropic NPT, said in ``protocol``). ``out_dir``: each
    production run written as extxyz (``time_ps`` in every frame) for ``deepearth analyze melting``.
    Returns a :class:`MeltingRun` (``bracket.message`` is the one-line result).
    """
    s = settings or CoexistenceSettings()
    crystals = [crystal] if isinstance(crystal, Atoms) else list(crystal)
    if not crystals:
        raise ValueError("crystal: no crystal given")
    for k, c in enumerate(crystals):
        require_atoms(f"crystal {k}", c)
    members = dict(calculators) if isinstance(calculators, Mapping) else {"": calculators}
    if not members:
        raise ValueError("calculators: no calculator given")
    temps = [float(t) for t in temperatures_K]
    if not temps or not all(np.isfinite(t) and t > 0 for t in temps):
        raise ValueError(f"temperatures_K must be positive temperatures (K), got {list(temperatures_K)!r}")
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 1:
        raise ValueError(f"replicas must be an integer >= 1, got {replicas!r}")
    if isinstance(axis, bool) or axis not in (0, 1, 2):
        raise ValueError(f"axis must be 0, 1 or 2, got {axis!r}")
    if s.lattice_barostat not in ("iso", "aniso", "tri"):
        raise ValueError(f"settings.lattice_barostat must be 'iso', 'aniso' or 'tri', got {s.lattice_barostat!r}")
    if s.liquid_start not in ("crystal", "random"):
        raise ValueError(f"settings.liquid_start must be 'crystal' or 'random', got {s.liquid_start!r}")
    if s.n_layers < 4 or s.n_layers % 2:
        raise ValueError(f"settings.n_layers must be an even number >= 4, got {s.n_layers}")
    if s.run_steps // s.sample_every < 2 * s.n_blocks:
        raise ValueError(f"settings: run_steps // sample_every = {s.run_steps // s.sample_every} frames, at least "
                         f"{2 * s.n_blocks} needed for an error bar ({s.n_blocks} blocks of 2)")
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    say = log or (lambda msg: None)
    series, notes, files, barostats = [], [], [], set()
    for ci, unit in enumerate(crystals):
        for label, calc in members.items():
            eng = _engine_for(engine, calc)
            barostat = "xyz"[axis] if eng.name != "ase" else "iso"
            barostats.add(f"{eng.name}: {barostat}")
            for ti, T in enumerate(temps):
                base = seed + 1000 * ci + 100 * ti
                try:
                    lattice = _lattice(unit, calc, eng, T, P_GPa, s, axis, base)
                except RuntimeError as exc:  # the crystal's NPT blew up (MDBlowUp)
                    notes.append(f"{len(unit)}-atom layer, member {label or '-'}, {T:g} K: no lattice, every replica "
                                 f"skipped ({_short(exc)})")
                    say(notes[-1])
                    continue
                for r in range(replicas):
                    rs = base + 10 * r
                    tag = f"{len(unit)}-atom layer, member {label or '-'}, {T:g} K, replica {r}"
                    try:
                        sf, frames = _one_run(lattice, calc, eng, T, P_GPa, s, axis, barostat, rs, r, label)
                    except RuntimeError as exc:  # no liquid at this T, or the MD blew up (MDBlowUp)
                        notes.append(f"{tag}: run skipped ({_short(exc)})")
                        say(notes[-1])
                        continue
                    series.append(sf)
                    say(f"{tag}: solid fraction {sf.f_start:.2f} -> {sf.f_end:.2f} ({sf.verdict}, "
                        f"v = {sf.interface_velocity_A_per_ps:+.3f} ± "
                        f"{sf.interface_velocity_stderr_A_per_ps:.3f} Å/ps)")
                    if out is not None:
                        from ase.io import write

                        path = out / f"coexistence_{len(frames[0])}at_{label or 'model'}_{T:g}K_r{r}.extxyz"
                        write(path, frames, format="extxyz")
                        files.append(str(path))
    if not series:
        raise ValueError("no coexistence run finished: " + " | ".join(notes))
    bracket = melting_bracket(series, P_GPa)
    protocol = {**asdict(s), "P_GPa": float(P_GPa), "temperatures_K": temps, "replicas": replicas, "axis": axis,
                "members": list(members), "layer_atoms": [len(c) for c in crystals], "seed": seed,
                "barostat": sorted(barostats), "engine": engine if isinstance(engine, str) else engine.name}
    return MeltingRun(bracket, series, notes, protocol, files)
