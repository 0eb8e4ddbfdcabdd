"""`migrate status`: read-only views of a database against the history: current and pending revisions,
drift from the recorded fingerprint, the schema report, the connection report, archived rows."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

from mandala_db.core import catalog, ledger
from mandala_db.core.database import Database, server_version
from mandala_db.core.errors import BadInput, CheckFailed
from mandala_db.core.revision import current_revision, current_schema
from mandala_db.migrations.archive import ARCHIVE_PREFIX
from mandala_db.ops.migrate.loader import BASE, History, Revision


@dataclass
class Status:
    current: str | None
    head: str | None
    applied: list[str]
    pending: list[Revision]
    drift: str  # "none", "drift", "unknown" (nothing recorded to compare with) or "locked"
    recorded_at: str | None = None
    last_failure: ledger.LedgerRow | None = None
    archived: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "head": self.head,
            "up_to_date": not self.pending,
            "applied": self.applied,
            "pending": [{"revision": r.id, "title": r.title, "phase": r.phase} for r in self.pending],
            "drift": self.drift,
            "fingerprint_recorded_at": self.recorded_at,
            "last_failure": self.last_failure.to_dict() if self.last_failure else None,
            "archived_tables": self.archived,
        }


# Prisma's ledger, the layout an adoption replaced and the rows `--fix ...=archive` moved, kept in the
# archive by `adopt prisma`: records of the adoption, not rows a downgrade parked for the next upgrade.
ADOPTION_RECORDS = ("_prisma_migrations", "prisma_adoption", "adopt_rejected")


def archived_tables(conn: psycopg.Connection[Any], schema: str) -> list[str]:
    """Archive tables that hold rows kept from a downgrade (an emptied one, left after its rows were put
    back, keeps nothing and is not listed)."""
    from mandala_db.core.database import quote_ident

    archive = ARCHIVE_PREFIX + schema
    names = [
        str(r[0])
        for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY 1", (archive,)
        ).fetchall()
        if r[0] not in ADOPTION_RECORDS
    ]
    return [
        n
        for n in names
        if conn.execute(f"SELECT EXISTS (SELECT 1 FROM {quote_ident(archive)}.{quote_ident(n)})").fetchone()
        == (True,)
    ]


def _live_fingerprint(conn: psycopg.Connection[Any], schema: str) -> str | None:
    """The deparsers lock each table briefly: behind a long DDL, give up rather than hang `status`."""
    try:
        with conn.transaction():
            conn.execute("SET LOCAL lock_timeout = '2s'")
            return catalog.take(conn, schema).fingerprint
    except psycopg.errors.LockNotAvailable:
        return None


def _state_after(history: History, recorded_at: str) -> str | None:
    """The revision a recorded fingerprint describes: the revision itself after an upgrade, its parent
    after a downgrade ("below X"). A run killed before it recorded its fingerprint leaves an older one,
    which says nothing about the schema now."""
    if not recorded_at.startswith("below "):
        return recorded_at
    rev = history.by_id.get(recorded_at.removeprefix("below "))
    return None if rev is None or rev.down_revision in (None, BASE) else rev.down_revision


def status(conn: psycopg.Connection[Any], history: History) -> Status:
    current = current_revision(conn)
    applied = [r.id for r in history.upto(current)]
    pending = history.after(current)
    schema = current_schema(conn)
    recorded = ledger.recorded_fingerprint(conn)
    drift = "unknown"
    recorded_at = None
    if recorded is not None:
        recorded_at, fingerprint = recorded
        if _state_after(history, recorded_at) == current:
            live = _live_fingerprint(conn, schema)
            drift = "locked" if live is None else ("none" if live == fingerprint else "drift")
    rows = ledger.history(conn, limit=1)
    last_failure = rows[0] if rows and rows[0].status in ("failed", "interrupted") else None
    return Status(
        current,
        history.head,
        applied,
        pending,
        drift,
        recorded_at,
        last_failure,
        archived_tables(conn, schema),
    )


def connection_report(db: Database, conn: psycopg.Connection[Any], connect_ms: float) -> dict[str, Any]:
    started = time.perf_counter()
    row = conn.execute(
        """SELECT current_database(), current_user,
                  coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false),
                  (SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()),
                  current_setting('statement_timeout'), current_setting('lock_timeout')"""
    ).fetchone()
    assert row is not None
    return {
        "url": str(db),
        "server_version": server_version(conn),
        "database": row[0],
        "user": row[1],
        "schema": current_schema(conn),
        "ssl": bool(row[2]),
        "ssl_version": row[3],
        "statement_timeout": row[4],
        "lock_timeout": row[5],
        "connect_ms": round(connect_ms, 1),
        "round_trip_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def schema_report(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    schema = current_schema(conn)
    snap = catalog.take(conn, schema)
    sizes = catalog.row_estimates(conn, schema)
    tables = []
    for name, table in sorted(snap.tables.items()):
        est, size = sizes.get(name, (0, 0))
        est = max(est, 0)
        tables.append(
            {
                "name": name,
                "columns": len(table.columns),
                "rows_estimate": est,
                "size_bytes": size,
                "indexes": sorted(table.indexes),
                "constraints": {n: d for n, (_, d) in sorted(table.constraints.items())},
                "triggers": sorted(table.triggers),
            }
        )
    return {
        "schema": schema,
        "fingerprint": snap.fingerprint,
        "tables": tables,
        "enums": snap.enums,
        "functions": sorted(snap.functions),
    }


VIEWS = ("status", "schema", "history", "all", "test")


@dataclass
class Report:
    """What `migrate status VIEW` found: the sections the view asked for, the others None."""

    connection: dict[str, Any] | None = None
    status: Status | None = None
    schema: dict[str, Any] | None = None
    history: list[ledger.LedgerRow] | None = None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"ok": True}
        if self.connection is not None:
            doc["connection"] = self.connection
        if self.status is not None:
            doc["status"] = self.status.to_dict()
        if self.schema is not None:
            doc["schema"] = self.schema
        if self.history is not None:
            doc["history"] = [r.to_dict() for r in self.history]
        return doc

    def check_failure(self) -> CheckFailed | None:
        """For `--check`: pending revisions or drift fail the check."""
        st = self.status
        if st is None or (not st.pending and st.drift != "drift"):
            return None
        return CheckFailed(
            f"{len(st.pending)} pending revision(s), drift: {st.drift}",
            "run `migrate deploy`, or `migrate validate` to see the drift",
        )


def report(db: Database, view: str) -> Report:
    """One connection, the sections of `view`; reads only."""
    if view not in VIEWS:
        raise BadInput(f"unknown status view {view!r}", f"use one of {', '.join(VIEWS)}")
    started = time.perf_counter()
    conn = db.connect()
    connect_ms = (time.perf_counter() - started) * 1000
    found = Report()
    with conn:
        if view in ("test", "all"):
            found.connection = connection_report(db, conn, connect_ms)
        if view in ("status", "all"):
            found.status = status(conn, History.load())
        if view in ("schema", "all"):
            found.schema = schema_report(conn)
        if view in ("history", "all"):
            found.history = ledger.history(conn)
    return found
