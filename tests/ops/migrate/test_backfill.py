"""ops/migrate/backfill: batches by key ranges, each its own transaction with its progress, so a SIGKILL at
any batch and a rerun end with exactly the rows an uninterrupted run gives; a batch that waits for a lock
backs off (smaller, later) and gives up naming the blocker; a pause from any session stops it at the next
batch; an unhealthy database pauses it; the size follows the target duration."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from conftest import ROOT, connect_to
from mandala_db.core.errors import OperationFailed, Refused
from mandala_db.core.events import bus
from mandala_db.core.url import DatabaseURL
from mandala_db.migrations.backfill import Backfill
from mandala_db.ops.migrate.backfill import BatchPolicy, health_problem, next_size, run, set_paused, states
from servers import ReplicatedServer

ROWS = 3000
FILL = Backfill("items", set="v2 = v", where="v2 IS NULL")


@pytest.fixture
def items(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    conn.execute("CREATE TABLE items (id int PRIMARY KEY, v smallint NOT NULL, v2 integer)")
    conn.execute(
        f"INSERT INTO items SELECT g, g % 30000, NULL FROM generate_series(1, {ROWS}) g; ANALYZE items"
    )
    return conn


def unfilled(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM items WHERE v2 IS DISTINCT FROM v").fetchone()
    return int(row[0]) if row else -1


def on(
    action: str, do: Callable[[dict[str, Any]], None], monkeypatch: pytest.MonkeyPatch
) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []

    def sink(record: dict[str, Any]) -> None:
        records.append(record)
        if record["metadata"]["action"] == action:
            do(record)

    monkeypatch.setattr(bus, "sinks", [sink])
    return records


def test_every_row_is_filled_in_batches_and_the_progress_recorded(items: psycopg.Connection[Any]) -> None:
    [state] = run(items, "r1", (FILL,), BatchPolicy(size=500))
    assert unfilled(items) == 0
    assert (state.status, state.rows_done, state.keys_done, state.batches, state.last_key) == (
        "done",
        ROWS,
        ROWS,
        6,
        str(ROWS),
    )
    again = run(items, "r1", (FILL,), BatchPolicy(size=500))
    assert again[0].batches == 6  # done is done: nothing runs twice


def test_only_the_rows_the_where_names_are_touched(items: psycopg.Connection[Any]) -> None:
    items.execute("UPDATE items SET v2 = -1 WHERE id % 2 = 0")
    [state] = run(items, "r1", (FILL,), BatchPolicy(size=1000))
    assert state.rows_done == ROWS // 2 and state.keys_done == ROWS
    assert items.execute("SELECT count(*) FROM items WHERE v2 = -1").fetchone() == (ROWS // 2,)


def test_a_sigkill_at_a_batch_and_a_rerun_give_the_uninterrupted_result(
    db_url: DatabaseURL, items: psycopg.Connection[Any]
) -> None:
    script = (
        "import sys; from mandala_db.core.database import connect; from mandala_db.core.url import DatabaseURL\n"
        "from mandala_db.migrations.backfill import Backfill; from mandala_db.ops.migrate.backfill import BatchPolicy, run\n"
        "conn = connect(DatabaseURL.parse(sys.argv[1]))\n"
        "run(conn, 'r1', (Backfill('items', set='v2 = v', where='v2 IS NULL'),), BatchPolicy(size=100, delay_s=0.05))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    child = subprocess.Popen([sys.executable, "-c", script, db_url.render(mask=False)], env=env)
    deadline = time.monotonic() + 60
    while not [s for s in states(items) if s.batches >= 5]:  # the event: five batches in the ledger
        assert child.poll() is None and time.monotonic() < deadline, "the backfill ended before it was killed"
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait()
    [killed] = states(items)
    assert (
        killed.status == "running"
        and 0 < killed.keys_done < ROWS
        and unfilled(items) == ROWS - killed.rows_done
    )
    [state] = run(items, "r1", (FILL,), BatchPolicy(size=700))
    assert (
        state.status == "done" and state.rows_done == ROWS and unfilled(items) == 0
    )  # each row exactly once


def test_a_batch_waiting_on_a_lock_backs_off_and_goes_on_once_it_is_free(
    db_url: DatabaseURL, items: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with connect_to(db_url) as holder:
        holder.execute("BEGIN; SELECT * FROM items WHERE id = 10 FOR UPDATE")
        records = on("backfill_backoff", lambda _: holder.execute("COMMIT"), monkeypatch)
        [state] = run(items, "r1", (FILL,), BatchPolicy(size=400, lock_timeout="50ms"))
    backoffs = [r for r in records if r["metadata"]["action"] == "backfill_backoff"]
    assert len(backoffs) == 1 and backoffs[0]["metadata"]["batch_size"] == 200
    assert state.status == "done" and unfilled(items) == 0


def test_a_lock_that_stays_taken_fails_the_backfill_naming_the_blocker(
    db_url: DatabaseURL, items: psycopg.Connection[Any]
) -> None:
    with connect_to(db_url) as holder:
        holder.execute(
            "SET application_name = 'long-report'; BEGIN; SELECT * FROM items WHERE id = 10 FOR UPDATE"
        )
        with pytest.raises(
            OperationFailed, match="could not get its locks in 3 batches in a row: blocked by pid"
        ):
            run(items, "r1", (FILL,), BatchPolicy(size=400, lock_timeout="20ms", give_up_after=3))
        [failed] = states(items)
        assert failed.status == "failed" and "long-report" in (failed.error or "")
    [state] = run(
        items, "r1", (FILL,), BatchPolicy(size=400)
    )  # the next run goes on after the last batch done
    assert state.status == "done" and unfilled(items) == 0


def test_a_pause_from_another_session_stops_it_at_the_next_batch_and_resume_lets_it_go_on(
    db_url: DatabaseURL, items: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with connect_to(db_url) as other:
        on("backfill_progress", lambda _: set_paused(other, True), monkeypatch)
        with pytest.raises(Refused, match=r"r1 backfill 1 paused at key \d+"):
            run(items, "r1", (FILL,), BatchPolicy(size=300, report_every_s=0))
        [paused] = states(items)
        assert paused.status == "paused" and 0 < paused.rows_done < ROWS
        with pytest.raises(Refused, match="is paused"):
            run(items, "r1", (FILL,), BatchPolicy(size=300))
        set_paused(other, False)
    monkeypatch.setattr(bus, "sinks", [])
    [state] = run(items, "r1", (FILL,), BatchPolicy(size=300))
    assert state.status == "done" and state.rows_done == ROWS and unfilled(items) == 0


def test_an_unhealthy_database_pauses_it_with_one_line(
    db_url: DatabaseURL, items: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with connect_to(db_url) as other:
        records = on("backfill_unhealthy", lambda _: set_paused(other, True), monkeypatch)
        with pytest.raises(Refused, match="was paused while it waited"):
            run(items, "r1", (FILL,), BatchPolicy(size=300, connection_share=0.0))
    [line] = [r for r in records if r["metadata"]["action"] == "backfill_unhealthy"]
    assert "connections in use" in line["message"] and unfilled(items) == ROWS


def test_a_replica_further_behind_than_max_lag_pauses_it_until_the_replica_catches_up(
    replicated_server: ReplicatedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = BatchPolicy(size=300, max_lag_s=0.5)
    with connect_to(replicated_server.primary) as conn, connect_to(replicated_server.replica) as standby:
        conn.execute("CREATE TABLE items (id int PRIMARY KEY, v smallint NOT NULL, v2 integer)")
        conn.execute(f"INSERT INTO items SELECT g, g % 30000, NULL FROM generate_series(1, {ROWS}) g")
        standby.execute("SELECT pg_wal_replay_pause()")
        # WAL the replica receives but does not replay, until the primary says it is behind (an event).
        deadline = time.monotonic() + 120  # a guard against hanging, not the aim
        while health_problem(conn, policy) is None:
            assert time.monotonic() < deadline, "the primary never saw the paused replica fall behind"
            conn.execute("UPDATE items SET v = v WHERE id = 1")
            time.sleep(0.05)
        records = on(
            "backfill_unhealthy", lambda _: standby.execute("SELECT pg_wal_replay_resume()"), monkeypatch
        )
        [state] = run(conn, "r1", (FILL,), policy)
        assert state.status == "done" and unfilled(conn) == 0
    [line] = [r for r in records if r["metadata"]["action"] == "backfill_unhealthy"]
    assert "a replica is" in line["message"] and "s behind (--max-lag 0.5 s)" in line["message"]
    assert [r for r in records if r["metadata"]["action"] == "backfill_healthy"]


def test_a_writer_that_waited_on_a_batch_makes_the_next_batches_shorter(
    db_url: DatabaseURL, items: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The batch's SET holds at row 50 until a session is blocked by it: the writer, updating row 1 in a
    # loop, runs into the batch's row lock (an event, not a clock).
    items.execute("""CREATE FUNCTION hold(x int, k int) RETURNS int LANGUAGE plpgsql AS $$
        BEGIN
            IF k = 50 THEN
                FOR i IN 1..1000 LOOP
                    EXIT WHEN EXISTS (SELECT 1 FROM pg_stat_activity
                                      WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid)));
                    PERFORM pg_sleep(0.01);
                END LOOP;
            END IF;
            RETURN x;
        END $$""")
    stop = threading.Event()

    def write() -> None:
        with connect_to(db_url) as writer:
            while not stop.is_set():
                writer.execute("UPDATE items SET v = v WHERE id = 1")
                time.sleep(0.001)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        records = on("backfill_writers_waited", lambda _: None, monkeypatch)
        fill = Backfill("items", set="v2 = hold(v, id)", where="v2 IS NULL")
        [state] = run(items, "r1", (fill,), BatchPolicy(first_size=100, target_ms=100_000, felt_ms=1))
    finally:
        stop.set()
        thread.join()
    [felt] = [r for r in records if r["metadata"]["action"] == "backfill_writers_waited"]
    assert felt["metadata"]["batch_size"] == 100 and "sized to 1 ms" in felt["message"]
    assert state.status == "done" and unfilled(items) == 0
    assert state.batch_size == 10  # halved batch after batch toward 1 ms, down to the smallest size


def test_the_size_follows_the_target_duration_within_bounds() -> None:
    policy = BatchPolicy(target_ms=200, min_size=10, max_size=5000)
    assert next_size(1000, 400, policy) == 500 and next_size(1000, 100, policy) == 2000
    assert next_size(1000, 5, policy) == 2000 and next_size(1000, 10_000, policy) == 500  # at most x2, /2
    assert next_size(4000, 1, policy) == 5000 and next_size(12, 10_000, policy) == 10
    assert next_size(1000, 1, BatchPolicy(size=250)) == 250
    assert next_size(1000, 100, policy, felt=True) == 500  # writers waited: the 50 ms target instead


def test_a_key_that_is_not_there_is_named(items: psycopg.Connection[Any]) -> None:
    with pytest.raises(OperationFailed, match=r"items\.uid does not exist"):
        run(items, "r1", (Backfill("items", set="v2 = v", key="uid"),), BatchPolicy())
