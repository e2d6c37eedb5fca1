"""LAMMPS ML-POD backend: a linear proper-orthogonal-descriptor potential fitted by LAMMPS' ``fitpod``.

Why: a linear model on fixed many-body descriptors is fitted in seconds by one least-squares solve
and runs natively in LAMMPS (``pair_style pod``) several times faster than a DeePMD network on CPUs
(issue #4: MgO, 2+3-body POD 0.69 meV/atom, 0.035 eV/Å at 17 katom-step/s on one core vs 6.3 for
the frozen DeePMD TF model).

The model (Nguyen & Rohskopf, J. Comput. Phys. 480, 112030 (2023); Nguyen, Phys. Rev. B 107,
144103 (2023)) is ``E = Σ_i Σ_m c_m D_im`` with one-body (per-species constant), two-body radial
and three-/four-body radial×angular descriptors ``D_im`` within ``rcut_A``. ``fitpod`` solves

    min_c  w_E ‖A c − E*/N‖² + w_F ‖B c + F*‖² + w_R ‖c‖²

(``A``: per-atom global descriptors, ``B``: their position derivatives): energies per atom and
force components; the virial is not fitted (it follows from the same coefficients).

Files. ``train`` writes into ``workdir``: ``data/train/*.xyz`` (and ``data/valid/*.xyz``), the
extxyz files ``fitpod`` reads (one header per frame with ``Lattice``, ``energy`` and ``stress``,
atom lines ``species x y z fx fy fz``), ``param.pod.txt`` (descriptor settings), ``data.pod.txt``
(fit settings), the ``fitpod`` output ``fit/pod_coefficients.pod`` and finally ``model.pod``: a
small JSON manifest naming the parameter and coefficient files (copied next to it as
``model.param.txt`` and ``model.coeff.txt``), the type map and the short-range repulsion; next to it
``envelope.json``, the envelope of the training data (:mod:`deepearth.potentials.envelope`), and
``bare.pod``, the same fit without the repulsion (for comparisons; what the calibration probes). ``model.pod`` is written last and
atomically, so it exists only for a finished fit; a second ``train`` returns it at once.
``load_potential`` recognises the ``.pod`` suffix.

Loading a model trusts nothing in it: :func:`read_model` (:mod:`deepearth.potentials.pod_files`)
keeps the manifest to plain file names inside the model's folder and parses the parameter and
coefficient files before LAMMPS sees them; every path and element name that goes into a LAMMPS
command passes :func:`deepearth.lammps.safe.lammps_word` or :func:`~deepearth.lammps.safe.element_symbols`.

Short-range repulsion (issue 17; :mod:`deepearth.potentials.repulsion`). POD has no physics
below its data: on the CaSiO3 melt a fit falls by ~200 eV when one O–O pair closes from 1.5 to
1.05 Å (the inverse-power radial functions extrapolate into a spurious well), and the 5000 K frames
whose O–O pairs reach 1.17 Å were off by +2.5 eV/atom and 6000 eV/Å. With ``repulsion=True``
(default) a ZBL baseline per species pair, switched off between 0.6 and 0.9 × the pair's closest
distance in the training data, is laid under the fit and scaled per pair until model + baseline
rises and pushes apart on probes of the training frames (``ZBLRepulsion.calibrate``). Its switch
lies below every training distance, so the fitted labels are unchanged (subtracting it first would
subtract zero) and errors inside the envelope stay exactly as they were; the model runs as
``pair_style hybrid/scaled 1.0 pod s zbl inner outer ...`` (:func:`pair_commands`), and the
manifest's ``repulsion`` holds the radii and scales (numbers only, validated by ``read_model``).
Models without the key (trained before) run as bare ``pair_style pod``.

Committee by bootstrap. A linear least-squares fit is deterministic: another seed on the same
data gives the same coefficients. With ``bootstrap=True`` (default) member ``seed`` is fitted on a
bootstrap resample *by configuration* of the pooled training frames (as many draws as frames, with
replacement, drawn with ``numpy.random.default_rng(seed)``); ``bootstrap=False`` fits all frames
once (the "full fit"; ``seed`` is then ignored).

Calibration of the committee deviation: the bootstrap spread estimates the *parameter*
(estimation) uncertainty of the linear fit given the data. It does not contain the error of a
misspecified model (descriptors too short-ranged or too low body order to represent the
reference), which for POD on real DFT data usually dominates: the raw bootstrap standard deviation
underestimates the true error. Scale it on the validation set: ``calibration_factor(std, err)``
(:mod:`deepearth.potentials.committee`; the pipeline does it every iteration with ``committee_calibration``)
returns the factor ``s`` that makes ``s·std`` match the observed error in the RMS sense; use
``s·std`` as the uncertainty (and for the exploration trust levels).
"""

