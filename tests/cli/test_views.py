"""cli/views: what the migrate and backup commands print, read as a user reads them: the run step by step
and where the database is now, the status with its drift in words, the schema and the attempts as tables
whose ids are never cut, the applied revisions with their destructive downgrades flagged."""

from __future__ import annotations

import io
from typing import Any

import psycopg

from mandala_db.cli.output import PlainScreen
from mandala_db.cli.views import print_applied, print_history, print_report, print_run, print_status, run_dict
from mandala_db.core import ledger
from mandala_db.core.database import Database
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.migrate.executor import Executor, RunOptions
from mandala_db.ops.migrate.loader import History
from mandala_db.ops.migrate.rollback import applied
from mandala_db.ops.migrate.status import report, status

HISTORY = History.load()


def text(draw: Any, *args: Any) -> list[str]:
    stream = io.StringIO()
    draw(PlainScreen(stream), *args)
    return stream.getvalue().splitlines()


def test_a_run_says_each_step_and_where_the_database_is_now(db_url: DatabaseURL) -> None:
    with Executor(Database(db_url), HISTORY, RunOptions()) as ex:
        result = ex.upgrade()
        nothing = ex.upgrade()
    lines = text(print_run, result, "apply")
    assert lines[0].startswith("  upgrade   20241217000000_init  (") and lines[0].endswith(" ms)")
    assert lines[-1] == f"7 revision(s) done; the database is now at {HISTORY.head}."
    assert text(print_run, nothing, "apply") == [f"Nothing to apply: the database is at {HISTORY.head}."]
    assert run_dict(result)["current"] == HISTORY.head and len(run_dict(result)["steps"]) == 7


def test_the_status_says_pending_work_and_drift_in_words(conn: psycopg.Connection[Any]) -> None:
    lines = text(print_status, status(conn, HISTORY))
    assert lines[:3] == [
        "Current revision: base (empty)",
        f"Head revision:    {HISTORY.head}",
        "7 pending revision(s):",
    ]
    assert lines[-1] == "Drift: no fingerprint recorded for this revision to compare with"


def test_a_drifted_schema_sends_the_reader_to_validate(
    deployed: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    conn.execute("ALTER TABLE goals ADD COLUMN by_hand int")
    lines = text(print_status, status(conn, HISTORY))
    assert "The database is up to date." in lines
    assert lines[-1].startswith("Drift: DRIFT: the schema differs") and lines[-1].endswith(
        "(run `migrate validate`)"
    )


def test_all_sections_with_tables_whose_ids_are_whole(deployed: DatabaseURL) -> None:
    lines = text(print_report, report(Database(deployed), "all"))
    assert lines[0].startswith("Connected to ") and any(
        ln.startswith("Schema public (fingerprint ") for ln in lines
    )
    assert any(ln.startswith("Enums: ") and "task_status (NOT_STARTED" in ln for ln in lines)
    assert any(ln.split()[:1] == ["user_reminder_preferences"] for ln in lines)
    attempts = [ln for ln in lines if ln[:2] == "20" and " upgrade " in ln]
    assert len(attempts) == 7 and "20250409000000_split_reflections" in attempts[0]  # newest first, whole


def test_the_history_and_the_applied_revisions(deployed: DatabaseURL, conn: psycopg.Connection[Any]) -> None:
    assert text(print_history, []) == ["No migration attempts recorded yet."]
    rows = text(print_history, ledger.history(conn))
    assert rows[0] == "Migration attempts (newest first)" and rows[1].split()[:3] == [
        "started",
        "revision",
        "direction",
    ]
    entries = text(print_applied, applied(Database(deployed), HISTORY))
    assert entries[0] == (
        "  20250409000000_split_reflections  Split reflections  [destructive: drops the goal-level reflections "
        "table and every row in it]"
    ) or (entries[0].startswith("  20250409000000_split_reflections ") and "[destructive: " in entries[0])
    assert text(print_applied, []) == ["No revisions are applied."]
