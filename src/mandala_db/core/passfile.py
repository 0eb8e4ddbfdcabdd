"""Passwords for child processes (pg_dump, pg_restore, psql): a temporary 0600 password file, never an
argument that every local user could read in /proc, never a log line."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from mandala_db.core.config import DatabaseURL


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(":", "\\:")


@contextmanager
def child_env(url: DatabaseURL) -> Iterator[dict[str, str]]:
    """The environment for a PostgreSQL client tool: PGPASSFILE when there is a password, nothing else."""
    env = {k: v for k, v in os.environ.items() if k not in ("PGPASSWORD", "PGPASSFILE", "DATABASE_URL")}
    if url.password is None:
        yield env
        return
    fd, path = tempfile.mkstemp(prefix="mandala-pgpass-")
    try:
        os.fchmod(fd, 0o600)  # libpq ignores a password file that others can read
        with os.fdopen(fd, "w") as f:
            f.write(f"*:*:*:{_escape(url.user or '*')}:{_escape(url.password)}\n")
        env["PGPASSFILE"] = path
        yield env
    finally:
        os.unlink(path)


def conninfo(url: DatabaseURL) -> str:
    """A libpq connection string for --dbname, without the password."""
    from psycopg.conninfo import make_conninfo

    return make_conninfo("", **url.libpq_params(application_name="mandala-db:backup"))