from __future__ import annotations

import ctypes
import json
import os
from pathlib import Path

import numpy as np
from ase.calculators.calculator import Calculator, all_changes
from ase.data import atomic_masses, atomic_numbers

from deepearth.lammps.cell import LammpsBox, ase_to_lammps, lammps_to_ase, voigt_to_tensor
from deepearth.lammps.child import run_child
from deepearth.lammps.library import create_lammps
from deepearth.lammps.pair import LammpsPair
from deepearth.lammps.safe import element_symbols, lammps_word
from deepearth.parallel import SINGLE_THREAD_ENV, die_with_parent
from deepearth.potentials.envelope import (ENVELOPE_FILE, TrainingEnvelope, load_envelope, npy_frames_as_atoms,
                                           read_npy_system, save_envelope)
from deepearth.potentials.pod_files import MODEL_FORMAT, read_model
from deepearth.potentials.repulsion import ZBLRepulsion

__all__ = ["MODEL_FORMAT", "PODCalculator", "PODEvaluator", "PODPotential", "bootstrap_indices", "pair_commands",
           "read_model", "read_npy_system", "run_fitpod", "write_pod_extxyz"]


# --------------------------------------------------------------------------- data

def write_pod_extxyz(frames: list[dict], path: Path) -> None:
    """Write frames in the extxyz dialect ``fitpod`` reads.

    fitpod's reader (ML-POD ``FitPOD::read_exyz_file``) takes lines of < 1024 characters; a frame is
    an atom-count line, a header line holding the words ``Lattice``, ``energy`` and ``stress`` (9
    numbers each for the tensors; all three are required) and atom lines ``species x y z fx fy fz``
    (Cartesian Å, eV/Å). ``stress`` is written as ``-virial/V`` (eV/Å³, ASE sign), zeros when unknown;
    fitpod does not fit it.
    """
    lines = []
    for fr in frames:
        cell = np.asarray(fr["cell"], float)
        vol = abs(np.linalg.det(cell))
        stress = np.zeros(9) if fr.get("virial") is None else (-np.asarray(fr["virial"]) / vol).ravel()
        lines.append(str(len(fr["symbols"])))
        lines.append('Lattice="' + " ".join(f"{x:.10f}" for x in cell.ravel()) + '" '
                     'Properties=species:S:1:pos:R:3:forces:R:3 '
                     f'energy={fr["energy"]:.10f} '
                     'stress="' + " ".join(f"{x:.10e}" for x in stress) + '" pbc="T T T"')
        for s, p, f in zip(fr["symbols"], fr["positions"], fr["forces"]):
            lines.append(f"{s} {p[0]:.10f} {p[1]:.10f} {p[2]:.10f} {f[0]:.10f} {f[1]:.10f} {f[2]:.10f}")
    Path(path).write_text("\n".join(lines) + "\n")


def bootstrap_indices(n_frames: int, seed: int) -> np.ndarray:
    """Indices of a bootstrap resample (with replacement, ``n_frames`` draws), sorted."""
    return np.sort(np.random.default_rng(seed).integers(0, n_frames, n_frames))


