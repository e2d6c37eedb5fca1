"""The Dask executor: the Executor protocol on a LocalCluster (results as they finish, failures as
values, retries with backoff, timeouts, dead workers named), and dask-jobqueue job scripts made and
checked without a cluster."""

import os
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("distributed")
pytest.importorskip("dask_jobqueue")

from deepearth.parallel import TaskFailed, make_executor  # noqa: E402
from deepearth.parallel.cluster import (PLACEHOLDER_SCHEDULER, TASK_CORES_ENV, ClusterSpec,  # noqa: E402
                                        cluster_spec, job_script, worker_exports)
from deepearth.parallel.dask import DaskExecutor  # noqa: E402


# --- tasks (module level: the workers import them) ---------------------------------------------------

def nap(x: int, seconds: float = 0.0) -> int:
    time.sleep(seconds)
    return x * x


def square_or_fail(x: int) -> int:
    if x == 3:
        raise ValueError("three is not allowed")
    return x * x


def fail_once(counter: str) -> str:
    """Raises on its first call, succeeds on the second (a count in a file: calls run in other processes)."""
    calls = int(open(counter).read()) + 1 if os.path.exists(counter) else 1
    with open(counter, "w") as f:
        f.write(str(calls))
    if calls == 1:
        raise RuntimeError("flaky, first try")
    return f"ok on call {calls}"


def die(how: str) -> int:
    if how == "exit":
        os._exit(7)
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if how == "hang":
        time.sleep(60)
    return 0


def task_cores() -> str:
    return os.environ[TASK_CORES_ENV] + "/" + os.environ["OMP_NUM_THREADS"]


@pytest.fixture(scope="module")
def executor():
    with DaskExecutor(2) as ex:
        yield ex


# --- the protocol on a LocalCluster ----------------------------------------------------------------------

def test_results_come_as_tasks_finish_each_task_once(executor):
    tasks = [(0, 1.5), (1, 0.0), (2, 0.0), (3, 0.0), (4, 0.2)]
    results = list(executor.map(nap, tasks))
    assert results[-1].index == 0  # the slow one last, though submitted first
    assert sorted(r.index for r in results) == [0, 1, 2, 3, 4]
    assert all(r.ok and r.value == r.index ** 2 and r.attempts == [] for r in results)
    assert list(executor.map(nap, [])) == []


def test_a_raising_task_fails_alone_with_its_message(executor):
    results = sorted(executor.map(square_or_fail, [(i,) for i in range(5)]), key=lambda r: r.index)
    assert [r.value for r in results if r.ok] == [0, 1, 4, 16]
    bad = results[3]
    assert bad.error == "ValueError: three is not allowed" and not bad.crashed
    assert bad.attempts == ["ValueError: three is not allowed"]
    with pytest.raises(TaskFailed, match="task 3 failed: ValueError: three"):
        bad.unwrap()


def test_a_failed_task_is_retried_after_a_backoff_and_its_attempts_recorded(executor, tmp_path, monkeypatch):
    monkeypatch.setattr(executor, "retries", 2)
    monkeypatch.setattr(executor, "retry_backoff_s", 0.5)
    t0 = time.monotonic()
    results = {r.index: r for r in executor.map(fail_once, [(str(tmp_path / "calls"),)])}
    assert results[0].ok and results[0].value == "ok on call 2"
    assert results[0].attempts == ["RuntimeError: flaky, first try"]
    assert time.monotonic() - t0 >= 0.5  # the backoff before the retry
    # out of retries: the last error, how many attempts, each one recorded; the other task unaffected
    monkeypatch.setattr(executor, "retry_backoff_s", 0.1)
    results = list(executor.map(square_or_fail, [(3,), (2,)]))
    assert [r.index for r in results] == [1, 0]  # the other task is not held up by the backoffs
    assert results[1].error == "ValueError: three is not allowed (after 3 attempts)"
    assert results[1].attempts == ["ValueError: three is not allowed"] * 3
    assert results[0].value == 4 and results[0].attempts == []


def test_a_task_past_its_timeout_is_killed_and_named(executor):
    results = sorted(executor.map(die, [("hang",), ("fine",)], timeout_s=1), key=lambda r: r.index)
    assert results[0].crashed and results[0].error == "timed out: killed after the timeout of 1 s"
    assert results[1].ok and results[1].value == 0


