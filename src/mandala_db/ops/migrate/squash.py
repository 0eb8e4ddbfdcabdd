"""`migrate squash --to REV`: one baseline revision in place of the history up to REV.

The baseline keeps REV's id, so a database that applied the old revisions is already at the baseline and
goes on from there, and the revisions after REV need no edit. Its `replaces` names every revision it stands
for with the checksum of its file (as Django's squashed migrations name theirs), so `validate` accepts what
such a database recorded. Before a file changes, the baseline is proved in scratch schemas: its upgrade
builds exactly what the old revisions build up to REV, and its downgrade leaves nothing behind.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from mandala_db.core import catalog
from mandala_db.core.catalog import Snapshot
from mandala_db.core.database import Database
from mandala_db.core.errors import BadInput, OperationFailed, Refused
from mandala_db.core.events import bus
from mandala_db.core.revision import current_revision
from mandala_db.core.settings import Environment
from mandala_db.migrations import VERSIONS
from mandala_db.ops.migrate.autodetector import diff
from mandala_db.ops.migrate.loader import BASE, History, Revision
from mandala_db.ops.migrate.writer import python_list, python_string

TEMPLATE = '''"""Squashed baseline: the schema of {count} revisions, up to {revision}

Revision ID: {revision}
Revises:
Create Date: {created}