# --------------------------------------------------------------------------- the backend

def _body(spec, name: str) -> tuple[int, int]:
    """(number of radial functions, angular degree) from an int (radial only) or a pair."""
    if spec is None or spec == 0:
        return 0, 0
    if isinstance(spec, (int, np.integer)):
        return int(spec), 0
    r, a = spec
    if int(r) < 0 or int(a) < 0:
        raise ValueError(f"PODPotential: {name} must be non-negative, got {spec}")
    return int(r), int(a)


class PODPotential:
    """Fit (``fitpod``) and load LAMMPS ML-POD models (``model.pod``).

    Parameters
    ----------
    type_map:
        Species in LAMMPS type order (as in the DeePMD systems' ``type_map.raw``).
    rcut_A, rin_A:
        Outer and inner cutoff radii, Å (POD's radial basis lives on ``(rin, rcut)``).
    two_body:
        Number of two-body radial basis functions.
    three_body, four_body:
        ``(radial functions, angular degree)``; ``0`` turns the term off. Radial numbers and angular
        degrees must not increase with body order.
    bessel_degree, inverse_degree:
        Degrees of the Bessel and inverse-power snapshot functions the radial basis is built from.
    energy_weight, force_weight, regularization:
        fitpod's ``fitting_weight_energy`` (on per-atom energies), ``fitting_weight_force`` (on force
        components) and ``fitting_regularization_parameter`` (ridge term).
    bootstrap:
        Committee by bootstrap (see the module docstring); ``False`` fits all frames.
    repulsion:
        Lay the calibrated ZBL baseline under the fit (module docstring); ``False``: bare POD.
    """

    name = "pod"

    def __init__(self, type_map: list[str] | None = None, rcut_A: float = 5.0, rin_A: float = 0.5,
                 two_body: int = 8, three_body=(6, 4), four_body=0, bessel_degree: int = 4,
                 inverse_degree: int = 8, energy_weight: float = 100.0, force_weight: float = 1.0,
                 regularization: float = 1e-10, bootstrap: bool = True, repulsion: bool = True):
        self.type_map = element_symbols(type_map, "PODPotential: type_map") if type_map is not None else None
        if rcut_A <= rin_A:
            raise ValueError(f"PODPotential: rcut_A ({rcut_A}) must exceed rin_A ({rin_A})")
        self.rcut_A, self.rin_A = float(rcut_A), float(rin_A)
        self.two_body = int(two_body)
        self.three_body = _body(three_body, "three_body")
        self.four_body = _body(four_body, "four_body")
        self.bessel_degree, self.inverse_degree = int(bessel_degree), int(inverse_degree)
        self.energy_weight, self.force_weight = float(energy_weight), float(force_weight)
        self.regularization = float(regularization)
        self.bootstrap = bool(bootstrap)
        self.repulsion = bool(repulsion)

    # ---------------------------------------------------------------- input files

    def param_text(self, type_map: list[str]) -> str:
        """The POD parameter file (``species``, cutoffs, basis sizes per body order)."""
        type_map = element_symbols(type_map, "PODPotential: type_map")
        r3, a3 = self.three_body
        r4, a4 = self.four_body
        keys = [
            ("species", " ".join(type_map)),
            ("pbc", "1 1 1"),
            ("rin", repr(self.rin_A)),
            ("rcut", repr(self.rcut_A)),
            ("number_of_environment_clusters", "1"),
            ("number_of_principal_components", "2"),
            ("bessel_polynomial_degree", str(self.bessel_degree)),
            ("inverse_polynomial_degree", str(self.inverse_degree)),
            ("twobody_number_radial_basis_functions", str(self.two_body)),
            ("threebody_number_radial_basis_functions", str(r3)),
            ("threebody_angular_degree", str(a3)),
            ("fourbody_number_radial_basis_functions", str(r4)),
            ("fourbody_angular_degree", str(a4)),
            ("fivebody_number_radial_basis_functions", "0"),
            ("fivebody_angular_degree", "0"),
            ("sixbody_number_radial_basis_functions", "0"),
            ("sixbody_angular_degree", "0"),
            ("sevenbody_number_radial_basis_functions", "0"),
            ("sevenbody_angular_degree", "0"),
        ]
        return "# POD descriptors (deepearth)\n" + "".join(f"{k} {v}\n" for k, v in keys)

    def data_text(self, train_dir: Path, valid_dir: Path | None) -> str:
        """The fitpod data file (paths, weights, regularisation, error analysis); the folders must be
        paths without spaces or LAMMPS-special characters (fitpod's reader splits at spaces)."""
        train = lammps_word(str(train_dir), "fitpod training data folder", allow_spaces=False)
        keys = [
            ("file_format", "extxyz"),
            ("file_extension", "xyz"),
            ("path_to_training_data_set", f'"{train}"'),
            ("fraction_training_data_set", "1.0"),
            ("randomize_training_data_set", "0"),
            ("fitting_weight_energy", repr(self.energy_weight)),
            ("fitting_weight_force", repr(self.force_weight)),
            ("fitting_regularization_parameter", repr(self.regularization)),
            ("error_analysis_for_training_data_set", "1"),
            ("basename_for_output_files", "pod"),
            ("precision_for_pod_coefficients", "14"),
        ]
        if valid_dir is not None:
            valid = lammps_word(str(valid_dir), "fitpod validation data folder", allow_spaces=False)
            keys += [("path_to_test_data_set", f'"{valid}"'), ("fraction_test_data_set", "1.0"),
                     ("randomize_test_data_set", "0"), ("error_analysis_for_test_data_set", "1")]
        return "# fitpod data settings (deepearth)\n" + "".join(f"{k} {v}\n" for k, v in keys)

    # ---------------------------------------------------------------- training

    def _type_map(self, systems: list[Path]) -> list[str]:
        if self.type_map is not None:
            return self.type_map
        path = Path(systems[0]) / "type_map.raw"
        return element_symbols(path.read_text().split(), str(path))

    def train(self, workdir: Path, train_systems: list[Path], valid_systems: list[Path], seed: int,
              log_file: Path | None = None) -> Path:
        """Fit one model in ``workdir`` and return ``workdir/model.pod`` (returned at once if it exists).

        The fit runs ``fitpod`` in a child Python process (a LAMMPS error in ``fitpod`` may abort
        the whole process); its output goes to ``log_file`` (default ``workdir/train.log``).
        ``envelope.json`` (the envelope of all of ``train_systems``) is written next to the model,
        also for a finished model that has none yet.
        """
        workdir = Path(workdir).resolve()
        model = workdir / "model.pod"
        if model.is_file():
            if not (workdir / ENVELOPE_FILE).is_file() and train_systems:
                frames = [f for s in train_systems for f in read_npy_system(s)]
                save_envelope(TrainingEnvelope.from_frames(npy_frames_as_atoms(frames)), model)
            return model
        if not train_systems:
            raise ValueError(f"{workdir}: no training systems")
        type_map = self._type_map(train_systems)
        workdir.mkdir(parents=True, exist_ok=True)
        log_file = Path(log_file) if log_file else workdir / "train.log"

        frames = [f for s in train_systems for f in read_npy_system(s)]
        unknown = {s for f in frames for s in f["symbols"]} - set(type_map)
        if unknown:
            raise ValueError(f"{workdir}: species {sorted(unknown)} of the training data not in the type map {type_map}")
        picked = bootstrap_indices(len(frames), seed) if self.bootstrap else np.arange(len(frames))
        train_dir, valid_dir = workdir / "data" / "train", workdir / "data" / "valid"
        train_dir.mkdir(parents=True, exist_ok=True)
        for old in train_dir.glob("*.xyz"):
            old.unlink()
        write_pod_extxyz([frames[i] for i in picked], train_dir / "train.xyz")
        valid_frames = [f for s in valid_systems for f in read_npy_system(s)]
        if valid_frames:
            valid_dir.mkdir(parents=True, exist_ok=True)
            write_pod_extxyz(valid_frames, valid_dir / "valid.xyz")
        (workdir / "frames.json").write_text(json.dumps(
            {"bootstrap": self.bootstrap, "seed": int(seed), "n_frames": len(frames),
             "train_frame_indices": picked.tolist()}))

        param = workdir / "param.pod.txt"
        param.write_text(self.param_text(type_map))
        data = workdir / "data.pod.txt"
        data.write_text(self.data_text(train_dir, valid_dir if valid_frames else None))
        fitdir = workdir / "fit"
        fitdir.mkdir(exist_ok=True)
        coeff_out = fitdir / "pod_coefficients.pod"
        if coeff_out.exists():
            coeff_out.unlink()
        run_fitpod(param, data, fitdir, log_file, label=workdir)
        if not coeff_out.is_file():
            raise RuntimeError(f"fitpod in {workdir} wrote no coefficient file {coeff_out.name}; see {log_file}")

        # the model: parameter + coefficient files next to a manifest written last, atomically
        (workdir / "model.param.txt").write_text(param.read_text())
        (workdir / "model.coeff.txt").write_text(coeff_out.read_text())
        manifest = {"format": MODEL_FORMAT, "param": "model.param.txt", "coeff": "model.coeff.txt",
                    "type_map": type_map, "rcut_A": self.rcut_A, "bootstrap": self.bootstrap, "seed": int(seed)}
        atoms = npy_frames_as_atoms(frames)
        envelope = TrainingEnvelope.from_frames(atoms)
        if self.repulsion:
            manifest["repulsion"] = self._repulsion(workdir, manifest, envelope, atoms).to_dict()
        save_envelope(envelope, model)
        _write_manifest(manifest, model)
        return model

    def _repulsion(self, workdir: Path, manifest: dict, envelope: TrainingEnvelope, frames) -> ZBLRepulsion:
        """The ZBL baseline from ``envelope``, its scales calibrated on the bare fit (written as
        ``bare.pod`` next to the model, the manifest without repulsion)."""
        bare = workdir / "bare.pod"
        _write_manifest(manifest, bare)
        evaluator = PODEvaluator(bare)
        try:
            baseline = ZBLRepulsion.from_envelope(envelope, manifest["type_map"])
            return baseline.calibrate(evaluator.evaluate, frames, envelope.min_pair_distance_A)
        finally:
            evaluator.close()

    # ---------------------------------------------------------------- using a model

    def calculator(self, model: Path) -> "PODCalculator":
        """ASE calculator (energy eV, forces eV/Å, stress eV/Å³) running ``pair_style pod`` in-process."""
        return PODCalculator(model)

    def evaluator(self, model: Path) -> "PODEvaluator":
        return PODEvaluator(model)


