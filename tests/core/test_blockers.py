"""core/blockers: who is in the way, named: the other sessions that hold or wait for locks on the tables a
command touches (ours left out), and the retry discipline: a lock timeout recognised in either form, and a
jittered, bounded backoff."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from conftest import connect_to
from mandala_db.core.blockers import backoff, blockers, blockers_anywhere, describe, is_lock_timeout
from mandala_db.core.url import DatabaseURL


@pytest.fixture
def holder(db_url: DatabaseURL, conn: psycopg.Connection[Any]) -> Any:
    conn.execute("CREATE TABLE goals (id int); CREATE TABLE notes (id int)")
    with connect_to(db_url) as other:
        other.execute("SET application_name = 'reporting-job'")
        with other.transaction():
            other.execute("LOCK TABLE goals IN SHARE MODE")
            yield other


def test_the_session_holding_a_lock_is_named_with_what_it_holds(
    holder: Any, conn: psycopg.Connection[Any]
) -> None:
    [found] = blockers(conn, ["goals", "notes"])
    assert (found.pid, found.application_name, found.mode, found.table, found.granted) == (
        holder.info.backend_pid,
        "reporting-job",
        "ShareLock",
        "goals",
        True,
    )
    text = describe([found])
    assert (
        text.startswith(f"pid {found.pid} (reporting-job, user ")
        and "holds ShareLock on goals: LOCK TABLE goals" in text
    )
    assert blockers(conn, ["notes"]) == [] and blockers(conn, []) == []


def test_anywhere_leaves_out_our_own_sessions(holder: Any, conn: psycopg.Connection[Any]) -> None:
    assert [b.table for b in blockers_anywhere(conn)] == ["public.goals"]
    assert blockers_anywhere(conn, ours="reporting") == []


def test_nobody_left_is_said_so() -> None:
    assert describe([]) == "a session that has since finished"


def test_a_lock_timeout_is_recognised_as_an_error_or_in_psqls_words(
    holder: Any, conn: psycopg.Connection[Any]
) -> None:
    conn.execute("SET lock_timeout = '50ms'")
    with pytest.raises(psycopg.errors.LockNotAvailable) as timed_out:
        conn.execute("ALTER TABLE goals ADD COLUMN x int")
    assert is_lock_timeout(timed_out.value)
    assert is_lock_timeout("ERROR:  canceling statement due to lock timeout")
    assert not is_lock_timeout(ValueError("statement timeout"))


def test_backoff_doubles_from_half_a_second_to_ten_with_jitter() -> None:
    for attempt, base in ((1, 0.5), (2, 1.0), (3, 2.0), (6, 10.0), (20, 10.0)):
        waits = [backoff(attempt) for _ in range(50)]
        assert all(base * 0.5 <= w <= base * 1.5 for w in waits) and len(set(waits)) > 1
