"""Test harness: a real PostgreSQL for every test that touches a database. The fixtures that start
servers live in `servers.py`; those the backup and restore tests share in `support.py`.

TEST_DATABASE_URL (e.g. the machine's PostgreSQL 15) when set; otherwise the embedded PostgreSQL 16 of
pgserver, started once per session. Each test gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from mandala_db.core.url import DatabaseURL

pytest_plugins = ["servers", "support"]

ROOT = Path(__file__).resolve().parent.parent
# Backups that commands take before destructive steps: a folder of this test process, removed at its end.
TEST_BACKUPS = tempfile.mkdtemp(prefix="mandala-db-test-backups-")
atexit.register(shutil.rmtree, TEST_BACKUPS, True)
# Rendered revisions, shared by this test process's commands (as by a user's runs), never the user's own.
TEST_CACHE = tempfile.mkdtemp(prefix="mandala-db-test-cache-")
atexit.register(shutil.rmtree, TEST_CACHE, True)
# The suite logs in as its servers' superuser, which `security check` rightly calls a high finding: every
# command gets this reviewed exception (written afresh each session, so its expiry never lapses mid-run)
# unless a test says otherwise (MANDALA_SECURITY_SUPPRESSIONS="" means none).
TEST_SUPPRESSIONS = Path(TEST_CACHE) / "security-suppressions.toml"
TEST_SUPPRESSIONS.write_text(
    '[[suppress]]\nid = "role.application"\nobject = "role postgres"\n'
    'reason = "the test servers: every test logs in as their superuser"\n'
    f"expires = {(date.today() + timedelta(days=7)).isoformat()}\n"
)
SENTINEL_PASSWORD = "Sentinel-pw-7f3a9c!@#%"


def secret_forms(secret: str) -> set[str]:
    """Every form a password leaks in: raw, percent-encoded as URLs render it (all of it or the reserved
    characters only), form-encoded, and a prefix long enough to be recognised."""
    from urllib.parse import quote, quote_plus

    return {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        secret[: max(6, len(secret) // 2)],
    }


def assert_no_secret(text: str, *secrets: str) -> None:
    for secret in (SENTINEL_PASSWORD, *secrets):
        for form in secret_forms(secret):
            assert form not in text, f"the password leaked in the form {form[:4]}… in: {text[:2000]}"


def create_database(admin: DatabaseURL, name: str) -> DatabaseURL:
    with psycopg.connect(**_params(admin), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        # A test database outlives no crash: its commits need not wait for the disk (a shared server's
        # other databases keep their own setting). Copies made from a template carry it too.
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    return admin.with_database(name)


def drop_database(admin: DatabaseURL, name: str) -> None:
    with psycopg.connect(**_params(admin), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _params(url: DatabaseURL) -> dict[str, Any]:
    params: dict[str, Any] = dict(url.libpq_params())
    if url.password:
        params["password"] = url.password
    return params


@pytest.fixture
def db_url(admin_url: DatabaseURL) -> Iterator[DatabaseURL]:
    """A new, empty database for this test alone."""
    name = f"mdb_test_{uuid.uuid4().hex[:10]}"
    url = create_database(admin_url, name)
    try:
        yield url
    finally:
        drop_database(admin_url, name)


_TEMPLATES: dict[str, str] = {}


def drop_templates(admin: DatabaseURL) -> None:
    """This process's templates, once: at its end, or before the run stops the embedded server (atexit
    comes after pytest_unconfigure in a run without workers, when the server is already gone)."""
    while _TEMPLATES:
        drop_database(admin, _TEMPLATES.popitem()[1])


def from_template(admin: DatabaseURL, url: DatabaseURL, key: str, build: Any) -> DatabaseURL:
    """Make `url`'s (empty, unused) database a copy of a template built once per test process by
    `build(template_url)`: CREATE DATABASE ... TEMPLATE copies files, where building again would run the
    migrations and the seeds through the command line each time. Falls back to building in place when
    something already holds a connection to the database."""
    name = url.dbname or ""
    if key not in _TEMPLATES:
        template = f"mdb_tpl_{key}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        if not _TEMPLATES:
            atexit.register(drop_templates, admin)
        build(create_database(admin, template))
        _TEMPLATES[key] = template
    with psycopg.connect(**_params(admin), autocommit=True) as c:
        busy = c.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)).fetchone()
        if busy and busy[0]:
            build(url)
            return url
        c.execute(f'DROP DATABASE "{name}"')
        c.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_TEMPLATES[key]}"')
        c.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    return url


@pytest.fixture
def conn(db_url: DatabaseURL) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(**_params(db_url), autocommit=True) as c:
        yield c


def deploy(url: DatabaseURL) -> None:
    """Every revision of the project's history, applied by the executor (no command line)."""
    from mandala_db.core.database import Database
    from mandala_db.ops.migrate.executor import Executor, RunOptions
    from mandala_db.ops.migrate.loader import History

    with Executor(Database(url), History.load(), RunOptions()) as ex:
        ex.upgrade()


