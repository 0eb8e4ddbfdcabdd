"""`migrate plan` and `migrate prod --dry-run`: what a deploy would do, read-only. Each pending revision
with its SQL, the lock each statement takes, whether it rewrites a table or runs outside a transaction,
the size and estimated rows of every table it touches, and the lint findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

from mandala_db.core import catalog
from mandala_db.core.database import Database
from mandala_db.core.errors import CheckFailed
from mandala_db.core.revision import VERSION_TABLE, current_revision, current_schema
from mandala_db.ops.migrate import phases
from mandala_db.ops.migrate.analysis import Statement, needs_autocommit, touched_tables
from mandala_db.ops.migrate.lint import LintFinding, Unit, lint_units
from mandala_db.ops.migrate.loader import History, Revision
from mandala_db.ops.migrate.locate import line_in_source
from mandala_db.ops.migrate.model import SchemaModel, from_catalog
from mandala_db.ops.migrate.rendered import analyze_revision, plan_digest
from mandala_db.ops.migrate.runner import AlembicRunner, sql_checksum


@dataclass
class TableInfo:
    name: str
    exists: bool
    rows_estimate: int
    size_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class RevisionPlan:
    revision: Revision
    statements: list[Statement]
    tables: list[TableInfo]
    findings: list[LintFinding] = field(default_factory=list)
    sql_checksum: str = ""
    timing_ms: float | None = None  # how long it took on the --timings-from database
    timing_from: str | None = None

    @property
    def outside_transaction(self) -> bool:
        return needs_autocommit(self.statements)

    def review_reasons(self) -> list[str]:
        """Why a human should approve this revision before it runs: a lint rule waived, data dropped, a table
        rewritten. An additive revision has none and may apply without waiting."""
        existing = {t.name for t in self.tables if t.exists}
        reasons = [f"lint rule {f.rule} waived: {f.waived}" for f in self.findings if f.waived]
        for s in self.statements:
            if s.kind in ("DROP TABLE", "TRUNCATE", "DELETE") or " DROP COLUMN " in f" {s.sql.upper()} ":
                reasons.append(f"drops data: {s.sql[:80]}")
            reasons += [f"rewrites table {t}" for t in sorted(s.rewrites & existing)]
        return reasons

    def to_dict(self) -> dict[str, Any]:
        r = self.revision
        return {
            "revision": r.id,
            "title": r.title,
            "lock_timeout": r.lock_timeout,
            "statement_timeout": r.statement_timeout,
            "destructive_downgrade": r.destructive_downgrade,
            "phase": r.phase,
            "backfills": [b.label for b in r.backfills],
            "runs_statements_outside_a_transaction": self.outside_transaction,
            "statements": [s.to_dict() for s in self.statements if not s.bookkeeping],
            "tables": [t.to_dict() for t in self.tables],
            "lint": [f.to_dict() for f in self.findings],
            "sql_checksum": self.sql_checksum,
            "needs_review": self.review_reasons(),
            "sql": "\n\n".join(s.sql for s in self.statements if not s.bookkeeping),
            "timing": {"duration_ms": self.timing_ms, "from": self.timing_from} if self.timing_from else None,
        }


class TableStats:
    """Row estimates and sizes of live tables, read once; a never-analysed table is counted."""

    def __init__(self, conn: psycopg.Connection[Any], schema: str) -> None:
        self.conn = conn
        self.schema = schema
        self.rows = catalog.row_estimates(conn, schema)
        self._volatile: set[str] | None = None

    def rows_of(self, table: str) -> int | None:
        if table not in self.rows:
            return None
        estimate, size = self.rows[table]
        if estimate < 0:  # never vacuumed or analysed: the planner does not know, so count
            row = self.conn.execute(f'SELECT count(*) FROM "{self.schema}"."{table}"').fetchone()
            estimate = int(row[0]) if row else 0
            self.rows[table] = (estimate, size)
        return estimate

    def is_volatile(self, function: str) -> bool:
        """Whether any function of that name is volatile (its value differs row by row)."""
        if self._volatile is None:
            rows = self.conn.execute(
                "SELECT DISTINCT proname FROM pg_proc WHERE provolatile = 'v'"
            ).fetchall()
            self._volatile = {r[0] for r in rows}
        return function in self._volatile

    def model(self, live: catalog.Snapshot) -> SchemaModel:
        """The live schema as the lint rules and the plan's columns read it."""
        rows = self.conn.execute(
            """SELECT i.relname, t.relname,
                      array(SELECT a.attname::text FROM unnest(x.indkey) k
                            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k)
               FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
               JOIN pg_class t ON t.oid = x.indrelid WHERE t.relnamespace = %s::regnamespace""",
            (self.schema,),
        ).fetchall()
        model = from_catalog(live, self.rows_of, self.is_volatile, {r[0]: r[1] for r in rows})
        model.index_columns = {r[0]: list(r[2]) for r in rows}
        return model

    def info(self, table: str) -> TableInfo:
        rows = self.rows_of(table)
        if rows is None:
            return TableInfo(table, False, 0, 0)
        return TableInfo(table, True, rows, self.rows[table][1])


