"""What a first-principles output records about how it was computed: the ``provenance`` of
:func:`deepearth.reference.io.read_frames` (code and version, functional, cutoff, smearing and, for
Fermi–Dirac smearing, the electronic temperature), read from the header of the output or its input file
for VASP (OUTCAR, vasprun.xml), Quantum ESPRESSO pw.x, CP2K and ABACUS (:func:`header_settings`).

Only what the source records is returned; a setting that cannot be recovered is absent, never guessed.
Energies in eV, temperatures in K (Ry, Hartree and k_B from :mod:`deepearth.units`, CODATA 2018).
"""

from __future__ import annotations

import re
from pathlib import Path

from deepearth.units import HARTREE_EV, KB_EV_PER_K, RY_EV


def source_error(path, msg: str, limit: int = 160) -> ValueError:
    """A one-line ValueError naming ``path`` (the detail cut to ``limit`` characters)."""
    msg = " ".join(str(msg).split())
    return ValueError(f"{path}: {msg if len(msg) <= limit else msg[:limit - 3] + '...'}")


def read_head(path: Path, n: int = 65536) -> str:
    """The first ``n`` bytes of ``path`` as text; an unreadable file is one :func:`source_error`."""
    try:
        with open(path, "rb") as fh:
            return fh.read(n).decode("utf-8", "replace")
    except OSError as exc:
        raise source_error(path, f"unreadable ({exc.strerror or exc})") from None


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


def qe_input_path(out: Path) -> Path:
    """The pw.x input beside the output ``out`` (dpdata's QE reader needs both)."""
    candidates = [out.parent / out.name.replace("out", "in"), out.with_suffix(".in"),
                  out.with_suffix(".pwi"), out.parent / "pw.in"]
    for c in candidates:
        if c != out and c.is_file():
            return c
    raise source_error(out, f"the Quantum ESPRESSO reader needs the pw.x input too (looked for "
                     f"{', '.join(sorted({c.name for c in candidates if c != out}))} beside it)")


def _qe_settings(out: Path, inp: Path) -> dict:
    head = read_head(out, 200000)
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
    head = read_head(log, 400000)
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
        v = _first(r"ABACUS\s+v?(\d\S*)", read_head(log, 20000))
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


def header_settings(path: Path, fmt: str) -> dict:
    """The settings the header of ``path`` (read as dpdata format ``fmt``) or its input file records."""
    if fmt == "vasp/outcar":
        return _vasp_outcar_settings(path)
    if fmt == "vasp/xml":
        return _vasp_xml_settings(path)
    if fmt == "qe/pw/scf":
        return _qe_settings(path, qe_input_path(path))
    if fmt == "cp2k/output":
        return _cp2k_settings(path)
    if fmt == "cp2k/aimd_output":
        logs = sorted(path.glob("*.log"))
        inps = sorted(path.glob("*.inp"))
        return _cp2k_settings(logs[0], inps[0] if inps else None) if logs else {}
    if fmt.startswith("abacus/"):
        return _abacus_settings(path)
    return {}


__all__ = ["header_settings", "qe_input_path", "read_head", "source_error"]


def code_name(code: str) -> str:
    """The name of a code without its version: the words of ``code`` that do not start with a digit
    or ``v<digit>`` (``"VASP 6.3.2 18Apr22"`` → ``"VASP"``, ``"Quantum ESPRESSO pw.x 5.1.1"`` →
    ``"Quantum ESPRESSO pw.x"``). One store or training set holds one code by this name: versions
    may differ, codes may not."""
    words = [w for w in str(code).split() if not re.match(r"^[vV]?\d", w)]
    return " ".join(words) or str(code)
