"""A command line with manners (issue 18): Ctrl-C or kill stops ``deepearth run`` cleanly with one line
on how to resume; ISO dates in the log; library noise in the log file, not on the terminal; long
``geo`` results in files with a short summary; help without reST markup; errors that name the flags."""

import argparse
import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from cli_walk import command_parsers
from emt_copper import EMT_RECIPE, POD_SMALL, write_copper
from rich.console import Console

from deepearth.cli import main
from deepearth.cli.logs import ISO_TIME, setup_logging
from deepearth.cli.messages import in_flag_names
from deepearth.cli.progress import RunProgress

ISO_LINE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} ")
NOISE = ("leaked semaphore", "resource_tracker", "Traceback", "implib-gen")


def _stage(run_dir: Path) -> str:
    try:
        return json.loads((run_dir / "state.json").read_text())["stage"]
    except (OSError, ValueError, KeyError):
        return ""


def _start_and_signal(tmp_path: Path, stage: str, sig: int, group: bool) -> tuple[subprocess.CompletedProcess, Path]:
    """``deepearth run`` of the EMT recipe on two worker processes, ``sig`` once ``stage`` has begun
    (to the process group, as Ctrl-C in a terminal, or to the process alone, as ``kill PID``)."""
    write_copper(tmp_path / "cu.vasp")
    recipe = tmp_path / "recipe.toml"
    recipe.write_text(EMT_RECIPE.format(run_dir=tmp_path / "run", pod=POD_SMALL).replace("workers = 1", "workers = 2"))
    cmd = [sys.executable, "-m", "deepearth.cli", "run", str(recipe)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        deadline = time.time() + 240
        while not _stage(tmp_path / "run").startswith(stage) and proc.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, f"the run ended before {stage!r}: {proc.communicate()}"
        time.sleep(0.5)  # the stage's tasks are on the workers
        t0 = time.time()
        (os.killpg if group else os.kill)(proc.pid, sig)
        out, err = proc.communicate(timeout=60)  # EOF: every worker holding the pipes is gone too
        stop_s = time.time() - t0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    time.sleep(0.5)  # a resource tracker's warning comes after the process ended
    assert stop_s < 30, f"stopping took {stop_s:.1f} s"
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err), recipe


def _check_stopped(res: subprocess.CompletedProcess, recipe: Path, code: int) -> None:
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert res.returncode == code, res.stderr[-3000:]
    assert lines[-1] == f"stopped — run the same command to resume: deepearth run {recipe}"
    log = (recipe.parent / "run" / "deepearth.log").read_text()
    for text in (res.stdout, res.stderr):  # the terminal: nothing from the libraries
        assert not any(n in text for n in NOISE), text[-3000:]
    # the log may hold the libraries' own lines (that is where they are sent), but no stop noise
    assert not any(n in log for n in NOISE if n != "implib-gen"), log[-3000:]
    assert "stopped by SIG" in log


def test_ctrl_c_stops_a_run_cleanly_and_says_how_to_resume(tmp_path):
    res, recipe = _start_and_signal(tmp_path, "initial data: labelling", signal.SIGINT, group=True)
    _check_stopped(res, recipe, 130)
    # ISO dates on the terminal and in the log file
    assert ISO_LINE.match(res.stderr.splitlines()[0]), res.stderr.splitlines()[0]
    log = (recipe.parent / "run" / "deepearth.log").read_text().splitlines()
    assert log and all(ISO_LINE.match(line) for line in log), log


