"""Claims the README makes about the engine, each held by a test that fails when the claim is false:
ledger bookkeeping of downgrades and of a runner killed after its commit, per-revision statement timeouts,
a concurrently built index recognised as done, `migrate prod`'s guards, and archived rows in `status`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg

from conftest import connect_to, in_project, run_cli
from mandala_db.core import catalog
from mandala_db.core.lock import lock_key
from mandala_db.core.url import DatabaseURL
from ops.migrate.migratekit import HEAD, add_revision, deploy_with_demo, ledger, ok


def test_a_downgrade_marks_the_upgrade_it_undid_rolled_back(
    db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    ok(run_cli("migrate", "deploy", url=db_url))
    ok(run_cli("--yes", "migrate", "rollback", "to", "20250320000000_add_workflow_executions", url=db_url))
    rows = ledger(conn)
    assert ("20250409000000_split_reflections", "upgrade", "rolled_back") in rows
    assert ("20250409000000_split_reflections", "downgrade", "succeeded") in rows
    assert ("20250320000000_add_workflow_executions", "upgrade", "succeeded") in rows  # untouched


def test_a_runner_killed_between_its_commit_and_its_bookkeeping_is_recorded_succeeded(
    db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    """The moment a random kill rarely hits, made exact: the head is committed, its ledger row still says
    running. The next run reads the truth from alembic_version."""
    ok(run_cli("migrate", "deploy", url=db_url))
    conn.execute(
        "UPDATE mandala_migration_runs SET status = 'running', finished_at = NULL "
        "WHERE id = (SELECT max(id) FROM mandala_migration_runs)"
    )
    ok(run_cli("migrate", "deploy", url=db_url))
    assert ledger(conn)[-1] == (HEAD, "upgrade", "succeeded")
    # And the other side: a row left running for a revision that never committed is interrupted.
    ok(run_cli("--yes", "migrate", "rollback", "to", "20250320000000_add_workflow_executions", url=db_url))
    conn.execute(
        "INSERT INTO mandala_migration_runs (run_id, revision, direction, status, started_at, tool_version, "
        "environment) SELECT run_id, %s, 'upgrade', 'running', now(), tool_version, environment "
        "FROM mandala_migration_runs ORDER BY id DESC LIMIT 1",
        (HEAD,),
    )
    ok(run_cli("migrate", "deploy", url=db_url))
    assert [s for r, d, s in ledger(conn)[-2:]] == ["interrupted", "succeeded"]


def test_a_revisions_statement_timeout_applies_unless_the_command_line_overrides_it(
    project: Path, db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    ok(in_project(project, db_url, "migrate", "deploy"))
    rev = add_revision(
        project,
        "20261201000000_slow",
        HEAD,
        ["SELECT pg_sleep(1)"],
        ["SELECT 1"],
        header='statement_timeout = "200ms"\n',
    )
    own = in_project(project, db_url, "migrate", "deploy")
    assert own.code == 1 and "statement timeout" in own.stderr
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (HEAD,)
    ok(in_project(project, db_url, "migrate", "deploy", "--statement-timeout", "5s"))
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (rev,)


def test_an_index_already_built_concurrently_is_recognised_as_done(
    project: Path, db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    deploy_with_demo(project, db_url)
    rev = add_revision(
        project,
        "20261201000000_title_index",
        HEAD,
        ["CREATE INDEX CONCURRENTLY ix_tasks_title ON tasks (title)"],
        ["DROP INDEX CONCURRENTLY ix_tasks_title"],
    )
    conn.execute("CREATE INDEX ix_tasks_title ON tasks (title)")  # someone built it ahead of the deploy
    result = ok(in_project(project, db_url, "--log-format", "json", "migrate", "deploy"))
    actions = [
        json.loads(line)["metadata"]["action"] for line in result.stderr.splitlines() if line.startswith("{")
    ]
    assert "statement_skipped" in actions
    assert [s for r, _, s in ledger(conn) if r == rev] == ["succeeded"]
    assert conn.execute(
        "SELECT count(*) FROM pg_index WHERE indexrelid = 'ix_tasks_title'::regclass AND indisvalid"
    ).fetchone() == (1,)


def test_prod_refuses_drift_with_exit_5_and_changes_nothing(
    db_url: DatabaseURL, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    ok(run_cli("migrate", "deploy", url=db_url))
    ok(run_cli("--yes", "migrate", "rollback", "to", "20250320000000_add_workflow_executions", url=db_url))
    conn.execute("CREATE INDEX by_hand ON goals (title)")  # a change nobody recorded
    before = (catalog.take(conn).fingerprint, ledger(conn))
    refused = run_cli(
        "--env", "production", "--yes", "migrate", "prod", "--backup-dir", str(tmp_path), url=db_url
    )
    assert refused.code == 5 and "by_hand" in refused.stderr
    assert (catalog.take(conn).fingerprint, ledger(conn)) == before
    assert not list(tmp_path.rglob("*.dump"))  # refused before the backup


def test_prod_says_who_holds_the_lock_with_exit_4(
    db_url: DatabaseURL, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    ok(run_cli("migrate", "deploy", url=db_url))
    ok(run_cli("--yes", "migrate", "rollback", "to", "20250320000000_add_workflow_executions", url=db_url))
    holder = connect_to(db_url)
    holder.execute("SET application_name = 'another-deploy'")
    holder.execute("SELECT pg_advisory_lock(%s)", (lock_key(db_url.dbname or "", "public"),))
    try:
        dry = run_cli("--env", "production", "migrate", "prod", "--dry-run", url=db_url)
        real = run_cli(
            "--env",
            "production",
            "--yes",
            "migrate",
            "prod",
            "--lock-wait",
            "0.5",
            "--backup-dir",
            str(tmp_path),
            url=db_url,
        )
    finally:
        holder.close()
    for result in (dry, real):
        assert result.code == 4 and "another-deploy" in result.stderr, result.output
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (
        "20250320000000_add_workflow_executions",
    )


def test_prod_post_check_failure_is_exit_5_naming_the_backup(
    project: Path, db_url: DatabaseURL, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    """A revision that does something else on the live data than on the empty scratch build the
    post-check compares with: deployed, then reported, with the backup to go back to."""
    deploy_with_demo(project, db_url)
    add_revision(
        project,
        "20261201000000_data_dependent",
        HEAD,
        [
            "DO $$ BEGIN IF EXISTS (SELECT 1 FROM users) THEN CREATE INDEX ix_only_when_rows ON users (name); END IF; END $$"
        ],
        ["DROP INDEX IF EXISTS ix_only_when_rows"],
    )
    result = in_project(
        project, db_url, "--env", "production", "--yes", "migrate", "prod", "--backup-dir", str(tmp_path)
    )
    assert result.code == 5, result.output
    (backup,) = list((tmp_path / "full").glob("pre_migration_backup_*.dump"))
    assert "post-checks failed" in result.stderr and str(backup) in result.stderr


def test_status_lists_rows_archived_by_a_downgrade_until_the_upgrade_restores_them(
    db_url: DatabaseURL,
) -> None:
    ok(run_cli("migrate", "deploy", url=db_url))
    ok(run_cli("seed", "development", url=db_url))
    ok(run_cli("--yes", "migrate", "rollback", "to", "20250122000000_add_processing_state", url=db_url))
    status = json.loads(ok(run_cli("--json", "migrate", "status", url=db_url)).stdout)["status"]
    assert status["archived_tables"], status
    text = ok(run_cli("migrate", "status", url=db_url)).stdout
    assert "Rows kept from downgrades" in text
    ok(run_cli("migrate", "deploy", url=db_url))
    after = json.loads(ok(run_cli("--json", "migrate", "status", url=db_url)).stdout)["status"]
    assert after["archived_tables"] == []
