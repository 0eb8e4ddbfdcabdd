"""How a database Prisma built maps onto ours (../shared/spec/prisma-database.md): the same table names,
column names in camelCase (quoted) where ours are snake_case, except the two hand-written migrations'
tables, which may already be snake_case (the live catalog decides, not the schema file), a few columns
with other names, and a few whose values change on the way (an epoch to a timestamp, 'subgoal' to
'sub_goal', a NULL array to an empty one, the ISO year the week number never had)."""

from __future__ import annotations

import re
from collections.abc import Collection

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


def snake(name: str) -> str:
    """`GoalStatus` -> goal_status, `userId` -> user_id."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def prisma_column(table: str, ours: str, live: Collection[str]) -> str | None:
    """The live column that holds our column's value: the named exception, its camelCase, or its own name
    (the hand-written snake_case tables); None when the database has none of them."""
    for candidate in (NAMES.get((table, ours)), camel(ours), ours):
        if candidate is not None and candidate in live:
            return candidate
    return None


def value_sql(table: str, ours: str, live: Collection[str], alias: str = "") -> str | None:
    """SQL over the Prisma table giving our column's value, or None when nothing holds it."""
    column = prisma_column(table, ours, live)
    if column is None:
        return None
    ref = (f"{alias}." if alias else "") + quote(column)
    transform = TRANSFORMS.get((table, ours))
    return transform.replace("@", ref) if transform else ref
