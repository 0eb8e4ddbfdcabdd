"""ops/migrate/lint/inspect.py: reading parse trees for the rules. The one judgement here is whether an
UPDATE or DELETE is a bounded batch: a LIMIT picks the rows, or the WHERE holds a key to constants, or any
column between two constants; a bound on a non-key column alone, or on another column's value, is not."""

from __future__ import annotations

import pytest

from mandala_db.ops.migrate.analysis import analyze
from mandala_db.ops.migrate.lint.inspect import added_constraints, alter_commands, bounded, dropped
from mandala_db.ops.migrate.model import SchemaModel, TableModel

MODEL = SchemaModel(tables={"tasks": TableModel(keys={"task_no"})})


@pytest.mark.parametrize(
    "where",
    [
        "id BETWEEN 1 AND 1000",
        "id >= 1 AND id < 1001",
        "id <= 1000",
        "1000 >= id",
        "task_no = 7",
        "id IN ('a', 'b')",
        "id = ANY('{1,2}'::int[])",
        "created_at >= '2024-01-01'::date AND created_at < '2024-02-01'::date",
        "id IN (SELECT id FROM tasks WHERE estimated_minutes IS NULL LIMIT 1000)",
        "id < 500 * 2 AND status = 'DONE'",
    ],
)
def test_a_batch_bounded_by_constants_is_bounded(where: str) -> None:
    [st] = analyze(f"UPDATE tasks SET estimated_minutes = 30 WHERE {where}")
    assert bounded(st.node, "tasks", MODEL)


@pytest.mark.parametrize(
    "where",
    [
        None,
        "status = 'DONE'",
        "created_at >= '2024-01-01'",
        "id < estimated_minutes",
        "id >= 1 OR id < 100",
        "title = 'x'",
    ],
)
def test_a_whole_table_write_is_not_bounded(where: str | None) -> None:
    sql = "DELETE FROM tasks" + (f" WHERE {where}" if where else "")
    [st] = analyze(sql)
    assert not bounded(st.node, "tasks", MODEL)


def test_alter_table_subcommands_and_added_constraints_are_named_by_table() -> None:
    [st] = analyze(
        "ALTER TABLE tasks ADD COLUMN note text, ADD CONSTRAINT tasks_note CHECK (length(note) < 100) NOT VALID"
    )
    assert [(t, sub) for t, sub, _ in alter_commands(st)] == [
        ("tasks", "AT_AddColumn"),
        ("tasks", "AT_AddConstraint"),
    ]
    [(table, constraint)] = added_constraints(st)
    assert table == "tasks" and constraint.conname == "tasks_note" and constraint.skip_validation


def test_dropped_names_only_the_objects_of_the_kind_asked() -> None:
    [st] = analyze("DROP TABLE IF EXISTS reminders, public.notes")
    assert dropped(st, "OBJECT_TABLE") == ["reminders", "notes"]
    assert dropped(st, "OBJECT_INDEX") == []
    [other] = analyze("SELECT 1")
    assert dropped(other, "OBJECT_TABLE") == [] and list(alter_commands(other)) == []