def test_kill_stops_a_run_cleanly_and_the_same_command_resumes_it(tmp_path):
    res, recipe = _start_and_signal(tmp_path, "iteration 0: exploring", signal.SIGTERM, group=False)
    _check_stopped(res, recipe, 143)
    again = subprocess.run([sys.executable, "-m", "deepearth.cli", "run", str(recipe)], capture_output=True,
                           text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert again.returncode == 0, again.stderr[-3000:]
    assert "finished" in again.stderr and not any(n in again.stderr for n in NOISE)


def test_log_lines_carry_iso_dates(tmp_path, capsys):
    logger = logging.getLogger("deepearth")
    try:
        setup_logging(tmp_path / "run.log")
        logger.info("a line")
    finally:
        for h in logger.handlers:
            h.close()
        logger.handlers.clear()
    assert re.match(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} +INFO +a line", capsys.readouterr().err)
    (line,) = (tmp_path / "run.log").read_text().splitlines()
    assert ISO_LINE.match(line) and line.endswith("INFO a line")
    assert ISO_TIME == "%Y-%m-%d %H:%M:%S"


def test_library_noise_goes_to_the_log_file_and_the_console_stays(tmp_path):
    """C-level writes to fd 2 (DeePMD-kit's CUDA stub loader, at import and at exit) and the libraries'
    Python loggers land in the log file; the console still writes to the terminal."""
    log = tmp_path / "run.log"
    script = f"""
import atexit, logging, os, sys
from deepearth.cli.console import console
from deepearth.cli.logs import library_noise_to
with library_noise_to({str(log)!r}, keep=True):
    os.write(2, b"implib-gen: libcudart.so.12: failed to load library\\n")
    logging.getLogger("somelib").addHandler(logging.StreamHandler())
    logging.getLogger("somelib").warning("a library's hint")
    console.print("visible")
    try:
        import deepmd.tf  # noqa: F401  (its op library loads the CUDA stub: noise on a machine without CUDA)
    except ImportError:
        pass
atexit.register(os.write, 2, b"implib-gen: at exit\\n")
"""
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert res.returncode == 0, res.stderr
    assert res.stderr.strip() == "visible"
    text = log.read_text()
    assert "failed to load library" in text and "a library's hint" in text and "implib-gen: at exit" in text


def test_progress_bars_draw_on_a_terminal_only():
    term = io.StringIO()
    with RunProgress(Console(file=term, force_terminal=True, width=100)) as bars:
        bars.start("labelling: initial data", 3, done=1)
        bars.advance()
        bars.finish()
        bars.start("production MD", 2)
        bars.advance(2)
    assert "labelling: initial data" in term.getvalue() and "2/3" in term.getvalue() and "eta" in term.getvalue()
    piped = io.StringIO()
    with RunProgress(Console(file=piped, force_terminal=False)) as bars:
        bars.start("production MD", 2)
        bars.advance()
    assert piped.getvalue() == ""


def test_geo_writes_files_and_prints_a_short_summary(tmp_path, capsys):
    out = tmp_path / "bmo"
    assert main(["geo", "bmo-evolution", "--dt-Myr", "5", "--mc-samples", "4", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) <= 15 and lines[-1].startswith(f"written: {out / 'bmo_evolution.json'}")
    assert "Gyr" in lines[0] and (out / "bmo_evolution.json").is_file()

    recipe = tmp_path / "geo.toml"
    recipe.write_text('[w_isotopes]\nD_eff = [6.2e-15, 7.1e-14]\npgz_height_km = [5, 10]\n\n'
                      '[bmo-conductivity]\nP = 130.0\nT = 5000.0\nX = 0.3\n\n'
                      '[bmo-evolution]\ndt_Myr = 5.0\nmc_samples = 4\n\n[prem]\nstep_km = 500\n')
    assert main(["geo", "recipe", str(recipe), "--out", str(tmp_path / "geo")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) <= 15, lines
    assert str(tmp_path / "geo" / "geo_recipe.json") in lines[-1]
    record = json.loads((tmp_path / "geo" / "geo_recipe.json").read_text())
    assert set(record["results"]) == {"w-isotopes", "bmo-conductivity", "bmo-evolution", "prem"}

    assert main(["geo", "bmo-conductivity", "--P", "130", "--T", "5000", "--X", "0.3", "--json",
                 "--out", str(tmp_path / "c")]) == 0
    assert json.loads(capsys.readouterr().out)["sigma_el_S_per_m"] > 0


def test_geo_writes_under_runs_by_default(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["geo", "bmo-conductivity", "--P", "130", "--T", "5000", "--X", "0.3"]) == 0
    assert (tmp_path / "runs" / "geo" / "bmo-conductivity" / "bmo_conductivity.json").is_file()
    assert len(capsys.readouterr().out.strip().splitlines()) <= 5


def _help_texts() -> dict[str, str]:
    """``--help`` of every (sub)command, by command path."""
    return {" ".join(path): parser.format_help() for path, parser in command_parsers().items()}


def test_no_help_text_carries_rest_markup():
    texts = _help_texts()
    assert len(texts) > 15
    for command, text in texts.items():
        assert "``" not in text, (command, text)
        assert not re.search(r":(func|class|mod|meth|data):`", text), (command, text)


def test_errors_name_the_flags_not_the_python_arguments(tmp_path, capsys):
    assert main(["geo", "w-isotopes", "--D-eff", "1e-15", "--pgz-fraction", "2", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--pgz-fraction must be in [0, 1]" in err and "pgz_fraction" not in err
    assert main(["geo", "bmo-evolution", "--mc-samples", "1", "--out", str(tmp_path)]) == 2
    assert "--mc-samples must be at least 2" in capsys.readouterr().err
    assert main(["build", "mineral", "periclase", "--n-atoms", "-5", "--out", str(tmp_path / "x.extxyz")]) == 2
    assert "--n-atoms: must be positive" in capsys.readouterr().err


def test_flag_names_leave_paths_keys_and_prose_alone():
    parser = argparse.ArgumentParser(prog="deepearth")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("x")
    p.add_argument("--dt-ps", type=float)
    p.add_argument("--sigma", type=int)
    args = parser.parse_args(["x"])
    assert in_flag_names("dt_ps must be > 0", parser, args) == "--dt-ps must be > 0"
    assert in_flag_names("/runs/dt_ps/a.json: bad", parser, args) == "/runs/dt_ps/a.json: bad"
    assert in_flag_names("production.dt_ps = 2", parser, args) == "production.dt_ps = 2"
    assert in_flag_names("sigma: 2 is even", parser, args) == "--sigma: 2 is even"
    assert in_flag_names("a sigma of 2", parser, args) == "a sigma of 2"
