"""`migrate validate` compares the live schema object by object and names every change made by hand."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import connect_to, in_project
from mandala_db.core.database import Database
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.migrate.executor import Executor, RunOptions
from mandala_db.ops.migrate.loader import History
from ops.migrate.migratekit import HEAD, TASK_INDEXES, add_revision, edit_models, ok

HAND_CHANGES = {
    "table added": ("CREATE TABLE stray (id int)", "table stray"),
    "column type": (
        "ALTER TABLE goals ALTER COLUMN title TYPE varchar(300)",
        "column goals.title: type is character varying(300)",
    ),
    "column default": (
        "ALTER TABLE goals ALTER COLUMN progress SET DEFAULT 5",
        "column goals.progress: default is 5",
    ),
    "nullability": (
        "ALTER TABLE goals ALTER COLUMN description SET NOT NULL",
        "column goals.description: NOT NULL in the database",
    ),
    "column dropped": (
        "ALTER TABLE users DROP COLUMN position",
        "column users.position: in the models but missing",
    ),
    "check dropped": (
        "ALTER TABLE goals DROP CONSTRAINT ck_goals_progress_range",
        "constraint goals.ck_goals_progress_range",
    ),
    "foreign key changed": (
        "ALTER TABLE goals DROP CONSTRAINT fk_goals_user_id_users; ALTER TABLE goals ADD CONSTRAINT "
        "fk_goals_user_id_users FOREIGN KEY (user_id) REFERENCES users (id)",
        "constraint goals.fk_goals_user_id_users: database has FOREIGN KEY (user_id) REFERENCES users(id),",
    ),
    "index added": (
        "CREATE INDEX ix_tasks_title ON tasks (title)",
        "index tasks.ix_tasks_title: in the database but not",
    ),
    "partial index predicate": (
        "DROP INDEX ix_task_reminders_remind_at; CREATE INDEX ix_task_reminders_remind_at ON task_reminders (remind_at)",
        "index task_reminders.ix_task_reminders_remind_at",
    ),
    "functional index": (
        "DROP INDEX uq_users_lower_email",
        "index users.uq_users_lower_email: in the models but missing",
    ),
    "enum label": (
        "ALTER TYPE goal_status ADD VALUE 'ARCHIVED'",
        "enum goal_status: labels are ACTIVE, COMPLETED, PAUSED, CANCELLED, ARCHIVED",
    ),
    "trigger dropped": (
        "DROP TRIGGER trg_users_set_updated_at ON users",
        "trigger users.trg_users_set_updated_at",
    ),
    "function changed": (
        "CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$",
        "function set_updated_at()",
    ),
}


def test_a_fresh_deploy_is_valid(deployed: DatabaseURL, cli: Any) -> None:
    result = cli("migrate", "validate")
    assert result.code == 0, result.output
    assert "Valid: 7 revision(s)" in result.stdout


@pytest.mark.parametrize("change", HAND_CHANGES, ids=list(HAND_CHANGES))
def test_validate_names_each_kind_of_hand_change(
    change: str, deployed: DatabaseURL, conn: psycopg.Connection[Any], cli: Any
) -> None:
    sql, expected = HAND_CHANGES[change]
    conn.execute(sql)
    result = cli("--json", "migrate", "validate")
    assert result.code == 5, result.output
    findings = json.loads(result.stdout)["findings"]
    drift = [f["message"] for f in findings if f["check"] == "drift"]
    assert any(expected in message for message in drift), drift
    assert "validation found" in result.stderr


def test_status_reports_drift_against_the_recorded_fingerprint(
    deployed: DatabaseURL, conn: psycopg.Connection[Any], cli: Any
) -> None:
    assert "schema matches the fingerprint" in cli("migrate", "status").stdout
    conn.execute("CREATE INDEX ix_tasks_title ON tasks (title)")
    result = cli("migrate", "status", "--check")
    assert "DRIFT" in result.stdout
    assert result.code == 5


def test_pending_revisions_fail_validation_but_not_status(db_url: DatabaseURL, cli: Any) -> None:
    status = cli("--json", "migrate", "status")
    assert status.code == 0
    assert len(json.loads(status.stdout)["status"]["pending"]) == 7
    result = cli("migrate", "validate")
    assert result.code == 5
    assert "7 revision(s) not applied" in result.stdout


def test_status_does_not_hang_behind_a_locked_table(deployed: DatabaseURL, cli: Any) -> None:

    holder = connect_to(deployed)
    holder.autocommit = False
    holder.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
    try:
        started = time.monotonic()
        result = cli("--json", "migrate", "status")
        assert time.monotonic() - started < 15
    finally:
        holder.rollback()
        holder.close()
    assert result.code == 0, result.output
    assert json.loads(result.stdout)["status"]["drift"] == "locked"


def test_the_fingerprint_is_recorded_once_a_run_on_its_last_step(db_url: DatabaseURL, cli: Any) -> None:
    assert cli("migrate", "deploy").code == 0
    with psycopg.connect(**db_url.libpq_params()) as c:
        rows = c.execute(
            "SELECT revision, fingerprint IS NOT NULL FROM mandala_migration_runs ORDER BY id"
        ).fetchall()
    assert [with_fp for _, with_fp in rows] == [False] * 6 + [True]
    assert rows[-1][0] == History.load().head


def test_a_run_killed_before_its_fingerprint_leaves_drift_unknown_not_wrong(
    db_url: DatabaseURL, conn: psycopg.Connection[Any], cli: Any
) -> None:
    """The last fingerprint on record describes an older revision: comparing the schema with it would cry
    drift (or worse, agree) about a schema it never saw."""
    history = History.load()
    with Executor(Database(db_url), history, RunOptions()) as ex:
        ex.upgrade(history.named("add_reminder_tables").id)
        # What a runner killed after revision 6 committed, before its bookkeeping, leaves behind.
        step = ex.renderer.step(history.named("add_workflow_executions"), "upgrade")
        with conn.transaction():
            conn.execute(";\n".join(s.sql for s in step.statements).encode())
    doc = json.loads(cli("--json", "migrate", "status").stdout)["status"]
    assert doc["current"] == history.named("add_workflow_executions").id
    assert doc["drift"] == "unknown"
    assert cli("migrate", "deploy").code == 0
    assert json.loads(cli("--json", "migrate", "status").stdout)["status"]["drift"] == "none"


def test_edits_to_an_applied_revision_are_cosmetic_or_semantic(project: Path, db_url: DatabaseURL) -> None:
    edit_models(project, TASK_INDEXES, TASK_INDEXES + '        Index("ix_tasks_title", "title"),\n')
    add_revision(
        project,
        "20261201000000_title_index",
        HEAD,
        ["CREATE INDEX ix_tasks_title ON tasks (title)"],
        ["DROP INDEX ix_tasks_title"],
    )
    ok(in_project(project, db_url, "migrate", "deploy"))
    path = project / "src/mandala_db/migrations/versions/20261201000000_title_index.py"
    original = path.read_text()
    path.write_text("# a comment\n" + original.replace("ON tasks (title)", "ON  tasks  (title)"))
    cosmetic = in_project(project, db_url, "migrate", "validate")
    assert cosmetic.code == 0, cosmetic.output
    assert "its SQL is unchanged (cosmetic edit)" in cosmetic.stdout
    ok(in_project(project, db_url, "migrate", "deploy"))
    path.write_text(original.replace("ON tasks (title)", "ON tasks (lower(title))"))
    semantic = in_project(project, db_url, "migrate", "validate")
    assert semantic.code == 5 and "its SQL changed" in semantic.stdout
    prod = in_project(project, db_url, "--yes", "migrate", "prod", "--dry-run")
    assert prod.code == 5 and "SQL changed" in prod.stderr


def test_a_history_with_statements_that_refuse_a_transaction_still_validates(
    project: Path, db_url: DatabaseURL
) -> None:
    # validate replays the history in one rolled-back transaction: an index built CONCURRENTLY is built
    # plainly there, and a VACUUM skipped; the live database got them as written.
    edit_models(project, TASK_INDEXES, TASK_INDEXES + '        Index("ix_tasks_title", "title"),\n')
    add_revision(project, "20991231000000_title_index", HEAD,
                 ["DROP INDEX CONCURRENTLY IF EXISTS ix_tasks_title",
                  "CREATE INDEX CONCURRENTLY ix_tasks_title ON tasks USING btree (title)", "VACUUM tasks"],
                 ["DROP INDEX CONCURRENTLY IF EXISTS ix_tasks_title"])  # fmt: skip
    ok(in_project(project, db_url, "migrate", "deploy"))
    ok(in_project(project, db_url, "migrate", "validate"))
