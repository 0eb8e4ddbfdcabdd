"""cli/migrate: the migrate commands as a user meets them: rollback refuses without --yes off a terminal and
never in production for a reset, names a destructive step before anything runs, keeps the data and
reports JSON; a failing downgrade is rolled back and recorded; status has its views."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from cli.clikit import fingerprint, one_error_line
from mandala_db.core.url import DatabaseURL


def test_unknown_revision_is_bad_input(deployed: DatabaseURL, cli: Any) -> None:
    result = cli("--yes", "migrate", "rollback", "to", "20990101")
    assert result.code == 2
    assert "unknown revision '20990101'" in one_error_line(result)


def test_rollback_reset_is_refused_in_production_and_changes_nothing(deployed: DatabaseURL, cli: Any) -> None:
    before = fingerprint(deployed)
    result = cli("--env", "production", "--yes", "migrate", "rollback", "reset")
    assert result.code == 3
    assert "never allowed in production" in one_error_line(result)
    assert fingerprint(deployed) == before


def test_rollback_without_yes_in_a_pipe_is_refused_not_hung(deployed: DatabaseURL, cli: Any) -> None:
    before = fingerprint(deployed)
    result = cli("migrate", "rollback", "to", "init", timeout=30)
    assert result.code == 3
    line = one_error_line(result)
    assert "refused without confirmation in a non-interactive shell" in line and "--yes" in line
    assert "DESTRUCTIVE" in line  # the reflections split is named before anything runs
    assert fingerprint(deployed) == before


def test_rollback_to_keeps_data_and_reports_json(
    deployed: DatabaseURL, conn: psycopg.Connection[Any], cli: Any
) -> None:
    conn.execute("INSERT INTO users (email, name) VALUES ('kept@example.com', 'Kept')")
    result = cli("--json", "--yes", "migrate", "rollback", "to", "20250212")
    assert result.code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["current"] == "20250212000000_task_management"
    assert [s["direction"] for s in doc["steps"]] == ["downgrade"] * 3
    assert conn.execute("SELECT name FROM users").fetchall() == [("Kept",)]
    assert cli("migrate", "deploy").code == 0


def test_reset_asks_and_then_rebuilds(deployed: DatabaseURL, conn: psycopg.Connection[Any], cli: Any) -> None:
    conn.execute("INSERT INTO users (email, name) VALUES ('gone@example.com', 'Gone')")
    assert cli("migrate", "rollback", "reset").code == 3
    result = cli("--yes", "migrate", "rollback", "reset")
    assert result.code == 0, result.output
    assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)
    assert cli("migrate", "validate").code == 0


def test_status_views(deployed: DatabaseURL, cli: Any) -> None:
    doc = json.loads(cli("--json", "migrate", "status", "all").stdout)
    assert doc["status"]["up_to_date"] and doc["status"]["drift"] == "none"
    assert len(doc["schema"]["tables"]) == 18
    assert [h["status"] for h in doc["history"]] == ["succeeded"] * 7
    assert doc["connection"]["server_version"]
    assert "Connected to" in cli("migrate", "status", "test").stdout
    assert cli("migrate", "status", "sideways").code == 2


def test_a_failing_revision_is_rolled_back_and_recorded(
    deployed: DatabaseURL, conn: psycopg.Connection[Any], cli: Any
) -> None:
    conn.execute("DROP TABLE workflow_executions")  # revision 6's downgrade now has nothing to park
    before = fingerprint(deployed)
    result = cli("--yes", "migrate", "rollback", "to", "add_reminder_tables")
    assert result.code == 1
    line = one_error_line(result)
    assert "failed and was rolled back" in line and "workflow_executions" in line
    # Revision 7 went back; revision 6 failed and left everything as it was before it started.
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (
        "20250320000000_add_workflow_executions",
    )
    assert fingerprint(deployed) != before  # revision 7 did go back
    status = json.loads(cli("--json", "migrate", "status").stdout)["status"]
    assert status["last_failure"]["status"] == "failed"
