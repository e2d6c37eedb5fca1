"""A model folder is a closed world, and nothing in it runs: crafted or broken POD models are one
ValueError naming the manifest, the key and the fault (never a LAMMPS ``shell`` command, never a
crash); DeePMD graphs are loaded only as ``.pb`` with a trust note; no pickle is ever loaded."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.io import write

from deepearth import load_potential
from deepearth.cli import main
from deepearth.potentials.deepmd import TRUST_NOTE, DeepMDEvaluator, frozen_graph
from deepearth.potentials.pod import PODPotential, read_model, read_npy_system
from deepearth.store import write_deepmd_npy

pytestmark = pytest.mark.reliability("bad input")

TYPE_MAP = ["Al", "Cu"]
SRC = Path(__file__).resolve().parents[2] / "src"


def _frames(n, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        a = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 2, 1))
        a.symbols[[0, 5]] = "Al"
        a.rattle(0.1, rng=rng)
        a.calc = EMT()
        a.get_potential_energy()
        out.append(a)
    return out


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A real fitted model (2+3+4-body POD on EMT Cu/Al) and labelled frames in extxyz."""
    root = tmp_path_factory.mktemp("podsec").resolve()
    frames = _frames(10)
    write_deepmd_npy(root / "train", frames, TYPE_MAP)
    model = PODPotential(TYPE_MAP, bootstrap=False, rcut_A=4.5, two_body=6, three_body=(4, 3),
                         four_body=(2, 1)).train(root / "model", [root / "train"], [], seed=0)
    write(root / "frames.xyz", frames, format="extxyz")
    return dict(model=model, frames=root / "frames.xyz")


def _copy_model(good, folder: Path, **manifest) -> Path:
    """A copy of the good model in ``folder`` with manifest keys replaced (``None`` drops a key)."""
    folder.mkdir(parents=True, exist_ok=True)
    src = good["model"].parent
    for name in ("model.param.txt", "model.coeff.txt"):
        shutil.copy(src / name, folder / name)
    doc = json.loads(good["model"].read_text())
    doc.update(manifest)
    doc = {k: v for k, v in doc.items() if v is not None}
    (folder / "model.pod").write_text(json.dumps(doc))
    return folder / "model.pod"


def _evil_model(good, folder: Path, target: Path) -> Path:
    """A model whose ``param`` value holds newlines: pasted unchecked into ``pair_coeff * * "PARAM"
    "COEFF" Al Cu`` it becomes a valid pair_coeff line, then ``shell touch TARGET``, then a comment.
    The value is a real file (nested folders with those names) so that a mere existence check passes."""
    folder = folder.resolve()
    _copy_model(good, folder)
    shutil.copy(folder / "model.param.txt", folder / "p.txt")
    value = f'p.txt" "{folder}/model.coeff.txt" Al Cu\nshell touch {target}\n#'
    evil = folder / value
    evil.parent.mkdir(parents=True)
    shutil.copy(folder / "p.txt", evil)
    return _copy_model(good, folder, param=value)


def _one_line_error(exc_info, *needles):
    msg = str(exc_info.value)
    assert "\n" not in msg, msg
    for needle in needles:
        assert needle in msg, (needle, msg)


def test_the_crafted_manifest_is_a_real_exploit_when_unchecked(good, tmp_path):
    """Control: the old, unchecked pair_coeff line of this manifest runs the shell command."""
    from deepearth.lammps.library import create_lammps

    target = tmp_path / "pwned-control"
    model = _evil_model(good, tmp_path / "evil", target)
    doc = json.loads(model.read_text())
    lmp = create_lammps()
    try:
        lmp.commands_list(["units metal", "atom_style atomic", "region b block 0 8 0 8 0 8", "create_box 2 b",
                           "mass * 1.0", "pair_style pod",
                           f'pair_coeff * * "{model.parent / doc["param"]}" "{model.parent / doc["coeff"]}" Al Cu'])
    finally:
        lmp.close()
    assert target.exists()


