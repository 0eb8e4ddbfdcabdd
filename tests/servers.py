"""The servers the tests run against: the PostgreSQL every database test gets (TEST_DATABASE_URL when
set, else the embedded PostgreSQL 16 of pgserver, started once per session) and a PostgreSQL that really
checks passwords."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ROOT, SENTINEL_PASSWORD
from mandala_db.core.config import DatabaseURL


def _embedded_admin_url() -> DatabaseURL:
    from mandala_db.core.embedded import ensure_embedded

    state = Path(os.environ.get("MANDALA_TEST_STATE_DIR", ROOT / ".mandala" / "test"))
    state.mkdir(parents=True, exist_ok=True)
    return ensure_embedded(state, announce=False).with_database("postgres")


@pytest.fixture(scope="session")
def admin_url() -> DatabaseURL:
    raw = os.environ.get("TEST_DATABASE_URL")
    return DatabaseURL.parse(raw) if raw else _embedded_admin_url()


@pytest.fixture(scope="session")
def password_server() -> Iterator[DatabaseURL]:
    """A PostgreSQL that really checks passwords (scram-sha-256), owned by the sentinel password.

    The machine's server and the embedded one trust every local connection, so a wrong password could
    never fail there. This one is built from pgserver's binaries in a scratch directory.
    """
    import pgserver

    bindir = Path(pgserver.__file__).parent / "pginstall" / "bin"
    base = Path(tempfile.mkdtemp(prefix="mdb-pw-"))
    base.chmod(0o755)
    prefix: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        from pgserver.utils import ensure_user_exists

        ensure_user_exists("pgserver")
        shutil.chown(base, "pgserver", "pgserver")
        prefix = ["runuser", "-u", "pgserver", "--"]
    pwfile = base / "pw"
    pwfile.write_text(SENTINEL_PASSWORD + "\n")
    if prefix:
        shutil.chown(pwfile, "pgserver", "pgserver")
    pgdata = base / "data"
    subprocess.run(
        [
            *prefix,
            str(bindir / "initdb"),
            "-D",
            str(pgdata),
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            f"--pwfile={pwfile}",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
    )
    pwfile.unlink()
    subprocess.run(
        [
            *prefix,
            str(bindir / "pg_ctl"),
            "-D",
            str(pgdata),
            "-l",
            str(base / "log"),
            "-w",
            "-o",
            f"-k {base} -h '' -p 5499",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield DatabaseURL(
            "postgres", SENTINEL_PASSWORD, (), "postgres", (("host", str(base)), ("port", "5499"))
        )
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(pgdata), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)
