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
from mandala_db.core.config import DatabaseURL
from test_executor import HEAD, add_revision, deploy_with_demo, ok


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