def test_newline_shell_injection_is_refused_by_load_potential(good, tmp_path):
    target = tmp_path / "pwned"
    model = _evil_model(good, tmp_path / "evil", target)
    with pytest.raises(ValueError) as info:
        a = _frames(1)[0]
        a.calc = load_potential(model)
        a.get_potential_energy()
    _one_line_error(info, str(model), "'param'", "not a plain file name")
    assert not target.exists()


def test_newline_in_a_plain_file_name_is_refused(good, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = _copy_model(good, tmp_path / "m")
    name = "p.txt\nshell touch pwned"
    shutil.copy(model.parent / "model.param.txt", model.parent / name)
    model = _copy_model(good, tmp_path / "m", param=name)
    with pytest.raises(ValueError) as info:
        load_potential(model)
    _one_line_error(info, str(model), "'param'", "control character")
    assert not (tmp_path / "pwned").exists()


def test_newline_shell_injection_is_refused_by_the_validate_cli(good, tmp_path, capsys):
    target = tmp_path / "pwned"
    model = _evil_model(good, tmp_path / "evil", target)
    code = main(["validate", str(good["frames"]), "--model", str(model), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert str(model) in err and "'param'" in err
    assert not target.exists()


@pytest.mark.parametrize("value, fault", [
    ("../model.param.txt", "not a plain file name"),
    ("..", "not a plain file name"),
    ("sub/model.param.txt", "not a plain file name"),
    ("ABSOLUTE", "not a plain file name"),
    ("", "expected a file name"),
    (7, "expected a file name"),
    (None, "expected a file name"),
    ("nothere.txt", "is missing"),
])
def test_manifest_names_only_files_in_its_folder(good, tmp_path, value, fault):
    outside = tmp_path / "model.param.txt"
    shutil.copy(good["model"].parent / "model.param.txt", outside)  # exists: only the rule stops it
    (tmp_path / "m" / "sub").mkdir(parents=True)
    shutil.copy(outside, tmp_path / "m" / "sub" / "model.param.txt")
    value = str(outside) if value == "ABSOLUTE" else value
    model = _copy_model(good, tmp_path / "m", param=value)
    with pytest.raises(ValueError) as info:
        load_potential(model)
    _one_line_error(info, str(model), "'param'", fault)


def test_symlinks_may_not_lead_out_of_the_folder(good, tmp_path):
    outside = tmp_path / "elsewhere.txt"
    shutil.copy(good["model"].parent / "model.coeff.txt", outside)
    model = _copy_model(good, tmp_path / "m", coeff="link.txt")
    (model.parent / "link.txt").symlink_to(outside)
    with pytest.raises(ValueError) as info:
        read_model(model)
    _one_line_error(info, str(model), "'coeff'", "outside the model's folder")
    (model.parent / "link.txt").unlink()
    (model.parent / "link.txt").symlink_to(model.parent / "model.coeff.txt")  # inside: fine
    assert read_model(model)["coeff"] == str((model.parent / "model.coeff.txt").resolve())


@pytest.mark.parametrize("text, fault", [
    ('{"format": "deepearth-pod/1", "param": "model.par', "not a deepearth POD model manifest (JSON"),
    ("", "not a deepearth POD model manifest (JSON"),
    ("[1, 2]", "a JSON list"),
    ('{"format": "other/2"}', "unknown POD model format"),
])
def test_broken_manifests(good, tmp_path, text, fault):
    model = _copy_model(good, tmp_path / "m")
    model.write_text(text)
    with pytest.raises(ValueError) as info:
        load_potential(model)
    _one_line_error(info, str(model), fault)


def test_binary_manifest(good, tmp_path):
    model = _copy_model(good, tmp_path / "m")
    model.write_bytes(np.random.default_rng(0).bytes(4000))
    with pytest.raises(ValueError) as info:
        load_potential(model)
    _one_line_error(info, str(model), "not UTF-8")


@pytest.mark.parametrize("type_map, fault", [
    (["Al", "Cu\nshell touch x"], "not a chemical element"),
    (["Al", "X"], "not a chemical element"),
    (["Al", "Al"], "repeated"),
    ("AlCu", "expected a list"),
    (["Al", "Ni"], "differs from the species"),
])
def test_type_map_must_be_the_parameter_files_elements(good, tmp_path, type_map, fault):
    model = _copy_model(good, tmp_path / "m", type_map=type_map)
    with pytest.raises(ValueError) as info:
        read_model(model)
    _one_line_error(info, str(model), "'type_map'", fault)


def _with_param(good, tmp_path, text: str | bytes) -> Path:
    model = _copy_model(good, tmp_path / "m")
    param = model.parent / "model.param.txt"
    param.write_bytes(text) if isinstance(text, bytes) else param.write_text(text)
    return model


def _edit(good, name: str, key: str, value: str) -> str:
    lines = (good["model"].parent / name).read_text().splitlines()
    return "\n".join(f"{key} {value}" if ln.split()[:1] == [key] else ln for ln in lines) + "\n"


@pytest.mark.parametrize("edit, fault", [
    (("rcut", "abc"), "rcut: expected a number, got 'abc'"),
    (("rcut", "nan"), "expected a number"),
    (("rin", "9.0"), "must exceed rin"),
    (("twobody_number_radial_basis_functions", "-3"), "outside [0, 200]"),
    (("twobody_number_radial_basis_functions", "3.5"), "expected an integer"),
    (("twobody_number_radial_basis_functions", "60"), "exceeds the 20 snapshot functions"),
    (("threebody_angular_degree", "0"), "must not exceed the three-body"),
    (("fourbody_angular_degree", "9"), "outside [0, 6]"),
    (("pbc", "1 1"), "pbc: expected three flags"),
    (("species", "Al Zz"), "'Zz' is not a chemical element"),
])
def test_bad_parameter_values(good, tmp_path, edit, fault):
    model = _with_param(good, tmp_path, _edit(good, "model.param.txt", *edit))
    with pytest.raises(ValueError) as info:
        read_model(model)
    _one_line_error(info, "model.param.txt", fault)


@pytest.mark.parametrize("text, fault", [
    ("hello world\nthis is not a POD file\n", "unknown keyword 'hello'"),
    ("species Al Cu\nspecies Al Cu\n", "'species' repeated"),
    ("rcut 5.0\n", "no 'species' line"),
    ("species Al Cu\nrcut " + "5" * 2000 + "\n", "longer than"),
    ("species Al Cu\nrcut 5.0\x00\n", "control characters"),
    (np.random.default_rng(1).bytes(3000), "not UTF-8"),
])
def test_garbage_parameter_files(good, tmp_path, text, fault):
    model = _with_param(good, tmp_path, text)
    with pytest.raises(ValueError) as info:
        load_potential(model)
    _one_line_error(info, "model.param.txt", fault)


def test_a_parameter_file_that_kills_lammps_is_a_value_error_in_a_live_process(good, tmp_path):
    """No snapshot functions (degrees 0): LAMMPS's pair_style pod ends the whole process (control
    below); checked first, it is one ValueError and the process lives on."""
    text = _edit(good, "model.param.txt", "bessel_polynomial_degree", "0")
    model = _with_param(good, tmp_path, text.replace("inverse_polynomial_degree 8", "inverse_polynomial_degree 0"))
    param, coeff = model.parent / "model.param.txt", model.parent / "model.coeff.txt"
    env = dict(os.environ, PYTHONPATH=str(SRC), OMP_NUM_THREADS="1")
    unchecked = f"""
from deepearth.lammps.library import create_lammps
lmp = create_lammps()
try:
    lmp.commands_list(["units metal", "atom_style atomic", "region b block 0 8 0 8 0 8", "create_box 2 b",
                       "create_atoms 1 single 1 1 1", "create_atoms 2 single 3 1 1", "mass * 1.0",
                       "pair_style pod", 'pair_coeff * * "{param}" "{coeff}" Al Cu', "run 0"])
except Exception as exc:
    print("CAUGHT", exc)
print("ALIVE")
"""
    ctl = subprocess.run([sys.executable, "-c", unchecked], capture_output=True, text=True, env=env, timeout=300)
    assert "ALIVE" not in ctl.stdout  # the control: LAMMPS took the process down
    checked = f"""
from deepearth import load_potential

try:
    load_potential({str(model)!r})
except ValueError as exc:
    print("VALUEERROR", exc)
print("ALIVE")
"""
    run = subprocess.run([sys.executable, "-c", checked], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0 and "ALIVE" in run.stdout, run.stderr[-2000:]
    assert "VALUEERROR" in run.stdout and "model.param.txt" in run.stdout and "bessel" in run.stdout


def _with_coeff(good, tmp_path, text: str | bytes) -> Path:
    model = _copy_model(good, tmp_path / "m")
    coeff = model.parent / "model.coeff.txt"
    coeff.write_bytes(text) if isinstance(text, bytes) else coeff.write_text(text)
    return model


def test_garbage_and_truncated_coefficient_files(good, tmp_path):
    lines = (good["model"].parent / "model.coeff.txt").read_text().splitlines()
    n = int(lines[0].split()[1])
    cases = [
        ("garbage\nmore garbage\n", "expected the header"),
        ("", "empty"),
        (np.random.default_rng(2).bytes(2000), "not UTF-8"),
        ("\n".join(lines[: n // 2]) + "\n", "truncated"),
        ("\n".join(lines + ["1.0"]) + "\n", "more numbers than the header"),
        ("\n".join([f"model_coefficients: {n - 1} 0 0", *lines[1:n]]) + "\n", f"implies {n}"),
        ("\n".join([lines[0], "abc", *lines[2:]]) + "\n", "expected a number, got 'abc'"),
        ("\n".join([lines[0], "1e999", *lines[2:]]) + "\n", "expected a number"),
        ("\n".join([lines[0], "1.0 2.0", *lines[2:]]) + "\n", "expected one number"),
        ("\n".join(["model_coefficients: x 0 0", *lines[1:]]) + "\n", "expected an integer"),
    ]
    for text, fault in cases:
        model = _with_coeff(good, tmp_path, text)
        with pytest.raises(ValueError) as info:
            load_potential(model)
        _one_line_error(info, "model.coeff.txt", fault)


def test_the_good_model_loads_and_evaluates(good):
    m = read_model(good["model"])
    assert m["type_map"] == TYPE_MAP and Path(m["param"]).is_absolute()
    a = _frames(1, seed=5)[0]
    ref = a.get_potential_energy()
    a.calc = load_potential(good["model"])
    assert abs(a.get_potential_energy() - ref) / len(a) < 0.05


# ----------------------------------------------------------------------------- DeePMD and pickles

def test_deepmd_loads_only_frozen_graphs_and_says_it_trusts_them(tmp_path, caplog):
    for name in ("model.pth", "model.pt", "model.ckpt"):
        (tmp_path / name).write_bytes(b"\x80\x04")  # a pickle header
        with pytest.raises(ValueError, match="refused"):
            DeepMDEvaluator(tmp_path / name)
    with pytest.raises(FileNotFoundError, match="no such model file"):
        frozen_graph(tmp_path / "missing.pb")
    (tmp_path / "m.pb").write_bytes(b"")
    with caplog.at_level("INFO", logger="deepearth.potentials"):
        assert frozen_graph(tmp_path / "m.pb") == tmp_path / "m.pb"
    assert TRUST_NOTE in caplog.text and "trust" in TRUST_NOTE
    import deepearth.potentials.deepmd as dm

    assert "trust" in dm.__doc__ and "trust" in DeepMDEvaluator.__doc__


def test_npy_with_python_objects_is_refused_not_unpickled(tmp_path):
    write_deepmd_npy(tmp_path / "s", _frames(1), TYPE_MAP)
    coord = next((tmp_path / "s").glob("set.*")) / "coord.npy"
    np.save(coord, np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="allow_pickle"):
        read_npy_system(tmp_path / "s")


def test_no_pickle_loading_anywhere_in_the_package():
    pattern = re.compile(r"allow_pickle\s*=\s*True|pickle\.loads?\(|torch\.load\(|joblib\.load\(|dill\.loads?\(")
    hits = [f"{p.relative_to(SRC)}:{i}" for p in (SRC / "deepearth").rglob("*.py")
            for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not hits, hits
