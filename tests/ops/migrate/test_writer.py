"""ops/migrate/writer: a new revision file in Alembic's format with plain SQL. Its id sorts after the head
whatever the clock says; its name cannot close the docstring or run code; the file is parsed before it is
kept and appears whole or not at all; the loader reads it back as written."""

from __future__ import annotations

import ast
from datetime import datetime
from pathlib import Path

import pytest

from mandala_db.core.errors import BadInput
from mandala_db.ops.migrate.loader import read_revision
from mandala_db.ops.migrate.writer import new_revision_id, python_string, slugify, write_revision

HEAD = "20250409000000_split_reflections"


def test_an_id_sorts_after_the_head_even_when_the_clock_is_behind() -> None:
    assert (
        new_revision_id("Add priority", HEAD, datetime(2026, 12, 3, 9, 0, 0)) == "20261203090000_add_priority"
    )
    assert new_revision_id("x", HEAD, datetime(2020, 1, 1)) == "20250409000001_x"
    assert new_revision_id("x", None, datetime(2020, 1, 1)) == "20200101000000_x"


def test_a_name_becomes_a_slug_of_letters_digits_and_underscores() -> None:
    assert slugify('Add "task" priority!; DROP TABLE users --') == "add_task_priority_drop_table_users"
    assert len(slugify("a" * 100)) == 60
    with pytest.raises(BadInput, match="has no letters or digits"):
        slugify("タスク")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "COMMENT ON TABLE t IS 'say \"hi\"'",
        "SELECT '\\n'",
        "CREATE FUNCTION f()\nRETURNS int",
        'x\n"""',
    ],
)
def test_every_statement_round_trips_through_its_python_literal(sql: str) -> None:
    assert ast.literal_eval(python_string(sql)) == sql


def test_the_file_is_read_back_as_written(tmp_path: Path) -> None:
    title = 'Priority """ and a quote \' too'
    path = write_revision(tmp_path, "20261203090000_add_priority", HEAD, title,
                          ["ALTER TABLE tasks ADD COLUMN priority int"], ["ALTER TABLE tasks DROP COLUMN priority"],
                          ["drops column tasks.priority and its data"])  # fmt: skip
    rev = read_revision(path)
    assert (rev.id, rev.down_revision, rev.title) == ("20261203090000_add_priority", HEAD, "Add priority")
    assigned = {n.targets[0].id: n.value for n in ast.parse(rev.source).body if isinstance(n, ast.Assign)}  # type: ignore[attr-defined]
    assert ast.literal_eval(assigned["name"]) == title  # quotes and all, as a string literal only
    assert rev.destructive_downgrade == "drops column tasks.priority and its data"
    assert path.read_text().startswith('"""Add priority\n')
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_an_existing_file_or_a_malformed_id_writes_nothing(tmp_path: Path) -> None:
    write_revision(tmp_path, "20261203090000_a", None, "a", [], [], [])
    with pytest.raises(BadInput, match="already exists"):
        write_revision(tmp_path, "20261203090000_a", None, "a", [], [], [])
    with pytest.raises(BadInput, match="is not of the form YYYYMMDDHHMMSS_slug"):
        write_revision(tmp_path, "2026_a", None, "a", [], [], [])
    with pytest.raises(BadInput, match="is not of the form"):
        write_revision(tmp_path, "20261203090001_b", 'x"; import os', "b", [], [], [])
    assert [p.name for p in tmp_path.iterdir()] == ["20261203090000_a.py"]
