"""The embedded default: a PostgreSQL 16 under ./.mandala/, started through pgserver and kept between runs."""

from __future__ import annotations

import fcntl
import os
import warnings
from pathlib import Path

from mandala_db.core.database import Database, ensure_database
from mandala_db.core.errors import OperationFailed
from mandala_db.core.events import bus
from mandala_db.core.url import DatabaseURL

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


def embedded_status(state_dir: Path) -> dict[str, object]:
    """What `server status` shows: whether the project's embedded server runs, and where."""
    pgdata = (state_dir / "pgdata").resolve()
    found = _running_socket(pgdata)
    status: dict[str, object] = {
        "pgdata": str(pgdata),
        "exists": (pgdata / "PG_VERSION").exists(),
        "running": False,
    }
    if status["exists"]:
        status["version"] = (pgdata / "PG_VERSION").read_text().strip()
    if found is not None:
        socket_dir, port = found
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
        status.update(running=True, pid=pid, socket=socket_dir, port=port)
    return status


def stop_embedded(state_dir: Path) -> bool:
    """Stop the project's embedded server (a fast shutdown: sessions are ended, nothing is lost); say
    whether it was running."""
    import subprocess

    pgdata = (state_dir / "pgdata").resolve()
    if _running_socket(pgdata) is None:
        return False
    warnings.filterwarnings("ignore", module="platformdirs")
    try:
        from pgserver._commands import POSTGRES_BIN_PATH
    except ImportError as exc:
        raise OperationFailed("the embedded PostgreSQL (pgserver) is not installed") from exc
    # The server runs as the user that owns its data (pgserver's own user when started by root).
    owner = pgdata.stat().st_uid
    prefix = [] if owner == os.geteuid() else ["runuser", "-u", _user_name(owner), "--"]
    done = subprocess.run(
        [*prefix, str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0 and _running_socket(pgdata) is not None:
        last = (done.stderr.strip().splitlines() or ["pg_ctl failed"])[-1]
        raise OperationFailed(
            f"the embedded PostgreSQL under {pgdata} did not stop: {last}", f"see {pgdata / 'log'}"
        )
    bus.info("embedded_stopped", f"stopped the embedded PostgreSQL under {pgdata}")
    return True


def _user_name(uid: int) -> str:
    import pwd

    return pwd.getpwuid(uid).pw_name
