"""ops/seed/loader: a data set goes in with COPY in one transaction; a second load merges (only the rows
that are missing); the registry keeps the largest scale; a removal takes exactly the set's own rows."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from mandala_db.core.errors import OperationFailed
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.seed.loader import load, present, recorded_scale, remove
from mandala_db.ops.seed.rows import Collector, DataSet


def small(name: str = "sample", goals: int = 3) -> DataSet:
    c = Collector(name)
    user = c.add("users", "u", email=f"{name}@example.jp", name="Sample")
    for i in range(goals):
        c.add("goals", f"g{i}", user_id=user, title=f"Goal {i}", deadline="2027-01-01")
    return c.build()


def count(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def test_a_first_load_copies_every_row_and_reports_progress_per_table(
    deployed: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    sent: list[tuple[str, int]] = []
    result = load(conn, small(), 1.0, progress=lambda table, n: sent.append((table, n)))
    assert result.mode == "copy" and result.rows == {"users": 1, "goals": 3} and result.total == 4
    assert sent == [("users", 1), ("goals", 3)]
    assert recorded_scale(conn, "sample") == 1.0 and present(conn, small()) == 4


def test_a_second_load_merges_only_what_is_missing_and_says_so(
    deployed: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    load(conn, small(), 1.0)
    conn.execute("DELETE FROM goals WHERE title = 'Goal 1'")
    merges: list[bool] = []
    result = load(conn, small(), 0.5, on_merge=lambda: merges.append(True))
    assert merges == [True] and result.mode == "merge"
    assert result.rows == {"users": 0, "goals": 1}
    assert count(conn, "goals") == 3
    assert recorded_scale(conn, "sample") == 1.0  # the larger of the two scales loaded


def test_removal_takes_only_the_sets_rows_children_first(
    deployed: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    load(conn, small("mine"), 1.0)
    load(conn, small("theirs", goals=2), 1.0)
    result = remove(conn, small("mine"), 1.0)
    assert result.mode == "remove" and result.rows == {"goals": 3, "users": 1}
    assert count(conn, "goals") == 2 and count(conn, "users") == 1
    assert recorded_scale(conn, "mine") is None and recorded_scale(conn, "theirs") == 1.0


def test_a_failed_load_keeps_nothing_and_names_the_servers_reason(
    deployed: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    c = Collector("broken")
    user = c.add("users", "u", email="b@example.jp", name="B")
    c.add("goals", "g", user_id=user, title="x" * 1000, deadline="2027-01-01")  # longer than the column
    with pytest.raises(
        OperationFailed, match="loading data set broken failed and nothing was kept: value too long"
    ):
        load(conn, c.build(), 1.0)
    assert count(conn, "users") == 0
    assert recorded_scale(conn, "broken") is None
