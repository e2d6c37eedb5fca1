"""Read first-principles frames (VASP, Quantum ESPRESSO, CP2K, ABACUS, DeePMD npy, extxyz) with provenance.

:func:`read_frames` returns a list of :class:`ase.Atoms`, each with a ``SinglePointCalculator``
holding the reference energy (eV), forces (eV/Å) and, when the source has a virial or stress,
the stress (eV/Å³, ASE sign: positive = tensile; ``stress = −virial / volume``).

The frames themselves (species, positions, cell, energies, forces, virials) always come from
`dpdata <https://github.com/deepmodeling/dpdata>`_; this module (format detection, frames, per-frame
electronic temperatures) and :mod:`deepearth.reference.provenance` (the settings each code's header
records) only add what dpdata does not expose, read from the header of the same output (or its input
file):

``atoms.info["provenance"]`` (only what the source records; a setting that cannot be recovered
is absent, never guessed):

- ``code`` (program and version), ``functional`` (VASP ``METAGGA``/``GGA`` tags, else the POTCAR
  ``LEXCH``; QE ``Exchange-correlation``/``input_dft``; CP2K ``FUNCTIONAL|``/``&XC_FUNCTIONAL``;
  ABACUS ``dft_functional``), ``vdw``, ``potcar``;
- ``cutoff_eV`` and ``cutoff_kind`` (VASP ``ENCUT`` and QE/ABACUS ``ecutwfc`` are wave-function
  cutoffs; CP2K ``CUTOFF`` is the density-grid cutoff, not comparable);
- ``smearing`` (``fermi-dirac``, ``gaussian``, ``methfessel-paxton-N``, ``marzari-vanderbilt``,
  ``tetrahedron`` ...) and ``smearing_width_eV``;
- ``T_el_K``; ``source_file``, ``source_format`` (the dpdata format), ``source_frame``
  (index in the file, 0-based, of the frames dpdata returns).

``atoms.info["electronic_temperature_K"]`` is set only where the source defines a Fermi–Dirac
electronic temperature: VASP ``ISMEAR = -1`` (``T_el = SIGMA / k_B``), QE
``smearing = 'fd'`` (``T_el = degauss[Ry] / k_B``), CP2K ``&SMEAR METHOD FERMI_DIRAC``
(``ELECTRONIC_TEMPERATURE``), ABACUS ``smearing_method fd``. Gaussian, Methfessel–Paxton and
cold smearing are numerical broadenings, not a temperature: their kind and width are recorded
in the provenance but no electronic temperature is set. Per-frame values win over the header:
DeePMD ``fparam.npy`` (dpdata drops it; read here per frame and, **by assumption, taken to be
T_el in K** unless ``fparam_name`` names its columns otherwise) and extxyz header keys
``electronic_temperature``/``electronic_temperature_K``/``T_el``/``T_el_K``/``fparam`` (in K).

Notes on dpdata's choices: the VASP OUTCAR energy is the free energy (``TOTEN``); OUTCAR,
vasprun.xml and QE frames are rotated by dpdata to a lower-triangular cell (energies unchanged,
positions, forces and stresses rotated consistently); the QE reader handles single-point
``pw.x`` outputs (one ``!    total energy``) with the matching input file; CP2K atom kinds
(``Fe1``, ``Fe2``) become elements, the kind index kept in ``atoms.get_tags()`` and the kind
names in the provenance ``kinds``.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import tempfile
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.data import chemical_symbols
from ase.stress import full_3x3_to_voigt_6_stress

from deepearth.reference.provenance import header_settings, qe_input_path, read_head, source_error

__all__ = ["FORMATS", "frame_id", "guess_format", "read_frames"]

#: accepted ``fmt`` names -> the dpdata format used ("abacus" is resolved from the INPUT file)
FORMATS = {
    "vasp/outcar": "vasp/outcar", "outcar": "vasp/outcar",
    "vasp/xml": "vasp/xml", "vasprun": "vasp/xml", "xml": "vasp/xml",
    "qe/pw/scf": "qe/pw/scf", "qe": "qe/pw/scf", "pw": "qe/pw/scf",
    "cp2k/output": "cp2k/output", "cp2k": "cp2k/output",
    "cp2k/aimd_output": "cp2k/aimd_output",
    "abacus": "abacus", "abacus/scf": "abacus/scf", "abacus/md": "abacus/md", "abacus/relax": "abacus/relax",
    "deepmd/npy": "deepmd/npy", "deepmd": "deepmd/npy", "npy": "deepmd/npy",
    "extxyz": "extxyz", "xyz": "extxyz", "gpumd/xyz": "extxyz", "nep": "extxyz",
}

_TEL_INFO_KEYS = ("electronic_temperature_K", "electronic_temperature", "T_el_K", "T_el", "fparam")


class MissingInputError(FileNotFoundError, ValueError):
    """The path does not exist (both a FileNotFoundError and a ValueError)."""


def _abacus_calculation(folder: Path) -> str:
    text = (folder / "INPUT").read_text(errors="replace")
    m = re.search(r"^\s*calculation\s+(\S+)", text, re.MULTILINE | re.IGNORECASE)
    calc = (m.group(1).lower() if m else "scf")
    if calc == "md":
        return "abacus/md"
    if calc in ("relax", "cell-relax"):
        return "abacus/relax"
    if calc == "scf":
        return "abacus/scf"
    raise source_error(folder, f"ABACUS calculation '{calc}' is not one dpdata reads (scf, md, relax, cell-relax)")


def guess_format(path: str | Path) -> str:
    """The dpdata format of ``path`` from its name, then its contents; ValueError when unknown."""
    path = Path(path)
    if not path.exists():
        raise MissingInputError(f"{path}: no such file or folder")
    name = path.name.lower()
    if path.is_dir():
        if (path / "type.raw").is_file() and glob.glob(os.path.join(glob.escape(str(path)), "set.*")):
            return "deepmd/npy"
        if (path / "INPUT").is_file() and ((path / "STRU").is_file() or list(path.glob("OUT.*"))):
            return _abacus_calculation(path)
        if list(path.glob("*pos*.xyz")) and list(path.glob("*.log")):
            return "cp2k/aimd_output"
        raise source_error(path, "unknown kind of folder (not a DeePMD npy system, ABACUS or CP2K AIMD folder); "
                          "pass a file or give --fmt")
    head = read_head(path)
    if name.startswith("outcar") or name.endswith(".outcar"):
        return "vasp/outcar"
    if name.endswith(".xml") and "<modeling>" in head:
        return "vasp/xml"
    if name.endswith((".xyz", ".extxyz")):
        return "extxyz"
    if "Program PWSCF" in head:
        return "qe/pw/scf"
    if "CP2K|" in head:
        return "cp2k/output"
    if "<modeling>" in head:
        return "vasp/xml"
    if re.match(r"\s*vasp\.\d", head) and "POTCAR:" in head:
        return "vasp/outcar"
    lines = head.splitlines()
    if len(lines) > 1 and re.fullmatch(r"\s*\d+\s*", lines[0]) and "Properties=" in lines[1]:
        return "extxyz"
    raise source_error(path, "unknown format (not VASP OUTCAR/vasprun.xml, QE pw.x, CP2K, ABACUS, DeePMD npy "
                      "or extxyz); give --fmt")


def _resolve_fmt(path: Path, fmt: str | None) -> str:
    if fmt is None:
        return guess_format(path)
    key = fmt.strip().lower()
    if key not in FORMATS:
        raise source_error(path, f"unknown format '{fmt}' (known: {', '.join(sorted(set(FORMATS)))})")
    out = FORMATS[key]
    if out == "abacus":
        if not (path / "INPUT").is_file():
            raise source_error(path, "an ABACUS calculation is a folder with an INPUT file")
        out = _abacus_calculation(path)
    return out


# --------------------------------------------------------------------------------------- frames
def _element(name: str, path) -> str:
    name = str(name)
    if name in chemical_symbols[1:]:
        return name
    m = re.match(r"([A-Z][a-z]?)", name)
    for cand in ([m.group(1), m.group(1)[0]] if m else []):
        if cand in chemical_symbols[1:]:
            return cand
    raise source_error(path, f"atom type '{name}' is not an element (give a type map)")


def _to_atoms(data: dict, index: int, path) -> Atoms:
    names = [str(n) for n in data["atom_names"]]
    types = np.asarray(data["atom_types"], dtype=int)
    elements = [_element(n, path) for n in names]
    nopbc = bool(data.get("nopbc", False))
    cell = np.asarray(data["cells"][index], dtype=float).reshape(3, 3)
    atoms = Atoms(symbols=[elements[t] for t in types], positions=np.asarray(data["coords"][index], dtype=float),
                  cell=cell, pbc=not nopbc)
    if elements != names:  # CP2K kinds (Fe1, Fe2): keep the kind of each atom
        atoms.set_tags(types)
        atoms.info["kinds"] = ",".join(names)
    if "energies" not in data or "forces" not in data:
        raise source_error(path, "dpdata found no energies or no forces (not a labelled output)")
    stress = None
    if "virials" in data and not nopbc:
        virial = np.asarray(data["virials"][index], dtype=float).reshape(3, 3)
        stress = full_3x3_to_voigt_6_stress(-virial / abs(np.linalg.det(cell)))
    atoms.calc = SinglePointCalculator(atoms, energy=float(data["energies"][index]),
                                       forces=np.asarray(data["forces"][index], dtype=float).reshape(-1, 3),
                                       stress=stress)
    return atoms


def _case_fix_comment(line: str) -> str:
    """``Energy=``/``Virial=``/``Stress=`` (GPUMD/NEP capitalisation) -> the lower-case keys dpdata reads."""
    keys = {m.group(2) for m in re.finditer(r"(^|\s)([A-Za-z_][\w-]*)=", line)}
    for low in ("energy", "virial", "stress"):
        if low in keys:
            continue
        for k in sorted(keys):
            if k.lower() == low or k.lower() == low + "s":
                line = re.sub(rf"(^|\s){re.escape(k)}=", rf"\g<1>{low}=", line)
                break
    return line


def _read_extxyz(path: Path) -> tuple[list[dict], list[dict]]:
    """Frames of an extxyz (dpdata's parser, after normalising the header key case) and their header info."""
    from ase.io.extxyz import key_val_str_to_dict

    lines = path.read_text(errors="replace").splitlines(keepends=True)
    infos, i = [], 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        try:
            n = int(lines[i].split()[0])
        except ValueError:
            raise source_error(path, f"line {i + 1}: expected an atom count, got '{lines[i].strip()[:40]}'") from None
        if i + 1 >= len(lines):
            raise source_error(path, f"line {i + 1}: truncated frame")
        try:
            infos.append(key_val_str_to_dict(lines[i + 1]))
        except Exception:  # noqa: BLE001 - the header's extra keys are optional
            infos.append({})
        lines[i + 1] = _case_fix_comment(lines[i + 1].rstrip("\n")) + "\n"
        i += n + 2
    import dpdata  # noqa: F401 - registers the formats
    from dpdata.format import Format

    with tempfile.TemporaryDirectory() as tmp:
        fixed = Path(tmp) / "frames.extxyz"
        fixed.write_text("".join(lines))
        frames = [dict(f) for f in Format.get_formats()["extxyz"]().from_multi_systems(str(fixed))]
    if len(frames) != len(infos):
        raise source_error(path, f"dpdata read {len(frames)} frames but the file has {len(infos)} headers")
    return frames, infos


def _fparam(path: Path, nframes: int, fparam_name: str) -> list[dict]:
    sets = sorted(glob.glob(os.path.join(glob.escape(str(path)), "set.*")))  # dpdata's set order
    have = [os.path.isfile(os.path.join(s, "fparam.npy")) for s in sets]
    if not any(have):
        return [{} for _ in range(nframes)]
    if not all(have):
        raise source_error(path, "fparam.npy is in some set.* folders but not all")
    blocks = []
    for s in sets:
        arr = np.load(os.path.join(s, "fparam.npy"), allow_pickle=False)
        blocks.append(arr.reshape(arr.shape[0], -1) if arr.ndim > 1 else arr.reshape(-1, 1))
    fp = np.concatenate(blocks)
    names = [n.strip() for n in fparam_name.split(",") if n.strip()]
    if fp.shape[0] != nframes:
        raise source_error(path, f"fparam.npy has {fp.shape[0]} rows for {nframes} frames")
    if fp.shape[1] != len(names):
        raise source_error(path, f"fparam.npy has {fp.shape[1]} columns; name them (fparam_name / --fparam-name "
                          f"with {fp.shape[1]} comma-separated names, T_el_K for the electronic temperature)")
    for n in names:
        if not re.fullmatch(r"[A-Za-z_]\w*", n):
            raise source_error(path, f"fparam name '{n}' is not an identifier")
    return [{n: float(v) for n, v in zip(names, row)} for row in fp]


def _load_dpdata(path: Path, fmt: str, type_map) -> dict:
    import dpdata

    target: str | list[str] = str(path)
    if fmt == "qe/pw/scf":
        inp = qe_input_path(path)
        n_scf = read_head(path, 1 << 30).count("!    total energy")
        if n_scf != 1:
            raise source_error(path, f"{n_scf} converged SCF energies ('!    total energy'); dpdata's qe/pw/scf "
                              "reads single-point pw.x outputs only")
        target = [str(inp), str(path)]
    kwargs = {"type_map": list(type_map)} if (type_map and fmt == "deepmd/npy") else {}
    system = dpdata.LabeledSystem(target, fmt=fmt, **kwargs)
    return system.data


def _scalar(value):
    """int, float or str (ase.db refuses a string that reads as a number)."""
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, (bool, int, float)):
        return value
    for kind in (int, float):
        try:
            return kind(str(value))
        except ValueError:
            pass
    return str(value)


