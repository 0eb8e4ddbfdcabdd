"""ops/migrate/heartbeat: while a revision runs, a progress record every interval says how long it has run,
what its statement waits on and who blocks it, so a long migration does not look hung."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from conftest import connect_to
from mandala_db.core.events import bus
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.migrate.heartbeat import Heartbeat


def test_a_blocked_statement_is_reported_with_its_blocker(
    db_url: DatabaseURL, conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    conn.execute("CREATE TABLE t (id int); SET application_name = 'the-blocker'")
    records: list[dict[str, Any]] = []
    blocked_seen = threading.Event()

    def sink(record: dict[str, Any]) -> None:
        records.append(record)
        if record["metadata"].get("blockers"):
            blocked_seen.set()

    monkeypatch.setattr(bus, "sinks", [sink])
    with connect_to(db_url) as work, connect_to(db_url) as observer:
        pid = work.info.backend_pid
        with conn.transaction():
            conn.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
            done = threading.Thread(target=lambda: work.execute("SELECT count(*) FROM t"))
            with Heartbeat(observer, pid, "20991231000000_slow", interval=0.05):
                done.start()
                assert blocked_seen.wait(30), records
        done.join(30)
    record = next(r for r in records if r["metadata"]["blockers"])
    assert (
        record["metadata"]["action"] == "migration_progress"
        and record["migrationName"] == "20991231000000_slow"
    )
    assert record["metadata"]["wait_event"] == "Lock:relation"
    assert "blocked by pid " in record["message"] and "(the-blocker, idle in transaction" in record["message"]


def test_no_interval_no_thread(conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    records: list[dict[str, Any]] = []
    monkeypatch.setattr(bus, "sinks", [records.append])
    with Heartbeat(conn, conn.info.backend_pid, "r", interval=0) as beat:
        assert not beat._thread.is_alive()
    assert records == []
