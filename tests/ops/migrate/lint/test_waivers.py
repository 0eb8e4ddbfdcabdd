"""ops/migrate/lint/waivers.py: a rule is waived by a comment that names it with a reason; without the reason
the waiver is itself an error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg

from conftest import in_project
from mandala_db.core.url import DatabaseURL
from ops.migrate.migratekit import HEAD, add_revision, deploy_with_demo, ok


def test_lint_waiver_needs_a_reason_and_silences_the_rule(
    project: Path, db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    deploy_with_demo(project, db_url)
    conn.execute("ANALYZE")
    add_revision(
        project,
        "20261201000000_title_index",
        HEAD,
        ["CREATE INDEX ix_tasks_title ON tasks (title)"],
        ["DROP INDEX ix_tasks_title"],
        header="# mandala-db: allow non-concurrent-index: 128 rows, built in milliseconds\n",
    )
    (plan,) = json.loads(ok(in_project(project, db_url, "--json", "migrate", "plan")).stdout)["plan"]
    assert plan["lint"][0]["waived"] == "128 rows, built in milliseconds"
    assert ok(in_project(project, db_url, "--yes", "migrate", "prod", "--backup-dir", str(project / "b")))
