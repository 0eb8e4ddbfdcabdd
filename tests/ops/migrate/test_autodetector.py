"""ops/migrate/autodetector: two catalog snapshots in, SQL out, in an order PostgreSQL accepts; what a
reviewer must know is said (a NOT NULL column without a default, a drop and add that may be a rename, a
type change, what is destroyed), and what cannot be rendered safely is refused. Pure: no database (the
end-to-end runs through a real one are tests/ops/migrate/test_dev.py)."""

from __future__ import annotations

from mandala_db.core.catalog import Column, Snapshot, Table
from mandala_db.ops.migrate.autodetector import diff


def snapshot(**tables: Table) -> Snapshot:
    return Snapshot("public", tables=dict(tables))


def with_enum(labels: list[str]) -> Snapshot:
    s = snapshot(tasks=Table(columns={"status": Column("task_status", False, "'open'::task_status")}))
    s.enums["task_status"] = labels
    return s


def test_labels_only_added_go_in_their_place() -> None:
    plan = diff(with_enum(["open", "doing", "done", "archived"]), with_enum(["open", "done"]))
    assert plan.statements == [
        "ALTER TYPE task_status ADD VALUE 'doing' BEFORE 'done'",
        "ALTER TYPE task_status ADD VALUE 'archived' AFTER 'done'",
    ]
    assert not plan.unrenderable and not plan.destructive


def test_a_removed_label_is_refused_unless_a_rewrite_is_allowed_and_then_named_as_a_loss() -> None:
    refused = diff(with_enum(["open", "done"]), with_enum(["open", "doing", "done"]))
    assert refused.statements == [] and "labels doing removed" in refused.unrenderable[0]
    allowed = diff(with_enum(["open", "done"]), with_enum(["open", "doing", "done"]), allow_enum_rewrite=True)
    assert allowed.statements[0] == "ALTER TYPE task_status RENAME TO task_status_previous"
    assert "ALTER TABLE tasks ALTER COLUMN status DROP DEFAULT" in allowed.statements
    assert allowed.statements[-1] == "DROP TYPE task_status_previous"
    assert allowed.destructive == ["removes labels doing of enum task_status (fails if rows still use them)"]


def test_foreign_keys_go_first_and_come_back_last() -> None:
    key = ("p", "PRIMARY KEY (id)")
    fk = ("f", "FOREIGN KEY (goal_id) REFERENCES goals(id)")
    goals = Table(columns={"id": Column("bigint", False, None)}, constraints={"goals_pkey": key})
    old_sub = Table(columns={"goal_id": Column("bigint", True, None)}, constraints={"sub_goal_fk": fk})
    changed_key = Table(
        columns=goals.columns, constraints={"goals_pkey": ("p", "PRIMARY KEY (id) DEFERRABLE")}
    )
    plan = diff(snapshot(goals=changed_key, sub_goals=old_sub), snapshot(goals=goals, sub_goals=old_sub))
    # The key changes: the foreign key that uses it is not changed, so only the key is dropped and added.
    assert plan.statements == [
        "ALTER TABLE goals DROP CONSTRAINT goals_pkey",
        "ALTER TABLE goals ADD CONSTRAINT goals_pkey PRIMARY KEY (id) DEFERRABLE",
    ]
    new_fk = Table(
        columns=old_sub.columns, constraints={"sub_goal_fk": (fk[0], fk[1] + " ON DELETE CASCADE")}
    )
    both = diff(snapshot(goals=changed_key, sub_goals=new_fk), snapshot(goals=goals, sub_goals=old_sub))
    assert both.statements.index("ALTER TABLE sub_goals DROP CONSTRAINT sub_goal_fk") < both.statements.index(
        "ALTER TABLE goals DROP CONSTRAINT goals_pkey"
    )
    assert both.statements[-1].startswith("ALTER TABLE sub_goals ADD CONSTRAINT sub_goal_fk")


def test_what_a_reviewer_must_know_about_columns_is_said() -> None:
    before = Table(columns={"title": Column("text", False, None), "minutes": Column("integer", True, None)})
    after = Table(
        columns={
            "name": Column("text", False, None),
            "minutes": Column("bigint", True, None),
            "done": Column("boolean", False, None),
        }
    )
    plan = diff(snapshot(tasks=after), snapshot(tasks=before))
    assert "ALTER TABLE tasks ALTER COLUMN minutes TYPE bigint USING minutes::bigint" in plan.statements
    said = " | ".join(plan.warnings)
    assert "tasks.done is NOT NULL without a default" in said
    assert "--rename tasks.title=name" in said and "changes type integer -> bigint" in said
    assert plan.destructive == ["drops column tasks.title and its data"]


def test_new_tables_come_before_their_indexes_and_gone_ones_after_everything() -> None:
    table = Table(
        columns={"id": Column("bigint", False, None)}, indexes={"t_id": "CREATE INDEX t_id ON t (id)"}
    )
    created = diff(snapshot(t=table), snapshot())
    assert created.statements == [
        "CREATE TABLE t (\n    id bigint NOT NULL\n)",
        "CREATE INDEX t_id ON t (id)",
    ]
    dropped = diff(snapshot(), snapshot(t=table))
    assert dropped.statements == ["DROP TABLE t"] and dropped.destructive == [
        "drops table t and every row in it"
    ]
    view = snapshot()
    view.views["v"] = "SELECT 1"
    assert diff(view, snapshot()).unrenderable == [
        "view v: views and sequences are not generated; write them by hand"
    ]
