"""What a revision's SQL asks of the runner: statements PostgreSQL refuses inside a transaction block run on
their own (today's `REINDEX INDEX CONCURRENTLY` no longer lints clean and then fails at deploy), a label added
to an enum can be used by the same revision, and SQL that does not parse is named by file and line before
anything runs, by plan, plan --check, validate and deploy alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg

from conftest import in_project
from mandala_db.core.url import DatabaseURL
from ops.migrate.migratekit import HEAD, add_revision, deploy_with_demo, ok


def test_statements_that_cannot_run_in_a_transaction_run_on_their_own(
    project: Path, db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    deploy_with_demo(project, db_url)
    rev = add_revision(
        project,
        "20261201000000_maintenance",
        HEAD,
        [
            "REINDEX INDEX CONCURRENTLY ix_tasks_status",
            "ALTER TYPE task_status ADD VALUE 'ARCHIVED'",
            "UPDATE tasks SET status = 'ARCHIVED' WHERE id IN (SELECT id FROM tasks ORDER BY id LIMIT 1)",
            "CREATE TABLE events (id int, at date) PARTITION BY RANGE (at)",
            "CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
            "ALTER TABLE events DETACH PARTITION events_2026 CONCURRENTLY",
            "VACUUM (ANALYZE) tasks",
        ],
        ["DROP TABLE events_2026", "DROP TABLE events"],
    )
    plan = json.loads(ok(in_project(project, db_url, "--json", "migrate", "plan", "--check")).stdout)
    (mine,) = [p for p in plan["plan"] if p["revision"] == rev]
    outside = [s["kind"] for s in mine["statements"] if not s["transactional"]]
    assert outside == ["REINDEX INDEX CONCURRENTLY", "ALTER TYPE ADD VALUE", "ALTER TABLE", "VACUUM"]
    assert mine["lint"] == []
    ok(in_project(project, db_url, "migrate", "deploy"))
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (rev,)
    assert conn.execute("SELECT count(*) FROM tasks WHERE status = 'ARCHIVED'").fetchone() == (1,)
    assert conn.execute(
        "SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass"
    ).fetchone() == (0,)


def test_sql_that_does_not_parse_is_named_by_file_and_line_before_anything_runs(
    project: Path, db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    ok(in_project(project, db_url, "migrate", "deploy"))
    good = add_revision(project, "20261201000000_good", HEAD, ["ALTER TABLE goals ADD COLUMN color text"], [])
    bad = add_revision(
        project,
        "20261202000000_bad",
        good,
        ["ALTER TABLE goals ADD COLUMN shade text", "ALTER TABLE goals ADD COLUMN ;"],
        [],
    )
    for args in (
        ["migrate", "plan"],
        ["migrate", "plan", "--check"],
        ["migrate", "validate"],
        ["migrate", "deploy"],
    ):
        result = in_project(project, db_url, *args)
        assert result.code == 2, (args, result.output)
        assert (
            f"revision {bad} ({bad}.py, line 8) does not parse: syntax error at or near" in result.stderr
        ), result.stderr
        assert "ParseError" not in result.output and "unexpected error" not in result.output
    # The good revision before it did not run either: nothing ran.
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (HEAD,)
    assert conn.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'goals' AND column_name = 'color'"
    ).fetchone() == (0,)


def test_the_plan_shows_the_locks_and_rewrites_the_lint_reads(project: Path, db_url: DatabaseURL) -> None:
    deploy_with_demo(project, db_url)
    expected = [
        # (statement, its locks, the tables it rewrites)
        ("ALTER TABLE goals ALTER COLUMN title TYPE varchar(300)", {"goals": "ACCESS EXCLUSIVE"}, []),
        ("ALTER TABLE goals ALTER COLUMN title TYPE text", {"goals": "ACCESS EXCLUSIVE"}, []),
        ("ALTER TABLE goals ALTER COLUMN progress TYPE bigint", {"goals": "ACCESS EXCLUSIVE"}, ["goals"]),
        ("ALTER TABLE tasks ADD COLUMN seq bigserial", {"tasks": "ACCESS EXCLUSIVE"}, ["tasks"]),
        (
            "ALTER TABLE tasks ADD COLUMN n int GENERATED ALWAYS AS IDENTITY",
            {"tasks": "ACCESS EXCLUSIVE"},
            ["tasks"],
        ),
        (
            "ALTER TABLE tasks ADD COLUMN g int GENERATED ALWAYS AS (estimated_minutes * 2) STORED",
            {"tasks": "ACCESS EXCLUSIVE"},
            ["tasks"],
        ),
        ("ALTER TABLE tasks ADD COLUMN d int DEFAULT 0", {"tasks": "ACCESS EXCLUSIVE"}, []),
        ("DROP INDEX ix_tasks_status", {"tasks": "ACCESS EXCLUSIVE"}, []),
        ("REINDEX INDEX ix_tasks_created_at", {"tasks": "SHARE"}, []),
        ("CLUSTER goals USING ix_goals_user_id_status", {"goals": "ACCESS EXCLUSIVE"}, ["goals"]),
        ("TRUNCATE task_notes", {"task_notes": "ACCESS EXCLUSIVE"}, []),
        ("LOCK TABLE actions IN SHARE MODE", {"actions": "SHARE"}, []),
        ("VACUUM FULL sub_goals", {"sub_goals": "ACCESS EXCLUSIVE"}, ["sub_goals"]),
    ]
    header = "".join(
        f"# mandala-db: allow {r}: a plan under test\n"
        for r in ("type-change-rewrite", "volatile-default", "drop-index", "reindex", "cluster", "truncate",
                  "lock-table", "vacuum-full")
    )  # fmt: skip
    rev = add_revision(project, "20261201000000_heavy", HEAD, [s for s, _, _ in expected], [], header=header)
    plan = json.loads(ok(in_project(project, db_url, "--json", "migrate", "plan", "--check")).stdout)
    (mine,) = [p for p in plan["plan"] if p["revision"] == rev]
    shown = [(s["sql"], s["locks"], s["rewrites"]) for s in mine["statements"]]
    assert shown == expected