def read_frames(path: str | Path, fmt: str | None = None, *, type_map: list[str] | None = None,
                fparam_name: str = "T_el_K") -> list[Atoms]:
    """Labelled frames of one first-principles output (file or folder), read with dpdata.

    ``fmt``: one of :data:`FORMATS` (dpdata names and short aliases); ``None`` guesses from the
    name and contents. ``type_map``: element names of a DeePMD system without ``type_map.raw``.
    ``fparam_name``: comma-separated names of the ``fparam.npy`` columns of a DeePMD system
    (default: one column, the electronic temperature in K).

    Returns ``ase.Atoms`` with a SinglePointCalculator (energy eV, forces eV/Å, stress eV/Å³ in
    the ASE sign where the source has a virial), ``info["provenance"]`` and, where the source
    records a Fermi–Dirac electronic temperature, ``info["electronic_temperature_K"]``.
    Raises ValueError naming ``path`` when the path is missing, the format unknown, or the file
    unreadable.
    """
    path = Path(path)
    dp_fmt = _resolve_fmt(path, fmt)
    if not path.exists():
        raise MissingInputError(f"{path}: no such file or folder")
    infos: list[dict] | None = None
    try:
        if dp_fmt == "extxyz":
            frames, infos = _read_extxyz(path)
        else:
            frames = [_load_dpdata(path, dp_fmt, type_map)]
        header = header_settings(path, dp_fmt)
    except ValueError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise source_error(path, f"not readable as {dp_fmt} ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # noqa: BLE001 - dpdata raises anything on a malformed file
        raise source_error(path, f"not readable as {dp_fmt} ({type(exc).__name__}: {exc})") from None
    out: list[Atoms] = []
    source = str(path.resolve())
    for data in frames:
        nframes = len(data["energies"]) if "energies" in data else 0
        per_frame = _fparam(path, nframes, fparam_name) if dp_fmt == "deepmd/npy" else [{}] * nframes
        for j in range(nframes):
            atoms = _to_atoms(data, j, path)
            k = len(out)
            prov = dict(header, source_file=source, source_format=dp_fmt, source_frame=k)
            if "kinds" in atoms.info:
                prov["kinds"] = atoms.info.pop("kinds")
            extra = dict(per_frame[j])
            if infos is not None:
                info = {str(key).lower(): v for key, v in infos[k].items()}
                for key in _TEL_INFO_KEYS:
                    if key.lower() in info:
                        try:
                            value = np.ravel(np.asarray(info[key.lower()], dtype=float))
                        except (TypeError, ValueError):
                            value = np.array([])
                        if value.size != 1:
                            raise source_error(path, f"frame {k}: header key {key} must be one number (K)")
                        extra["T_el_K"] = float(value[0])
                        break
                ct = info.get("config_type")
                if ct is not None and np.ndim(ct) == 0:
                    prov["config_type"] = _scalar(ct)
            for name, value in extra.items():
                prov[name] = value
            if "T_el_K" in prov:
                atoms.info["electronic_temperature_K"] = float(prov["T_el_K"])
            atoms.info["provenance"] = prov
            out.append(atoms)
    if not out:
        raise source_error(path, f"no labelled frames found (read as {dp_fmt})")
    return out


def frame_id(atoms: Atoms, source: str, index: int) -> str:
    """Deterministic candidate id of an imported frame: hash of source path, frame index and content."""
    h = hashlib.sha1()
    h.update(f"{source}\0{index}\0".encode())
    h.update(np.asarray(atoms.numbers, dtype=np.int64).tobytes())
    for arr in (atoms.positions, atoms.cell.array, atoms.get_forces(),
                np.array([atoms.get_potential_energy()])):
        h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
    return "import-" + h.hexdigest()[:24]