def _write_manifest(manifest: dict, path: Path) -> None:
    """Write a model manifest atomically (it exists only complete)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(tmp, path)


def run_fitpod(param: Path, data: Path, cwd: Path, log_file: Path, label: Path | None = None) -> None:
    """Run ``fitpod param data`` in a child process in ``cwd`` (a LAMMPS error in ``fitpod`` may abort
    the whole process); LAMMPS' log goes to ``cwd/log.fitpod`` and the child's stdout/stderr to
    ``log_file``. Raises one line naming ``label`` (default ``cwd``), LAMMPS' error and the logs."""
    cmd = f'fitpod {lammps_word(str(param), "fitpod parameter file")} {lammps_word(str(data), "fitpod data file")}'
    run_child([cmd], cwd, log_file=Path(log_file).resolve(), lammps_log="log.fitpod",
              script="fitpod_input.py", env=SINGLE_THREAD_ENV, preexec_fn=die_with_parent,
              label=f"fitpod in {label or cwd}")


def pair_commands(model: Path | dict, type_map: list[str] | None = None) -> list[str]:
    """``pair_style``/``pair_coeff`` lines for a LAMMPS input, LAMMPS types = ``type_map`` order
    (default: the model's). ``model``: a ``model.pod`` or the manifest :func:`read_model` returned.
    A model with a ``repulsion`` runs as ``hybrid/scaled`` over ``pod`` and one ``zbl`` per pair."""
    m = model if isinstance(model, dict) else read_model(model)
    files = _pod_files_and_species(m, type_map)
    repulsion = m.get("repulsion")
    if repulsion is None:
        return ["pair_style pod", f"pair_coeff * * {files}"]
    return repulsion.lammps_commands(element_symbols(type_map or m["type_map"], "POD type map"), "pod", files)


