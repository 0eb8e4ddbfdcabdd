"""A change in steps: expand revisions (and everything without a phase) go out with every deploy; a contract
revision only with `--contract`, and only once the backfills before it are done and the expand revision
it closes has been applied for at least `--min-age` (so every application instance has moved to the new
schema). pgroll's expand/contract, with the tool's own ledger as the record of what ran when."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg

from mandala_db.core import ledger
from mandala_db.core.errors import Refused
from mandala_db.core.events import bus
from mandala_db.ops.migrate import backfill
from mandala_db.ops.migrate.loader import History, Revision


def deployable(todo: list[Revision], contract: bool, *, quiet: bool = False) -> list[Revision]:
    """The pending revisions a deploy applies: all with --contract, else those before the first contract."""
    if contract:
        return todo
    for i, rev in enumerate(todo):
        if rev.phase == "contract":
            if quiet:
                return todo[:i]
            bus.info(
                "contract_waiting",
                f"{rev.id} is a contract revision: it waits for `migrate deploy --contract` "
                f"({len(todo) - i} revision(s) left pending)",
                migration=rev.id,
            )
            return todo[:i]
    return todo


def closes(history: History, rev: Revision) -> Revision | None:
    """The expand revision a contract revision finishes: the one it names, else the last one before it."""
    if rev.closes:
        return history.by_id.get(history.resolve(rev.closes))
    earlier = history.upto(rev.down_revision)
    return next((r for r in reversed(earlier) if r.phase == "expand"), None)


def check_contract(conn: psycopg.Connection[Any], history: History, rev: Revision, min_age_s: float) -> None:
    """Refuse (exit 3) a contract revision while a backfill before it is unfinished, or while the expand
    revision it closes is younger than --min-age."""
    waiting = [
        f"{r.id} (backfill {', '.join(str(p + 1) for p in missing)})"
        for r in history.upto(rev.down_revision)
        if r.backfills and (missing := backfill.unfinished(conn, r.id, len(r.backfills)))
    ]
    if waiting:
        raise Refused(
            f"contract revision {rev.id} waits for unfinished backfills: {'; '.join(waiting)}",
            "run `mandala-db migrate deploy` to finish them (`migrate backfill status` shows where they are)",
        )
    expand = closes(history, rev)
    if expand is None or min_age_s <= 0:
        return
    applied = ledger.last_success(conn).get(expand.id)
    at = applied.finished_at or applied.started_at if applied else None
    age = (datetime.now(UTC) - at).total_seconds() if at else 0.0
    if age < min_age_s:
        raise Refused(
            f"contract revision {rev.id} closes {expand.id}, applied {age:.0f} s ago: less than --min-age "
            f"{min_age_s:g} s",
            "wait until every application instance runs on the new schema, then deploy --contract again",
        )


def resume_backfills(
    conn: psycopg.Connection[Any],
    history: History,
    current: str | None,
    policy: backfill.BatchPolicy,
    progress: backfill.Progress | None = None,
) -> None:
    """The backfills of applied revisions that a kill, a failure or a pause left unfinished, in order."""
    for rev in history.upto(current):
        if rev.backfills and backfill.unfinished(conn, rev.id, len(rev.backfills)):
            backfill.run(conn, rev.id, rev.backfills, policy, progress)
