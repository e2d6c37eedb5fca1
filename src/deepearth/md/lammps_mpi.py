"""The LAMMPS engine on several MPI ranks: LAMMPS in a child under ``mpirun``, its frames streamed back.

:class:`~deepearth.md.lammps_engine.LammpsEngine` with ``ranks > 1`` calls :func:`run_in_child`. The
parent writes the input (the atoms as a LAMMPS data file — wrapped positions with image flags, the
initial velocities — or ``read_restart``; the pair style; the engine's fixes) and starts
``mpirun -np ranks python lammps_input.py`` (the mpich wheel's ``mpirun``, beside the Python
executable or on ``PATH``; the script is :mod:`deepearth.lammps.child`'s). At every observer/guard step
``K`` (the gcd of the observer intervals and the guard interval) LAMMPS writes one dump file per frame
(``id type xu yu zu vx vy vz fx fy fz``, 17 digits) and a row of a ``fix ave/time`` table (potential
energy, the virial pressure tensor, the box). The parent tails them while the child runs, builds each
frame as the in-process engine does (:func:`set_frame`: the caller's ``atoms`` with unwrapped
positions, velocities, cell and a single-point calculator with energy, forces and virial stress),
runs the guard and the observers in order, and deletes the frame file. So the observers, the guard
and the caller see what the in-process engine gives them: the same steps (step 0 included), the same
frames, the final state in ``atoms``. An :class:`~deepearth.md.engine.MDBlowUp` or any exception of
an observer kills the child's process group (``mpirun`` and every rank) and is re-raised: no observer
sees a frame after the failing one.

Restarts: every ``restart_interval`` steps the child writes ``<restart>.mpi.<step>`` and then appends
the step to ``<restart>.mpi.log`` (a line appears only after ``write_restart`` finished). Once the
observers have seen every frame up to that step, the parent renames the file into ``<restart>`` and
writes ``<restart>.rot.npy`` and the ``<restart>.step`` marker (:func:`publish_restart`, as the
in-process engine does), so :func:`restart_step` and production's resume work unchanged. A run that
finds a restart continues from it (``read_restart``) and calls the observers only after it. Each
``run`` between restarts does its set-up (``write_restart`` may move atoms between ranks: with
``pre no`` the neighbour lists were stale, 0.01 Å off 20 steps later on two ranks).

Files: the input, data file and frames are in a folder ``<restart or log_file>.mpi-XXXX`` (``/tmp``
without either), removed at the end unless a failed child's logs are in it; mpirun's output goes to
``<log_file>.mpi.out``.

Failures are one line each: more ranks than cores, no ``mpirun``; a child that dies
(:class:`~deepearth.lammps.errors.LammpsError` with the last LAMMPS error and both logs; "Lost atoms"
and the other :data:`~deepearth.md.lammps_runner.BLOW_UP_ERRORS` as
:class:`~deepearth.md.lammps_runner.LammpsBlowUp`) or outlives ``timeout_s``. The last restart whose
frames were seen is kept: the run resumes from it. The child (``mpirun``, and each rank) dies with its
parent (``PR_SET_PDEATHSIG``): a ``kill -9`` of the run leaves no rank behind.

The in-engine committee (``settings.committee``) is not evaluated on several ranks: it is ignored, the
frames carry no ``committee_forces`` and the observers evaluate the committee themselves. The helpers
shared with the in-process engine live here (:func:`initial_state`, :func:`set_frame`,
:func:`observe_frame`, :func:`publish_restart`, :func:`restart_step`...): both build the same frames.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.md.velocitydistribution import Stationary, thermalize_momenta

from deepearth.lammps.cell import LammpsBox, LammpsFrame, ase_to_lammps, lammps_to_ase, voigt_to_tensor
from deepearth.lammps.child import child_script, find_mpirun, last_error_line
from deepearth.lammps.dump import read_dump
from deepearth.lammps.errors import LammpsError
from deepearth.lammps.pair import LammpsPair
from deepearth.lammps.safe import lammps_word
from deepearth.md.engine import MDSettings, blow_up
from deepearth.md.lammps_runner import BLOW_UP_ERRORS, LammpsBlowUp
from deepearth.parallel import SINGLE_THREAD_ENV, die_with_parent
from deepearth.units import FS_TO_ASE_TIME

__all__ = ["METAL_NKTV2P", "V_ASE_TO_METAL", "check_ranks", "cores", "find_mpirun", "guard_every", "initial_state",
           "observe_frame", "publish_restart", "restart_step", "run_in_child", "set_frame", "wrap_positions"]

#: Velocity: Å/ps (LAMMPS metal) per Å/(ASE time unit).
V_ASE_TO_METAL = 1000.0 * FS_TO_ASE_TIME
#: LAMMPS' ``nktv2p`` in ``units metal`` (bar·Å³/eV), as ``lmp.extract_global("nktv2p")`` gives it.
METAL_NKTV2P = 1602176.5
#: First lines of the child script: each rank dies with its parent (the MPI proxy).
_PREAMBLE = "from deepearth.parallel import die_with_parent\ndie_with_parent()\n"
_DUMP_COLUMNS = "id type xu yu zu vx vy vz fx fy fz"
_TABLE_VALUES = ["c_thermo_pe", *(f"c_pv[{k}]" for k in range(1, 7)),
                 *(f"v_deepearth_{b}" for b in ("lx", "ly", "lz", "xy", "xz", "yz"))]


# ---------------------------------------------------------------------- shared with the in-process engine

def restart_step(path: str | os.PathLike) -> int | None:
    """The step a LAMMPS restart file was written at, or ``None`` when there is none.

    Read from the small ``<restart>.step`` marker the engine writes with every restart (reading the
    binary restart header needs LAMMPS)."""
    marker = Path(str(path) + ".step")
    if not Path(path).is_file() or not marker.is_file():
        return None
    try:
        return int(marker.read_text().split()[0])
    except (ValueError, IndexError):
        return None


def publish_restart(written: Path, path: Path, rotation: np.ndarray, step: int) -> None:
    """Make the finished restart file ``written`` the run's restart ``path`` at ``step``: the rotation
    beside it, the file renamed into place (atomic), then the ``.step`` marker (atomic)."""
    np.save(str(path) + ".rot.npy", rotation)
    os.replace(written, path)
    marker = Path(str(path) + ".step")
    marker.with_name(marker.name + ".tmp").write_text(f"{step}\n")
    os.replace(marker.with_name(marker.name + ".tmp"), marker)


def wrap_positions(x: np.ndarray, box: LammpsBox) -> tuple[np.ndarray, np.ndarray]:
    """Positions wrapped into ``box`` and the integer image flags that unwrap them again."""
    cell = box.cell
    frac = (x - box.origin) @ np.linalg.inv(cell)
    image = np.floor(frac)
    frac = frac - image
    frac[frac >= 1.0] = 0.0
    return frac @ cell + box.origin, image.astype(int)


def initial_state(atoms: Atoms, s: MDSettings) -> tuple[LammpsFrame, np.ndarray, np.ndarray, np.ndarray]:
    """``(frame, x, image, v)`` of a fresh run: the LAMMPS box and rotation, wrapped positions (Å),
    image flags and velocities (Å/ps) in LAMMPS' frame. With ``s.init_velocities`` the velocities of
    ``atoms`` are drawn first (Maxwell–Boltzmann at ``s.temperature_K``, seeded by ``s.seed``, no
    centre-of-mass momentum), as the ASE engine draws them."""
    frame = ase_to_lammps(atoms.cell.array, atoms.positions, wrap=False)
    x, image = wrap_positions(frame.positions, frame.box)
    if s.init_velocities:
        thermalize_momenta(atoms, temperature_K=s.temperature_K, rng=np.random.default_rng(s.seed))
        Stationary(atoms)
    v = atoms.get_velocities() @ frame.rotation * V_ASE_TO_METAL
    return frame, x, image, v


def set_frame(atoms: Atoms, box: LammpsBox, rotation: np.ndarray, x: np.ndarray, v: np.ndarray, f: np.ndarray,
              pv_bar: np.ndarray, energy: float, nktv2p: float = METAL_NKTV2P) -> None:
    """Put one LAMMPS frame into ``atoms``: unwrapped positions ``x`` (Å), velocities ``v`` (Å/ps) and
    forces ``f`` (eV/Å) in LAMMPS' frame, atoms in id order; the box; the virial pressure tensor
    ``pv_bar`` (bar, LAMMPS order xx yy zz xy xz yz); the potential energy (eV). ``atoms`` gets the
    cell in the caller's orientation and a single-point calculator with energy, forces and the virial
    stress (eV/Å³, ASE sign; ``atoms.get_stress(include_ideal_gas=True)`` adds the kinetic part)."""
    virial_l = voigt_to_tensor(np.asarray(pv_bar, float), "lammps") * box.volume / nktv2p  # eV
    back = lammps_to_ase(box, rotation, positions=x, velocities=v, forces=f, virial=virial_l)
    atoms.set_cell(back.cell, scale_atoms=False)
    atoms.positions = back.positions
    atoms.set_velocities(back.velocities / V_ASE_TO_METAL)
    stress = -back.virial / abs(np.linalg.det(back.cell))
    atoms.calc = SinglePointCalculator(atoms, energy=float(energy), free_energy=float(energy), forces=back.forces,
                                       stress=np.array([stress[0, 0], stress[1, 1], stress[2, 2],
                                                        stress[1, 2], stress[0, 2], stress[0, 1]]))


def observe_frame(atoms: Atoms, step: int, s: MDSettings, v_start: float, guard_only: bool = False) -> None:
    """The guard, then (unless ``guard_only``) the observers whose interval divides ``step``."""
    s.guard.check(atoms, step, s.timestep_fs, s.temperature_K, v_start)
    if guard_only:
        return
    for fn, k in s.observers:
        if step % k == 0:
            fn(atoms, step)


def guard_every(guard_interval: int, s: MDSettings) -> int:
    """Steps between two guard checks: the engine's interval, or the close-contact one when shorter."""
    return min(guard_interval, s.guard.contact_interval) if s.guard.contact_interval > 0 else guard_interval


