"""core/ledger.py: the run ledger on a real database. One row per attempt; what a runner that died left
'running' is settled from the schema; a rerun resumes after the statements a failed attempt committed,
only for the same SQL; the checksums held against the files are those of the latest success; an older
ledger gains its new columns in place and reads as NULL until then."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from mandala_db.core import ledger
from mandala_db.core.ledger import TABLE, RunLedger


@pytest.fixture
def book(conn: psycopg.Connection[Any]) -> Iterator[RunLedger]:
    runs = RunLedger(conn, run_id="run-1", environment="test")
    runs.ensure()
    yield runs


def statuses(conn: psycopg.Connection[Any]) -> list[tuple[str, str, str]]:
    return conn.execute(f"SELECT revision, direction, status FROM {TABLE} ORDER BY id").fetchall()


def test_an_attempt_is_one_row_from_start_to_finish(book: RunLedger, conn: psycopg.Connection[Any]) -> None:
    row = book.start("r1", "upgrade", "file-sum", "sql-sum", statements_total=3, tables=["goals"])
    assert statuses(conn) == [("r1", "upgrade", "running")]
    book.finish(row, "succeeded", fingerprint="fp-1")
    (only,) = ledger.history(conn)
    assert (only.status, only.fingerprint, only.tables, only.statements_total) == (
        "succeeded",
        "fp-1",
        ["goals"],
        3,
    )
    assert only.duration_ms is not None and only.duration_ms >= 0 and only.finished_at is not None
    assert only.run_id == "run-1" and only.environment == "test" and only.db_user


def test_rows_a_dead_runner_left_running_are_settled_by_what_the_schema_says(
    book: RunLedger, conn: psycopg.Connection[Any]
) -> None:
    book.start("committed", "upgrade", None, None)
    book.start("cut-short", "upgrade", None, None)
    settled = book.interrupt_stale(lambda revision, direction: revision == "committed")
    assert settled == [("committed", "succeeded"), ("cut-short", "interrupted")]
    assert statuses(conn) == [("committed", "upgrade", "succeeded"), ("cut-short", "upgrade", "interrupted")]
    assert book.interrupt_stale(lambda *_: True) == []  # nothing is left running


def test_a_rerun_resumes_only_after_a_failed_attempt_of_the_same_sql(book: RunLedger) -> None:
    row = book.start("r1", "upgrade", None, "sql-A", statements_total=5)
    book.progress(row, 3)
    book.finish(row, "failed", error="boom")
    assert book.resume_point("r1", "upgrade", "sql-A") == 3
    assert book.resume_point("r1", "upgrade", "sql-B") == 0  # the SQL changed: start over
    assert book.resume_point("r1", "downgrade", "sql-A") == 0
    done = book.start("r1", "upgrade", None, "sql-A", statements_done=3)
    book.finish(done, "succeeded")
    assert book.resume_point("r1", "upgrade", "sql-A") == 0  # the last attempt succeeded


def test_the_checksums_held_to_the_files_are_the_latest_successes(
    book: RunLedger, conn: psycopg.Connection[Any]
) -> None:
    for status, file_sum in (("succeeded", "old"), ("failed", "broken"), ("succeeded", "new")):
        book.finish(book.start("r1", "upgrade", file_sum, None), status)
    book.record("r2", "upgrade", "resolved", "applied by hand", fingerprint="fp-2")
    latest = ledger.last_success(conn)
    assert latest["r1"].file_checksum == "new" and latest["r2"].status == "resolved"
    assert ledger.recorded_fingerprint(conn) == ("r2", "fp-2")


def test_a_downgrade_marks_the_upgrade_it_undid_and_the_fingerprint_is_below_it(
    book: RunLedger, conn: psycopg.Connection[Any]
) -> None:
    book.finish(book.start("r1", "upgrade", None, None), "succeeded", fingerprint="at-r1")
    book.finish(book.start("r1", "downgrade", None, None), "succeeded", fingerprint="below-r1")
    book.mark_rolled_back("r1")
    assert statuses(conn) == [("r1", "upgrade", "rolled_back"), ("r1", "downgrade", "succeeded")]
    assert "r1" not in ledger.last_success(conn)
    assert ledger.recorded_fingerprint(conn) == ("below r1", "below-r1")


def test_no_ledger_reads_as_empty_and_an_old_one_gains_its_columns_in_place(
    conn: psycopg.Connection[Any],
) -> None:
    assert (
        ledger.history(conn) == []
        and ledger.last_success(conn) == {}
        and ledger.recorded_fingerprint(conn) is None
    )
    old = RunLedger(conn, run_id="old", environment="test")
    conn.execute(ledger.DDL)
    for column in ("statements_done", "statements_total", "tables"):
        conn.execute(f"ALTER TABLE {TABLE} DROP COLUMN {column}")
    conn.execute(
        f"INSERT INTO {TABLE} (run_id, revision, direction, status, tool_version, environment)"
        " VALUES ('old', 'r0', 'upgrade', 'succeeded', '0.0.1', 'test')"
    )
    (before,) = ledger.history(conn)  # read as it is, the missing columns as NULL
    assert before.revision == "r0" and before.statements_done is None and before.tables is None
    old.ensure()
    (after,) = ledger.history(conn)
    assert after.statements_done == 0 and after.tables is None
