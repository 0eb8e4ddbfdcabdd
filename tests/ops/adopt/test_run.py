"""ops/adopt/run: the adoption of a Prisma-built database. Every row is kept and proved, the schema ends
equal to our models and `status`, `seed`, `data check`, `backup`, `drill` work on it; rows our rules
reject refuse it with nothing changed; a kill inside its transaction leaves the Prisma layout as it was; a kill while it
validates is finished by running it again; a database `prisma db push` built adopts the same way."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import connect_to, run_cli
from mandala_db.core import catalog
from mandala_db.core.database import Database
from mandala_db.core.errors import CheckFailed
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.adopt.run import adopt
from ops.adopt.prismakit import build, clean_prisma_db, populate, populate_2025_11, prisma_db
from ops.migrate.migratekit import ok, spawn

__all__ = ["clean_prisma_db", "prisma_db"]


def layout(url: DatabaseURL) -> tuple[Any, ...]:
    with connect_to(url) as conn:
        rows = conn.execute("SELECT (SELECT count(*) FROM tasks), to_regclass('alembic_version') IS NULL, "
                            "to_regclass('\"_prisma_migrations\"') IS NOT NULL").fetchone()  # fmt: skip
        return catalog.take(conn).fingerprint, rows


def test_an_adoption_keeps_every_row_and_ends_as_our_schema(
    clean_prisma_db: DatabaseURL, tmp_path: Path
) -> None:
    with connect_to(clean_prisma_db) as conn:
        titles = conn.execute('SELECT id, title, "estimatedMinutes" FROM tasks ORDER BY id').fetchall()
    done = adopt(Database(clean_prisma_db), tmp_path)
    assert (
        done.backup
        and Path(done.backup).name.startswith("pre_adoption_backup_")
        and Path(done.backup).exists()
    )
    assert len(done.validated) == 36
    # Values mapped on the way: proved by count and checksum; renamed only: by the same storage.
    assert set(done.tables) == {"change_history", "habit_task_reminder_tracking", "progress_history",
                                "reminder_logs", "workflow_executions"}  # fmt: skip
    assert "tasks" in done.unchanged and len(done.tables) + len(done.unchanged) == 18
    with connect_to(clean_prisma_db) as conn:
        assert conn.execute("SELECT id, title, estimated_minutes FROM tasks ORDER BY id").fetchall() == titles
        kept = conn.execute('SELECT count(*) FROM mandala_archive_public."_prisma_migrations"').fetchone()
        assert kept == (4,)
    ok(run_cli("migrate", "validate", url=clean_prisma_db))
    status = ok(run_cli("migrate", "status", url=clean_prisma_db)).stdout
    assert "up to date" in status and "schema matches the fingerprint" in status and "Rows kept" not in status
    ok(run_cli("data", "check", url=clean_prisma_db))
    ok(run_cli("seed", "demo", url=clean_prisma_db))
    ok(run_cli("backup", "full", url=clean_prisma_db, env={"BACKUP_DIR": str(tmp_path)}))
    ok(
        run_cli("drill", url=clean_prisma_db, env={"BACKUP_DIR": str(tmp_path)})
    )  # the newest backup, restored


def test_rows_our_rules_reject_refuse_it_before_anything_changes(
    prisma_db: DatabaseURL, tmp_path: Path
) -> None:
    before = layout(prisma_db)
    with pytest.raises(CheckFailed, match="3 kind\\(s\\) of rows our constraints reject"):
        adopt(Database(prisma_db), tmp_path)
    assert layout(prisma_db) == before and not list(tmp_path.iterdir())  # no backup taken either


def test_a_kill_inside_its_transaction_leaves_the_prisma_layout(
    clean_prisma_db: DatabaseURL, tmp_path: Path
) -> None:
    before = layout(clean_prisma_db)
    with connect_to(clean_prisma_db) as holder, connect_to(clean_prisma_db) as watch:
        holder.execute("BEGIN; LOCK TABLE tasks IN ACCESS SHARE MODE")  # the adoption's LOCK TABLE waits here
        proc = spawn(clean_prisma_db, "--yes", "adopt", "prisma", "--backup-dir", str(tmp_path))
        while proc.poll() is None:  # the event: its session waiting for the lock, inside the transaction
            waiting = watch.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                    "AND query LIKE 'LOCK TABLE%'").fetchone()  # fmt: skip
            if waiting and waiting[0]:
                break
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL
        holder.execute("COMMIT")
    assert layout(clean_prisma_db) == before


def test_a_kill_while_it_validates_is_finished_by_running_it_again(
    clean_prisma_db: DatabaseURL, tmp_path: Path
) -> None:
    proc = spawn(clean_prisma_db, "--yes", "adopt", "prisma", "--backup-dir", str(tmp_path))
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("validated "):  # the first constraint validated after the commit
            proc.send_signal(signal.SIGKILL)
            break
    assert proc.wait() == -signal.SIGKILL
    again = ok(run_cli("--yes", "adopt", "prisma", "--backup-dir", str(tmp_path), url=clean_prisma_db))
    assert "Validated what an earlier adoption left" in again.stdout
    ok(run_cli("migrate", "validate", url=clean_prisma_db))
    refused = run_cli("--yes", "adopt", "prisma", url=clean_prisma_db)
    assert refused.code == 3 and "was adopted already" in refused.stderr


def test_a_database_prisma_db_push_built_adopts_the_same_way(db_url: DatabaseURL, tmp_path: Path) -> None:
    # TIMESTAMPTZ(6) everywhere, and the two hand-written tables camelCase like the rest.
    with connect_to(db_url) as conn:
        build(conn, push=True)
        populate(conn, planted=False)
        assert conn.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 'change_history' "
                            "AND column_name = 'entityType'").fetchone() == (1,)  # fmt: skip
    done = adopt(Database(db_url), tmp_path)
    assert done.tables["progress_history"] > 0 and "tasks" in done.unchanged
    ok(run_cli("migrate", "validate", url=db_url))


def test_a_table_postgresql_rewrites_on_the_way_is_proved_by_its_content(
    db_url: DatabaseURL, tmp_path: Path
) -> None:
    # integer to smallint by the plain cast: no value of ours changes, but PostgreSQL rewrites the table, so
    # its storage proves nothing and its rows are read twice after all.
    with connect_to(db_url) as conn:
        build(conn)
        conn.execute('ALTER TABLE tasks ALTER COLUMN "estimatedMinutes" TYPE integer')
        populate(conn, planted=False)
        minutes = conn.execute('SELECT id, "estimatedMinutes" FROM tasks ORDER BY id').fetchall()
    done = adopt(Database(db_url), tmp_path)
    assert "tasks" in done.tables and "tasks" not in done.unchanged and "goals" in done.unchanged
    with connect_to(db_url) as conn:
        assert conn.execute("SELECT id, estimated_minutes FROM tasks ORDER BY id").fetchall() == minutes
    ok(run_cli("migrate", "validate", url=db_url))


def test_an_older_state_is_brought_forward_and_adopted_in_the_same_transaction(
    db_url: DatabaseURL, tmp_path: Path
) -> None:
    with connect_to(db_url) as conn:
        build(conn, state="2025-11")
        populate_2025_11(conn)  # with an estimate of 0 and a rating of 7
        tasks = conn.execute('SELECT id, type::text, "estimatedTime" FROM tasks ORDER BY id').fetchall()
        reflections = conn.execute("SELECT id, rating FROM reflections ORDER BY id").fetchall()
    before = layout(db_url)
    with pytest.raises(CheckFailed, match="2 kind\\(s\\) of rows"):
        adopt(Database(db_url), tmp_path)
    assert layout(db_url) == before
    done = adopt(Database(db_url), tmp_path, fixes={"check": "clamp"})
    assert done.forwarded == 13 and sorted(f.rows for f in done.fixed) == [1, 1]
    with connect_to(db_url) as conn:
        now = conn.execute("SELECT id, type::text, estimated_minutes FROM tasks ORDER BY id").fetchall()
        assert [(i, t) for i, t, _ in now] == [
            (i, "HABIT" if t == "REVIEW" else "EXECUTION") for i, t, _ in tasks
        ]
        assert [m for _, _, m in now] == [30 if e is None else max(e, 1) for _, _, e in tasks]
        assert conn.execute("SELECT id, rating FROM task_reflections ORDER BY id").fetchall() == [
            (i, min(r, 5)) for i, r in reflections]  # fmt: skip
        assert conn.execute("SELECT count(*) FROM reflections").fetchone() == (0,)  # goal-level: new
    ok(run_cli("migrate", "validate", url=db_url))
    ok(run_cli("data", "check", url=db_url))
    ok(run_cli("seed", "demo", url=db_url))


def test_before_2025_12_11_only_the_reflections_move(db_url: DatabaseURL, tmp_path: Path) -> None:
    with connect_to(db_url) as conn:
        build(conn, state="2025-12")
        populate(conn, planted=False)
    done = adopt(Database(db_url), tmp_path)
    assert done.forwarded == 1 and "task_reflections" in done.unchanged
    ok(run_cli("migrate", "validate", url=db_url))


def test_what_is_not_ours_is_left_as_it_is(clean_prisma_db: DatabaseURL, tmp_path: Path) -> None:
    with connect_to(clean_prisma_db) as conn:  # the team's own table and function, beside Prisma's
        conn.execute("CREATE TABLE feature_flags (name text PRIMARY KEY, enabled boolean NOT NULL)")
        conn.execute("INSERT INTO feature_flags VALUES ('beta', true)")
        conn.execute("CREATE FUNCTION team_helper() RETURNS int LANGUAGE sql AS 'SELECT 1'")
    report = run_cli("adopt", "prisma", "--dry-run", url=clean_prisma_db)
    assert "table feature_flags is not in our models: the adoption leaves it as it is" in report.stdout
    adopt(Database(clean_prisma_db), tmp_path)
    with connect_to(clean_prisma_db) as conn:
        assert conn.execute("SELECT * FROM feature_flags").fetchall() == [("beta", True)]
        assert conn.execute("SELECT team_helper()").fetchone() == (1,)