def cores() -> int:
    """The cores this process may run on (its CPU affinity; ``os.cpu_count()`` where unknown)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def check_ranks(ranks: int, here: bool = True) -> int:
    """``ranks`` as an int, or ``ValueError`` (one line) when it is below 1 or (``here``) above the cores here."""
    if isinstance(ranks, bool) or int(ranks) != ranks or ranks < 1:
        raise ValueError(f"MPI ranks must be an integer ≥ 1, got {ranks!r}")
    n = cores()
    if here and ranks > n:
        raise ValueError(f"more MPI ranks ({int(ranks)}) than cores ({n}): use at most {n}")
    return int(ranks)


# ---------------------------------------------------------------------- the child's input

def _word(p: Path | str, what: str) -> str:
    return lammps_word(str(p), what)


def _data_file(path: Path, frame: LammpsFrame, x: np.ndarray, image: np.ndarray, v: np.ndarray,
               types: np.ndarray, n_types: int) -> None:
    b = frame.box
    lines = ["LAMMPS data file written by deepearth.md.lammps_mpi", "", f"{len(x)} atoms", f"{n_types} atom types",
             f"{b.xlo:.17g} {b.xhi:.17g} xlo xhi", f"{b.ylo:.17g} {b.yhi:.17g} ylo yhi",
             f"{b.zlo:.17g} {b.zhi:.17g} zlo zhi", *([f"{b.xy:.17g} {b.xz:.17g} {b.yz:.17g} xy xz yz"] * b.triclinic),
             "", "Atoms # atomic", "", *(f"{i + 1} {t} {p[0]:.17g} {p[1]:.17g} {p[2]:.17g} {m[0]} {m[1]} {m[2]}"
                                        for i, (t, p, m) in enumerate(zip(types, x, image))),
             "", "Velocities", "", *(f"{i + 1} {u[0]:.17g} {u[1]:.17g} {u[2]:.17g}" for i, u in enumerate(v))]
    path.write_text("\n".join(lines) + "\n")


@dataclass
class _Plan:
    """Where the child writes and at which steps."""

    wd: Path
    step0: int
    steps: int
    every: int  # K: dump and table
    restart_every: int
    restart: Path | None
    frames: list[int] = field(default_factory=list)

    def commands(self, start: list[str], pair: LammpsPair, fixes: list[str], dt_fs: float) -> list[str]:
        K = self.every
        table = _word(self.wd / "table.dat", "table file")
        cmds = ["units metal", "atom_style atomic", "atom_modify map array sort 0 0.0", *start, *pair.commands,
                f"timestep {dt_fs / 1000.0:.10g}", "compute pv all pressure NULL virial",
                "thermo_style custom step temp pe press vol " + " ".join(f"c_pv[{k}]" for k in range(1, 7)),
                "thermo_modify norm no lost error", f"thermo {K}", *fixes,
                *(f"variable deepearth_{b} equal {b}" for b in ("lx", "ly", "lz", "xy", "xz", "yz")),
                f"fix deepearth_table all ave/time {K} 1 {K} {' '.join(_TABLE_VALUES)} file {table} format ' %.17g'",
                f"dump deepearth_frames all custom {K} {_word(self.wd / 'frame.*.dump', 'dump file')} "
                f"{_DUMP_COLUMNS}",
                "dump_modify deepearth_frames sort id format float %.17g first yes"]
        R = self.restart_every
        ends = sorted({*(range((self.step0 // R + 1) * R, self.steps + 1, R) if R else ()),
                       *([self.steps] if self.steps > self.step0 else [])})
        values = " ".join(f"$({v}:%.17g)" for v in _TABLE_VALUES)
        final_table = _word(self.wd / "final.dat", "table file")
        if not ends:  # nothing to run (a resumed run that is complete): the state as it is
            cmds += ["run 0 post no", f"print '{self.step0} {values}' append {final_table} screen no"]
        prev = self.step0
        for b in ends:  # set-up after each write_restart: it may move atoms between ranks (stale neighbour lists)
            cmds.append(f"run {b - prev} post no")
            prev = b
            if self.restart_every and b % self.restart_every == 0:
                cmds += [f"write_restart {_word(f'{self.restart}.mpi.{b}', 'restart file')}",
                         f"print '{b}' append {_word(f'{self.restart}.mpi.log', 'restart log')} screen no"]
        self.frames = [self.step0, *range((self.step0 // K + 1) * K, self.steps + 1, K)]
        if self.steps > self.step0 and self.steps % K:  # the last state, for the caller's atoms
            self.frames.append(self.steps)
            final = _word(self.wd / f"frame.{self.steps}.dump", "dump file")
            cmds += [f"write_dump all custom {final} {_DUMP_COLUMNS} modify sort id format float %.17g",
                     f"print '{self.steps} {values}' append {final_table} screen no"]
        return cmds


# ---------------------------------------------------------------------- the parent: tail, observe, publish

class _Tail:
    """The complete lines a growing text file gained since the last call."""

    def __init__(self, path: Path):
        self.path, self.offset, self.rest = path, 0, b""

    def lines(self) -> list[str]:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        *complete, self.rest = (self.rest + data).split(b"\n")
        return [c.decode(errors="replace") for c in complete]


@dataclass
class _Child:
    """The running child, seen from the parent."""

    proc: subprocess.Popen
    plan: _Plan
    ranks: int
    child_log: Path
    lammps_log: Path
    rotation: np.ndarray
    s: MDSettings
    deadline: float | None
    timeout_s: float | None
    rows: dict[int, np.ndarray] = field(default_factory=dict)
    restarts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        p = self.plan
        self.tails = [_Tail(p.wd / "table.dat"), _Tail(p.wd / "final.dat")]
        self.restart_log = _Tail(Path(f"{p.restart}.mpi.log")) if p.restart else None

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()

    def publish(self, before: int) -> None:
        """Make the newest finished restart written before step ``before`` the run's restart."""
        if self.restart_log is None:
            return
        self.restarts += [int(ln.split()[0]) for ln in self.restart_log.lines() if ln.strip()]
        ready = [r for r in self.restarts if r < before]
        if not ready:
            return
        restart = self.plan.restart
        for r in ready[:-1]:
            Path(f"{restart}.mpi.{r}").unlink(missing_ok=True)
        publish_restart(Path(f"{restart}.mpi.{ready[-1]}"), restart, self.rotation, ready[-1])
        self.restarts = [r for r in self.restarts if r >= before]

    def frame(self, step: int, need_row: bool) -> tuple[LammpsBox, np.ndarray, np.ndarray] | None:
        """``(box, columns (N, 11), table row)`` of ``step`` once the child wrote both, else ``None``."""
        for tail in self.tails:
            for line in tail.lines():
                tok = line.split()
                if tok and not tok[0].startswith("#"):
                    self.rows[int(float(tok[0]))] = np.array(tok[1:], dtype=float)
        path = self.plan.wd / f"frame.{step}.dump"
        if need_row and step not in self.rows:
            return None
        try:  # complete once its last line is
            size = path.stat().st_size
            with open(path, "rb") as fh:
                fh.seek(max(size - 1, 0))
                if fh.read(1) != b"\n":  # a line still being written
                    return None
        except FileNotFoundError:
            return None
        try:
            dump = read_dump(path)
        except ValueError:  # still being written
            return None
        path.unlink()
        return dump.boxes[0], dump.data[0], self.rows.pop(step, None)

    def wait(self, step: int, need_row: bool) -> tuple[LammpsBox, np.ndarray, np.ndarray | None]:
        """The frame of ``step`` (see :meth:`frame`), publishing restarts meanwhile; raises when the
        child ends without it or the deadline passes."""
        delay = 0.001
        while True:
            self.publish(before=step)
            got = self.frame(step, need_row)
            if got is not None:
                return got
            code = self.proc.poll()
            if code is not None:
                got = self.frame(step, need_row)
                if got is not None:
                    return got
                self.proc.wait()
                raise self.died(code, step)
            if self.deadline is not None and time.monotonic() > self.deadline:
                raise self.timed_out(f"before step {step}")
            time.sleep(delay)
            delay = min(2 * delay, 0.05)

    def timed_out(self, where: str) -> LammpsError:
        self.kill()
        return LammpsError(f"LAMMPS on {self.ranks} MPI ranks timed out after {self.timeout_s:g} s ({where}); "
                           f"see {self.child_log} and {self.lammps_log}", log_file=self.child_log)

    def finish(self) -> None:
        """Wait for the child to end after its last frame; raise if it fails or runs past the deadline,
        else make its last restart the run's."""
        remaining = None if self.deadline is None else max(self.deadline - time.monotonic(), 0.0)
        try:
            code = self.proc.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            raise self.timed_out("after its last frame") from None
        if code != 0:
            raise self.died(code, None)
        self.publish(before=self.plan.steps + 1)
        if self.plan.restart is not None:
            Path(f"{self.plan.restart}.mpi.log").unlink(missing_ok=True)

    def died(self, code: int, step: int | None) -> Exception:
        """The error of a child that exited (``code``) before it wrote ``step``."""
        last = _last_error(self.lammps_log, self.child_log)
        seen = max([f for f in self.plan.frames if step is None or f < step], default=self.plan.step0)
        match = BLOW_UP_ERRORS.search(last)
        if match:
            err = blow_up(f"LAMMPS on {self.ranks} MPI ranks: {match.group(0)} after step {seen} "
                          f"(see {self.lammps_log})", seen, self.s.timestep_fs, LammpsBlowUp)
            err.log_file = self.lammps_log
            return err
        where = f"before step {step}" if step is not None else f"after its last frame (step {seen})"
        why = f"killed by signal {-code}" if code < 0 else f"exit {code}" if code else "exit 0 without writing it"
        return LammpsError(f"LAMMPS on {self.ranks} MPI ranks failed {where} ({why})"
                           f"{': ' + last if last else ''}; see {self.child_log} and {self.lammps_log}",
                           log_file=self.child_log)