Written by `mandala-db migrate squash --to {revision}`: it builds what the revisions it replaces built,
proved in a scratch schema before it was written. A database that applied them is at this revision
already; a new one applies this instead. The replaced files are in version control's history.
"""

from alembic import op

from mandala_db.migrations.archive import park_rows, restore_rows

revision = "{revision}"
down_revision = None
name = "squashed"
branch_labels = None
depends_on = None

# Read by mandala-db: the revisions this baseline stands for, each with the checksum its file had, so a
# database that applied them is valid and its record of them is not taken for an edit.
replaces = {replaces}

# Read by mandala-db: a rollback through this revision is flagged and confirmed first.
destructive_downgrade = {destructive}

# Parents before children: rows parked by a downgrade come back in this order.
TABLES = {tables}

UPGRADE = {upgrade}

DOWNGRADE = {downgrade}


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)
    for table in TABLES:
        op.execute(restore_rows(table))


def downgrade() -> None:
    for table in reversed(TABLES):
        op.execute(park_rows(table))
    for statement in DOWNGRADE:
        op.execute(statement)
'''


@dataclass
class SquashResult:
    revision: str
    replaced: list[str]
    path: Path
    removed: list[Path] = field(default_factory=list)
    statements: int = 0
    objects: int = 0
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "replaces": self.replaced,
            "path": str(self.path),
            "removed": [str(p) for p in self.removed],
            "statements": self.statements,
            "objects": self.objects,
            "dry_run": self.dry_run,
        }


def squash(
    db: Database, environment: Environment, to: str, *, directory: Path = VERSIONS, dry_run: bool = False
) -> SquashResult:
    """Write the baseline for the history up to `to` and remove the files it replaces (not in a dry run)."""
    if environment.protected:
        raise Refused(
            f"migrate squash writes revision files, not for {environment.value}",
            "run it in development and commit the baseline it writes",
        )
    history = History.load(directory)
    target = history.resolve(to)
    if target == BASE:
        raise BadInput("cannot squash to base", "name the last revision the baseline should stand for")
    squashed = history.upto(target)
    if len(squashed) == 1 and not squashed[0].replaces:
        raise BadInput(f"nothing to squash: {target} is the first revision", "name a later revision")
    from mandala_db.ops.migrate.runner import AlembicRunner
    from mandala_db.ops.migrate.validate import history_snapshot

    with db.connect() as conn:
        _refuse_stranding(conn, squashed)
        # What the history builds, from the files being squashed (the folder given, not only the package's).
        expected = history_snapshot(db, target, AlembicRunner(directory))
        empty = Snapshot(expected.schema)
        up, down = _render(expected, empty)
        _prove(conn, up, down, expected, empty)
    text = _text(target, squashed, expected, up, down)
    result = SquashResult(
        target,
        [r.id for r in squashed],
        squashed[-1].path,
        [r.path for r in squashed],
        len(up),
        len(expected.tables) + len(expected.enums) + len(expected.functions),
        dry_run,
    )
    if not dry_run:
        _replace_files(directory, squashed, text)
        bus.info(
            "revision_written",
            f"wrote the baseline {result.path.name} in place of {len(squashed)} revision files",
            migration=target,
            statements=len(up),
        )
    return result


def _refuse_stranding(conn: psycopg.Connection[Any], squashed: list[Revision]) -> None:
    """A database part-way through the squashed revisions could not go on once their files are gone."""
    current = current_revision(conn)
    if current in {r.id for r in squashed[:-1]}:
        raise Refused(
            f"this database is at {current}, before {squashed[-1].id}: once squashed it could not go on",
            f"deploy it to {squashed[-1].id} first, or squash to a revision every database has reached",
        )


def _render(expected: Snapshot, empty: Snapshot) -> tuple[list[str], list[str]]:
    up, down = diff(expected, empty), diff(empty, expected, allow_enum_rewrite=True)
    trouble = up.unrenderable + down.unrenderable
    if trouble:
        raise Refused(
            "the history builds what mandala-db does not generate: " + "; ".join(trouble),
            "squash to an earlier revision, or keep these revisions as they are",
        )
    return up.statements, down.statements


def _prove(
    conn: psycopg.Connection[Any], up: list[str], down: list[str], expected: Snapshot, empty: Snapshot
) -> None:
    """The baseline's upgrade builds what the history built, and its downgrade takes all of it away: run in
    a scratch schema, in a transaction that is always rolled back."""
    scratch = f"mandala_squash_{uuid.uuid4().hex[:12]}"
    with conn.transaction(force_rollback=True):
        conn.execute(f"CREATE SCHEMA {scratch}")
        conn.execute(f"SET LOCAL search_path TO {scratch}")
        for sql in up:
            conn.execute(sql.encode())
        built = catalog.take(conn, scratch)
        for sql in down:
            conn.execute(sql.encode())
        after_down = catalog.take(conn, scratch)
    for what, want, got in (("upgrade", expected, built), ("downgrade", empty, after_down)):
        differences = catalog.compare(want, got)
        if differences:
            raise OperationFailed(
                f"the baseline's {what} would not build what the history does: "
                + "; ".join(str(d) for d in differences[:5]),
                "nothing was written; squash to an earlier revision, or report this as a bug",
            )


def parents_first(snapshot: Snapshot) -> list[str]:
    """Tables ordered so that each comes after the tables its foreign keys reference."""
    refs = {
        name: {
            m.group(1)
            for kind, definition in table.constraints.values()
            if kind == "f"
            for m in [re.search(r"REFERENCES\s+\"?([\w.]+?)\"?\s*\(", definition)]
            if m and m.group(1) != name and m.group(1) in snapshot.tables
        }
        for name, table in snapshot.tables.items()
    }
    ordered: list[str] = []
    while len(ordered) < len(refs):
        ready = sorted(n for n, r in refs.items() if n not in ordered and r <= set(ordered))
        if not ready:  # a cycle of foreign keys: the rest in name order
            ready = sorted(n for n in refs if n not in ordered)
        ordered += ready
    return ordered


def _text(target: str, squashed: list[Revision], expected: Snapshot, up: list[str], down: list[str]) -> str:
    pairs = [p for r in squashed for p in (*r.replaces, (r.id, r.file_checksum))]
    tables = [t for t in parents_first(expected) if not catalog.is_internal(t)]
    replaces = "[\n" + "".join(f'    ("{rid}", "{checksum}"),\n' for rid, checksum in pairs) + "]"
    text = TEMPLATE.format(
        count=len(squashed),
        revision=target,
        created=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        replaces=replaces,
        destructive=python_string("drops every table of the baseline (their rows are parked in the archive)"),
        tables="[" + ", ".join(f'"{t}"' for t in tables) + "]",
        upgrade=python_list(up),
        downgrade=python_list(down),
    )
    tree = ast.parse(text)  # the file is checked before it is kept: literals only where we wrote literals
    names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    if names != ["upgrade", "downgrade"]:
        raise OperationFailed("the baseline does not have the shape of a revision file; nothing written")
    return text


def _replace_files(directory: Path, squashed: list[Revision], text: str) -> None:
    """The replaced files move aside, the baseline takes the last one's name, and the history must then load
    with the same head; anything wrong on the way puts every file back as it was."""
    holding = directory / f".squash-{os.getpid()}"
    final = squashed[-1].path
    staged = directory / f".{final.name}.tmp"
    moved: list[tuple[Path, Path]] = []
    placed = False
    try:
        holding.mkdir()
        staged.write_text(text, encoding="utf-8")
        for rev in squashed:
            aside = holding / rev.path.name
            rev.path.rename(aside)
            moved.append((aside, rev.path))
        staged.replace(final)
        placed = True
        after = History.load(directory)
        if after.head is None or after.revisions[0].id != squashed[-1].id:
            raise OperationFailed(f"the history did not start at the baseline {final.name} once written")
    except BaseException:
        if placed:  # only ever the baseline: before it is placed, `final` is still the replaced file
            final.unlink()
        staged.unlink(missing_ok=True)
        for aside, original in moved:
            aside.rename(original)
        shutil.rmtree(holding, ignore_errors=True)
        raise
    shutil.rmtree(holding)
