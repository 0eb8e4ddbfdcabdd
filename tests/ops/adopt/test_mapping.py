"""ops/adopt/mapping: every column of our models has exactly one column of the Prisma-built database behind
it, every Prisma column is used, and the values that change on the way come out as ours."""

from __future__ import annotations

from conftest import connect_to
from mandala_db.core import catalog
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.adopt import mapping
from mandala_db.ops.adopt.mapping import prisma_column, snake, value_sql
from mandala_db.ops.migrate.prisma_schema import camel
from ops.adopt.prismakit import clean_prisma_db

__all__ = ["clean_prisma_db"]


def test_names_go_between_camel_and_snake_case() -> None:
    assert camel("sub_goal_id") == "subGoalId" and snake("subGoalId") == "sub_goal_id"
    assert snake("GoalStatus") == "goal_status" and camel("ttl") == "ttl"


def test_every_column_of_ours_has_one_prisma_column_behind_it_and_none_is_left_over(
    clean_prisma_db: DatabaseURL,
) -> None:
    with connect_to(clean_prisma_db) as conn:
        live, models = catalog.take(conn), catalog.models_snapshot(conn)
    assert sorted(models.tables) == sorted(t for t in live.tables if t != "_prisma_migrations")
    assert sorted(models.enums) == sorted(snake(e) for e in live.enums)
    for table, ours in models.tables.items():
        prisma = live.tables[table].columns
        sources = {c: prisma_column(table, c, prisma) for c in ours.columns}
        assert None not in sources.values(), (table, sources)
        assert set(sources.values()) == set(prisma), table  # derived columns read a column used anyway
    # The hand-written migrations' tables are snake_case already; the others camelCase.
    assert prisma_column("change_history", "user_id", live.tables["change_history"].columns) == "user_id"
    assert prisma_column("goals", "user_id", live.tables["goals"].columns) == "userId"


def test_the_values_that_change_on_the_way_come_out_as_ours(clean_prisma_db: DatabaseURL) -> None:
    with connect_to(clean_prisma_db) as conn:
        live = catalog.take(conn)

        def value(table: str, column: str, setup: str) -> object:
            conn.execute(setup)
            sql = value_sql(table, column, live.tables[table].columns)
            order = "createdAt" if "createdAt" in live.tables[table].columns else "created_at"
            row = conn.execute(f'SELECT {sql} FROM "{table}" ORDER BY "{order}" DESC LIMIT 1').fetchone()
            return row[0] if row else None

        users = conn.execute("SELECT id FROM users LIMIT 1").fetchone()
        assert users is not None
        uid = users[0]
        assert (
            value("progress_history", "entity_type", "SELECT 1") == "sub_goal"
        )  # 'subgoal' in Prisma's rows
        assert value("reminder_logs", "task_ids", f"""INSERT INTO reminder_logs (id, "userId", "sentAt", "emailStatus",
                     "updatedAt") VALUES (gen_random_uuid(), '{uid}', now(), 'SENT', now())""") == []  # fmt: skip
        expires = value("workflow_executions", "expires_at", f"""INSERT INTO workflow_executions ("executionArn", "goalId",
                        "userId", "startDate", input, "totalActions", "totalBatches", ttl, "updatedAt") VALUES ('arn:1',
                        '{uid}', '{uid}', now(), '{{}}', 8, 1, 1767225600, now())""")  # fmt: skip
        assert str(expires).startswith("2026-01-01")
        assert value("habit_task_reminder_tracking", "iso_year", f"""INSERT INTO habit_task_reminder_tracking (id,
                     "taskId", "lastRemindedAt", "weekNumber", "updatedAt") VALUES (gen_random_uuid(), '{uid}',
                     '2027-01-01T12:00:00Z', 53, now())""") == 2026  # fmt: skip  # ISO week 53 of 2026
        changes = value("change_history", "changes", f"""INSERT INTO change_history (id, entity_type, entity_id, user_id,
                        changes) VALUES (gen_random_uuid(), 'goal', '{uid}', '{uid}',
                        '[{{"field": "title", "oldValue": "a", "newValue": "b"}}]')""")  # fmt: skip
        assert changes == [{"field": "title", "old_value": "a", "new_value": "b"}]


def test_an_older_state_is_read_through_its_older_names() -> None:
    legacy = ["id", "estimatedTime"]
    assert mapping.prisma_column("tasks", "estimated_minutes", legacy) == "estimatedTime"
    assert mapping.value_sql("tasks", "estimated_minutes", legacy) == 'coalesce("estimatedTime", 30)'
    assert mapping.value_sql("tasks", "estimated_minutes", ["estimatedMinutes"]) == '"estimatedMinutes"'

    class T:  # a snapshot's table, as far as source_table looks at it
        def __init__(self, *columns: str) -> None:
            self.columns = dict.fromkeys(columns)

    task_level = {"reflections": T("id", "taskId"), "tasks": T("id")}
    assert mapping.source_table("task_reflections", task_level) == "reflections"
    assert mapping.source_table("reflections", task_level) is None  # the goal-level table: not there yet
    latest = {"reflections": T("id", "goalId"), "task_reflections": T("id", "taskId")}
    assert mapping.source_table("reflections", latest) == "reflections"
    assert mapping.source_table("task_reflections", latest) == "task_reflections"
    assert mapping.source_table("saved_views", latest) is None
