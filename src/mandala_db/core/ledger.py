"""The run ledger: one row per attempt to apply or revert a revision, beside Alembic's version table.

Alembic's table only says where the schema is; the ledger says how it got there, what failed, and what the
file and its SQL looked like when it ran, which is what checksums and drift detection compare against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

import psycopg

from mandala_db import __version__

TABLE = "mandala_migration_runs"
Direction = Literal["upgrade", "downgrade"]

DDL = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    id bigserial PRIMARY KEY,
    run_id text NOT NULL,
    revision text NOT NULL,
    direction text NOT NULL CHECK (direction IN ('upgrade', 'downgrade')),
    status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'rolled_back', 'resolved', 'interrupted')),
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    duration_ms double precision,
    error text,
    db_user text NOT NULL DEFAULT current_user,
    client_host text DEFAULT coalesce(inet_client_addr()::text, 'local socket'),
    backend_pid integer NOT NULL DEFAULT pg_backend_pid(),
    tool_version text NOT NULL,
    environment text NOT NULL,
    file_checksum text,
    sql_checksum text,
    fingerprint text,
    statements_done integer NOT NULL DEFAULT 0,
    statements_total integer,
    tables text[],
    phase text
)"""

# Columns added after the first release: an older ledger gains them in place.
UPGRADES = [
    f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS statements_done integer NOT NULL DEFAULT 0",
    f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS statements_total integer",
    f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS tables text[]",
    f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS phase text",
]


@dataclass
class LedgerRow:
    id: int
    run_id: str
    revision: str
    direction: Direction
    status: str
    started_at: datetime
    finished_at: datetime | None
    duration_ms: float | None
    error: str | None
    db_user: str
    client_host: str | None
    tool_version: str
    environment: str
    file_checksum: str | None
    sql_checksum: str | None
    fingerprint: str | None
    statements_done: int = 0
    statements_total: int | None = None
    tables: list[str] | None = None  # the existing tables the revision touched
    phase: str | None = None  # expand or contract, when the revision declares one

    def to_dict(self) -> dict[str, Any]:
        out = dict(vars(self))
        out["started_at"] = self.started_at.isoformat()
        out["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        return out


def columns(conn: psycopg.Connection[Any]) -> str | None:
    """The select list of a LedgerRow for the ledger as it is (None: there is no ledger yet). One written by
    an older release lacks the columns added since: they read as NULL until a run that writes upgrades it."""
    present = {
        r[0]
        for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
            (TABLE,),
        ).fetchall()
    }
    if not present:
        return None
    return ", ".join(c if c in present else f"NULL AS {c}" for c in LedgerRow.__dataclass_fields__)


