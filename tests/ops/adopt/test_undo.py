"""ops/adopt/undo: `adopt prisma --undo` gives back exactly the Prisma layout the adoption replaced (its
catalog fingerprint as before the adoption) with every row, including rows written since, proved equal;
a database with no adoption recorded is refused; the database can be adopted again afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import connect_to, run_cli
from mandala_db.core import catalog
from mandala_db.core.database import Database
from mandala_db.core.errors import Refused
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.adopt.run import adopt
from mandala_db.ops.adopt.undo import undo
from ops.adopt.prismakit import build, clean_prisma_db, populate_2025_11
from ops.migrate.migratekit import ok

__all__ = ["clean_prisma_db"]


def prisma_layout(url: DatabaseURL) -> str:
    with connect_to(url) as conn:
        snap = catalog.take(conn)
    for name in [t for t in snap.tables if t.startswith("mandala_")]:
        snap.tables.pop(name)
    return snap.fingerprint


def test_undo_gives_back_the_prisma_layout_with_every_row(
    clean_prisma_db: DatabaseURL, tmp_path: Path
) -> None:
    before = prisma_layout(clean_prisma_db)
    with connect_to(clean_prisma_db) as conn:
        rows = conn.execute('SELECT id, "entityType", progress FROM progress_history ORDER BY id').fetchall()
    adopt(Database(clean_prisma_db), tmp_path)
    with connect_to(clean_prisma_db) as conn:  # written after the adoption, by the application on our schema
        conn.execute("INSERT INTO progress_history (entity_type, entity_id, progress) "
                     "SELECT 'sub_goal', id, 55 FROM sub_goals LIMIT 1")  # fmt: skip
        conn.execute(
            "UPDATE tasks SET estimated_minutes = 99 WHERE id = (SELECT min(id::text)::uuid FROM tasks)"
        )
    done = undo(Database(clean_prisma_db), tmp_path)
    assert done.tables["progress_history"] == len(rows) + 1 and Path(done.backup).name.startswith(
        "pre_undo_backup_"
    )
    assert prisma_layout(clean_prisma_db) == before  # the same catalog, name for name
    with connect_to(clean_prisma_db) as conn:
        now = conn.execute('SELECT id, "entityType", progress FROM progress_history ORDER BY id').fetchall()
        assert set(rows) <= set(now) and next(r for r in now if r not in rows)[1:] == ("subgoal", 55)
        assert conn.execute('SELECT count(*) FROM tasks WHERE "estimatedMinutes" = 99').fetchone() == (1,)
        assert conn.execute("SELECT to_regclass('alembic_version')").fetchone() == (None,)
    ok(run_cli("adopt", "prisma", "--dry-run", url=clean_prisma_db))  # Prisma's again, and adoptable again
    adopt(Database(clean_prisma_db), tmp_path)
    ok(run_cli("migrate", "validate", url=clean_prisma_db))


def test_a_database_with_no_adoption_is_refused(clean_prisma_db: DatabaseURL, tmp_path: Path) -> None:
    with pytest.raises(Refused, match="no adoption recorded here to undo"):
        undo(Database(clean_prisma_db), tmp_path)


def test_an_older_state_comes_back_as_the_latest_prisma_layout(db_url: DatabaseURL, tmp_path: Path) -> None:
    # The legacy labels are not given back (REVIEW and MEETING both became EXECUTION or HABIT): the undo
    # returns the layout the adoption converted, the 2025-12-11 one the team's migrations lead to.
    with connect_to(db_url) as conn:
        build(conn, state="2025-11")
        populate_2025_11(conn, planted=False)
        tasks = conn.execute("SELECT count(*) FROM tasks").fetchone()
    adopt(Database(db_url), tmp_path)
    with connect_to(db_url) as conn:  # a note written on the new layout: the old one has no table for it
        conn.execute("INSERT INTO task_notes (task_id, user_id, content) SELECT t.id, u.id, 'n' "
                     "FROM tasks t, users u LIMIT 1")  # fmt: skip
        adopted = catalog.take(conn).fingerprint
    with pytest.raises(Refused, match="no table for the rows written since in task_notes \\(1\\)"):
        undo(Database(db_url), tmp_path)
    with connect_to(db_url) as conn:
        assert catalog.take(conn).fingerprint == adopted
        conn.execute("DELETE FROM task_notes")
    undo(Database(db_url), tmp_path)
    with connect_to(db_url) as conn:
        snap = catalog.take(conn)
        assert (
            snap.enums["TaskType"] == ["EXECUTION", "HABIT"]
            and "estimatedMinutes" in snap.tables["tasks"].columns
        )
        assert "taskId" in snap.tables["task_reflections"].columns
        assert conn.execute("SELECT count(*) FROM tasks").fetchone() == tasks
    ok(run_cli("adopt", "prisma", "--dry-run", url=db_url))  # and it adopts again, from the latest state
