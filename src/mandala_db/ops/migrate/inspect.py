"""Read-only views of a database against the history and the models: status, schema, drift, validation."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg

from mandala_db.core import catalog, ledger
from mandala_db.core.config import DatabaseURL
from mandala_db.core.database import make_engine, server_version
from mandala_db.core.revision import current_schema
from mandala_db.migrations.archive import ARCHIVE_PREFIX
from mandala_db.ops.migrate.executor import AlembicRunner, current_revision, sql_checksum
from mandala_db.ops.migrate.loader import History, Revision


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
            "pending": [{"revision": r.id, "title": r.title} for r in self.pending],
            "drift": self.drift,
            "fingerprint_recorded_at": self.recorded_at,
            "last_failure": self.last_failure.to_dict() if self.last_failure else None,
            "archived_tables": self.archived,
        }


schema_name = current_schema  # the revision record owns it; kept under the name this module's callers use


def archived_tables(conn: psycopg.Connection[Any], schema: str) -> list[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY 1",
        (ARCHIVE_PREFIX + schema,),
    ).fetchall()
    return [r[0] for r in rows]


def _live_fingerprint(conn: psycopg.Connection[Any], schema: str) -> str | None:
    """The deparsers lock each table briefly: behind a long DDL, give up rather than hang `status`."""
    try:
        with conn.transaction():
            conn.execute("SET LOCAL lock_timeout = '2s'")
            return catalog.take(conn, schema).fingerprint
    except psycopg.errors.LockNotAvailable:
        return None


def status(conn: psycopg.Connection[Any], history: History) -> Status:
    current = current_revision(conn)
    applied = [r.id for r in history.upto(current)]
    pending = history.after(current)
    schema = schema_name(conn)
    recorded = ledger.recorded_fingerprint(conn)
    drift = "unknown"
    recorded_at = None
    if recorded is not None:
        recorded_at, fingerprint = recorded
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


def connection_report(url: DatabaseURL, conn: psycopg.Connection[Any], connect_ms: float) -> dict[str, Any]:
    started = time.perf_counter()
    row = conn.execute(
        """SELECT current_database(), current_user, current_schema(),
                  coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false),
                  (SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()),
                  current_setting('statement_timeout'), current_setting('lock_timeout')"""
    ).fetchone()
    assert row is not None
    return {
        "url": url.render(),
        "server_version": server_version(conn),
        "database": row[0],
        "user": row[1],
        "schema": row[2],
        "ssl": bool(row[3]),
        "ssl_version": row[4],
        "statement_timeout": row[5],
        "lock_timeout": row[6],
        "connect_ms": round(connect_ms, 1),
        "round_trip_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def schema_report(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    schema = schema_name(conn)
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


def history_snapshot(
    url: DatabaseURL, revision: str | None, runner: AlembicRunner | None = None
) -> catalog.Snapshot:
    """What the revision files build up to `revision`, built in a scratch schema and always rolled back."""
    scratch = f"mandala_history_{uuid.uuid4().hex[:12]}"
    runner = runner or AlembicRunner()
    engine = make_engine(url, application_name="mandala-db:validate")
    try:
        with engine.connect() as connection:
            trans = connection.begin()
            try:
                connection.exec_driver_sql(f"CREATE SCHEMA {scratch}")
                connection.exec_driver_sql(f"SET LOCAL search_path TO {scratch}")
                if revision is not None:
                    runner.run(connection, revision, "upgrade")
                raw = connection.connection.driver_connection
                assert isinstance(raw, psycopg.Connection)
                snap = catalog.take(raw, scratch)
            finally:
                trans.rollback()
    finally:
        engine.dispose()
    snap.schema = f"history@{revision or 'base'}"
    return snap


@dataclass
class Finding:
    check: str  # history, pending, checksum, drift, models
    severity: str  # error or warning
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"check": self.check, "severity": self.severity, "message": self.message}


def checksum_findings(
    conn: psycopg.Connection[Any], history: History, runner: AlembicRunner
) -> list[Finding]:
    """An applied revision's file edited since it ran: cosmetic if its SQL is the same, semantic if not."""
    findings: list[Finding] = []
    recorded = ledger.last_success(conn)
    for rev in history.upto(current_revision(conn)):
        row = recorded.get(rev.id)
        if row is None or row.file_checksum is None:
            continue
        if row.file_checksum == rev.file_checksum:
            continue
        if row.sql_checksum == sql_checksum(runner.revision_sql(rev)):
            findings.append(
                Finding(
                    "checksum",
                    "warning",
                    f"revision {rev.id} was edited after it was applied, "
                    "but its SQL is unchanged (cosmetic edit)",
                )
            )
        else:
            findings.append(
                Finding(
                    "checksum",
                    "error",
                    f"revision {rev.id} was edited after it was applied and "
                    "its SQL changed: the database did not run what the file now says",
                )
            )
    return findings


def validate(url: DatabaseURL, conn: psycopg.Connection[Any], history: History) -> list[Finding]:
    from mandala_db.schema.ddl import models_snapshot

    findings: list[Finding] = []
    runner = AlembicRunner()
    current = current_revision(conn)
    pending = history.after(current)
    if pending:
        findings.append(
            Finding(
                "pending",
                "error",
                f"{len(pending)} revision(s) not applied: " + ", ".join(r.id for r in pending),
            )
        )
    findings += checksum_findings(conn, history, runner)
    from mandala_db.ops.migrate.plan import make_plan

    for plan in make_plan(conn, history, runner):
        for lint_finding in plan.findings:
            severity = "error" if lint_finding.blocking else "warning"
            findings.append(Finding("lint", severity, lint_finding.line()))
    # The database against what its own revision should have built: drift made by hand.
    expected = history_snapshot(url, current, runner)
    live = catalog.take(conn, schema_name(conn))
    findings += [Finding("drift", "error", f"drift: {d}") for d in catalog.compare(expected, live)]
    # The models against what the whole history builds: model changes with no revision yet.
    built = expected if not pending else history_snapshot(url, history.head, runner)
    for d in catalog.compare(models_snapshot(conn), built):
        text = str(d).replace("the database", "the revision files")
        findings.append(Finding("models", "error", f"models and revisions disagree: {text}"))
    return findings
