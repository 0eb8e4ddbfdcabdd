"""Schema migrations. The public API other capabilities use lives here; the rest is this package's own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg

from mandala_db.core.errors import OperationFailed

if TYPE_CHECKING:
    from mandala_db.core.database import Database


def require_head(conn: psycopg.Connection[Any]) -> str:
    """The head revision (or, while a contract revision waits for `deploy --contract`, the revision before
    it), or a clear failure when the database is not there yet (data needs the schema)."""
    from mandala_db.core.revision import current_revision
    from mandala_db.ops.migrate.loader import History

    history = History.load()
    head, current = history.head, current_revision(conn)
    pending = history.after(current) if current in history.by_id or current is None else []
    if current is not None and pending and pending[0].phase == "contract":
        return current  # between expand and contract: the schema both application versions use
    if head is None or current != head:
        raise OperationFailed(
            f"the database is at {current or 'base (empty)'}, not at the head {head}",
            "run `mandala-db migrate deploy` first",
        )
    return head


def build_schema(db: Database, revision: str | None) -> None:
    """Apply the history up to `revision` on a database (for a data-only restore into a new database)."""
    from mandala_db.ops.migrate.executor import Executor, RunOptions
    from mandala_db.ops.migrate.loader import History

    history = History.load()
    with Executor(db, history, RunOptions()) as executor:
        if revision is not None:
            executor.upgrade(history.resolve(revision))


def rehearse_deploy(db: Database) -> list[dict[str, Any]]:
    """On a copy (a drill's scratch database): the pending revisions applied, then rolled back to where the
    copy started, each step timed. The copy ends where it began."""
    from mandala_db.ops.migrate.executor import Executor, RunOptions
    from mandala_db.ops.migrate.loader import BASE, History

    history = History.load()
    with Executor(db, history, RunOptions(environment="drill")) as executor:
        start = executor.current()
        up = executor.upgrade()
        down = executor.downgrade(start or BASE) if up.steps else None
        if executor.current() != start:
            raise OperationFailed(
                f"the rehearsal ended at {executor.current()}, not where it began ({start})"
            )
    return [s.to_dict() for s in up.steps] + ([s.to_dict() for s in down.steps] if down else [])
