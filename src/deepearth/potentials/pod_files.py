"""The files of a LAMMPS ML-POD model, checked before LAMMPS sees them.

A model is a folder: the JSON manifest ``model.pod`` and the parameter and coefficient files it
names (and, under ``repulsion``, the radii and scales of its ZBL baseline: numbers only). The folder
is a closed world: the manifest names plain file names inside it (no directory
separators, no ``..``, no absolute paths, no links leading out of it), and every name and path that
reaches a LAMMPS command passes :func:`deepearth.lammps.safe.lammps_word`. LAMMPS's own readers
(ML-POD ``EAPOD::read_pod_file``/``read_model_coeff_file``) stop some malformed files with an error
but crash on others (no snapshot functions, descriptor counts past the basis); here every file is
parsed first and anything off is one ``ValueError`` naming the file, the key or line, and the fault.

Parameter file: lines ``keyword value`` (``species`` takes element symbols, ``pbc`` three flags;
``#`` starts a comment); keywords missing take LAMMPS's defaults. Coefficient file: a header
``model_coefficients: NC NP NK`` and then NC coefficients, NP projection-matrix and NK centroid
entries, one number a line. NC must be the count the parameter file implies (:func:`n_coefficients`).
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepearth.lammps.safe import element_symbols, lammps_word
from deepearth.potentials.repulsion import ZBLRepulsion

__all__ = ["MODEL_FORMAT", "PODParams", "check_pod_coeff", "model_member", "n_coefficients", "read_model",
           "read_pod_param"]

MODEL_FORMAT = "deepearth-pod/1"

#: Larger manifests or parameter files are not ours; coefficient files are read line by line.
MAX_TEXT_BYTES = 1 << 20
#: LAMMPS reads POD files in 1024-byte lines; a longer line would be cut into two.
MAX_LINE_CHARS = 1000

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_SPLIT = re.compile(r"[\"' \t\n\r\f\v]+")  # LAMMPS's POD tokenizer: blanks and quotes separate words

# keyword -> (LAMMPS default, smallest, largest allowed value); rin/rcut are floats, the rest integers
_FLOATS = {"rin": (0.5, 0.0, 100.0), "rcut": (5.0, 0.0, 100.0)}
_INTS = {
    "number_of_environment_clusters": (1, 1, 1000), "number_of_principal_components": (1, 1, 1000),
    "bessel_polynomial_degree": (4, 1, 100), "inverse_polynomial_degree": (8, 1, 100), "onebody": (1, 0, 1),
    "twobody_number_radial_basis_functions": (8, 0, 200), "threebody_number_radial_basis_functions": (6, 0, 200),
    "threebody_angular_degree": (4, 0, 12), "fourbody_number_radial_basis_functions": (4, 0, 200),
    "fourbody_angular_degree": (3, 0, 6), "fivebody_number_radial_basis_functions": (0, 0, 200),
    "fivebody_angular_degree": (0, 0, 6), "sixbody_number_radial_basis_functions": (0, 0, 200),
    "sixbody_angular_degree": (0, 0, 6), "sevenbody_number_radial_basis_functions": (0, 0, 200),
    "sevenbody_angular_degree": (0, 0, 6),
}
_NB4 = (1, 2, 4, 7, 11, 16, 23)  # four-body angular functions per degree (EAPOD::init4body)
_DEG3 = tuple(range(13))  # degree of each three-body angular function
_DEG4 = (0, 1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6)


def model_member(model: Path, key: str, value: object) -> Path:
    """The file ``value`` that manifest ``model`` names under ``key``: a plain file name inside the
    manifest's folder (a link only to a file in that folder). Returns its resolved path;
    ``ValueError`` naming the manifest, the key and the value otherwise."""
    model = Path(model)
    where = f"{model}: key {key!r}"
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}: expected a file name, got {value!r}")
    if "/" in value or "\\" in value or value in (".", "..") or (os.altsep and os.altsep in value):
        raise ValueError(f"{where}: {value!r} is not a plain file name in the model's folder "
                         "(no directories, '..' or absolute paths)")
    lammps_word(value, where, allow_spaces=False)
    folder = model.parent.resolve()
    real = (folder / value).resolve()
    if real.parent != folder:
        raise ValueError(f"{where}: {value!r} links to {real}, outside the model's folder {folder}")
    if not real.is_file():
        raise ValueError(f"{where}: {value!r} is missing (no such file in {folder})")
    return real


def _text(path: Path, what: str) -> str:
    """A small text file's content; ``ValueError`` when it is too large, binary or unreadable."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_TEXT_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    if len(raw) > MAX_TEXT_BYTES:
        raise ValueError(f"{path}: not a {what} (larger than {MAX_TEXT_BYTES} bytes)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a {what} (not UTF-8 text)") from None


