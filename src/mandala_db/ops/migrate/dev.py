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
from mandala_db.ops.migrate import recipes
from mandala_db.ops.migrate.autodetector import Plan, diff
from mandala_db.ops.migrate.executor import Executor, RunOptions, StepResult
from mandala_db.ops.migrate.loader import History
from mandala_db.ops.migrate.recipes import Step
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
    steps: list[dict[str, Any]] = field(default_factory=list)  # a change in steps: every revision written
    recipes: list[str] = field(default_factory=list)  # why it went in steps, a line per change
    paths: list[Path] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "applied": [s.to_dict() for s in self.applied],
            "revision": self.revision,
            "path": str(self.path) if self.path else None,
            "steps": self.steps,
            "recipes": self.recipes,
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
    renames: dict[str, str] | None = None,
    in_steps: bool = False,
) -> DevResult:
    """Development only: apply what is pending, compare the models with the database, write the revision
    that closes the gap (linted as `migrate prod` would), apply it and prove nothing is left. `confirm_loss`
    is asked before a revision that throws data away is written; it raises to refuse. A change that would
    lock or rewrite a populated table (every table with `in_steps`) is written as revisions in steps
    (ops/migrate/recipes.py); `renames` ("table.old" -> new) says which drop-and-add pairs are renames."""
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
        steps = None if empty else _in_steps(conn, models, live, renames or {}, in_steps)
        if steps is not None:
            result.recipes = steps[1]
            _write_steps(
                executor, conn, directory, history, name, steps[0], live, models, result, confirm_loss
            )
            return result
        up, down = _plans(models, live, empty=empty)
        if up is None:
            return result  # nothing to write
        if up.destructive and confirm_loss is not None:
            hints = [w for w in up.warnings if "--rename" in w]  # said before the question, not after
            confirm_loss("; ".join(up.destructive) + "".join(f" ({w})" for w in hints))
        label = name or ("init" if history.head is None else "migration")
        result.revision = new_revision_id(label, history.head)
        result.statements, result.warnings, result.destructive = up.statements, up.warnings, down.destructive
        path = write_revision(directory, result.revision, history.head, label, up.statements,
                              down.statements, down.destructive)  # fmt: skip
        result.path = path
        result.paths = [path]
        bus.info("revision_written", f"wrote {path}", migration=result.revision,
                 statements=len(up.statements))  # fmt: skip
        for warning in up.warnings:
            bus.warning("lint", warning, migration=result.revision)
        result.lint = _lint(conn, live, path, up.statements)
        for line in result.lint:
            bus.warning("lint", line, migration=result.revision)
        if not empty:
            _apply_and_prove(executor, conn, directory, result, models)
            write_prisma_schema(directory, models)
    return result


def write_prisma_schema(directory: Path, models: Snapshot) -> Path:
    """The application's schema.prisma, kept beside the revisions and current with the models."""
    from mandala_db.ops.migrate.prisma_schema import render
    from mandala_db.ops.migrate.validate import PRISMA_SCHEMA

    path = directory.parent / PRISMA_SCHEMA
    path.write_text(render(models), encoding="utf-8")
    return path


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
    return _lint_all(conn, live, [(path, statements)])


def _lint_all(
    conn: psycopg.Connection[Any], live: Snapshot, revisions: list[tuple[Path, list[str]]]
) -> list[str]:
    """The revisions linted in order, each against the schema the ones before it leave."""
    from mandala_db.ops.migrate.analysis import analyze
    from mandala_db.ops.migrate.lint import lint_units
    from mandala_db.ops.migrate.loader import read_revision
    from mandala_db.ops.migrate.plan import TableStats, revision_unit

    stats = TableStats(conn, current_schema(conn))
    units = [
        revision_unit(read_revision(p), [st for sql in sqls for st in analyze(sql)]) for p, sqls in revisions
    ]
    # What a step waives on purpose (a contract drops the old column) says so in its file, not here.
    return [f.text() for f in lint_units(units, stats.model(live)) if f.waived is None]


