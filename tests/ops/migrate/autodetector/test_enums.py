"""autodetector/enums: labels only added go in place with ADD VALUE; a removal or reordering is refused
unless a rewrite is allowed, and then it casts by text (so a row on a removed label fails the deploy rather
than losing its value) and keeps the column's default."""

from __future__ import annotations

from mandala_db.core.catalog import Column, Snapshot, Table
from mandala_db.ops.migrate.autodetector.enums import create_and_alter, drop, enum_steps, labels
from mandala_db.ops.migrate.autodetector.plan import Plan, Sides


def with_status(enums: dict[str, list[str]]) -> Snapshot:
    status = Column("task_status", False, "'open'::task_status")
    return Snapshot("public", tables={"tasks": Table(columns={"status": status})}, enums=enums)


def test_labels_are_quoted_as_sql_literals() -> None:
    assert labels(["open", "won't do"]) == "'open', 'won''t do'"


def test_a_label_added_first_goes_before_the_old_first_and_one_added_last_after_the_old_last() -> None:
    plan = enum_steps("s", ["b"], ["a", "b", "c"], Snapshot("public"), allow_rewrite=False)
    assert plan.statements == [
        "ALTER TYPE s ADD VALUE 'a' BEFORE 'b'",
        "ALTER TYPE s ADD VALUE 'c' AFTER 'b'",
    ]


def test_a_reordering_is_refused_with_both_orders_named() -> None:
    plan = enum_steps("s", ["a", "b"], ["b", "a"], Snapshot("public"), allow_rewrite=False)
    assert plan.statements == []
    assert plan.unrenderable == [
        "enum s: labels reordered (a, b -> b, a); rows using them need a mapping to the new labels that "
        "only you can decide"
    ]


def test_an_allowed_rewrite_casts_by_text_and_puts_the_default_back() -> None:
    target = with_status({"task_status": ["open", "done"]})
    plan = enum_steps("task_status", ["open", "doing", "done"], ["open", "done"], target, allow_rewrite=True)
    assert plan.statements == [
        "ALTER TYPE task_status RENAME TO task_status_previous",
        "CREATE TYPE task_status AS ENUM ('open', 'done')",
        "ALTER TABLE tasks ALTER COLUMN status DROP DEFAULT",
        "ALTER TABLE tasks ALTER COLUMN status TYPE task_status USING status::text::task_status",
        "ALTER TABLE tasks ALTER COLUMN status SET DEFAULT 'open'::task_status",
        "DROP TYPE task_status_previous",
    ]
    assert plan.destructive == ["removes labels doing of enum task_status (fails if rows still use them)"]


def test_new_types_are_created_and_gone_ones_dropped() -> None:
    sides = Sides(with_status({"task_status": ["open"], "mood": ["ok"]}), with_status({"legacy": ["x"]}))
    plan = Plan()
    create_and_alter(plan, sides, allow_rewrite=False)
    drop(plan, sides)
    assert plan.statements == [
        "CREATE TYPE mood AS ENUM ('ok')",
        "CREATE TYPE task_status AS ENUM ('open')",
        "DROP TYPE legacy",
    ]
