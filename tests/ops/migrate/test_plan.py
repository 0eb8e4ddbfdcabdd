"""ops/migrate/plan.py: what `deploy` would do, read-only: each pending revision's SQL, its locks, the size of
every table it touches, the lint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg

from conftest import in_project, run_cli
from mandala_db.core import catalog
from mandala_db.core.url import DatabaseURL
from ops.migrate.migratekit import HEAD, add_revision, deploy_with_demo, ok


def test_plan_on_a_big_table_reports_locks_size_and_lint_and_changes_nothing(
    project: Path, db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    deploy_with_demo(project, db_url)
    conn.execute(
        "INSERT INTO tasks (action_id, title, estimated_minutes) "
        "SELECT a.id, 'bulk ' || g, 30 FROM actions a, generate_series(1, 1000) g"
    )
    conn.execute("ANALYZE tasks")
    add_revision(
        project,
        "20261201000000_task_priority",
        HEAD,
        [
            "ALTER TABLE tasks ADD COLUMN priority smallint NOT NULL",
            "CREATE INDEX ix_tasks_priority ON tasks (priority)",
        ],
        ["DROP INDEX ix_tasks_priority", "ALTER TABLE tasks DROP COLUMN priority"],
    )
    before = catalog.take(conn).fingerprint
    result = ok(in_project(project, db_url, "--json", "migrate", "plan"))
    (plan,) = json.loads(result.stdout)["plan"]
    assert plan["statements"][0]["locks"] == {"tasks": "ACCESS EXCLUSIVE"}
    assert plan["statements"][1]["locks"] == {"tasks": "SHARE"}
    (tasks,) = plan["tables"]
    assert tasks["rows_estimate"] > 100_000 and tasks["size_bytes"] > 5_000_000
    rules = sorted(f["rule"] for f in plan["lint"])
    assert rules == ["non-concurrent-index", "not-null-without-default"]
    assert all(f["severity"] == "error" and f["alternative"] for f in plan["lint"])
    text = ok(in_project(project, db_url, "migrate", "plan")).stdout
    assert "ACCESS EXCLUSIVE on tasks" in text and "MB" in text and "CONCURRENTLY" in text
    assert catalog.take(conn).fingerprint == before
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (HEAD,)
    # prod refuses unwaived lint errors before touching anything.
    refused = in_project(project, db_url, "--yes", "migrate", "prod")
    assert refused.code == 3 and "lint error(s) not waived" in refused.stderr
    assert catalog.take(conn).fingerprint == before


def test_plan_shows_how_long_each_pending_revision_took_elsewhere(
    db_url: DatabaseURL, admin_url: DatabaseURL
) -> None:
    from conftest import create_database, drop_database

    staging = create_database(admin_url, f"{db_url.dbname}_staging")
    try:
        ok(run_cli("migrate", "deploy", url=staging))
        doc = json.loads(
            ok(
                run_cli("--json", "migrate", "plan", "--timings-from", staging.render(mask=False), url=db_url)
            ).stdout
        )
        timings = [p["timing"] for p in doc["plan"]]
        assert len(timings) == 7 and all(
            t["duration_ms"] > 0 and staging.dbname in t["from"] for t in timings
        )
        human = ok(
            run_cli("migrate", "plan", "--timings-from", staging.render(mask=False), url=db_url)
        ).stdout
        assert human.count("(took ") == 7
    finally:
        drop_database(admin_url, staging.dbname or "")