def test_a_worker_killed_by_its_task_is_named_the_others_complete(executor, capfd):
    results = sorted(executor.map(die, [("fine",), ("exit",), ("fine",), ("kill",), ("fine",), ("fine",)]),
                     key=lambda r: r.index)
    assert [r.index for r in results if r.ok] == [0, 2, 4, 5]
    assert results[1].crashed and results[1].error == "the worker exited with code 7 without a result"
    assert results[3].crashed and results[3].error == "the worker died: SIGKILL (killed: out of memory?)"
    assert capfd.readouterr().err == ""  # Dask kept off the terminal


def test_submit_one_thread_per_worker_and_the_registry(executor):
    assert executor.submit(nap, 4).result() == 16
    with pytest.raises(ValueError, match="three is not allowed"):
        executor.submit(square_or_fail, 3).result()
    assert executor.submit(task_cores).result() == "1/1"
    ex = make_executor(3, "dask")
    assert isinstance(ex, DaskExecutor) and ex.workers == 3 and ex.cluster is None  # starts on first use
    ex = make_executor(2, cluster={"kind": "slurm", "cores": 32, "task_cores": 8, "jobs": 5})
    assert ex.workers == 20 and ex.spec.workers_per_job == 4
    with pytest.raises(ValueError, match="runs on the 'dask' executor"):
        make_executor(2, "processes", cluster={"kind": "local"})


def test_the_protocol_module_imports_without_dask():
    code = "import sys, deepearth.parallel; assert 'distributed' not in sys.modules and 'dask' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- job scripts -----------------------------------------------------------------------------------------

EXPORTS = worker_exports()


def test_slurm_job_script_line_by_line(tmp_path):
    spec = cluster_spec({"kind": "slurm", "queue": "cpu", "account": "geo123", "cores": 32, "task_cores": 8,
                         "memory": "64GB", "walltime": "1-12:00:00", "python": "/opt/venv/bin/python",
                         "log_directory": str(tmp_path / "logs"),
                         "job_extra_directives": ["--constraint=cpu", "#SBATCH --exclusive"],
                         "job_script_prologue": ["module load gpaw/24.6", "source /opt/venv/bin/activate"]})
    lines = job_script(spec).splitlines()
    assert lines[0].startswith("#!") and lines[1] == ""
    logs = tmp_path / "logs"
    assert lines[2:13] == ["#SBATCH -J deepearth", f"#SBATCH -e {logs}/deepearth-%J.err",
                           f"#SBATCH -o {logs}/deepearth-%J.out", "#SBATCH -p cpu", "#SBATCH -A geo123",
                           "#SBATCH -n 1", "#SBATCH --cpus-per-task=32", "#SBATCH --mem=64G",
                           "#SBATCH -t 1-12:00:00", "#SBATCH --constraint=cpu", "#SBATCH --exclusive"]
    n = 13 + len(EXPORTS)
    assert lines[13:n] == EXPORTS and "export OMP_NUM_THREADS=1" in EXPORTS
    assert lines[n:n + 2] == ["module load gpaw/24.6", "source /opt/venv/bin/activate"]
    worker = lines[n + 2]
    assert worker.startswith(f"/opt/venv/bin/python -m distributed.cli.dask_worker {PLACEHOLDER_SCHEDULER} ")
    # 32 cores, 8-rank tasks: 4 workers of one thread, a quarter of the memory each
    for part in ("--nthreads 1", "--nworkers 4", "--memory-limit 16.00GiB", "--nanny",
                 "--lifetime 129240s --lifetime-stagger 60s"):  # retire 6 min before the 36 h walltime
        assert part in worker
    assert lines[n + 3:] == []