def _words(path: Path, lineno: int, line: str, what: str) -> list[str]:
    if len(line.encode()) > MAX_LINE_CHARS:
        raise ValueError(f"{path}: line {lineno}: longer than {MAX_LINE_CHARS} characters; not a {what}")
    if any(not ch.isprintable() and ch not in "\t\r\f\v" for ch in line):
        raise ValueError(f"{path}: line {lineno}: control characters; not a {what}")
    return [w for w in _SPLIT.split(line.split("#", 1)[0]) if w]


def _number(path: Path, lineno: int, key: str, word: str, integer: bool) -> float | int:
    ok = _INT.fullmatch(word) if integer else _FLOAT.fullmatch(word)
    value = (int(word) if integer else float(word)) if ok else None
    if value is None or (not integer and not math.isfinite(value)):
        raise ValueError(f"{path}: line {lineno}: {key}: expected {'an integer' if integer else 'a number'}, "
                         f"got {word!r}")
    return value


@dataclass(frozen=True)
class PODParams:
    """A checked POD parameter file: its species and every setting (LAMMPS's defaults where absent)."""

    path: Path
    species: tuple[str, ...]
    values: dict

    def __getitem__(self, key: str):
        return self.values[key]


def read_pod_param(path: Path) -> PODParams:
    """Parse and check a POD parameter file (see the module docstring); ``ValueError`` naming the
    file, the line or key and what is wrong."""
    path = Path(path)
    what = "POD parameter file"
    values: dict = {k: v[0] for k, v in {**_FLOATS, **_INTS}.items()}
    species: list[str] | None = None
    seen: dict[str, int] = {}
    for lineno, line in enumerate(_text(path, what).split("\n"), 1):
        words = _words(path, lineno, line, what)
        if not words:
            continue
        key, args = words[0], words[1:]
        if key in seen:
            raise ValueError(f"{path}: line {lineno}: {key!r} repeated (first on line {seen[key]})")
        seen[key] = lineno
        if key == "species":
            species = element_symbols(args, f"{path}: line {lineno}: species")
        elif key == "pbc":
            flags = [_number(path, lineno, key, w, True) for w in args]
            if len(flags) != 3 or any(f not in (0, 1) for f in flags):
                raise ValueError(f"{path}: line {lineno}: pbc: expected three flags 0 or 1, got {' '.join(args)!r}")
            values["pbc"] = tuple(flags)
        elif key in _FLOATS or key in _INTS:
            if len(args) != 1:
                raise ValueError(f"{path}: line {lineno}: {key}: expected one value, got {len(args)}")
            _, lo, hi = _FLOATS.get(key) or _INTS[key]
            value = _number(path, lineno, key, args[0], key in _INTS)
            if not lo <= value <= hi:
                raise ValueError(f"{path}: line {lineno}: {key} = {value} outside [{lo}, {hi}]")
            values[key] = value
        else:
            raise ValueError(f"{path}: line {lineno}: unknown keyword {key!r}; not a {what}")
    if species is None:
        raise ValueError(f"{path}: no 'species' line; not a {what}")
    _check_orders(path, values)
    return PODParams(path, tuple(species), values)