def _last_error(lammps_log: Path, child_log: Path) -> str:
    """LAMMPS' last error; else how ``mpirun`` saw a rank end ("a rank ended: Killed (signal 9)"); else
    the child's last error line."""
    try:
        log = child_log.read_text(errors="replace")
    except OSError:
        log = ""
    lammps = last_error_line(lammps_log, Path(os.devnull))  # "" unless LAMMPS' log has an ERROR line
    if lammps:
        return lammps
    if "EXIT STRING:" in log:  # mpirun (hydra) on a rank that died without a LAMMPS error
        return "an MPI rank ended: " + log.rsplit("EXIT STRING:", 1)[1].splitlines()[0].strip()
    return last_error_line(lammps_log, child_log)


def run_in_child(atoms: Atoms, pair: LammpsPair, s: MDSettings, *, types: np.ndarray, masses: list[str],
                 fixes: list[str], ranks: int, guard_interval: int, cmdargs: Sequence[str] = (),
                 timeout_s: float | None = None) -> Atoms:
    """Run ``s`` on ``atoms`` with LAMMPS on ``ranks`` MPI ranks in a child (see the module docstring);
    ``atoms`` ends in the last state. ``types`` (LAMMPS type per atom), ``masses`` (``mass`` commands)
    and ``fixes`` are the in-process engine's; ``timeout_s`` limits the child's wall time."""
    ranks = check_ranks(ranks)
    mpirun = find_mpirun()
    if not all(atoms.pbc):
        raise ValueError("the LAMMPS engine needs a periodic cell (pbc all True)")
    restart = Path(s.restart_file).resolve() if s.restart_file else None
    step0 = restart_step(restart) if restart is not None else None
    anchor = restart or (Path(s.log_file).resolve() if s.log_file else None)  # the child's folder goes beside it
    if anchor is not None:
        anchor.parent.mkdir(parents=True, exist_ok=True)
        for p in anchor.parent.iterdir():  # what a killed run left
            if p.name.startswith(anchor.name + ".mpi"):
                shutil.rmtree(p) if p.is_dir() else p.unlink(missing_ok=True)
    wd = Path(tempfile.mkdtemp(prefix=f"{anchor.name}.mpi-" if anchor else "lammps-mpi-",
                               dir=anchor.parent if anchor else None))
    try:
        if step0 is not None:
            rotation = np.asarray(np.load(str(restart) + ".rot.npy"))
            start = [f"read_restart {lammps_word(str(restart), 'restart file')}"]
        else:
            step0 = 0
            frame, x, image, v = initial_state(atoms, s)
            rotation = frame.rotation
            _data_file(wd / "atoms.data", frame, x, image, v, types, len(pair.type_map))
            start = ["boundary p p p", f"read_data {lammps_word(str(wd / 'atoms.data'), 'data file')}", *masses]
        K = math.gcd(guard_every(guard_interval, s), *(int(k) for _, k in s.observers))
        plan = _Plan(wd, step0, int(s.steps), K, int(s.restart_interval) if restart else 0, restart)
        commands = plan.commands(start, pair, fixes, s.timestep_fs)
        lammps_log = Path(s.log_file).resolve() if s.log_file else wd / "log.lammps"
        child_log = Path(str(lammps_log) + ".mpi.out") if s.log_file else wd / "child.log"
        script = wd / "lammps_input.py"
        script.write_text(_PREAMBLE + child_script(commands, lammps_log=lammps_log, cmdargs=cmdargs,
                                                   plugins=pair.plugins))
        with open(child_log, "w") as log:
            proc = subprocess.Popen([mpirun, "-np", str(ranks), sys.executable, str(script)], cwd=wd,
                                    env=dict(os.environ, **SINGLE_THREAD_ENV), stdout=log, stderr=subprocess.STDOUT,
                                    preexec_fn=die_with_parent, start_new_session=True)
    except BaseException:
        shutil.rmtree(wd, ignore_errors=True)
        raise
    deadline = None if timeout_s is None else time.monotonic() + float(timeout_s)
    child = _Child(proc, plan, ranks, child_log, lammps_log, rotation, s, deadline, timeout_s)
    keep = False  # the child's folder, where a failed child's logs are (no log_file)
    try:
        v_start = None
        for step in plan.frames:
            resumed_start = step == step0 and step0 > 0
            box, cols, row = child.wait(step, need_row=not resumed_start or len(plan.frames) == 1)
            if len(cols) != len(atoms):
                if resumed_start:
                    raise ValueError(f"{restart}: holds {len(cols)} atoms, the run has {len(atoms)}: "
                                     "delete the restart to start over")
                raise blow_up(f"lost atoms: LAMMPS holds {len(cols)} of {len(atoms)} atoms", step, s.timestep_fs,
                              LammpsBlowUp)
            if v_start is None:
                v_start = box.volume  # = the ASE cell's (a rotation keeps volumes)
            if row is not None:
                set_frame(atoms, box, rotation, cols[:, 2:5], cols[:, 5:8], cols[:, 8:11], row[1:7], row[0])
            if not resumed_start:
                observe_frame(atoms, step, s, v_start, guard_only=not any(step % k == 0 for _, k in s.observers))
        child.finish()
    except BaseException as exc:
        keep = isinstance(exc, LammpsError) and s.log_file is None  # the child failed: its logs are named
        child.kill()
        raise
    finally:
        if not keep:
            shutil.rmtree(wd, ignore_errors=True)
    return atoms
