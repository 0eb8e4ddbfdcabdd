"""ops/migrate/groups.py: a revision's SQL runs group by group. Statements that can share a transaction
share one; one that cannot runs alone; a rerun starts after the statements already done; an index an
earlier run finished is not built again, and an INVALID one left by a killed build is dropped first."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from mandala_db.ops.migrate.analysis import analyze
from mandala_db.ops.migrate.groups import already_built, groups, run_groups


def test_transactional_statements_share_a_group_and_the_others_stand_alone() -> None:
    sql = "CREATE TABLE a (x int); CREATE TABLE b (x int); CREATE INDEX CONCURRENTLY i ON a (x); DROP TABLE b"
    assert [[s.kind for s in g] for g in groups(analyze(sql))] == [
        ["CREATE TABLE", "CREATE TABLE"],
        ["CREATE INDEX CONCURRENTLY"],
        ["DROP TABLE"],
    ]


def test_a_rerun_starts_after_what_was_done_and_progress_is_heard_after_each_group(
    conn: psycopg.Connection[Any],
) -> None:
    statements = analyze(
        "CREATE TABLE t (x int); INSERT INTO t VALUES (1);"
        "CREATE INDEX CONCURRENTLY ix_t ON t (x); INSERT INTO t VALUES (2)"
    )
    heard: list[int] = []
    run_groups(conn, "r", statements, resume=0, progress=heard.append)
    assert heard == [2, 3, 4]
    run_groups(conn, "r", statements, resume=3, progress=heard.append)  # only the last group again
    assert conn.execute("SELECT array_agg(x ORDER BY x) FROM t").fetchone() == ([1, 2, 2],)


def test_a_failing_group_leaves_nothing_of_itself(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(psycopg.errors.UndefinedTable):
        run_groups(conn, "r", analyze("CREATE TABLE t (x int); INSERT INTO missing VALUES (1)"), resume=0)
    assert conn.execute("SELECT to_regclass('t')").fetchone() == (None,)


def test_a_valid_index_is_done_and_an_invalid_one_is_dropped_for_the_retry(
    conn: psycopg.Connection[Any],
) -> None:
    conn.execute("CREATE TABLE t (x int)")
    build = analyze("CREATE INDEX CONCURRENTLY ix_t ON t (x)")[0]
    assert not already_built(conn, build)
    conn.execute("CREATE INDEX ix_t ON t (x)")
    assert already_built(conn, build)
    conn.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'ix_t'::regclass")
    assert not already_built(conn, build)
    assert conn.execute("SELECT to_regclass('ix_t')").fetchone() == (None,)
    assert not already_built(conn, analyze("CREATE TABLE u (x int)")[0])


def test_the_version_table_is_not_created_twice(conn: psycopg.Connection[Any]) -> None:
    create = "CREATE TABLE alembic_version (version_num varchar(32) NOT NULL)"
    run_groups(conn, "r", analyze(create), resume=0)
    run_groups(conn, "r", analyze(f"{create}; CREATE TABLE after_it (x int)"), resume=0)
    assert conn.execute("SELECT to_regclass('after_it') IS NOT NULL").fetchone() == (True,)