def _check_orders(path: Path, v: dict) -> None:
    """The relations LAMMPS needs between the settings (some it checks, some it crashes on)."""
    if v["rcut"] <= v["rin"]:
        raise ValueError(f"{path}: rcut ({v['rcut']}) must exceed rin ({v['rin']})")
    n_snap = 3 * v["bessel_polynomial_degree"] + v["inverse_polynomial_degree"]
    names = ("two", "three", "four", "five", "six", "seven")
    for name in names:
        r = v[f"{name}body_number_radial_basis_functions"]
        if r > n_snap:
            raise ValueError(f"{path}: {name}body_number_radial_basis_functions ({r}) exceeds the {n_snap} snapshot "
                             "functions (3 bessel_polynomial_degree + inverse_polynomial_degree)")
    r3, r4 = v["threebody_number_radial_basis_functions"], v["fourbody_number_radial_basis_functions"]
    a3, a4 = v["threebody_angular_degree"], v["fourbody_angular_degree"]
    if r4 > r3 or a4 > a3:
        raise ValueError(f"{path}: four-body radial functions ({r4}) and angular degree ({a4}) must not exceed "
                         f"the three-body ones ({r3}, {a3})")
    for name in names[3:]:
        r, a = v[f"{name}body_number_radial_basis_functions"], v[f"{name}body_angular_degree"]
        if r > r4 or a > a4:
            raise ValueError(f"{path}: {name}-body radial functions ({r}) and angular degree ({a}) must not exceed "
                             f"the four-body ones ({r4}, {a4})")


def _cross(deg1: tuple, nabf1: int, nrbf1: int, nebf1: int, deg2: tuple, nabf2: int, nrbf2: int, nebf2: int,
           degree: int, nrbf: int) -> int:
    """Number of cross descriptors (ML-POD ``EAPOD::crossindices``)."""
    if nrbf <= 0 or min(nabf1, nrbf1, nebf1, nabf2, nrbf2, nebf2) <= 0:
        return 0

    def grid(deg, nabf, nrbf_, nebf):
        i, j, k = np.meshgrid(np.arange(nebf), np.arange(nrbf_), np.arange(nabf), indexing="ij")
        return i.ravel(), j.ravel(), (k + j * nabf).ravel(), np.asarray(deg[:nabf])[k.ravel()]

    i1, j1, m1, a1 = grid(deg1, nabf1, nrbf1, nebf1)
    i2, j2, m2, a2 = grid(deg2, nabf2, nrbf2, nebf2)
    ok = ((m2[None] >= m1[:, None]) & (i2[None] >= i1[:, None]) & (a1[:, None] + a2[None] <= degree)
          & (j1[:, None] + j2[None] < nrbf))
    return int(ok.sum())


def n_coefficients(p: PODParams) -> tuple[int, int, int]:
    """(coefficients, projection-matrix entries, centroid entries) the parameter file implies
    (ML-POD ``EAPOD::read_pod_file``); the last two are 0 for one environment cluster."""
    ne = len(p.species)
    e3, e4 = ne * (ne + 1) // 2, ne * (ne + 1) * (ne + 2) // 6
    r2, r3, r4 = (p[f"{n}body_number_radial_basis_functions"] for n in ("two", "three", "four"))
    nabf3, nabf4 = p["threebody_angular_degree"] + 1, _NB4[p["fourbody_angular_degree"]]
    mdesc = r2 * ne + nabf3 * r3 * e3 + nabf4 * r4 * e4
    mdesc += _cross(_DEG3, nabf3, r3, e3, _DEG3, nabf3, r3, e3, p["fivebody_angular_degree"],
                    p["fivebody_number_radial_basis_functions"])
    mdesc += _cross(_DEG3, nabf3, r3, e3, _DEG4, nabf4, r4, e4, p["sixbody_angular_degree"],
                    p["sixbody_number_radial_basis_functions"])
    mdesc += _cross(_DEG4, nabf4, r4, e4, _DEG4, nabf4, r4, e4, p["sevenbody_angular_degree"],
                    p["sevenbody_number_radial_basis_functions"])
    clusters, components = p["number_of_environment_clusters"], p["number_of_principal_components"]
    n_coeff = (p["onebody"] + mdesc * clusters) * ne
    if clusters == 1:
        return n_coeff, 0, 0
    return n_coeff, components * mdesc * ne, components * clusters * ne


