"""Suite-wide test setup."""

import sys
from pathlib import Path

# ``from datafiles import data_path`` in tests at any depth, whatever pytest's import mode.
_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)


# --- a throw-away PostgreSQL server for the label store's tests (LabelStore on a postgresql:// URL) ---

import glob  # noqa: E402
import itertools  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

import pytest  # noqa: E402


def _postgres_bindir() -> Path | None:
    """The folder of initdb/pg_ctl: Debian's /usr/lib/postgresql/<newest>/bin, else the PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(Path(d).parent.name)
                        if Path(d).parent.name.isdigit() else 0, reverse=True)
    on_path = shutil.which("pg_ctl")
    candidates += [str(Path(on_path).parent)] if on_path else []
    for d in candidates:
        if all((Path(d) / exe).is_file() for exe in ("initdb", "pg_ctl", "postgres")):
            return Path(d)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """A running throw-away server; :meth:`new_database` gives the URL of a fresh, empty database."""

    def __init__(self, port: int):
        self.port = port
        self._names = itertools.count()

    def url(self, database: str) -> str:
        return f"postgresql://deepearth@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg2

        name = f"store_{next(self._names)}"
        con = psycopg2.connect(self.url("postgres"))
        try:
            con.autocommit = True
            con.cursor().execute(f"CREATE DATABASE {name}")
        finally:
            con.close()
        return self.url(name)


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server for this session: initdb into a temporary folder, listening on 127.0.0.1 only
    (free port; unix socket in that folder), trust authentication for user ``deepearth``; run as the
    ``postgres`` user when the tests run as root. Stopped (``-m immediate``) and removed at the end.
    Missing binaries or drivers: skip, or fail when ``DEEPEARTH_REQUIRE_POSTGRES=1`` (CI)."""

    def unavailable(reason: str):
        if os.environ.get("DEEPEARTH_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason} (DEEPEARTH_REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip(reason)

    bindir = _postgres_bindir()
    if bindir is None:
        unavailable("no PostgreSQL server binaries (initdb, pg_ctl, postgres): bash scripts/install-postgres.sh")
    for module in ("psycopg2", "ase_db_backends"):
        try:
            __import__(module)
        except ImportError:
            unavailable(f"{module} not importable: pip install -e .")
    run_as: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="deepearth-pg-"))
    if os.getuid() == 0:  # postgres refuses to run as root
        import pwd

        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(root)
            unavailable("tests run as root and there is no 'postgres' user to run the server as")
        os.chown(root, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data = root / "data"
    try:
        made = subprocess.run(run_as + [str(bindir / "initdb"), "-D", str(data), "-U", "deepearth", "--auth=trust",
                                        "--no-sync", "-E", "UTF8"], capture_output=True, text=True)
        if made.returncode:
            raise RuntimeError(f"initdb failed: {made.stdout}{made.stderr}")
        for attempt in range(3):  # the free port may be taken before the server binds it
            port = _free_port()
            options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {root} "
                       "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            started = subprocess.run(run_as + [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"),
                                               "-w", "-t", "60", "-o", options, "start"],
                                     capture_output=True, text=True)
            if started.returncode == 0:
                break
        else:
            raise RuntimeError(f"PostgreSQL did not start: {started.stdout}{started.stderr}"
                               f"{(root / 'log').read_text() if (root / 'log').exists() else ''}")
        yield PostgresServer(port)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(run_as + [str(bindir / "pg_ctl"), "-D", str(data), "stop", "-m", "immediate"],
                           capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request, tmp_path):
    """A factory of fresh label-store locations: ``store_location(name)`` is a SQLite file in
    ``tmp_path`` or the URL of a new database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return lambda name="db": str(tmp_path / f"{name}.db")
    server = request.getfixturevalue("postgres_server")
    return lambda name="db": server.new_database()


# ------------------------------------------------------------------ the reliability table
# Fault-injection and bad-input tests carry ``@pytest.mark.reliability("fault" | "bad input")``;
# with DEEPEARTH_RELIABILITY_REPORT=FILE their outcomes (and any ``record_property("labels_lost", n)``)
# are written to FILE as JSON: benchmarks/reliability.py turns them into the README's table.
import json  # noqa: E402

_RELIABILITY: list[dict] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    mark = item.get_closest_marker("reliability")
    if mark and (rep.when == "call" or (rep.when == "setup" and not rep.passed)):
        _RELIABILITY.append({"kind": mark.args[0], "test": item.nodeid, "passed": rep.passed,
                             **{k: v for k, v in item.user_properties}})


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("DEEPEARTH_RELIABILITY_REPORT")
    if path:
        with open(path, "w") as fh:
            json.dump(_RELIABILITY, fh, indent=1)
