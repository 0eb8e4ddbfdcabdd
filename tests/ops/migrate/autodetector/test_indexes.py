"""autodetector/indexes: an index or trigger that changed is dropped before the columns change and
created again after; an unchanged one is never touched (dropping an index on a big table is not free)."""

from __future__ import annotations

from mandala_db.core.catalog import Column, Snapshot, Table
from mandala_db.ops.migrate.autodetector.indexes import create, drop_changed
from mandala_db.ops.migrate.autodetector.plan import Plan, Sides

BY_USER = "CREATE INDEX tasks_user ON tasks USING btree (user_id)"
TRIGGER = "CREATE TRIGGER tasks_touch BEFORE UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION touch()"


def tasks(indexes: dict[str, str], triggers: dict[str, str] | None = None) -> Snapshot:
    table = Table(columns={"user_id": Column("uuid", False, None)}, indexes=indexes, triggers=triggers or {})
    return Snapshot("public", tables={"tasks": table})


def test_only_what_changed_is_dropped_and_created_again() -> None:
    changed = BY_USER.replace("(user_id)", "(user_id) WHERE (user_id IS NOT NULL)")
    target = tasks({"tasks_user": changed, "tasks_other": "CREATE INDEX tasks_other ON tasks (x)"}, {})
    current = tasks({"tasks_user": BY_USER, "tasks_other": "CREATE INDEX tasks_other ON tasks (x)"}, {})
    drops, creates = Plan(), Plan()
    drop_changed(drops, Sides(target, current))
    create(creates, Sides(target, current))
    assert drops.statements == ["DROP INDEX tasks_user"]
    assert creates.statements == [changed]


def test_a_trigger_is_dropped_on_its_table_and_a_new_tables_indexes_are_all_created() -> None:
    drops = Plan()
    drop_changed(drops, Sides(tasks({}, {}), tasks({}, {"tasks_touch": TRIGGER})))
    assert drops.statements == ["DROP TRIGGER tasks_touch ON tasks"]
    creates = Plan()
    create(creates, Sides(tasks({"tasks_user": BY_USER}, {"tasks_touch": TRIGGER}), Snapshot("public")))
    assert creates.statements == [BY_USER, TRIGGER]  # indexes, then the triggers over the same table
