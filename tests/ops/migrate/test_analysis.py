"""ops/migrate/analysis.py: a script read statement by statement. Each keeps its text and where it starts,
transaction control is dropped, a syntax error says where it is, the tables touched follow renames in
order, and one statement that cannot run in a transaction makes the revision need autocommit."""

from __future__ import annotations

import pytest

from mandala_db.ops.migrate.analysis import SqlSyntaxError, analyze, needs_autocommit, touched_tables


def test_each_statement_keeps_its_text_and_where_it_starts_and_transaction_control_is_dropped() -> None:
    sql = "BEGIN;\n  CREATE TABLE t (a int);\n-- ナンバー\nALTER TABLE t ADD COLUMN b int; COMMIT;"
    found = analyze(sql)
    assert [s.kind for s in found] == ["CREATE TABLE", "ALTER TABLE"]
    assert [s.sql for s in found] == ["CREATE TABLE t (a int)", "ALTER TABLE t ADD COLUMN b int"]
    assert [sql[s.offset :].startswith(s.sql) for s in found] == [True, True]  # characters, not bytes


def test_a_syntax_error_says_where_it_is() -> None:
    sql = "SELECT 1;\nCREATE TABLE ナ (a int,);"
    with pytest.raises(SqlSyntaxError) as caught:
        analyze(sql)
    assert "syntax error" in caught.value.message
    assert caught.value.offset is not None and sql[caught.value.offset] == ")"


def test_the_tables_touched_follow_renames_in_order() -> None:
    statements = analyze(
        "ALTER TABLE reflections RENAME TO task_reflections;"
        "ALTER TABLE task_reflections ADD COLUMN x int;"
        "CREATE TABLE reflections (id int);"
        "CREATE INDEX ix ON reflections (id);"
        "UPDATE alembic_version SET version_num = 'x'"
    )
    assert touched_tables(statements, frozenset({"alembic_version"})) == (["reflections"], [])
    assert touched_tables(analyze("CREATE TABLE n (a int); CREATE INDEX i ON n (a)")) == ([], ["n"])


def test_one_statement_outside_a_transaction_makes_the_revision_need_autocommit() -> None:
    assert not needs_autocommit(analyze("CREATE INDEX i ON t (a); DROP INDEX i"))
    assert needs_autocommit(analyze("CREATE INDEX i ON t (a); DROP INDEX CONCURRENTLY i"))
    assert needs_autocommit(analyze("ALTER TYPE e ADD VALUE 'x'"))
