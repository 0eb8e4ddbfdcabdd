"""The migration lock: a session-level advisory lock on a connection of its own, held for the whole run.

Session level, because a transaction-level lock would be released by every commit between revisions and by
statements that must run outside a transaction; its own connection, so no migration's rollback can drop it.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from typing import Any

import psycopg

from mandala_db.core.database import Database
from mandala_db.core.errors import LockNotObtained
from mandala_db.core.events import bus


def lock_key(dbname: str, schema: str) -> int:
    """A stable signed 64-bit key per database schema, so two projects on one server do not collide."""
    digest = hashlib.sha256(f"mandala-db:{dbname}:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def configured_key(conn: psycopg.Connection[Any], schema: str) -> int:
    """The key of the schema the URL configures (`schema=`, else public), never the session's current
    schema: that is NULL until the first runner creates the schema, so two runners on a new database would
    otherwise take two different locks."""
    row = conn.execute("SELECT current_database()").fetchone()
    assert row is not None
    return lock_key(str(row[0]), schema)


RELEASED = "another session (it has just released it)"


class MigrationLock:
    def __init__(self, db: Database, *, wait_seconds: float = 120.0) -> None:
        self.db = db
        self.wait_seconds = wait_seconds
        self.conn: psycopg.Connection[Any] | None = None
        self.key = 0

    def __enter__(self) -> psycopg.Connection[Any]:
        conn = self.db.connect()
        self.key = configured_key(conn, self.db.schema)
        deadline = time.monotonic() + self.wait_seconds
        started = time.monotonic()
        announced = False
        delay = 0.05
        while True:
            got = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
            if got and got[0]:
                break
            holder = self.holder(conn)
            if holder == RELEASED and time.monotonic() < deadline + 1.0:
                continue  # released between the try and the look: try again at once (it is free)
            if time.monotonic() >= deadline:
                conn.close()
                raise LockNotObtained(
                    f"the migration lock is held by {holder}; waited {self.wait_seconds:g} s",
                    "wait for that run to finish, or raise --lock-wait",
                )
            if not announced:
                bus.info("lock_wait", f"waiting for the migration lock, held by {holder}", holder=holder)
                announced = True
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 1.0)
        bus.info(
            "lock_acquired",
            "migration lock acquired",
            duration_ms=(time.monotonic() - started) * 1000,
        )
        self.conn = conn
        return conn

    def probe(self, conn: psycopg.Connection[Any]) -> str | None:
        """Who holds the lock right now, or None when it is free; on `conn`, and without keeping it."""
        self.key = configured_key(conn, self.db.schema)
        got = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        if got and got[0]:
            conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            return None
        return self.holder(conn)

    def holder(self, conn: psycopg.Connection[Any]) -> str:
        row = conn.execute(
            """SELECT a.pid, a.application_name, a.client_addr::text, a.backend_start, a.usename
               FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
               WHERE l.locktype = 'advisory' AND l.granted
                 AND l.classid = ((%(k)s >> 32) & 4294967295)::oid AND l.objid = (%(k)s & 4294967295)::oid
               LIMIT 1""",
            {"k": self.key},
        ).fetchone()
        if not row:
            return RELEASED
        pid, app, addr, since, user = row
        where = addr or "local socket"
        return f"pid {pid} ({app or 'no application_name'}, user {user}, from {where}, connected since {since:%Y-%m-%d %H:%M:%S})"

    def __exit__(self, *exc: object) -> None:
        if self.conn is not None:
            # If the connection is gone, the lock went with it.
            with contextlib.suppress(psycopg.Error):
                self.conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            self.conn.close()
            self.conn = None
