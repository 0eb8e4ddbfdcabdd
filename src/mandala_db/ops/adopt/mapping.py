"""How a database Prisma built maps onto ours (../shared/spec/prisma-database.md): the same table names,
column names in camelCase (quoted) where ours are snake_case, except the two hand-written migrations'
tables, which may already be snake_case (the live catalog decides, not the schema file), a few columns
with other names, and a few whose values change on the way (an epoch to a timestamp, 'subgoal' to
'sub_goal', a NULL array to an empty one, the ISO year the week number never had)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from mandala_db.ops.migrate.prisma_schema import FIELDS, camel

# Our column -> Prisma's, where it is not the camelCase of ours: the application's own field names, and the
# two columns whose meaning changed on the way (the application gets fields of their own names for them).
NAMES = {
    **FIELDS,
    ("habit_task_reminder_tracking", "iso_year"): "lastRemindedAt",  # derived from it (TRANSFORMS)
    ("workflow_executions", "expires_at"): "ttl",
}

# Our column -> its value computed from Prisma's column (`@` stands for it, quoted), where it changes.
_ENTITY = "CASE @ WHEN 'subgoal' THEN 'sub_goal' ELSE @ END"
TRANSFORMS = {
    ("workflow_executions", "expires_at"): "to_timestamp(@)",
    ("progress_history", "entity_type"): _ENTITY,
    ("change_history", "entity_type"): _ENTITY,
    ("reminder_logs", "task_ids"): "coalesce(@, '{}'::uuid[])",
    ("habit_task_reminder_tracking", "iso_year"): "extract(isoyear FROM @)::smallint",
    ("change_history", "changes"): (
        "(SELECT coalesce(jsonb_agg(jsonb_build_object('field', e->'field', 'old_value', e->'oldValue', "
        "'new_value', e->'newValue') ORDER BY n), '[]'::jsonb) FROM jsonb_array_elements(@) WITH ORDINALITY AS x(e, n))"
    ),
}


# Our column -> (Prisma's column and its value) in an older state of the history, where no newer one holds
# it: what the survey reads before forward.py brings the database forward.
FORMER = {("tasks", "estimated_minutes"): ("estimatedTime", "coalesce(@, 30)")}
# Our table -> the table that held its rows in an older state (when it is not there under its own name).
FORMER_TABLES = {"task_reflections": "reflections"}


def source_table(table: str, live: Mapping[str, Any]) -> str | None:
    """The live table (of a snapshot's tables) that holds our table's rows: its own name, or the older one
    while the live `reflections` is still the task-level table of before 2025-12-11."""
    task_level = "reflections" in live and "taskId" in live["reflections"].columns
    if table == "reflections" and task_level:
        return None  # the goal-level table is not there yet
    if table in live:
        return table
    former = FORMER_TABLES.get(table)
    return former if former in live and task_level else None


def snake(name: str) -> str:
    """`GoalStatus` -> goal_status, `userId` -> user_id."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def prisma_column(table: str, ours: str, live: Collection[str]) -> str | None:
    """The live column that holds our column's value: the named exception, its camelCase, or its own name
    (the hand-written snake_case tables); None when the database has none of them."""
    for candidate in (NAMES.get((table, ours)), camel(ours), ours, FORMER.get((table, ours), (None,))[0]):
        if candidate is not None and candidate in live:
            return candidate
    return None


def value_sql(table: str, ours: str, live: Collection[str], alias: str = "") -> str | None:
    """SQL over the Prisma table giving our column's value, or None when nothing holds it."""
    column = prisma_column(table, ours, live)
    if column is None:
        return None
    ref = (f"{alias}." if alias else "") + quote(column)
    former = FORMER.get((table, ours))
    transform = former[1] if former and former[0] == column else TRANSFORMS.get((table, ours))
    return transform.replace("@", ref) if transform else ref