def check_pod_coeff(path: Path, params: PODParams) -> int:
    """Check a POD coefficient file against its parameter file: the header, one finite number a
    line, as many as the header says and the parameters imply. Returns the coefficient count."""
    path = Path(path)
    what = "POD coefficient file"
    expected = n_coefficients(params)
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    with fh:
        counts, left, lineno = None, 0, 0
        for lineno, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                raise ValueError(f"{path}: line {lineno}: not UTF-8 text; not a {what}") from None
            words = _words(path, lineno, line, what)
            if counts is None:
                if not words:
                    continue
                if len(words) != 4:
                    raise ValueError(f"{path}: line {lineno}: expected the header 'model_coefficients: NC NP NK', "
                                     f"got {line.strip()[:80]!r}; not a {what}")
                counts = tuple(_number(path, lineno, "header", w, True) for w in words[1:])
                if min(counts) < 0:
                    raise ValueError(f"{path}: line {lineno}: negative count in the header {counts}")
                _check_counts(path, counts, expected, params)
                left = sum(counts)
                continue
            if left == 0:
                if words:
                    raise ValueError(f"{path}: line {lineno}: more numbers than the header's {sum(counts)}")
                continue
            if len(words) != 1:
                raise ValueError(f"{path}: line {lineno}: expected one number, got {line.strip()[:80]!r}")
            _number(path, lineno, "coefficient", words[0], False)
            left -= 1
    if counts is None:
        raise ValueError(f"{path}: empty; not a {what}")
    if left:
        raise ValueError(f"{path}: {sum(counts) - left} numbers after the header, which announces {sum(counts)} "
                         "(truncated file?)")
    return counts[0]


def _check_counts(path: Path, counts: tuple, expected: tuple, params: PODParams) -> None:
    if counts[0] != expected[0]:
        raise ValueError(f"{path}: {counts[0]} coefficients, but the parameter file {params.path.name} "
                         f"({len(params.species)} species) implies {expected[0]}")
    if params["number_of_environment_clusters"] > 1 and counts[1:] != expected[1:]:
        raise ValueError(f"{path}: {counts[1]} projection and {counts[2]} centroid entries, but the parameter "
                         f"file {params.path.name} implies {expected[1]} and {expected[2]}")


def read_model(model: Path) -> dict:
    """The checked manifest of a ``model.pod``: ``param``/``coeff`` as absolute paths, ``type_map``
    a list of element symbols, ``repulsion`` a :class:`~deepearth.potentials.repulsion.ZBLRepulsion`
    (numbers only, pairs of the model's species) or None for a model without one. ``ValueError`` (one line: the file, the key, what is wrong) for a
    manifest that is not JSON, not ours or names files outside its folder, and for parameter or
    coefficient files LAMMPS would reject or crash on."""
    model = Path(model)
    try:
        manifest = json.loads(_text(model, "deepearth POD model manifest"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{model}: not a deepearth POD model manifest (JSON: {exc}); a LAMMPS POD parameter or "
                         "coefficient file is not a model: train with PODPotential") from None
    if not isinstance(manifest, dict):
        raise ValueError(f"{model}: not a deepearth POD model manifest (a JSON {type(manifest).__name__}, "
                         "not an object)")
    if manifest.get("format") != MODEL_FORMAT:
        raise ValueError(f"{model}: key 'format': unknown POD model format {manifest.get('format')!r} "
                         f"(expected {MODEL_FORMAT})")
    type_map = element_symbols(manifest.get("type_map") or [], f"{model}: key 'type_map'")
    for key in ("param", "coeff"):
        path = model_member(model, key, manifest.get(key))
        lammps_word(str(path), f"{model}: key {key!r} (absolute path)")
        manifest[key] = str(path)
    params = read_pod_param(Path(manifest["param"]))
    if set(params.species) != set(type_map):
        raise ValueError(f"{model}: key 'type_map' {type_map} differs from the species {list(params.species)} "
                         f"of its parameter file {Path(manifest['param']).name}")
    check_pod_coeff(Path(manifest["coeff"]), params)
    manifest["type_map"] = type_map
    manifest["repulsion"] = _repulsion(model, manifest.get("repulsion"), type_map)
    return manifest


def _repulsion(model: Path, data, type_map: list[str]) -> ZBLRepulsion | None:
    """The manifest's ``repulsion`` checked (numbers only, pairs of the model's species); None if absent."""
    if data is None:
        return None
    repulsion = ZBLRepulsion.from_dict(data, origin=f"{model}: key 'repulsion'")
    for key in repulsion.pairs:
        if any(s not in type_map for s in key.split("-")):
            raise ValueError(f"{model}: key 'repulsion': pair {key!r} has a species outside the type map {type_map}")
    return repulsion