class RunLedger:
    """Writes go through the lock's own autocommit connection, so a failed revision's rollback keeps them."""

    def __init__(self, conn: psycopg.Connection[Any], *, run_id: str, environment: str) -> None:
        self.conn = conn
        self.run_id = run_id
        self.environment = environment

    def ensure(self) -> None:
        # The ledger's commits need not wait for the disk: WAL is written in order, so the commit of the
        # revision that follows a start row makes that row durable too, and a finish row lost with a crashed
        # server is found 'running' by the next run and settled from the schema (interrupt_stale).
        self.conn.execute("SET synchronous_commit = off")
        if not exists(self.conn):
            self.conn.execute(DDL)
        else:
            for statement in UPGRADES:
                self.conn.execute(statement)

    def interrupt_stale(self, took_effect: Callable[[str, Direction], bool]) -> list[tuple[str, str]]:
        """Rows still 'running' while we hold the lock belong to a runner that died. Whether the step took
        effect is read from the database itself (`took_effect(revision, direction)`): a runner killed after
        its commit but before its bookkeeping did finish the step, and the ledger says so."""
        found = []
        for row_id, revision, direction in self.conn.execute(
            f"SELECT id, revision, direction FROM {TABLE} WHERE status = 'running' ORDER BY id"
        ).fetchall():
            done = took_effect(revision, cast(Direction, direction))  # the table's CHECK allows only these
            self.conn.execute(
                f"UPDATE {TABLE} SET status = %s, finished_at = clock_timestamp(), error = %s WHERE id = %s",
                (
                    "succeeded" if done else "interrupted",
                    "the runner stopped after the step committed, before recording it"
                    if done
                    else "the runner stopped before the step committed (killed or lost its connection)",
                    row_id,
                ),
            )
            found.append((revision, "succeeded" if done else "interrupted"))
        return found

    def start(
        self,
        revision: str,
        direction: Direction,
        file_checksum: str | None,
        sql_checksum: str | None,
        *,
        statements_total: int | None = None,
        statements_done: int = 0,
        tables: list[str] | None = None,
        phase: str | None = None,
    ) -> int:
        row = self.conn.execute(
            f"""INSERT INTO {TABLE} (run_id, revision, direction, status, tool_version, environment,
                                     file_checksum, sql_checksum, statements_total, statements_done, tables, phase)
                VALUES (%s, %s, %s, 'running', %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
            (
                self.run_id,
                revision,
                direction,
                __version__,
                self.environment,
                file_checksum,
                sql_checksum,
                statements_total,
                statements_done,
                tables,
                phase,
            ),
        ).fetchone()
        assert row is not None
        return int(row[0])

    def finish(
        self, row_id: int, status: str, *, error: str | None = None, fingerprint: str | None = None
    ) -> None:
        self.conn.execute(
            f"""UPDATE {TABLE} SET status = %s, error = %s, fingerprint = %s, finished_at = clock_timestamp(),
                    duration_ms = extract(epoch FROM clock_timestamp() - started_at) * 1000
                WHERE id = %s""",
            (status, error, fingerprint, row_id),
        )

    def set_fingerprint(self, row_id: int, fingerprint: str) -> None:
        self.conn.execute(f"UPDATE {TABLE} SET fingerprint = %s WHERE id = %s", (fingerprint, row_id))

    def progress(self, row_id: int, statements_done: int) -> None:
        """Statements of a revision that ran outside a transaction: a rerun resumes after the last one. Written
        to disk before the next group starts, as a rerun trusts it not to repeat a group that committed."""
        with self.conn.transaction():
            self.conn.execute("SET LOCAL synchronous_commit = on")
            self.conn.execute(
                f"UPDATE {TABLE} SET statements_done = %s WHERE id = %s", (statements_done, row_id)
            )

    def resume_point(self, revision: str, direction: Direction, sql_checksum: str) -> int:
        """How many statements the last, unfinished attempt of the same SQL got through."""
        row = self.conn.execute(
            f"""SELECT status, sql_checksum, statements_done FROM {TABLE}
                WHERE revision = %s AND direction = %s ORDER BY id DESC LIMIT 1""",
            (revision, direction),
        ).fetchone()
        if row and row[0] in ("failed", "interrupted") and row[1] == sql_checksum:
            return int(row[2])
        return 0

    def mark_rolled_back(self, revision: str) -> None:
        """The upgrade a successful downgrade undid is no longer what the database holds."""
        self.conn.execute(
            f"""UPDATE {TABLE} SET status = 'rolled_back'
                WHERE id = (SELECT max(id) FROM {TABLE} WHERE revision = %s AND direction = 'upgrade'
                            AND status IN ('succeeded', 'resolved'))""",
            (revision,),
        )

    def record(
        self, revision: str, direction: Direction, status: str, note: str, fingerprint: str | None = None
    ) -> None:
        """A row for something done by hand (resolve): no duration, just the fact."""
        row_id = self.start(revision, direction, None, None)
        self.finish(row_id, status, error=note, fingerprint=fingerprint)


def exists(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (TABLE,)).fetchone()
    return bool(row and row[0])


def history(conn: psycopg.Connection[Any], limit: int = 200) -> list[LedgerRow]:
    select = columns(conn)
    if select is None:
        return []
    rows = conn.execute(f"SELECT {select} FROM {TABLE} ORDER BY id DESC LIMIT %s", (limit,)).fetchall()
    return [LedgerRow(*r) for r in rows]


def last_success(conn: psycopg.Connection[Any]) -> dict[str, LedgerRow]:
    """The latest successful upgrade of each revision: its checksums are what the files are held to."""
    select = columns(conn)
    if select is None:
        return {}
    rows = conn.execute(
        f"""SELECT DISTINCT ON (revision) {select} FROM {TABLE}
            WHERE direction = 'upgrade' AND status IN ('succeeded', 'resolved')
            ORDER BY revision, id DESC"""
    ).fetchall()
    return {r[2]: LedgerRow(*r) for r in rows}


def recorded_fingerprint(conn: psycopg.Connection[Any]) -> tuple[str, str] | None:
    """(revision, fingerprint) recorded after the most recent successful step in either direction."""
    if not exists(conn):
        return None
    row = conn.execute(
        f"""SELECT revision, direction, fingerprint FROM {TABLE}
            WHERE status IN ('succeeded', 'resolved') AND fingerprint IS NOT NULL ORDER BY id DESC LIMIT 1"""
    ).fetchone()
    if not row:
        return None
    return (row[0] if row[1] == "upgrade" else f"below {row[0]}", row[2])
