"""`migrate validate` and what prod's pre-flight shares with it: the history built in a scratch schema,
the checksums of applied revisions (cosmetic or semantic edits), and drift named object by object."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event

from mandala_db.core import catalog, ledger
from mandala_db.core.database import Database
from mandala_db.core.revision import current_revision, current_schema
from mandala_db.migrations import SCRIPT_LOCATION
from mandala_db.ops.migrate.loader import History
from mandala_db.ops.migrate.runner import AlembicRunner, sql_checksum

_CONCURRENTLY = re.compile(
    r"^(\s*(?:CREATE\s+(?:UNIQUE\s+)?INDEX|DROP\s+INDEX|REINDEX\s+\w+))\s+CONCURRENTLY\b", re.I
)
_OUTSIDE_ONLY = re.compile(r"^\s*VACUUM\b", re.I)


def in_one_transaction(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> tuple[str, Any]:
    """The history is replayed in one transaction on an empty scratch schema: there, an index built
    CONCURRENTLY is the same index built plainly, and a VACUUM has nothing to do (both refuse to run in a
    transaction block)."""
    if _OUTSIDE_ONLY.match(statement):
        return "SELECT 1", parameters
    return _CONCURRENTLY.sub(r"\1", statement), parameters


def history_snapshot(
    db: Database, revision: str | None, runner: AlembicRunner | None = None
) -> catalog.Snapshot:
    """What the revision files build up to `revision`, built in a scratch schema and always rolled back."""
    scratch = f"mandala_history_{uuid.uuid4().hex[:12]}"
    runner = runner or AlembicRunner()
    engine = db.engine()
    try:
        with engine.connect() as connection:
            trans = connection.begin()
            try:
                event.listen(connection, "before_cursor_execute", in_one_transaction, retval=True)
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
    check: str  # history, pending, checksum, drift, models, lint
    severity: str  # error or warning
    message: str
    path: Path | None = None  # the revision file, for a finding about one
    names: tuple[str, ...] = ()  # the objects it is about, most specific first: where to point in the file
    rule: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "message": self.message,
            "file": str(self.path) if self.path else None,
            "rule": self.rule or None,
        }


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
        if row.file_checksum in rev.accepted_checksums:
            continue  # this file, or the one a squashed baseline replaced under the same id
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


def statement_names(sql: str) -> tuple[str, ...]:
    """The column, then the table a statement names (`ALTER TABLE users DROP COLUMN position`)."""
    import re

    columns = re.findall(r"\bCOLUMN\s+(?:IF\s+EXISTS\s+)?\"?(\w+)", sql, re.IGNORECASE)
    tables = re.findall(
        r"\b(?:TABLE|ON|INTO)\s+(?:ONLY\s+)?(?:IF\s+(?:NOT\s+)?EXISTS\s+)?\"?(\w+)", sql, re.IGNORECASE
    )
    return tuple(dict.fromkeys([*columns, *tables]))


def validate(db: Database, history: History) -> list[Finding]:
    """Pending revisions, edited revisions, lint, drift from what the history builds, and model changes
    that have no revision yet."""
    with db.connect() as conn:
        return _findings(db, conn, history)


def _findings(db: Database, conn: psycopg.Connection[Any], history: History) -> list[Finding]:
    from mandala_db.core.catalog import models_snapshot

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
            findings.append(
                Finding(
                    "lint",
                    severity,
                    lint_finding.text(),
                    plan.revision.path,
                    statement_names(lint_finding.statement),
                    lint_finding.rule,
                )
            )
    # The database against what its own revision should have built: drift made by hand.
    expected = history_snapshot(db, current, runner)
    live = catalog.take(conn, current_schema(conn))
    findings += [Finding("drift", "error", f"drift: {d}") for d in catalog.compare(expected, live)]
    # The models against what the whole history builds: model changes with no revision yet.
    built = expected if not pending else history_snapshot(db, history.head, runner)
    models = models_snapshot(conn)
    for d in catalog.compare(models, built):
        text = str(d).replace("the database", "the revision files")
        findings.append(Finding("models", "error", f"models and revisions disagree: {text}"))
    findings += prisma_schema_findings(SCRIPT_LOCATION / PRISMA_SCHEMA, models)
    return findings


PRISMA_SCHEMA = "schema.prisma"  # beside the versions folder: the application's view of the models


def prisma_schema_findings(path: Path, models: catalog.Snapshot) -> list[Finding]:
    """The shipped schema.prisma against what the models give now: a stale one is a warning (the database
    is right; the application's client would be built from an old picture of it)."""
    from mandala_db.ops.migrate.prisma_schema import render

    if not path.is_file() or path.read_text(encoding="utf-8") == render(models):
        return []
    return [Finding("prisma", "warning", f"{path.name} is stale: the models changed since it was written",
                    path)]  # fmt: skip
