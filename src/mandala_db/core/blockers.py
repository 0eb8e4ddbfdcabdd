"""Who is in the way: the other sessions that hold or wait for locks on the tables a revision (or a
restore, or `security apply-roles`) touches, named in a lock-timeout error and in `migrate prod`'s
pre-flight; and the retry discipline every command that takes strong locks shares: lock_timeout on its
statements, a few tries with backoff, then one line naming who held the locks."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import psycopg

from mandala_db.core.database import quote_ident
from mandala_db.core.revision import current_schema


@dataclass
class Blocker:
    pid: int
    application_name: str
    user: str
    client: str
    state: str
    age_seconds: float
    mode: str
    table: str
    granted: bool
    query: str

    def describe(self) -> str:
        verb = "holds" if self.granted else "waits for"
        return (
            f"pid {self.pid} ({self.application_name or 'no application_name'}, user {self.user}, from "
            f"{self.client}, {self.state}, transaction open {self.age_seconds:.0f} s) {verb} {self.mode} on "
            f"{self.table}: {self.query}"
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


_EVERY_TABLE = """SELECT a.pid, a.application_name, a.usename, coalesce(a.client_addr::text, 'local socket'),
                  coalesce(a.state, ''), extract(epoch FROM now() - coalesce(a.xact_start, a.query_start, now())),
                  l.mode, n.nspname || '.' || c.relname, l.granted,
                  left(regexp_replace(a.query, '[[:space:]]+', ' ', 'g'), 80)
           FROM pg_locks l
           JOIN pg_class c ON c.oid = l.relation
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
             AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'
             AND l.pid <> pg_backend_pid() AND NOT starts_with(coalesce(a.application_name, ''), %s)
           ORDER BY 6 DESC, a.pid"""


def blockers_anywhere(conn: psycopg.Connection[Any], ours: str = "\x01") -> list[Blocker]:
    """Other sessions holding or waiting for locks on any table of this database (not our own sessions,
    whose application_name starts with `ours`), oldest transaction first, one entry per session."""
    rows = conn.execute(_EVERY_TABLE, (ours,)).fetchall()
    seen: dict[int, Blocker] = {}
    for r in rows:
        seen.setdefault(r[0], Blocker(r[0], r[1], r[2], r[3], r[4], float(r[5] or 0), r[6], r[7], r[8], r[9]))
    return list(seen.values())


@dataclass(frozen=True)
class LockPolicy:
    """What migrations have, restores and `security apply-roles` have too: lock_timeout on their
    statements, and a few tries with backoff before one line naming who holds the locks."""

    timeout: str = "5s"
    tries: int = 5


def is_lock_timeout(exc: BaseException | str) -> bool:
    """A statement gave up waiting for a lock (SQLSTATE 55P03), as an error or in psql's words."""
    if isinstance(exc, str):
        return "lock timeout" in exc.lower()
    orig = getattr(exc, "orig", None) or exc
    return getattr(orig, "sqlstate", None) == "55P03" or "lock timeout" in str(orig).lower()


def backoff(attempt: int) -> float:
    """Seconds before try attempt+1: doubling from half a second, at most 10, jittered so that two
    waiting runs do not retry in step."""
    return float(min(10.0, 0.5 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.5))


def describe(found: list[Blocker]) -> str:
    return "; ".join(b.describe() for b in found) or "a session that has since finished"


def blockers(conn: psycopg.Connection[Any], tables: list[str]) -> list[Blocker]:
    """Other sessions that hold or wait for locks on these tables, oldest transaction first."""
    if not tables:
        return []
    rows = conn.execute(
        """SELECT a.pid, a.application_name, a.usename, coalesce(a.client_addr::text, 'local socket'),
                  coalesce(a.state, ''), extract(epoch FROM now() - coalesce(a.xact_start, a.query_start, now())),
                  l.mode, c.relname, l.granted, left(regexp_replace(a.query, '[[:space:]]+', ' ', 'g'), 80)
           FROM pg_locks l
           JOIN pg_class c ON c.oid = l.relation
           JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE c.relname = ANY(%s) AND c.relnamespace = %s::regnamespace
             AND l.pid <> pg_backend_pid()
           ORDER BY 6 DESC, a.pid""",
        (tables, quote_ident(current_schema(conn))),
    ).fetchall()
    return [Blocker(r[0], r[1], r[2], r[3], r[4], float(r[5] or 0), r[6], r[7], r[8], r[9]) for r in rows]
