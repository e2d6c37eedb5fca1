"""The run directory: where a recipe may write, damaged records, a second process. Each case is one
line from the command (exit code != 0), and nothing computed is lost."""

import pytest

from deepearth.cli import main
from deepearth.files import write_json_atomic
from deepearth.rundir import RunDir, RunState

pytestmark = pytest.mark.reliability("bad input")

RECIPE = """
name = "x"
run_dir = "{run_dir}"
[system]
structure = "periclase"
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    home = tmp_path / "project"
    home.mkdir()
    monkeypatch.chdir(home)
    return home


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "Traceback" not in err
    return err


def test_a_recipe_cannot_send_its_output_outside_its_folder_and_the_working_directory(project, tmp_path, capsys):
    outside = tmp_path / "elsewhere" / "run"
    (project / "r.toml").write_text(RECIPE.format(run_dir=outside))
    assert main(["run", "r.toml"]) == 2
    assert "is outside the recipe's folder and the current directory" in one_line_error(capsys)
    assert not outside.parent.exists()
    (project / "up.toml").write_text(RECIPE.format(run_dir="../../escape"))
    assert main(["run", "up.toml"]) == 2
    assert "r.toml" not in one_line_error(capsys)


@pytest.mark.parametrize("name", ['run"x', "run\nshell touch pwned", "run$HOME", "run;x"])
def test_a_run_directory_whose_path_cannot_reach_lammps_safely_is_refused(project, capsys, name):
    (project / "r.toml").write_text(RECIPE.format(run_dir=name.replace("\n", "\\n").replace('"', '\\"')))
    assert main(["run", "r.toml"]) == 2
    assert "choose a directory name without" in one_line_error(capsys)
    assert not (project / "pwned").exists() and list(project.iterdir()) == [project / "r.toml"]


def test_a_damaged_state_file_is_one_line_and_safe_to_delete(project, capsys):
    rundir = RunDir(project / "run")
    write_json_atomic(rundir.state_file, RunState(stage="training").to_dict())
    text = rundir.state_file.read_text()
    rundir.state_file.write_text(text[: len(text) // 2])  # truncated
    assert main(["status", str(rundir.root)]) == 2
    err = one_line_error(capsys)
    assert "state.json: not valid JSON" in err and "delete it and run again, no work is lost" in err


def test_import_into_a_directory_in_use_waits_then_says_so(project, capsys):
    from datafiles import data_path

    rundir = RunDir(project / "run")
    held = rundir.lock()
    try:
        data = data_path("casio3-melt-pbe", "train_2500K.xyz")
        assert main(["import", str(data), "--run", str(rundir.root), "--wait", "0.3"]) == 2
        assert "another deepearth process is using this run directory (waited 0.3 s)" in one_line_error(capsys)
    finally:
        held.close()
    assert main(["import", str(data), "--run", str(rundir.root)]) == 0
