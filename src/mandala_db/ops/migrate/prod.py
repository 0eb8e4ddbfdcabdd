"""`migrate prod`: the guarded production run. Pre-flight checks that change nothing, then (after a typed
confirmation and a backup, in the CLI) the deploy, then post-checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

from mandala_db.core import catalog
from mandala_db.core.config import DatabaseURL
from mandala_db.core.database import server_version
from mandala_db.core.lock import MigrationLock
from mandala_db.ops.migrate.executor import AlembicRunner, Blocker, blockers, current_revision
from mandala_db.ops.migrate.inspect import Finding, checksum_findings, history_snapshot, schema_name
from mandala_db.ops.migrate.loader import History
from mandala_db.ops.migrate.plan import RevisionPlan, make_plan


@dataclass
class Preflight:
    server_version: str
    current: str | None
    plans: list[RevisionPlan]
    checksums: list[Finding] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)
    lock_holder: str | None = None  # who holds the migration lock, when the check could not take it

    @property
    def lint_errors(self) -> list[Any]:
        return [f for p in self.plans for f in p.findings if f.blocking]

    @property
    def semantic_edits(self) -> list[Finding]:
        return [f for f in self.checksums if f.severity == "error"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "server_version": self.server_version,
            "current": self.current,
            "pending": [p.revision.id for p in self.plans],
            "plan": [p.to_dict() for p in self.plans],
            "checksums": [f.to_dict() for f in self.checksums],
            "drift": self.drift,
            "lint_errors": [f.to_dict() for f in self.lint_errors],
            "blockers": [b.to_dict() for b in self.blockers],
            "lock_holder": self.lock_holder,
        }


def preflight(
    url: DatabaseURL, conn: psycopg.Connection[Any], history: History, *, check_lock: bool
) -> Preflight:
    """Everything `prod` checks before it may change anything; reads only (scratch work is rolled back)."""
    runner = AlembicRunner()
    current = current_revision(conn)
    pre = Preflight(server_version(conn), current, make_plan(conn, history, runner))
    pre.checksums = checksum_findings(conn, history, runner)
    live = catalog.take(conn, schema_name(conn))
    pre.drift = [str(d) for d in catalog.compare(history_snapshot(url, current, runner), live)]
    touched = sorted({t.name for p in pre.plans for t in p.tables if t.exists})
    pre.blockers = blockers(conn, touched)
    if check_lock:
        pre.lock_holder = _lock_holder(url, conn)
    return pre


def _lock_holder(url: DatabaseURL, conn: psycopg.Connection[Any]) -> str | None:
    """Whether the migration lock could be taken right now, without keeping it."""
    return MigrationLock(url, application_name="mandala-db:prod").probe(conn)


@dataclass
class PostChecks:
    head_reached: bool
    fingerprint_expected: bool
    differences: list[str]
    data_findings: list[Any]

    @property
    def ok(self) -> bool:
        return self.head_reached and self.fingerprint_expected

    def to_dict(self) -> dict[str, Any]:
        return {
            "head_reached": self.head_reached,
            "fingerprint_expected": self.fingerprint_expected,
            "differences": self.differences,
            "data_check": [f.to_dict() for f in self.data_findings],
        }


def postchecks(url: DatabaseURL, conn: psycopg.Connection[Any], history: History) -> PostChecks:
    """The head is reached, the schema is exactly what the history builds, and the data check's report."""
    from mandala_db.ops.data.check import check

    expected = history_snapshot(url, history.head)
    live = catalog.take(conn, schema_name(conn))
    differences = [str(d) for d in catalog.compare(expected, live)]
    return PostChecks(current_revision(conn) == history.head, not differences, differences, check(conn))
