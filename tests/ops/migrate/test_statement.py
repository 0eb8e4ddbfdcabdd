"""ops/migrate/statement.py: a statement as PostgreSQL's parser reads it. Lock modes compare as PostgreSQL
orders them, a name is its last part however it is qualified, the tables a query reads leave its CTEs out,
options read as PostgreSQL reads them, and Alembic's own bookkeeping is told apart."""

from __future__ import annotations

from typing import Any

from pglast import parse_sql

from mandala_db.ops.migrate.statement import (
    LOCK_ORDER,
    Statement,
    has_option,
    object_name,
    read_tables,
    strongest,
    take_lock,
)


def tree(sql: str) -> Any:
    return parse_sql(sql)[0].stmt


def test_the_strongest_lock_wins_and_a_table_keeps_its_strongest() -> None:
    assert strongest(None, "SHARE") == "SHARE"
    assert strongest("ACCESS EXCLUSIVE", "SHARE") == "ACCESS EXCLUSIVE"
    assert LOCK_ORDER[0] == "ACCESS SHARE" and LOCK_ORDER[-1] == "ACCESS EXCLUSIVE"
    st = Statement("x", "test")
    for mode in ("ROW EXCLUSIVE", "ACCESS EXCLUSIVE", "SHARE"):
        take_lock(st, "tasks", mode)
    take_lock(st, "", "SHARE")  # no table: nothing recorded
    assert st.locks == {"tasks": "ACCESS EXCLUSIVE"}
    assert st.lock_text() == "ACCESS EXCLUSIVE on tasks"
    assert Statement("x", "test").lock_text() == "no lock on existing tables"


def test_a_name_is_its_last_part() -> None:
    assert object_name(tree("SELECT * FROM app.tasks").fromClause[0]) == "tasks"
    assert object_name(tree("DROP TYPE app.task_status").objects[0]) == "task_status"
    assert object_name(None) == "" and object_name(()) == ""


def test_the_tables_a_query_reads_leave_its_ctes_out() -> None:
    sql = "WITH open AS (SELECT * FROM tasks) SELECT * FROM open JOIN actions a ON true WHERE EXISTS (SELECT 1 FROM goals)"
    assert read_tables(tree(sql)) == {"tasks", "actions", "goals"}


def test_options_read_as_postgresql_reads_them() -> None:
    assert has_option(tree("VACUUM (FULL) tasks").options, "full")
    assert not has_option(tree("VACUUM (FULL false) tasks").options, "full")
    assert not has_option(tree("VACUUM (FULL off) tasks").options, "full")
    assert has_option(tree("REINDEX (CONCURRENTLY) INDEX ix").params, "concurrently")
    assert not has_option(tree("VACUUM tasks").options, "full")


def test_alembics_version_table_is_bookkeeping_and_a_tree_is_parsed_when_asked() -> None:
    assert Statement("x", "UPDATE", locks={"alembic_version": "ROW EXCLUSIVE"}).bookkeeping
    assert not Statement(
        "x", "UPDATE", locks={"alembic_version": "ROW EXCLUSIVE", "tasks": "SHARE"}
    ).bookkeeping
    assert not Statement("x", "DO block").bookkeeping
    cached = Statement("DROP TABLE tasks", "DROP TABLE")  # read back from the render cache: no tree yet
    assert type(cached.tree()).__name__ == "DropStmt"
