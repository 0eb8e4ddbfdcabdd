"""ops/migrate/status: read-only views against the history. Pending revisions and drift from the recorded
fingerprint are told apart from "nothing recorded"; a downgrade's fingerprint describes the revision below;
`--check` fails on pending work or drift; each view reads only its sections; nothing is written."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from conftest import SENTINEL_PASSWORD, assert_no_secret
from mandala_db.core.database import Database
from mandala_db.core.errors import BadInput, CheckFailed
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.migrate.executor import Executor, RunOptions
from mandala_db.ops.migrate.loader import History
from mandala_db.ops.migrate.status import Report, _state_after, report, status

HISTORY = History.load()
HEAD = HISTORY.head
TASKS = HISTORY.resolve("task_management")


def test_an_empty_database_has_every_revision_pending_and_nothing_to_compare(
    conn: psycopg.Connection[Any],
) -> None:
    found = status(conn, HISTORY)
    assert found.current is None and len(found.pending) == len(HISTORY.revisions)
    assert found.drift == "unknown" and found.last_failure is None
    assert isinstance(Report(status=found).check_failure(), CheckFailed)


def test_a_deployed_database_is_up_to_date_until_someone_changes_its_schema(
    deployed: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    found = status(conn, HISTORY)
    assert (found.current, found.pending, found.drift, found.recorded_at) == (HEAD, [], "none", HEAD)
    assert Report(status=found).check_failure() is None
    conn.execute("ALTER TABLE tasks ADD COLUMN by_hand text")
    drifted = status(conn, HISTORY)
    assert drifted.drift == "drift"
    failure = Report(status=drifted).check_failure()
    assert failure is not None and str(failure).startswith("0 pending revision(s), drift: drift")


def test_after_a_rollback_the_fingerprint_describes_the_revision_below(
    deployed: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    with Executor(Database(deployed), HISTORY, RunOptions()) as ex:
        ex.downgrade(TASKS)
    found = status(conn, HISTORY)
    assert found.current == TASKS and found.drift == "none" and found.recorded_at.startswith("below ")  # type: ignore[union-attr]
    assert [r.id for r in found.pending] == [r.id for r in HISTORY.after(TASKS)]


def test_a_fingerprint_recorded_below_the_first_revision_describes_no_revision() -> None:
    init, second = HISTORY.resolve("init"), HISTORY.resolve("add_progress_and_change_history")
    assert _state_after(HISTORY, f"below {second}") == init
    assert _state_after(HISTORY, f"below {init}") is None
    assert _state_after(HISTORY, "below 19990101000000_unknown") is None


def test_each_view_reads_only_its_sections_and_the_url_is_masked(deployed: DatabaseURL) -> None:
    only_schema = report(Database(deployed), "schema")
    assert only_schema.status is None and only_schema.connection is None and only_schema.history is None
    assert {t["name"] for t in only_schema.schema["tables"]} >= {"users", "goals", "tasks"}  # type: ignore[index]
    # The servers trust the suite's connections: the password is carried, never shown.
    everything = report(Database(deployed.with_password(SENTINEL_PASSWORD)), "all").to_dict()
    assert set(everything) == {"ok", "connection", "status", "schema", "history"}
    assert everything["connection"]["round_trip_ms"] >= 0 and everything["history"]
    assert "****" in everything["connection"]["url"]
    assert_no_secret(str(everything), SENTINEL_PASSWORD)
    with pytest.raises(BadInput, match="unknown status view 'everything'"):
        report(Database(deployed), "everything")
