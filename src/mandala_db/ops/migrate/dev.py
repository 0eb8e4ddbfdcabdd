"""`migrate dev`: bring a development database to the head, then write, check and apply a revision for
whatever the models have that the database does not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from mandala_db.core import catalog
from mandala_db.core.catalog import Snapshot
from mandala_db.core.database import Database
from mandala_db.core.errors import MandalaError, OperationFailed, Refused
from mandala_db.core.events import bus
from mandala_db.core.revision import current_schema
from mandala_db.core.settings import Environment
from mandala_db.migrations import VERSIONS
from mandala_db.ops.migrate.autodetector import Plan, diff
from mandala_db.ops.migrate.executor import Executor, RunOptions, StepResult
from mandala_db.ops.migrate.loader import History
from mandala_db.ops.migrate.writer import new_revision_id, write_revision


@dataclass
class DevResult:
    applied: list[StepResult] = field(default_factory=list)
    revision: str | None = None
    path: Path | None = None
    statements: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    destructive: list[str] = field(default_factory=list)
    lint: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "applied": [s.to_dict() for s in self.applied],
            "revision": self.revision,
            "path": str(self.path) if self.path else None,
            "statements": self.statements,
            "warnings": self.warnings,
            "destructive_downgrade": self.destructive,
            "lint": self.lint,
        }


def dev(
    db: Database,
    environment: Environment,
    options: RunOptions,
    name: str | None,
    *,
    empty: bool = False,
    directory: Path = VERSIONS,
    confirm_loss: Callable[[str], None] | None = None,
) -> DevResult:
    """Development only: apply what is pending, compare the models with the database, write the revision
    that closes the gap (linted as `migrate prod` would), apply it and prove nothing is left. `confirm_loss`
    is asked before a revision that throws data away is written; it raises to refuse."""
    if environment is not Environment.DEVELOPMENT:
        raise Refused(
            f"migrate dev is for development, not {environment.value}",
            "use `migrate deploy` to apply committed revisions",
        )
    from mandala_db.core.catalog import models_snapshot

    result = DevResult()
    history = History.load(directory)
    with Executor(db, history, options) as executor:
        result.applied = executor.upgrade().steps
        assert executor.conn is not None
        conn = executor.conn
        live = catalog.take(conn, current_schema(conn))
        models = models_snapshot(conn)
        up, down = _plans(models, live, empty=empty)
        if up is None:
            return result  # nothing to write
        if up.destructive and confirm_loss is not None:
            confirm_loss("; ".join(up.destructive))
        label = name or ("init" if history.head is None else "migration")
        result.revision = new_revision_id(label, history.head)
        result.statements, result.warnings, result.destructive = up.statements, up.warnings, down.destructive
        path = write_revision(directory, result.revision, history.head, label, up.statements,
                              down.statements, down.destructive)  # fmt: skip
        result.path = path
        bus.info("revision_written", f"wrote {path}", migration=result.revision,
                 statements=len(up.statements))  # fmt: skip
        for warning in up.warnings:
            bus.warning("lint", warning, migration=result.revision)
        result.lint = _lint(conn, live, path, up.statements)
        for line in result.lint:
            bus.warning("lint", line, migration=result.revision)
        if not empty:
            _apply_and_prove(executor, conn, directory, result, models)
    return result


def _plans(models: Snapshot, live: Snapshot, *, empty: bool) -> tuple[Plan | None, Plan]:
    """The upgrade and the downgrade, or (None, ...) when the models and the database agree. Either one
    that cannot be rendered safely stops here, before anything is written."""
    up = diff(models, live)
    if empty:
        up.statements, up.unrenderable = [], []
    elif not up.statements and not up.unrenderable:
        return None, up
    if up.unrenderable:
        raise Refused(
            "the models changed in ways mandala-db will not guess: " + "; ".join(up.unrenderable),
            "write this revision by hand: `mandala-db migrate dev NAME --empty` creates one to fill in",
        )
    down = diff(live, models, allow_enum_rewrite=True)
    if down.unrenderable:
        raise Refused(
            "cannot write the downgrade: " + "; ".join(down.unrenderable),
            "write this revision by hand with `migrate dev NAME --empty`",
        )
    return up, down


def _lint(conn: psycopg.Connection[Any], live: Snapshot, path: Path, statements: list[str]) -> list[str]:
    """The same rules `migrate prod` enforces, shown now, while the revision is still easy to change."""
    from mandala_db.ops.migrate.analysis import analyze
    from mandala_db.ops.migrate.lint import lint_units
    from mandala_db.ops.migrate.loader import read_revision
    from mandala_db.ops.migrate.plan import TableStats, revision_unit

    stats = TableStats(conn, current_schema(conn))
    unit = revision_unit(read_revision(path), [st for sql in statements for st in analyze(sql)])
    return [f.text() for f in lint_units([unit], stats.model(live))]


def _apply_and_prove(
    executor: Executor, conn: psycopg.Connection[Any], directory: Path, result: DevResult, models: Snapshot
) -> None:
    """The new revision applied, and the database then equal to the models; a revision that does not apply
    is not kept (the next run generates it again from scratch)."""
    try:
        executor.reload(History.load(directory))
        result.applied += executor.upgrade().steps
    except Exception as exc:
        if result.path is not None:
            result.path.unlink()
        message = exc.message if isinstance(exc, MandalaError) else str(exc)
        raise OperationFailed(f"the generated revision did not apply, so it was removed: {message}") from exc
    left = catalog.compare(models, catalog.take(conn, current_schema(conn)))
    if left:
        raise OperationFailed(
            f"revision {result.revision} applied, but the database still differs from the models: "
            + "; ".join(str(d) for d in left[:5]),
            "edit the revision by hand and roll it back and forth with `migrate rollback to`",
        )
