"""Read first-principles frames (VASP, Quantum ESPRESSO, CP2K, ABACUS, DeePMD npy, extxyz) with provenance.

:func:`read_frames` returns a list of :class:`ase.Atoms`, each with a ``SinglePointCalculator``
holding the reference energy (eV), forces (eV/Å) and, when the source has a virial or stress,
the stress (eV/Å³, ASE sign: positive = tensile; ``stress = −virial / volume``).

The frames themselves (species, positions, cell, energies, forces, virials) always come from
`dpdata <https://github.com/deepmodeling/dpdata>`_; this module only adds what dpdata does not
expose, read from the header of the same output (or its input file):

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
from ase import Atoms, units
from ase.calculators.singlepoint import SinglePointCalculator
from ase.data import chemical_symbols
from ase.stress import full_3x3_to_voigt_6_stress

__all__ = ["FORMATS", "frame_id", "guess_format", "read_frames"]

KB_EV_PER_K = units.kB
RY_EV = units.Ry
HARTREE_EV = units.Hartree

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


def _fail(path, msg: str, limit: int = 160) -> ValueError:
    """A one-line ValueError naming ``path`` (the detail cut to ``limit`` characters)."""
    msg = " ".join(str(msg).split())
    return ValueError(f"{path}: {msg if len(msg) <= limit else msg[:limit - 3] + '...'}")


# --------------------------------------------------------------------------------------- format
def _head(path: Path, n: int = 65536) -> str:
    try:
        with open(path, "rb") as fh:
            return fh.read(n).decode("utf-8", "replace")
    except OSError as exc:
        raise _fail(path, f"unreadable ({exc.strerror or exc})") from None


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
    raise _fail(folder, f"ABACUS calculation '{calc}' is not one dpdata reads (scf, md, relax, cell-relax)")


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
        raise _fail(path, "unknown kind of folder (not a DeePMD npy system, ABACUS or CP2K AIMD folder); "
                          "pass a file or give --fmt")
    head = _head(path)
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
    raise _fail(path, "unknown format (not VASP OUTCAR/vasprun.xml, QE pw.x, CP2K, ABACUS, DeePMD npy "
                      "or extxyz); give --fmt")


def _resolve_fmt(path: Path, fmt: str | None) -> str:
    if fmt is None:
        return guess_format(path)
    key = fmt.strip().lower()
    if key not in FORMATS:
        raise _fail(path, f"unknown format '{fmt}' (known: {', '.join(sorted(set(FORMATS)))})")
    out = FORMATS[key]
    if out == "abacus":
        if not (path / "INPUT").is_file():
            raise _fail(path, "an ABACUS calculation is a folder with an INPUT file")
        out = _abacus_calculation(path)
    return out


# ----------------------------------------------------------------------------------- provenance
def _num(s: str) -> float:
    return float(s.replace("D", "E").replace("d", "e"))


def _first(pattern: str, text: str, flags: int = 0):
    m = re.search(pattern, text, flags)
    return m.group(1).strip() if m else None


_VASP_GGA = {"PE": "PBE", "PS": "PBEsol", "91": "PW91", "RP": "RPBE", "RE": "revPBE", "AM": "AM05",
             "CA": "LDA", "B3": "B3LYP", "BO": "optB86b-vdW", "OR": "optPBE-vdW", "MK": "optB88-vdW",
             "ML": "vdW-DF2", "CX": "vdW-DF-cx"}
_FALSE = {"F", "FALSE", ".FALSE.", "--", "NONE", "0", ""}


def _vasp_smearing(prov: dict, ismear: int | None, sigma: float | None) -> None:
    if ismear is None:
        return
    kind = {-1: "fermi-dirac", 0: "gaussian", -2: "fixed-occupations", -4: "tetrahedron",
            -5: "tetrahedron-blochl"}.get(ismear, f"methfessel-paxton-{ismear}" if ismear > 0 else f"ISMEAR={ismear}")
    prov["smearing"] = kind
    if sigma is not None and (ismear >= -1):
        prov["smearing_width_eV"] = sigma
        if ismear == -1:
            prov["T_el_K"] = sigma / KB_EV_PER_K


def _vasp_functional(prov: dict, gga, metagga, lexch, lhfcalc, aexx, hfscreen, ivdw) -> None:
    func = None
    if metagga and metagga.upper() not in _FALSE:
        func = metagga.upper()
    elif gga and gga.upper() not in _FALSE:
        func = _VASP_GGA.get(gga.upper(), f"GGA={gga}")
    elif lexch:
        func = _VASP_GGA.get(lexch.upper(), f"LEXCH={lexch}")
    if func and lhfcalc and lhfcalc.upper().strip(".").startswith("T"):
        extra = ",".join(f"{k}={v}" for k, v in (("AEXX", aexx), ("HFSCREEN", hfscreen)) if v is not None)
        func = f"{func}+HF({extra})" if extra else f"{func}+HF"
    if func:
        prov["functional"] = func
    if ivdw and ivdw.strip() not in _FALSE:
        prov["vdw"] = f"IVDW={ivdw.strip()}"


def _vasp_outcar_settings(path: Path) -> dict:
    lines = []
    with open(path, errors="replace") as fh:  # the header: everything before the first electronic step
        for line in fh:
            if "Iteration" in line and "---" in line:
                break
            lines.append(line)
            if len(lines) > 20000:
                break
    text = "".join(lines)
    prov: dict = {}
    version = _first(r"^\s*vasp\.(\S+)", text, re.MULTILINE)
    prov["code"] = f"VASP {version}" if version else "VASP"
    encut = _first(r"ENCUT\s*=\s*([\d.]+)", text)
    if encut:
        prov["cutoff_eV"], prov["cutoff_kind"] = float(encut), "plane-wave (ENCUT)"
    ismear = _first(r"ISMEAR\s*=\s*(-?\d+)", text)
    sigma = _first(r"SIGMA\s*=\s*([-\d.Ee+]+)", text)
    _vasp_smearing(prov, int(ismear) if ismear else None, float(sigma) if sigma else None)
    titles = list(dict.fromkeys(t.strip() for t in re.findall(r"TITEL\s*=\s*(.+)", text)))
    if titles:
        prov["potcar"] = "; ".join(titles)
    lexch = next((v for v in re.findall(r"LEXCH\s*=\s*(\S+)", text) if not v.isdigit()), None)
    _vasp_functional(prov, _first(r"^\s*GGA\s*=\s*(\S+)", text, re.MULTILINE), _first(r"METAGGA\s*=\s*(\S+)", text),
                     lexch, _first(r"LHFCALC\s*=\s*(\S+)", text), _first(r"AEXX\s*=\s*([-\d.Ee+]+)", text),
                     _first(r"HFSCREEN\s*=\s*([-\d.Ee+]+)", text), _first(r"IVDW\s*=\s*(\S+)", text))
    return prov


def _vasp_xml_settings(path: Path) -> dict:
    chunks = []
    with open(path, errors="replace") as fh:
        for line in fh:
            if "<calculation>" in line:
                break
            chunks.append(line)
    text = "".join(chunks)

    def tag(name):
        return _first(rf'<i\b[^>]*\bname="{name}"[^>]*>\s*([^<]*?)\s*</i>', text)

    prov: dict = {}
    version = tag("version")
    prov["code"] = f"VASP {version}" if version else "VASP"
    encut = tag("ENCUT")
    if encut:
        prov["cutoff_eV"], prov["cutoff_kind"] = float(encut), "plane-wave (ENCUT)"
    ismear, sigma = tag("ISMEAR"), tag("SIGMA")
    _vasp_smearing(prov, int(float(ismear)) if ismear else None, float(sigma) if sigma else None)
    titles = list(dict.fromkeys(t.strip() for t in re.findall(r"<c>\s*(PAW[^<]*?)\s*</c>", text)))
    if titles:
        prov["potcar"] = "; ".join(titles)
    lexch = None
    if titles:  # POTCAR family: PAW_PBE -> PBE; PAW_GGA -> PW91; plain PAW -> LDA
        fam = titles[0].split()[0].upper()
        lexch = {"PAW_PBE": "PE", "PAW_GGA": "91", "PAW": "CA"}.get(fam)
    _vasp_functional(prov, tag("GGA"), tag("METAGGA"), lexch, tag("LHFCALC"), tag("AEXX"), tag("HFSCREEN"),
                     tag("IVDW"))
    return prov


_QE_SMEAR = {"gaussian": "gaussian", "gauss": "gaussian", "fd": "fermi-dirac", "f-d": "fermi-dirac",
             "fermi-dirac": "fermi-dirac", "mp": "methfessel-paxton", "m-p": "methfessel-paxton",
             "methfessel-paxton": "methfessel-paxton", "mv": "marzari-vanderbilt", "m-v": "marzari-vanderbilt",
             "marzari-vanderbilt": "marzari-vanderbilt", "cold": "marzari-vanderbilt"}


def _qe_input_path(out: Path) -> Path:
    candidates = [out.parent / out.name.replace("out", "in"), out.with_suffix(".in"),
                  out.with_suffix(".pwi"), out.parent / "pw.in"]
    for c in candidates:
        if c != out and c.is_file():
            return c
    raise _fail(out, f"the Quantum ESPRESSO reader needs the pw.x input too (looked for "
                     f"{', '.join(sorted({c.name for c in candidates if c != out}))} beside it)")


def _qe_settings(out: Path, inp: Path) -> dict:
    head = _head(out, 200000)
    text_in = inp.read_text(errors="replace")

    def key_in(name):
        v = _first(rf"\b{name}\s*=\s*([^,\n/]+)", text_in, re.IGNORECASE)
        return v.strip().strip("'\"") if v else None

    prov: dict = {}
    version = _first(r"Program PWSCF\s+v\.?(\S+)", head)
    prov["code"] = f"Quantum ESPRESSO pw.x {version}" if version else "Quantum ESPRESSO pw.x"
    func = _first(r"Exchange-correlation\s*=\s*(\S+)", head) or key_in("input_dft")
    if func:
        prov["functional"] = func
    ecut = _first(r"kinetic-energy cutoff\s*=\s*([\d.]+)\s*Ry", head) or key_in("ecutwfc")
    if ecut:
        prov["cutoff_eV"], prov["cutoff_kind"] = _num(ecut) * RY_EV, "plane-wave (ecutwfc)"
    m = re.search(r"([A-Za-z-]+) smearing, width \(Ry\)\s*=\s*([-\d.Ee+]+)", head)
    kind = width_ry = None
    if m:
        kind, width_ry = _QE_SMEAR.get(m.group(1).lower(), m.group(1).lower()), _num(m.group(2))
    elif (key_in("occupations") or "").lower() == "smearing":
        kind = _QE_SMEAR.get((key_in("smearing") or "gaussian").lower(), key_in("smearing"))
        width_ry = _num(key_in("degauss")) if key_in("degauss") else None
    if kind:
        prov["smearing"] = kind
        if width_ry is not None:
            prov["smearing_width_eV"] = width_ry * RY_EV
            if kind == "fermi-dirac":
                prov["T_el_K"] = width_ry * RY_EV / KB_EV_PER_K
    return prov


def _cp2k_settings(log: Path, inp: Path | None = None) -> dict:
    head = _head(log, 400000)
    prov: dict = {}
    version = _first(r"CP2K\|\s*version string:\s*(.+)", head)
    prov["code"] = version if version else "CP2K"
    funcs = list(dict.fromkeys(re.findall(r"FUNCTIONAL\|\s+([^\s:][^:\n]*?):", head)))
    text_in = inp.read_text(errors="replace") if inp is not None and inp.is_file() else ""
    if not funcs and text_in:
        funcs = re.findall(r"&XC_FUNCTIONAL\s+(\w+)", text_in, re.IGNORECASE)
    if funcs:
        prov["functional"] = "+".join(funcs)
    vdw = _first(r"vdW POTENTIAL\|\s+(DFT-D\S*)", head)
    if vdw:
        prov["vdw"] = vdw
    cut = _first(r"QS\|\s*Density cutoff \[a\.u\.\]:\s*([\d.Ee+-]+)", head)
    if cut:
        prov["cutoff_eV"] = _num(cut) * HARTREE_EV
    elif text_in:
        m = re.search(r"^\s*CUTOFF\s+(?:\[(\w+)\]\s*)?([\d.EeDd+-]+)", text_in, re.MULTILINE | re.IGNORECASE)
        if m and (m.group(1) or "Ry").lower() in ("ry", "hartree", "ev"):
            f = {"ry": RY_EV, "hartree": HARTREE_EV, "ev": 1.0}[(m.group(1) or "Ry").lower()]
            prov["cutoff_eV"] = _num(m.group(2)) * f
    if "cutoff_eV" in prov:
        prov["cutoff_kind"] = "density grid (CP2K CUTOFF)"
    method = _first(r"Smear method:\s*(\S+)", head)
    t_k = _first(r"Electronic temperature \[K\]:\s*([\d.Ee+-]+)", head)
    if method is None and text_in:
        m = re.search(r"&SMEAR\b([^\n]*)\n(.*?)&END\s+SMEAR", text_in, re.IGNORECASE | re.DOTALL)
        if m and m.group(1).strip().upper().strip(".") not in ("OFF", "F", "FALSE", "NO"):
            method = _first(r"^\s*METHOD\s+(\w+)", m.group(2), re.MULTILINE | re.IGNORECASE) or "FERMI_DIRAC"
            mt = re.search(r"^\s*ELECTRONIC_TEMPERATURE\s+(?:\[(\w+)\]\s*)?([\d.EeDd+-]+)", m.group(2), re.MULTILINE | re.IGNORECASE)
            if mt and (mt.group(1) or "K").upper() == "K":
                t_k = mt.group(2)
    if method:
        prov["smearing"] = method.lower().replace("_", "-")
        if prov["smearing"] == "fermi-dirac" and t_k:
            prov["T_el_K"] = _num(t_k)
            prov["smearing_width_eV"] = _num(t_k) * KB_EV_PER_K
    return prov


_ABACUS_SMEAR = {"gauss": "gaussian", "gaussian": "gaussian", "fd": "fermi-dirac", "fermi-dirac": "fermi-dirac",
                 "mp": "methfessel-paxton", "mp2": "methfessel-paxton-2", "mv": "marzari-vanderbilt",
                 "cold": "marzari-vanderbilt", "fixed": "fixed-occupations"}


def _abacus_settings(folder: Path) -> dict:
    text = (folder / "INPUT").read_text(errors="replace")

    def key(name):
        return _first(rf"^\s*{name}\s+(\S+)", text, re.MULTILINE | re.IGNORECASE)

    prov: dict = {"code": "ABACUS"}
    for log in sorted(folder.glob("OUT.*/running_*.log")):
        v = _first(r"ABACUS\s+v?(\d\S*)", _head(log, 20000))
        if v:
            prov["code"] = f"ABACUS {v}"
            break
    if key("dft_functional"):
        prov["functional"] = key("dft_functional")
    if key("ecutwfc"):
        prov["cutoff_eV"], prov["cutoff_kind"] = _num(key("ecutwfc")) * RY_EV, "plane-wave (ecutwfc)"
    method = key("smearing_method")
    if method:
        kind = _ABACUS_SMEAR.get(method.lower(), method.lower())
        prov["smearing"] = kind
        sigma = key("smearing_sigma")
        if sigma and kind != "fixed-occupations":
            prov["smearing_width_eV"] = _num(sigma) * RY_EV
            if kind == "fermi-dirac":
                prov["T_el_K"] = _num(sigma) * RY_EV / KB_EV_PER_K
    return prov


# --------------------------------------------------------------------------------------- frames
def _element(name: str, path) -> str:
    name = str(name)
    if name in chemical_symbols[1:]:
        return name
    m = re.match(r"([A-Z][a-z]?)", name)
    for cand in ([m.group(1), m.group(1)[0]] if m else []):
        if cand in chemical_symbols[1:]:
            return cand
    raise _fail(path, f"atom type '{name}' is not an element (give a type map)")


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
        raise _fail(path, "dpdata found no energies or no forces (not a labelled output)")
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
            raise _fail(path, f"line {i + 1}: expected an atom count, got '{lines[i].strip()[:40]}'") from None
        if i + 1 >= len(lines):
            raise _fail(path, f"line {i + 1}: truncated frame")
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
        raise _fail(path, f"dpdata read {len(frames)} frames but the file has {len(infos)} headers")
    return frames, infos


def _fparam(path: Path, nframes: int, fparam_name: str) -> list[dict]:
    sets = sorted(glob.glob(os.path.join(glob.escape(str(path)), "set.*")))  # dpdata's set order
    have = [os.path.isfile(os.path.join(s, "fparam.npy")) for s in sets]
    if not any(have):
        return [{} for _ in range(nframes)]
    if not all(have):
        raise _fail(path, "fparam.npy is in some set.* folders but not all")
    blocks = []
    for s in sets:
        arr = np.load(os.path.join(s, "fparam.npy"))
        blocks.append(arr.reshape(arr.shape[0], -1) if arr.ndim > 1 else arr.reshape(-1, 1))
    fp = np.concatenate(blocks)
    names = [n.strip() for n in fparam_name.split(",") if n.strip()]
    if fp.shape[0] != nframes:
        raise _fail(path, f"fparam.npy has {fp.shape[0]} rows for {nframes} frames")
    if fp.shape[1] != len(names):
        raise _fail(path, f"fparam.npy has {fp.shape[1]} columns; name them (fparam_name / --fparam-name "
                          f"with {fp.shape[1]} comma-separated names, T_el_K for the electronic temperature)")
    for n in names:
        if not re.fullmatch(r"[A-Za-z_]\w*", n):
            raise _fail(path, f"fparam name '{n}' is not an identifier")
    return [{n: float(v) for n, v in zip(names, row)} for row in fp]


def _load_dpdata(path: Path, fmt: str, type_map) -> dict:
    import dpdata

    target: str | list[str] = str(path)
    if fmt == "qe/pw/scf":
        inp = _qe_input_path(path)
        n_scf = _head(path, 1 << 30).count("!    total energy")
        if n_scf != 1:
            raise _fail(path, f"{n_scf} converged SCF energies ('!    total energy'); dpdata's qe/pw/scf "
                              "reads single-point pw.x outputs only")
        target = [str(inp), str(path)]
    kwargs = {"type_map": list(type_map)} if (type_map and fmt == "deepmd/npy") else {}
    system = dpdata.LabeledSystem(target, fmt=fmt, **kwargs)
    return system.data


def _settings(path: Path, fmt: str) -> dict:
    if fmt == "vasp/outcar":
        return _vasp_outcar_settings(path)
    if fmt == "vasp/xml":
        return _vasp_xml_settings(path)
    if fmt == "qe/pw/scf":
        return _qe_settings(path, _qe_input_path(path))
    if fmt == "cp2k/output":
        return _cp2k_settings(path)
    if fmt == "cp2k/aimd_output":
        logs = sorted(path.glob("*.log"))
        inps = sorted(path.glob("*.inp"))
        return _cp2k_settings(logs[0], inps[0] if inps else None) if logs else {}
    if fmt.startswith("abacus/"):
        return _abacus_settings(path)
    return {}


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
        header = _settings(path, dp_fmt)
    except ValueError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise _fail(path, f"not readable as {dp_fmt} ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # noqa: BLE001 - dpdata raises anything on a malformed file
        raise _fail(path, f"not readable as {dp_fmt} ({type(exc).__name__}: {exc})") from None
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
                            raise _fail(path, f"frame {k}: header key {key} must be one number (K)")
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
        raise _fail(path, f"no labelled frames found (read as {dp_fmt})")
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