def test_pbs_job_script_line_by_line():
    spec = cluster_spec({"kind": "pbs", "queue": "workq", "cores": 16, "memory": "32G", "walltime": "1-02:00:00",
                         "python": "python3", "job_extra_directives": ["-l place=excl", "#PBS -m n"],
                         "job_script_prologue": ["module load gpaw"]})
    lines = job_script(spec).splitlines()
    assert lines[2:8] == ["#PBS -N deepearth", "#PBS -q workq", "#PBS -l select=1:ncpus=16:mem=32GB",
                          "#PBS -l walltime=26:00:00", "#PBS -l place=excl", "#PBS -m n"]  # PBS: hours
    n = 8 + len(EXPORTS)
    assert lines[8:n] == EXPORTS and lines[n] == "module load gpaw"
    assert lines[n + 1].startswith(f"python3 -m distributed.cli.dask_worker {PLACEHOLDER_SCHEDULER} ")
    assert "--nthreads 1" in lines[n + 1] and "--nworkers 16" in lines[n + 1]
    with pytest.raises(ValueError, match="has no batch jobs"):
        job_script(ClusterSpec())


@pytest.mark.parametrize("key, value, what", [
    ("queue", "cpu\n#SBATCH --qos=high", "a line break"),
    ("job_script_prologue", ["module load `whoami`"], "a backtick"),
    ("account", "geo; rm -rf ~", "';'"),
    ("job_extra_directives", ["--comment=$(id)"], "a command substitution"),
    ("job_script_prologue", ["module load a && module load b"], "'&'"),
    ("python", "python | tee", "'|'"),
    ("local_directory", "/tmp > /dev/null", "'>'"),
])
def test_bad_job_script_text_is_refused_naming_the_key(key, value, what):
    with pytest.raises(ValueError) as err:
        cluster_spec({"kind": "slurm", key: value})
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"key 'cluster.{key}") and what in msg


@pytest.mark.parametrize("settings, message", [
    ({"kind": "pbs", "job_extra_directives": ["#SBATCH -x"]}, "key 'cluster.job_extra_directives': '#SBATCH -x' is "
                                                              "not a pbs directive"),
    ({"kind": "slurm", "cores": 4, "task_cores": 8}, "key 'cluster.task_cores': a task of 8 cores does not fit"),
    ({"memory": "lots"}, "key 'cluster.memory': not a memory size"),
    ({"walltime": "1h"}, "key 'cluster.walltime': not a wall-clock limit"),
    ({"walltime": "30"}, "key 'cluster.walltime': not a wall-clock limit"),  # minutes to SLURM, seconds to PBS
    ({"nodes": 3}, "key 'cluster.nodes': unknown key"),
])
def test_bad_cluster_settings(settings, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        cluster_spec(settings)


def test_units_of_memory_and_walltime():
    assert ClusterSpec(walltime="1-02:03:04").walltime_s == 93784 and ClusterSpec(walltime="00:10:00").walltime_s == 600
    assert "--lifetime" not in job_script(ClusterSpec(kind="slurm", walltime="00:10:00"))  # too short to retire early
    assert ClusterSpec(memory="64G").memory_bytes == ClusterSpec(memory="64GiB").memory_bytes == 64 * 2 ** 30
    assert ClusterSpec(memory="1.5 TB").memory_bytes == int(1.5 * 2 ** 40)


# --- submission, with stand-ins for sbatch and scancel ----------------------------------------------------

def _fake(bin_dir, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


def test_jobs_are_submitted_and_cancelled_a_refused_job_is_a_clear_error(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls"
    _fake(bin_dir, "sbatch", f'echo "sbatch $1" >> {log}; echo "Submitted batch job $$"')  # the pid: an id
    _fake(bin_dir, "scancel", f'echo "scancel $*" >> {log}')
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    spec = ClusterSpec(kind="slurm", queue="cpu", cores=4, memory="8G", jobs=2)
    with DaskExecutor(cluster=spec) as ex:
        ex.client()
        ids = sorted(job.job_id for job in ex.cluster.workers.values())
        assert len(ids) == 2 and all(i.isdigit() for i in ids)
    calls = log.read_text().splitlines()
    assert [c.split()[0] for c in calls] == ["sbatch", "sbatch", "scancel", "scancel"]
    assert sorted(c.split()[1] for c in calls[2:]) == ids  # the jobs, cancelled at close

    _fake(bin_dir, "sbatch", 'echo "sbatch: error: invalid account or account/partition combination specified" >&2; '
                             "exit 1")
    with pytest.raises(RuntimeError, match="^sbatch refused the job: sbatch: error: invalid account"):
        DaskExecutor(cluster=spec).client()
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RuntimeError, match="needs sbatch, which is not on this machine"):
        DaskExecutor(cluster=spec).client()