@pytest.fixture
def deployed(admin_url: DatabaseURL, db_url: DatabaseURL) -> DatabaseURL:
    """This test's database with every revision applied: a copy of one deployed once per test process."""
    return from_template(admin_url, db_url, "deployed", deploy)


def connect_to(url: DatabaseURL) -> psycopg.Connection[Any]:
    return psycopg.connect(**_params(url), autocommit=True)


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(
    *args: str,
    url: DatabaseURL | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    pythonpath: Path | None = None,
    timeout: float = 120,
) -> Result:
    """Run the real program in a child process, as a user would, with no terminal attached."""
    child_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MANDALA_ENV", "NODE_ENV")}
    if url is not None:
        child_env["DATABASE_URL"] = url.render(mask=False)
    if pythonpath is not None:
        child_env["PYTHONPATH"] = str(pythonpath)
    # Backups taken before destructive steps go to a scratch folder, not into the working tree.
    child_env.setdefault("BACKUP_DIR", TEST_BACKUPS)
    child_env.setdefault("MANDALA_CACHE_DIR", TEST_CACHE)
    child_env.setdefault("MANDALA_SECURITY_SUPPRESSIONS", str(TEST_SUPPRESSIONS))
    child_env.update(env or {})
    # A run whose interpreter is set up differently (another package path, -X importtime, ...) starts a
    # new one; the others are forks of the suite's fork server, the same program in a process of its own.
    fresh = pythonpath is not None or any(k.startswith("PYTHON") for k in env or {}) or not ZYGOTE_ENABLED
    if fresh:
        proc = subprocess.run(
            [sys.executable, "-m", "mandala_db", *args],
            capture_output=True,
            text=True,
            env=child_env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)
    return _zygote().run(list(args), child_env, cwd or Path.cwd(), timeout)


# MANDALA_TEST_FORK_SERVER=0 runs every command in a new interpreter, as before the fork server.
ZYGOTE_ENABLED = os.environ.get("MANDALA_TEST_FORK_SERVER", "1") != "0"


class _ForkServer:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="mandala-db-test-zygote-"))
        self.path = str(self.folder / "socket")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("zygote.py")), self.path],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline() == "ready\n", "fork server"
        atexit.register(self.close)

    def run(self, args: list[str], env: dict[str, str], cwd: Path, timeout: float) -> Result:
        import json
        import socket

        out, err = self.folder / f"{uuid.uuid4().hex}.out", self.folder / f"{uuid.uuid4().hex}.err"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(self.path)
            conn.settimeout(timeout)
            stream = conn.makefile("rwb")
            request = {"args": args, "env": env, "cwd": str(cwd), "stdout": str(out), "stderr": str(err)}
            stream.write((json.dumps(request) + "\n").encode())
            stream.flush()
            pid = int(stream.readline())
            try:
                answer = stream.readline()
            except TimeoutError:
                os.kill(pid, 9)
                raise subprocess.TimeoutExpired(["mandala-db", *args], timeout) from None
        code = int(answer) if answer.strip() else -9  # killed before it could answer
        try:
            return Result(code, out.read_text(errors="replace"), err.read_text(errors="replace"))
        finally:
            out.unlink(missing_ok=True)
            err.unlink(missing_ok=True)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


