"""The embedded default: a PostgreSQL 16 under ./.mandala/, started through pgserver and kept between runs."""

from __future__ import annotations

import fcntl
import os
import warnings
from pathlib import Path

from mandala_db.core.config import DatabaseURL
from mandala_db.core.database import Database, ensure_database
from mandala_db.core.errors import OperationFailed
from mandala_db.core.events import bus

APP_DATABASE = "mandala"


def _running_socket(pgdata: Path) -> tuple[str, int] | None:
    """Read postmaster.pid: if the server it names is alive and ready, where its socket is.

    Reading the file ourselves keeps the common case (server already running) free of pgserver's imports.
    """
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        pid, port, socket_dir, status = int(lines[0]), int(lines[3]), lines[4], lines[7].strip()
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    if status != "ready" or not socket_dir:
        return None
    return socket_dir, port


def _start(pgdata: Path) -> tuple[str, int]:
    warnings.filterwarnings("ignore", module="platformdirs")
    try:
        from pgserver.postgres_server import get_server
    except ImportError as exc:
        raise OperationFailed(
            "the embedded PostgreSQL (pgserver) is not installed",
            "pip install pgserver, or pass --database-url",
        ) from exc
    try:
        # cleanup_mode=None: the server outlives this process, so the next command starts instantly.
        get_server(pgdata, cleanup_mode=None)
    except Exception as exc:
        raise OperationFailed(
            f"the embedded PostgreSQL under {pgdata} did not start: {exc}",
            f"see {pgdata / 'log'}, or pass --database-url",
        ) from exc
    found = _running_socket(pgdata)
    if found is None:
        raise OperationFailed(
            f"the embedded PostgreSQL under {pgdata} did not report ready", f"see {pgdata / 'log'}"
        )
    return found


def ensure_embedded(state_dir: Path, *, announce: bool = True) -> DatabaseURL:
    """The URL of the embedded server's application database, starting the server if it is not running."""
    pgdata = (state_dir / "pgdata").resolve()
    found = _running_socket(pgdata)
    how = "running"
    if found is None:
        state_dir.mkdir(parents=True, exist_ok=True)
        # Several commands (or test workers) may start at once: one starts the server, the others wait for
        # it and then find it running. pgserver's own lock is taken too late to cover creating the folder.
        with (state_dir / ".start.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            found = _running_socket(pgdata)
            if found is None:
                found = _start(pgdata)
                how = "started"
    socket_dir, port = found
    admin = DatabaseURL("postgres", None, (), "postgres", (("host", socket_dir), ("port", str(port))))
    ensure_database(Database(admin, "mandala-db:embedded"), APP_DATABASE)
    if announce:
        bus.info(
            "database_connection",
            f"using the embedded PostgreSQL under {pgdata} ({how}, socket {socket_dir})",
            embedded=True,
        )
    return admin.with_database(APP_DATABASE)