def revision_unit(rev: Revision, statements: list[Statement]) -> Unit:
    source = rev.source
    return Unit(rev.id, rev.path, source, statements, rev.destructive_downgrade,
                lambda st: line_in_source(source, st))  # fmt: skip


def make_plan(
    conn: psycopg.Connection[Any],
    history: History,
    runner: AlembicRunner | None = None,
    *,
    contract: bool = True,
) -> list[RevisionPlan]:
    """Every pending revision rendered and parsed first (one that does not parse stops the plan, named),
    then walked in order against the live schema: the same walk completes each statement's locks and
    rewrites and runs the lint rules."""
    runner = runner or AlembicRunner()
    schema = current_schema(conn)
    stats = TableStats(conn, schema)
    live = catalog.take(conn, schema)
    pending = []
    # What a deploy would apply: without --contract, up to the first contract revision (as deploy stops).
    for rev in phases.deployable(history.after(current_revision(conn)), contract, quiet=True):
        sql = runner.revision_sql(rev)
        pending.append((rev, sql, analyze_revision(rev, sql)))
    findings = lint_units([revision_unit(rev, sts) for rev, _, sts in pending], stats.model(live))
    plans = []
    for rev, sql, statements in pending:
        touched, created = touched_tables(statements, frozenset({VERSION_TABLE}))
        plans.append(
            RevisionPlan(
                rev,
                statements,
                [stats.info(t) for t in touched] + [TableInfo(t, False, 0, 0) for t in created],
                [f for f in findings if f.revision == rev.id],
                sql_checksum(sql),
            )
        )
    return plans


def lint_failure(plans: list[RevisionPlan]) -> CheckFailed | None:
    """For `plan --check`: the lint errors no revision waived."""
    blocking = [f for p in plans for f in p.findings if f.blocking]
    if not blocking:
        return None
    return CheckFailed(
        f"{len(blocking)} lint error(s) not waived: " + "; ".join(f.text() for f in blocking[:2]),
        "make the change safe, or waive the rule in the revision with a reason",
    )


def digest(plans: list[RevisionPlan]) -> str:
    return plan_digest([(p.revision.id, p.sql_checksum) for p in plans])


def pending_plans(
    db: Database, history: History, timings_from: Database | None = None, *, contract: bool = True
) -> list[RevisionPlan]:
    """`migrate plan`: what deploy would do, read from the database as it is now; with `timings_from`
    (staging, say), how long each pending revision took there, read-only, to estimate the rollout."""
    with db.connect() as conn:
        plans = make_plan(conn, history, contract=contract)
    if timings_from is not None and plans:
        from mandala_db.core import ledger

        with timings_from.connect(autocommit=False) as other:
            other.read_only = True  # a READ ONLY transaction: the other database cannot be changed from here
            done = ledger.last_success(other)
        for p in plans:
            row = done.get(p.revision.id)
            p.timing_from = str(timings_from)
            p.timing_ms = row.duration_ms if row else None
    return plans