_FORK_SERVER: list[_ForkServer] = []


def _zygote() -> _ForkServer:
    if not _FORK_SERVER:
        _FORK_SERVER.append(_ForkServer())
    return _FORK_SERVER[0]


@pytest.fixture
def cli(db_url: DatabaseURL) -> Any:
    def invoke(*args: str, **kw: Any) -> Result:
        kw.setdefault("url", db_url)
        return run_cli(*args, **kw)

    return invoke


def database_state(url: DatabaseURL) -> dict[str, Any]:
    """Everything a restore could leave half-done: indexes, constraints, triggers, every table's rows and
    content, and the schema as pg_dump sees it. Equal states mean the same database."""
    from mandala_db.core.process import child_environment, conninfo, password_file
    from mandala_db.core.tools import find_client
    from revision_data import table_checksums

    with connect_to(url) as c:
        counts = c.execute(
            """SELECT (SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()),
                      (SELECT count(*) FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
                        WHERE n.nspname = current_schema()),
                      (SELECT count(*) FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid
                        JOIN pg_namespace n ON n.oid = r.relnamespace
                        WHERE n.nspname = current_schema() AND NOT t.tgisinternal),
                      current_setting('server_version_num')::int / 10000"""
        ).fetchone()
        assert counts is not None
        tables = table_checksums(c)
    pg_dump = find_client("pg_dump", int(counts[3]))
    with password_file(url) as (extra, fds):
        dump = subprocess.run(
            [str(pg_dump.path), "--schema-only", f"--dbname={conninfo(url)}"],
            capture_output=True,
            env=child_environment(extra),
            pass_fds=fds,
            check=True,
        ).stdout.decode()
    schema = [
        ln for ln in dump.splitlines() if ln and not ln.startswith(("--", "\\restrict", "\\unrestrict"))
    ]
    return {
        "indexes": counts[0],
        "constraints": counts[1],
        "triggers": counts[2],
        "tables": tables,
        "schema": schema,
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the package whose models and revisions a test may edit; run it with `in_project`."""
    shutil.copytree(
        ROOT / "src" / "mandala_db",
        tmp_path / "src" / "mandala_db",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return tmp_path


def edit(project: Path, relative: str, old: str, new: str) -> None:
    """Replace text in a file of the copied package (the text must be there)."""
    path = project / "src" / "mandala_db" / relative
    text = path.read_text()
    assert old in text, f"{old!r} not found in {relative}"
    path.write_text(text.replace(old, new, 1))


def in_project(project: Path, url: DatabaseURL, *args: str, **kw: Any) -> Result:
    """The program of the copied package, run from the copy."""
    return run_cli(*args, url=url, pythonpath=project / "src", cwd=project, **kw)


def pytest_unconfigure(config: pytest.Config) -> None:
    """The embedded server the suite started is stopped once the whole run is over (by the controller,
    not by each worker): `make test` leaves no server behind."""
    if hasattr(config, "workerinput") or os.environ.get("TEST_DATABASE_URL"):
        return
    if _TEMPLATES:
        from servers import _embedded_admin_url

        drop_templates(_embedded_admin_url())
    from mandala_db.core.embedded import stop_embedded

    state = Path(os.environ.get("MANDALA_TEST_STATE_DIR", ROOT / ".mandala" / "test"))
    try:
        stop_embedded(state)
    except Exception as exc:  # never turn a green run red for this
        sys.stderr.write(f"the suite's embedded server could not be stopped: {exc}\n")
