"""Where Dask runs on a cluster: :class:`ClusterSpec` (a recipe's ``[cluster]`` table, every text
that lands in a job script checked) and the SLURM/PBS job script dask-jobqueue makes of it
(:func:`job_script`, made without submitting anything). The executor is
:class:`deepearth.parallel.dask.DaskExecutor`; dask-jobqueue is imported only inside the functions
that make scripts.

An MPI labelling task
---------------------
A labeller whose ``label(atoms)`` starts an MPI code (``mpiexec -n K gpaw python ...``, ``mpirun
-np K pw.x``, an ASE ``FileIOCalculator`` whose command is such a line) is one Dask task like any
other: the worker process (one thread) runs ``label``, which starts ``mpiexec``; the K ranks run on
the K cores that the job reserved for that worker. :class:`ClusterSpec` sizes it: ``cores`` per
job, ``task_cores = K`` ranks per task, so each job runs ``cores // task_cores`` workers (one task
each) and books all ``cores`` (``#SBATCH --cpus-per-task``, ``#PBS -l select=1:ncpus=``). Each
task sees ``DEEPEARTH_TASK_CORES=K`` in its environment: the number of ranks to start. The GPAW
labeller of :mod:`deepearth.reference.gpaw` is a serial build that runs inside the worker process
(``task_cores = 1``, one worker per core); an MPI build run through ``gpaw -P K python`` maps its K
ranks onto the task's K cores the same way. See ``docs/cluster.md``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationError, ValidationInfo, field_validator

from deepearth.parallel.core import SINGLE_THREAD_ENV
from deepearth.settings import Section

#: What a job script must not contain, with how an error names it: one directive or command per
#: entry, no shell operators (a ``#SBATCH --foo=bar`` or ``module load gpaw`` line is fine).
SCRIPT_FORBIDDEN = {"\n": "a line break", "\r": "a carriage return", "\0": "a NUL byte", "`": "a backtick",
                    "$(": "a command substitution '$('", ";": "';'", "&": "'&'", "|": "'|'", "<": "'<'",
                    ">": "'>'"}

#: Environment variable that tells a task how many cores (MPI ranks) it may use.
TASK_CORES_ENV = "DEEPEARTH_TASK_CORES"

#: Scheduler address written into a job script made before any scheduler runs (:func:`job_script`).
PLACEHOLDER_SCHEDULER = "tcp://SCHEDULER-ADDRESS:8786"

#: A wall-clock limit: [D-]HH:MM:SS, the one spelling SLURM and PBS read alike (PBS gets hours past 24).
WALLTIME_PATTERN = r"(?:(\d+)-)?(\d{1,4}):(\d{2}):(\d{2})"

#: Workers retire themselves this long (s) before their job's walltime, ±``RETIRE_STAGGER_S``.
RETIRE_BEFORE_S, RETIRE_STAGGER_S = 360, 60
#: Jobs shorter than this (s) keep their workers to the end.
MIN_LIFETIME_WALLTIME_S = 900

#: A memory size: a number and a binary unit (read as the batch systems do, see ``ClusterSpec.memory_bytes``).
MEMORY_PATTERN = r"(\d+(?:\.\d+)?) ?([kKmMgGtT])i?[bB]?"


def check_script_text(value: str) -> str:
    """``value`` if it can stand in a job script, else ``ValueError`` naming the character."""
    for bad, what in SCRIPT_FORBIDDEN.items():
        if bad in value:
            raise ValueError(f"{what} is not allowed in a job script (one directive or command per entry, "
                             "no shell operators)")
    return value


#: Text that lands in a job script (checked by :func:`check_script_text`).
ScriptText = Annotated[str, AfterValidator(check_script_text)]


class ClusterSpec(Section):
    """Where Dask runs the tasks: ``local`` (a ``LocalCluster`` of ``workers`` processes on this
    machine) or ``slurm`` / ``pbs`` (``jobs`` batch jobs of ``cores`` cores each, submitted by
    dask-jobqueue). Every text that lands in a job script is checked (:data:`SCRIPT_FORBIDDEN`)."""

    kind: Literal["local", "slurm", "pbs"] = Field("local", description="local processes, or SLURM / PBS jobs")
    queue: ScriptText | None = Field(None, min_length=1, description="partition (SLURM -p) or queue (PBS -q)")
    account: ScriptText | None = Field(None, min_length=1, description="account charged (-A)")
    cores: int = Field(1, ge=1, le=4096, description="cores booked per job")
    task_cores: int = Field(1, ge=1, le=4096, description="cores one task uses: the MPI ranks of a DFT labelling "
                                                          "task (1: serial)")
    processes: int | None = Field(None, ge=1, le=4096, description="Dask workers per job, one task at a time each "
                                                                   "(default cores // task_cores)")
    memory: str = Field("4GB", description=(
        "memory per job in the batch system's binary units: '64G' = '64GB' = '64GiB' = 64 GiB"))
    walltime: str = Field("01:00:00", description="wall-clock limit per job, [D-]HH:MM:SS; workers retire "
                          f"{RETIRE_BEFORE_S // 60:g} min before it (above {MIN_LIFETIME_WALLTIME_S // 60:g} min)")
    job_name: str = Field("deepearth", pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="name of the batch jobs")
    job_extra_directives: list[ScriptText] = Field(default_factory=list, description=(
        "more scheduler directives, one per entry, with or without the '#SBATCH ' / '#PBS ' prefix "
        "(e.g. '--constraint=cpu', '-l place=excl')"))
    job_script_prologue: list[ScriptText] = Field(default_factory=list, description=(
        "shell lines run before the workers start, e.g. 'module load gpaw', 'source /path/venv/bin/activate'"))
    local_directory: ScriptText | None = Field(None, min_length=1, description="workers' scratch folder on the node "
                                                                              "(e.g. /tmp or $TMPDIR)")
    log_directory: ScriptText | None = Field(None, min_length=1, description="where the jobs write their "
                                                                            "stdout/stderr (made if missing)")
    interface: str | None = Field(None, pattern=r"^[A-Za-z0-9_.:-]{1,32}$", description="network interface of "
                                  "the scheduler and workers, e.g. 'ib0' (default: the hostname's address)")
    python: ScriptText | None = Field(None, pattern=r"^\S+$", description="Python on the nodes that has deepearth "
                                                                          "(default: this one)")
    jobs: int = Field(1, ge=1, le=10000, description="jobs to start (slurm/pbs)")
    retries: int = Field(0, ge=0, le=10, description="retries of a task that raised or lost its node")
    retry_backoff_s: float = Field(10.0, ge=0, le=3600, description="wait before the k-th retry: backoff × 2^(k-1), s")

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str) -> str:
        if not re.fullmatch(MEMORY_PATTERN, value):
            raise ValueError("not a memory size: a number and K, M, G or T (e.g. '64GB')")
        return value

    @field_validator("walltime")
    @classmethod
    def _walltime(cls, value: str) -> str:
        if not re.fullmatch(WALLTIME_PATTERN, value):
            raise ValueError("not a wall-clock limit: [D-]HH:MM:SS (e.g. '12:00:00' or '1-00:00:00')")
        return value

    @field_validator("task_cores")
    @classmethod
    def _task_fits(cls, value: int, info: ValidationInfo) -> int:
        cores = info.data.get("cores")
        if info.data.get("kind") != "local" and cores is not None and value > cores:
            raise ValueError(f"a task of {value} cores does not fit a job of cores = {cores}")
        return value

    @field_validator("processes")
    @classmethod
    def _workers_fit(cls, value: int | None, info: ValidationInfo) -> int | None:
        cores, task = info.data.get("cores"), info.data.get("task_cores")
        if value is not None and info.data.get("kind") != "local" and cores and task and value * task > cores:
            raise ValueError(f"{value} workers × task_cores = {task} is more than cores = {cores}")
        return value

    @field_validator("job_extra_directives")
    @classmethod
    def _directive_prefix(cls, lines: list[str], info: ValidationInfo) -> list[str]:
        kind = info.data.get("kind", "local")
        prefix = {"slurm": "#SBATCH ", "pbs": "#PBS "}.get(kind)
        for line in lines:
            if line.startswith("#") and (prefix is None or not line.startswith(prefix)):
                raise ValueError(f"{line!r} is not a {kind} directive"
                                 + (f" (write '{prefix}...' or leave the prefix out)" if prefix else ""))
        return lines

    @property
    def memory_bytes(self) -> int:
        """``memory`` in bytes, read as the batch systems read it: binary units (SLURM's ``64G`` and
        PBS's ``64gb`` are both 64 GiB), so ``64G`` = ``64GB`` = ``64GiB`` = 68 719 476 736 B."""
        m = re.fullmatch(MEMORY_PATTERN, self.memory)
        assert m is not None  # checked by the field's validator
        return int(float(m.group(1)) * 1024 ** " kmgt".index(m.group(2).lower()))

    @property
    def walltime_s(self) -> int:
        """``walltime`` in seconds."""
        m = re.fullmatch(WALLTIME_PATTERN, self.walltime)
        assert m is not None  # checked by the field's validator
        days, h, mi, sec = (int(g) if g else 0 for g in m.groups())
        return ((days * 24 + h) * 60 + mi) * 60 + sec

    @property
    def workers_per_job(self) -> int:
        """Dask workers in one job, each running one task at a time."""
        return self.processes or max(1, self.cores // self.task_cores)

    def directives(self) -> list[str]:
        """The extra directives without their ``#SBATCH`` / ``#PBS`` prefix."""
        return [re.sub(r"^#(SBATCH|PBS) +", "", line) for line in self.job_extra_directives]


def cluster_spec(data: dict, where: str = "cluster") -> ClusterSpec:
    """A :class:`ClusterSpec` from a dict (a recipe's ``[cluster]`` table); a bad value is a one-line
    ``ValueError`` naming the key, e.g. ``key 'cluster.queue': a backtick is not allowed ...``."""
    try:
        return ClusterSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join([where, *(str(p) for p in first["loc"])])
        msg = "unknown key" if first["type"] == "extra_forbidden" else first["msg"].removeprefix("Value error, ")
        got = f" (got {first['input']!r})" if first["type"] not in ("extra_forbidden", "missing") else ""
        raise ValueError(f"key '{key}': {msg}{got}") from None


def worker_exports() -> list[str]:
    """Job-script lines that set the workers' environment: one thread per library, workers that may
    start child processes (a LAMMPS run, a multiprocessing labeller)."""
    env = {**SINGLE_THREAD_ENV, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    return [f"export {key}={value}" for key, value in env.items()]


def jobqueue_kwargs(spec: ClusterSpec) -> dict[str, Any]:
    """Keyword arguments of dask-jobqueue's ``SLURMCluster`` / ``PBSCluster`` (and their jobs) for
    ``spec``: each job books ``cores`` cores and ``memory``, and runs ``workers_per_job`` workers of one
    thread each (``memory / workers_per_job`` each); the user's prologue follows the exports of
    :func:`worker_exports`, so it can override them. Workers of a job of 15 min or more retire
    ``RETIRE_BEFORE_S ± RETIRE_STAGGER_S`` before its walltime (Dask's ``--lifetime``): their
    tasks move to other workers instead of dying with the job. PBS gets the walltime as HH:MM:SS."""
    n = spec.workers_per_job
    t = spec.walltime_s
    walltime = spec.walltime if spec.kind == "slurm" else f"{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}"
    lifetime = (["--lifetime", f"{t - RETIRE_BEFORE_S}s", "--lifetime-stagger", f"{RETIRE_STAGGER_S}s"]
                if t >= MIN_LIFETIME_WALLTIME_S else [])
    kwargs: dict[str, Any] = dict(
        cores=n, processes=n, memory=f"{spec.memory_bytes}B", walltime=walltime, queue=spec.queue,
        account=spec.account, job_name=spec.job_name, job_extra_directives=spec.directives(),
        job_script_prologue=[*worker_exports(), *spec.job_script_prologue],
        local_directory=spec.local_directory, log_directory=spec.log_directory, python=spec.python,
        interface=spec.interface, worker_extra_args=lifetime)
    if spec.kind == "slurm":
        kwargs["job_cpu"] = spec.cores
    elif spec.kind == "pbs":
        from dask_jobqueue.pbs import pbs_format_bytes_ceil

        kwargs["resource_spec"] = f"select=1:ncpus={spec.cores}:mem={pbs_format_bytes_ceil(spec.memory_bytes)}"
    else:
        raise ValueError(f"cluster.kind = {spec.kind!r} has no batch jobs (slurm or pbs)")
    return kwargs


def jobqueue_cluster_class(kind: str):
    """dask-jobqueue's ``SLURMCluster`` or ``PBSCluster``."""
    from dask_jobqueue import PBSCluster, SLURMCluster

    if kind not in ("slurm", "pbs"):
        raise ValueError(f"cluster.kind = {kind!r} has no batch jobs (slurm or pbs)")
    return {"slurm": SLURMCluster, "pbs": PBSCluster}[kind]


def job_script(spec: ClusterSpec) -> str:
    """The batch script each of ``spec.jobs`` jobs would run, made by dask-jobqueue's own job class:
    nothing is submitted and no scheduler starts, so the scheduler address is
    :data:`PLACEHOLDER_SCHEDULER` (the run fills in its own). Makes ``log_directory`` if it is set
    and missing (as dask-jobqueue does)."""
    job_class = jobqueue_cluster_class(spec.kind).job_cls
    return job_class(scheduler=PLACEHOLDER_SCHEDULER, name="preview", **jobqueue_kwargs(spec)).job_script()