def _pod_files_and_species(manifest: dict, type_map: list[str] | None = None) -> str:
    """``param coeff El1 El2 ...`` for ``pair_coeff``/``compute pod/atom``, every word checked."""
    tm = element_symbols(type_map or manifest["type_map"], "POD type map")
    return " ".join([lammps_word(manifest["param"], "POD parameter file"),
                     lammps_word(manifest["coeff"], "POD coefficient file"), *tm])


class PODEvaluator:
    """A persistent in-process LAMMPS instance evaluating one POD model (``pair_style pod``).

    ``evaluate`` → (energy eV, forces (N,3) eV/Å, virial (3,3) eV; virial = Σ r⊗f = −dE/dε, the
    DeePMD convention). ``descriptor`` → per-atom POD descriptors (N, M) from ``compute pod/atom``
    (single rank only): M is the number of local descriptors per element without the one-body
    term (the fitpod log prints it; e.g. 106 for two species, 8 two-body and (6, 4)
    three-body functions), the same columns for every species. Their per-species averages are
    what ``Committee.descriptor`` uses.
    Positions are wrapped into the cell and general cells rotated to LAMMPS' lower-triangular frame
    (and forces/virials rotated back). The instance is rebuilt when the cell, atom count or species
    change; otherwise only positions are sent. Not thread-safe (one instance per thread).
    """

    def __init__(self, model: Path):
        self.model = Path(model)
        self.manifest = read_model(self.model)
        self.type_map = list(self.manifest["type_map"])
        self._lmp = None
        self._key = None
        self._box: LammpsBox | None = None
        self._rot = np.eye(3)
        self._has_desc = False

    def close(self) -> None:
        if self._lmp is not None:
            self._lmp.close()
            self._lmp, self._key = None, None

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def _types(self, symbols) -> np.ndarray:
        try:
            return np.array([self.type_map.index(s) + 1 for s in symbols], dtype=np.int32)
        except ValueError:
            missing = sorted(set(symbols) - set(self.type_map))
            raise ValueError(f"{self.model}: species {missing} not in the model's type map {self.type_map}") from None

    def _setup(self, positions, cell, symbols, descriptor: bool) -> int:
        positions = np.asarray(positions, float).reshape(-1, 3)
        cell = np.asarray(cell, float).reshape(3, 3)
        types = self._types(symbols)
        n = len(types)
        frame = ase_to_lammps(cell, positions, wrap=True)
        x = frame.positions
        key = (n, types.tobytes(), cell.tobytes())
        if self._lmp is not None and self._key == key and (self._has_desc or not descriptor):
            buf = np.ascontiguousarray(x.ravel(), dtype=np.float64)
            self._lmp.scatter_atoms("x", 1, 3, buf.ctypes.data_as(ctypes.POINTER(ctypes.c_double)))
            return n
        self.close()
        lmp = create_lammps()
        self._lmp = lmp
        cmds = ["units metal", "atom_style atomic", "atom_modify map array sort 0 0.0", "boundary p p p",
                frame.box.region_command("box"), f"create_box {len(self.type_map)} box"]
        cmds += [f"mass {i + 1} {float(atomic_masses[atomic_numbers[s]]):.8g}" for i, s in enumerate(self.type_map)]
        lmp.commands_list(cmds)
        ids = np.arange(1, n + 1, dtype=np.int32)
        created = lmp.create_atoms(n, ids.tolist(), types.tolist(), x.ravel().tolist())
        if created != n:
            raise RuntimeError(f"{self.model}: LAMMPS created {created} of {n} atoms")
        pc = pair_commands(self.manifest)
        thermo = "thermo_style custom step pe c_pv[1] c_pv[2] c_pv[3] c_pv[4] c_pv[5] c_pv[6]"
        extra = []
        if descriptor:
            extra = [f"compute pd all pod/atom {_pod_files_and_species(self.manifest, self.type_map)}"]
        lmp.commands_list([*pc, "compute pv all pressure NULL virial", thermo, *extra])
        self._key, self._box, self._rot, self._has_desc = key, frame.box, frame.rotation, descriptor
        return n

    def _run(self):
        try:
            self._lmp.command("run 0 post no")
        except Exception as exc:  # noqa: BLE001 - the lammps module raises plain Exception
            msg = str(exc).strip()
            self.close()
            raise RuntimeError(f"{self.model}: LAMMPS pair_style pod failed: {msg}") from None

    def _order(self) -> np.ndarray:
        ids = np.asarray(self._lmp.numpy.extract_atom("id"))
        return np.argsort(ids[: self._lmp.extract_global("nlocal")])

    def evaluate(self, positions, cell, symbols):
        """(energy eV, forces (N,3) eV/Å, virial (3,3) eV)."""
        self._setup(positions, cell, symbols, descriptor=False)
        self._run()
        lmp = self._lmp
        energy = float(lmp.get_thermo("pe"))
        order = self._order()
        f = np.array(lmp.numpy.extract_atom("f")[: len(order)])[order]
        p = np.array(lmp.numpy.extract_compute("pv", 0, 1)[:6], float)  # xx yy zz xy xz yz, bar
        # virial (eV) = pressure (bar) · V / nktv2p (bar·Å³/eV), in LAMMPS's frame, then rotated back
        w = voigt_to_tensor(p, "lammps") * float(lmp.get_thermo("vol")) / float(lmp.extract_global("nktv2p"))
        back = lammps_to_ase(self._box, self._rot, forces=f, virial=w)
        return energy, back.forces, back.virial

    def descriptor(self, positions, cell, symbols) -> np.ndarray:
        """Per-atom POD descriptors (N, M) (``compute pod/atom``)."""
        self._setup(positions, cell, symbols, descriptor=True)
        self._run()
        order = self._order()
        d = np.array(self._lmp.numpy.extract_compute("pd", 1, 2))
        return d[order]


class PODCalculator(Calculator):
    """ASE calculator for a ``model.pod`` (energy eV, forces eV/Å, stress eV/Å³ with ASE's sign,
    ``stress = -virial/V``). Periodic cells only."""

    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, model: Path, **kwargs):
        super().__init__(**kwargs)
        self.model = Path(model)
        self._ev = PODEvaluator(self.model)

    def lammps_pair(self):
        """The model as LAMMPS ``pair_style``/``pair_coeff`` lines (:func:`pair_commands`), for the
        LAMMPS engine (:class:`~deepearth.md.lammps_engine.LammpsEngine`)."""
        manifest = self._ev.manifest
        return LammpsPair(pair_commands(manifest), list(manifest["type_map"]), plugins=False, model=str(self.model))

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        if not all(self.atoms.pbc):
            raise ValueError(f"{self.model}: PODCalculator needs a periodic cell (pbc all True)")
        e, f, w = self._ev.evaluate(self.atoms.get_positions(), self.atoms.cell.array,
                                    self.atoms.get_chemical_symbols())
        vol = self.atoms.get_volume()
        s = -w / vol
        self.results = {"energy": e, "free_energy": e, "forces": f,
                        "stress": np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])}