def _in_steps(
    conn: psycopg.Connection[Any], models: Snapshot, live: Snapshot, renames: dict[str, str], every: bool
) -> tuple[list[Step], list[str]] | None:
    """The revisions of a change in steps (the plain rest first), or None when one revision is safe."""
    from mandala_db.ops.migrate.plan import TableStats

    stats = TableStats(conn, current_schema(conn))
    found = recipes.plan(
        models, live, lambda t: every or (stats.rows_of(t) or 0) > 0 or _has_rows(conn, t), renames
    )
    if found is None:
        return None
    steps = found.steps()
    rest_up, rest_down = _plans(found.masked, live, empty=False)
    if rest_up is not None:
        if steps[0].slug in ("", "expand"):
            first = steps[0]
            first.up, first.down = rest_up.statements + first.up, first.down + rest_down.statements
        else:
            steps.insert(0, Step("", None, rest_up.statements, rest_down.statements))
        steps[0].destructive = rest_down.destructive
        steps[0].warnings = rest_up.warnings + rest_up.destructive
    return steps, found.notes


def _has_rows(conn: psycopg.Connection[Any], table: str) -> bool:
    """An estimate of 0 can be stale (analysed while empty): one row found is enough to count."""
    row = conn.execute(f'SELECT EXISTS (SELECT 1 FROM "{current_schema(conn)}"."{table}")').fetchone()
    return bool(row and row[0])


def _write_steps(
    executor: Executor,
    conn: psycopg.Connection[Any],
    directory: Path,
    history: History,
    name: str | None,
    steps: list[Step],
    live: Snapshot,
    models: Snapshot,
    result: DevResult,
    confirm_loss: Callable[[str], None] | None,
) -> None:
    """Each step its own revision, chained; linted together, applied together (the contract too: a
    development database has no old application), and proved equal to the models."""
    loss = [w for s in steps for w in s.warnings if w.startswith("drops ")]
    if loss and confirm_loss is not None:
        confirm_loss("; ".join(loss))
    label, head = name or "migration", history.head
    try:
        for step in steps:
            title = f"{label}_{step.slug}" if step.slug else label
            rev = new_revision_id(title, head)
            path = write_revision(directory, rev, head, title, step.up, step.down, step.destructive,
                                  phase=step.phase, backfills=step.backfills, waivers=step.waivers)  # fmt: skip
            result.paths.append(path)
            result.steps.append({"revision": rev, "path": str(path), "phase": step.phase,
                                 "statements": len(step.up), "backfills": [b.label for b in step.backfills]})  # fmt: skip
            result.statements += step.up
            result.warnings += [w for w in step.warnings if not w.startswith("drops ")]
            bus.info("revision_written", f"wrote {path}", migration=rev, statements=len(step.up),
                     phase=step.phase)  # fmt: skip
            head = rev
    except Exception:
        for path in result.paths:
            path.unlink(missing_ok=True)
        raise
    result.revision, result.path = result.steps[0]["revision"], result.paths[0]
    result.destructive = steps[0].destructive
    for line in result.recipes:
        bus.info("recipe", line)
    result.lint = _lint_all(conn, live, [(p, s.up) for p, s in zip(result.paths, steps, strict=True)])
    for line in result.lint:
        bus.warning("lint", line, migration=result.revision)
    _apply_and_prove(executor, conn, directory, result, models)
    write_prisma_schema(directory, models)


def _apply_and_prove(
    executor: Executor, conn: psycopg.Connection[Any], directory: Path, result: DevResult, models: Snapshot
) -> None:
    """The new revision applied, and the database then equal to the models; a revision that does not apply
    is not kept (the next run generates it again from scratch)."""
    try:
        executor.reload(History.load(directory))
        result.applied += executor.upgrade().steps
    except Exception as exc:
        for path in result.paths:
            path.unlink(missing_ok=True)
        message = exc.message if isinstance(exc, MandalaError) else str(exc)
        what = "revision did" if len(result.paths) == 1 else f"{len(result.paths)} revisions did"
        raise OperationFailed(
            f"the generated {what} not apply, so they were removed: {message}"
            if len(result.paths) > 1
            else f"the generated revision did not apply, so it was removed: {message}"
        ) from exc
    left = catalog.compare(models, catalog.take(conn, current_schema(conn)))
    if left:
        raise OperationFailed(
            f"revision {result.revision} applied, but the database still differs from the models: "
            + "; ".join(str(d) for d in left[:5]),
            "edit the revision by hand and roll it back and forth with `migrate rollback to`",
        )
