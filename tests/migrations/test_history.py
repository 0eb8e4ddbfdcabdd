"""The shipped history builds the models from an empty database, and every downgrade keeps the data."""

from __future__ import annotations

import subprocess
from typing import Any

import psycopg
import pytest

from mandala_db.core import catalog
from mandala_db.core.catalog import models_snapshot
from mandala_db.core.database import Database
from mandala_db.core.errors import OperationFailed
from mandala_db.core.revision import current_revision
from mandala_db.core.tools import find_client
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.migrate.executor import Executor, RunOptions
from mandala_db.ops.migrate.loader import BASE, History
from mandala_db.ops.migrate.runner import AlembicRunner
from revision_data import POPULATE, table_checksums, uid

HISTORY = History.load()


def executor(url: DatabaseURL) -> Executor:
    return Executor(Database(url), HISTORY, RunOptions(environment="test"))


def test_history_is_the_seven_revisions_of_the_spec() -> None:
    slugs = [r.id.split("_", 1)[1] for r in HISTORY.revisions]
    assert slugs == [
        "init",
        "add_progress_and_change_history",
        "add_processing_state",
        "task_management",
        "add_reminder_tables",
        "add_workflow_executions",
        "split_reflections",
    ]
    assert [r.id for r in HISTORY.revisions] == sorted(r.id for r in HISTORY.revisions)


def test_deploy_builds_exactly_the_models(db_url: DatabaseURL, conn: psycopg.Connection[Any]) -> None:
    with executor(db_url) as ex:
        result = ex.upgrade()
    assert result.after == HISTORY.head and len(result.steps) == 7
    live = catalog.take(conn)
    models = models_snapshot(conn)
    assert catalog.compare(models, live) == []
    assert live.fingerprint == models.fingerprint
    assert len(live.tables) == 18 and len(live.enums) == 12
    assert list(live.functions) == ["set_updated_at()"]
    assert sum(len(t.triggers) for t in live.tables.values()) == 15


def test_offline_sql_run_by_psql_builds_the_same_schema(
    db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    major = int(str(conn.execute("SHOW server_version_num").fetchone()[0])) // 10000  # type: ignore[index]
    psql = str(find_client("psql", major).path)
    sql = AlembicRunner().render(None, HISTORY.head or "", "upgrade")
    params = db_url.libpq_params()
    dsn = " ".join(f"{k}={v}" for k, v in params.items())
    subprocess.run(
        [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", dsn],
        input=sql,
        text=True,
        check=True,
        capture_output=True,
    )
    assert current_revision(conn) == HISTORY.head
    assert catalog.take(conn).fingerprint == models_snapshot(conn).fingerprint


def test_stairway_every_revision_up_down_up_keeps_every_row(
    db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    """For each revision: upgrade, load rows into the tables it creates, downgrade, upgrade again.

    Row counts and per-table content checksums must be equal; the one expected exception is the goal-level
    reflections that revision 7's downgrade drops (and flags as destructive).
    """
    with executor(db_url) as ex:
        for rev, populate in zip(HISTORY.revisions, POPULATE, strict=True):
            ex.upgrade(rev.id)
            populate(conn)
            before_schema = catalog.take(conn).fingerprint
            before = table_checksums(conn)
            assert all(count > 0 for count, _ in before.values()), f"every table has rows at {rev.id}"
            ex.downgrade(rev.down_revision or BASE)
            ex.upgrade(rev.id)
            after = table_checksums(conn)
            assert catalog.take(conn).fingerprint == before_schema
            if rev.destructive_downgrade:
                assert after.pop("reflections")[0] == 0
                before.pop("reflections")
            assert after == before, f"data changed by the round trip of {rev.id}"


def test_task_enums_are_mapped_both_ways(db_url: DatabaseURL, conn: psycopg.Connection[Any]) -> None:
    task_management = HISTORY.resolve("task_management")
    with executor(db_url) as ex:
        ex.upgrade(HISTORY.named("task_management").down_revision)
        POPULATE[0](conn)
        ex.upgrade(task_management)
        rows = dict(
            conn.execute(
                "SELECT type::text || '/' || status::text, count(*) FROM tasks GROUP BY 1"
            ).fetchall()
        )
        assert rows == {
            "EXECUTION/NOT_STARTED": 4,
            "EXECUTION/IN_PROGRESS": 4,
            "EXECUTION/COMPLETED": 4,
            "EXECUTION/SKIPPED": 4,
            "HABIT/NOT_STARTED": 1,
            "HABIT/IN_PROGRESS": 1,
            "HABIT/COMPLETED": 1,
            "HABIT/SKIPPED": 1,
        }
        nulls_backfilled = conn.execute(
            "SELECT estimated_minutes FROM tasks WHERE id = %s", (uid("t0"),)
        ).fetchone()
        assert nulls_backfilled == (30,)
        ex.downgrade(HISTORY.named("task_management").down_revision)
        back = {r[0] for r in conn.execute("SELECT DISTINCT type::text FROM tasks").fetchall()}
        assert back == {"ACTION", "REVIEW"}
        statuses = {r[0] for r in conn.execute("SELECT DISTINCT status::text FROM tasks").fetchall()}
        assert statuses == {"PENDING", "IN_PROGRESS", "COMPLETED", "CANCELLED"}


def test_task_management_downgrade_refuses_long_titles_and_changes_nothing(
    db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    with executor(db_url) as ex:
        ex.upgrade(HISTORY.named("init").id)
        POPULATE[0](conn)
        ex.upgrade()
        long_title = "長" * 240
        conn.execute("UPDATE tasks SET title = %s WHERE id = %s", (long_title, uid("t1")))
        ex.downgrade(HISTORY.resolve("task_management"))  # revisions 7, 6 and 5 keep titles as they are
        before = (catalog.take(conn).fingerprint, table_checksums(conn))
        with pytest.raises(OperationFailed, match=r"1 task title.*longer than 200"):
            ex.downgrade(HISTORY.resolve("add_processing_state"))
        # The failing revision 4 left the database exactly as it was.
        assert current_revision(conn) == HISTORY.resolve("task_management")
        assert (catalog.take(conn).fingerprint, table_checksums(conn)) == before
    failed = conn.execute(
        "SELECT status, error FROM mandala_migration_runs ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert failed is not None and failed[0] == "failed" and "longer than 200" in failed[1]


def test_only_the_reflections_split_is_flagged_destructive() -> None:
    flagged = [r.id for r in HISTORY.revisions if r.destructive_downgrade]
    assert flagged == [HISTORY.resolve("split_reflections")]


def test_split_keeps_task_reflections_with_their_ids(
    db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    split = HISTORY.resolve("split_reflections")
    with executor(db_url) as ex:
        ex.upgrade(HISTORY.named("init").id)
        POPULATE[0](conn)
        ex.upgrade(HISTORY.named("add_workflow_executions").id)
        ids = sorted(r[0] for r in conn.execute("SELECT id::text FROM reflections").fetchall())
        ex.upgrade(split)
        assert sorted(r[0] for r in conn.execute("SELECT id::text FROM task_reflections").fetchall()) == ids
        assert conn.execute("SELECT count(*) FROM reflections").fetchone() == (0,)
