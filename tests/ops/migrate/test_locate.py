"""ops/migrate/locate: the line a statement comes from, for annotations. A .sql file knows its offsets; in a
revision the statement is found by its first line as written, else by the line quoting most of its names."""

from __future__ import annotations

from mandala_db.ops.migrate.locate import line_at, line_in_source
from mandala_db.ops.migrate.statement import Statement

REVISION = '''"""add an estimate"""
from alembic import op


def upgrade() -> None:
    op.execute("""
        CREATE INDEX CONCURRENTLY tasks_due_idx
            ON tasks (due_date)
    """)
    op.add_column("tasks", sa.Column("estimated_minutes", sa.Integer(), nullable=False))
    op.create_index("goals_user_idx", "goals", ["user_id"])
'''


def test_an_offset_is_counted_in_lines_from_one() -> None:
    text = "SELECT 1;\nSELECT 2;\n\nSELECT 3;"
    assert line_at(text, 0) == 1
    assert line_at(text, text.index("SELECT 3")) == 4
    assert line_at(text, -5) == 1


def test_a_statement_op_execute_keeps_is_found_by_its_first_line_whatever_the_spacing() -> None:
    st = Statement("CREATE INDEX CONCURRENTLY   tasks_due_idx ON tasks (due_date)", "CREATE INDEX")
    assert line_in_source(REVISION, st) == 7


def test_a_rendered_statement_is_found_by_the_line_quoting_most_of_its_names() -> None:
    rendered = Statement("ALTER TABLE tasks ADD COLUMN estimated_minutes INTEGER NOT NULL", "ALTER TABLE")
    assert line_in_source(REVISION, rendered) == 10
    index = Statement("CREATE INDEX goals_user_idx ON goals (user_id)", "CREATE INDEX")
    assert line_in_source(REVISION, index) == 11


def test_a_statement_that_names_nothing_in_the_source_has_no_line() -> None:
    assert line_in_source(REVISION, Statement("DROP TABLE reminders", "DROP TABLE")) is None
    assert line_in_source(REVISION, Statement("", "")) is None
