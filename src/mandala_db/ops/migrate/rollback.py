"""Going back: what can be rolled back, the plan for a rollback, and a full reset."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from mandala_db.core import ledger
from mandala_db.core.database import Database, quote_ident
from mandala_db.core.errors import Refused
from mandala_db.core.events import bus
from mandala_db.core.revision import current_revision, current_schema
from mandala_db.core.settings import Environment
from mandala_db.migrations.archive import ARCHIVE_PREFIX
from mandala_db.ops.migrate.executor import Executor, RunOptions, RunResult

if TYPE_CHECKING:
    from mandala_db.ops.backup import Backup
from mandala_db.ops.migrate.loader import BASE, History, Revision


@dataclass
class RollbackEntry:
    revision: Revision
    applied_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "revision": self.revision.id,
            "title": self.revision.title,
            "applied_at": self.applied_at,
            "destructive_downgrade": self.revision.destructive_downgrade,
        }


def applied(db: Database, history: History) -> list[RollbackEntry]:
    """Applied revisions, newest first: the ones `rollback to` can go back through."""
    with db.connect() as conn:
        recorded = ledger.last_success(conn)
        return [
            RollbackEntry(rev, recorded[rev.id].started_at.isoformat() if rev.id in recorded else None)
            for rev in reversed(history.upto(current_revision(conn)))
        ]


def rollback_plan(conn: psycopg.Connection[Any], history: History, target: str) -> list[Revision]:
    """The revisions whose downgrades run to reach `target` (which stays applied), newest first."""
    from mandala_db.core.errors import BadInput

    current = current_revision(conn)
    if target != BASE and history.index(target) > history.index(current):
        raise BadInput(
            f"revision {target} is not applied (the database is at {current or 'base'})",
            "rollback goes back to an applied revision; use `migrate deploy` to go forward",
        )
    return [r for r in reversed(history.upto(current)) if history.index(r.id) > history.index(target)]


def reset(
    db: Database,
    history: History,
    options: RunOptions,
    environment: Environment,
    confirm: Callable[[str], None],
) -> RunResult:
    """Drop every object in the schema (and its archive) and apply the whole history again; never in a
    protected environment, and only after `confirm` (which raises to stop)."""
    check_reset_allowed(environment)
    confirm(f"Reset {db}: drop every table, type and function in the schema and re-apply all revisions")
    with Executor(db, history, options) as executor:
        _drop_everything(executor)
        return executor.upgrade()


def _drop_everything(executor: Executor) -> None:
    conn = executor.conn
    assert conn is not None
    name = current_schema(conn)
    with conn.transaction():
        tables = conn.execute(
            """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relname <> %s""",
            (name, ledger.TABLE),
        ).fetchall()
        for (table,) in tables:
            conn.execute(f"DROP TABLE IF EXISTS {quote_ident(name)}.{quote_ident(table)} CASCADE")
        for (typ,) in conn.execute(
            """SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
               WHERE n.nspname = %s AND t.typtype IN ('e', 'd', 'c') AND NOT EXISTS
                 (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid)""",
            (name,),
        ).fetchall():
            conn.execute(f"DROP TYPE IF EXISTS {quote_ident(name)}.{quote_ident(typ)} CASCADE")
        for (signature,) in conn.execute(
            """SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE n.nspname = %s AND NOT EXISTS
                 (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')""",
            (name,),
        ).fetchall():
            conn.execute(f"DROP FUNCTION IF EXISTS {signature} CASCADE")
        conn.execute(f"DROP SCHEMA IF EXISTS {quote_ident(ARCHIVE_PREFIX + name)} CASCADE")
        for (seq,) in conn.execute(
            """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = %s AND c.relkind = 'S' AND c.relname NOT LIKE 'mandala\\_%%'""",
            (name,),
        ).fetchall():
            conn.execute(f"DROP SEQUENCE IF EXISTS {quote_ident(name)}.{quote_ident(seq)} CASCADE")


@dataclass
class RollbackRun:
    result: RunResult | None  # None when there was nothing to roll back
    backup: Backup | None = None


def roll_back_to(
    db: Database,
    history: History,
    target: str,
    options: RunOptions,
    backup_dir: Path,
    confirm: Callable[[str, bool], None],
) -> RollbackRun:
    """The downgrades down to `target`. Destructive ones are named, confirmed (`confirm(what,
    destructive)` raises to stop) and preceded by the same backup `migrate prod` takes, so what they throw
    away stays restorable."""
    with db.connect() as conn:
        plan = rollback_plan(conn, history, target)
    if not plan:
        return RollbackRun(None)
    destructive = [f"{r.id} {r.destructive_downgrade}" for r in plan if r.destructive_downgrade]
    what = f"Roll back {len(plan)} revision(s) ({', '.join(r.id for r in plan)}) on {db}"
    if destructive:
        what += "; DESTRUCTIVE: " + "; ".join(destructive)
    for d in destructive:
        bus.warning("destructive_step", f"destructive downgrade: {d}")
    confirm(what, bool(destructive))
    backup = None
    if destructive:
        from mandala_db.ops.backup import create_backup

        backup = create_backup(db, backup_dir, label="pre_rollback")
    with Executor(db, history, options) as executor:
        return RollbackRun(executor.downgrade(target), backup)


def check_reset_allowed(environment: Environment) -> None:
    if environment.protected:
        raise Refused(
            f"rollback reset drops every table and is never allowed in {environment.value}",
            "use `migrate rollback to REV`, which keeps the data",
        )
