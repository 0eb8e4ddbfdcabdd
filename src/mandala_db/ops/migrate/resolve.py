"""`migrate resolve`: mend the record when a human fixed things by hand (Prisma's P3009 way out, without
needing it for ordinary failures: a failed revision is simply retried by the next deploy)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mandala_db.core import catalog
from mandala_db.core.database import Database
from mandala_db.core.errors import BadInput, CheckFailed
from mandala_db.core.events import bus
from mandala_db.core.revision import current_schema, stamp
from mandala_db.ops.migrate.executor import Executor, RunOptions
from mandala_db.ops.migrate.loader import BASE, History
from mandala_db.ops.migrate.runner import sql_checksum
from mandala_db.ops.migrate.validate import history_snapshot


def check_claim(executor: Executor, at: str | None, claim: str, force: bool) -> None:
    """A claim about the schema is checked against the schema: the live catalog must be what the history
    builds at `at`. `force` records it anyway (the differences are still named in the log)."""
    assert executor.conn is not None
    live = catalog.take(executor.conn, current_schema(executor.conn))
    differences = catalog.compare(history_snapshot(executor.db, at, executor.runner), live)
    if not differences:
        return
    named = "; ".join(str(d) for d in differences[:5]) + (
        f"; and {len(differences) - 5} more" if len(differences) > 5 else ""
    )
    if force:
        bus.warning("migration_resolved", f"recorded although the schema contradicts it: {named}")
        return
    raise CheckFailed(
        f"the schema contradicts the claim that {claim}: it differs from what the history builds at "
        f"{at or 'base'} ({named}); nothing was recorded",
        "finish the work by hand first, or pass --force to record it anyway",
    )


def _attempted(executor: Executor, revision: str) -> bool:
    assert executor.conn is not None
    row = executor.conn.execute(
        "SELECT count(*) FROM mandala_migration_runs WHERE revision = %s", (revision,)
    ).fetchone()
    return bool(row and row[0])


def _set_version(executor: Executor, revision: str | None) -> None:
    conn = executor.conn
    assert conn is not None
    with conn.transaction():
        stamp(conn, revision)


def resolve_applied(executor: Executor, revision: str, *, force: bool = False) -> list[str]:
    """REV (and any pending revision before it) was applied by hand: record it so, checksums included,
    once the live schema is what the history builds at REV."""
    assert executor.conn is not None and executor.ledger is not None
    history = executor.history
    current = executor.current()
    if history.index(revision) <= history.index(current):
        raise BadInput(
            f"revision {revision} is already applied (the database is at {current})",
            "use --rolled-back to record a revision as not applied",
        )
    check_claim(executor, revision, f"{revision} is applied", force)
    marked = [r for r in history.after(current) if history.index(r.id) <= history.index(revision)]
    _set_version(executor, revision)
    fingerprint = catalog.take(executor.conn, current_schema(executor.conn)).fingerprint
    for rev in marked:
        row = executor.ledger.start(
            rev.id, "upgrade", rev.file_checksum, sql_checksum(executor.runner.revision_sql(rev))
        )
        executor.ledger.finish(
            row,
            "resolved",
            error="recorded as applied by `migrate resolve --applied`",
            fingerprint=fingerprint if rev.id == revision else None,
        )
        bus.info("migration_resolved", f"recorded as applied: {rev.id}", migration=rev.id)
    return [r.id for r in marked]


def resolve_rolled_back(executor: Executor, revision: str, *, force: bool = False) -> list[str]:
    """REV was undone by hand (or never took effect): the database is recorded just below it, once the
    live schema is what the history builds there."""
    assert executor.conn is not None and executor.ledger is not None
    history = executor.history
    current = executor.current()
    rev = history.by_id[revision]
    if history.index(revision) > history.index(current):
        # Not applied: only its failed or interrupted attempts need closing; with none, there is no claim.
        if not _attempted(executor, revision):
            raise BadInput(
                f"revision {revision} was never applied or attempted here (the database is at {current or 'base'})",
                "there is nothing to record",
            )
        executor.ledger.record(
            revision, "upgrade", "rolled_back", "recorded as rolled back by `migrate resolve --rolled-back`"
        )
        return [revision]
    undone = [r.id for r in history.upto(current) if history.index(r.id) >= history.index(revision)]
    parent = rev.down_revision if rev.down_revision != BASE else None
    check_claim(executor, parent, f"{revision} is rolled back", force)
    _set_version(executor, rev.down_revision if rev.down_revision != BASE else None)
    fingerprint = catalog.take(executor.conn, current_schema(executor.conn)).fingerprint
    for rid in reversed(undone):
        executor.ledger.record(
            rid,
            "downgrade",
            "resolved",
            "recorded as rolled back by `migrate resolve`",
            fingerprint=fingerprint,
        )
        executor.ledger.mark_rolled_back(rid)
        bus.info("migration_resolved", f"recorded as rolled back: {rid}", migration=rid)
    return undone


@dataclass
class Resolution:
    resolved: list[str]
    claim: str  # "applied" or "rolled back"
    current: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": True, "resolved": self.resolved, "as": self.claim, "current": self.current}


def resolve(
    db: Database,
    history: History,
    options: RunOptions,
    *,
    applied: str | None,
    rolled_back: str | None,
    force: bool,
    confirm: Callable[[str], None],
) -> Resolution:
    """`migrate resolve`: exactly one claim, confirmed (`confirm` raises to stop), checked against the
    schema unless forced, recorded under the migration lock."""
    if (applied is None) == (rolled_back is None):
        raise BadInput("give exactly one of --applied REV or --rolled-back REV")
    revision = history.resolve(applied or rolled_back or "")
    claim = "applied" if applied else "rolled back"
    confirm(f"Record {revision} as {claim} on {db}" + (" without checking the schema" if force else ""))
    with Executor(db, history, options) as executor:
        marked = (
            resolve_applied(executor, revision, force=force)
            if applied
            else resolve_rolled_back(executor, revision, force=force)
        )
        return Resolution(marked, claim, executor.current())
