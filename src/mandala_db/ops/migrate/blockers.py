"""Who is in the way: the other sessions that hold or wait for locks on the tables a revision touches,
named in a lock-timeout error and in `migrate prod`'s pre-flight."""

from __future__ import annotations

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
