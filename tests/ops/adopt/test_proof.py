"""ops/adopt/proof: per table, the row count and a checksum over the mapped columns; read over Prisma's
columns before and over ours after, they are equal when every value came across, and name the table when
one did not. A table only renamed is proved by its storage instead: the same heap file and each column the
same attribute, which a rewrite or a column dropped and added again breaks."""

from __future__ import annotations

from conftest import connect_to
from mandala_db.core import catalog
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.adopt import proof
from mandala_db.ops.adopt.convert import plan
from ops.adopt.prismakit import clean_prisma_db

__all__ = ["clean_prisma_db"]


def test_before_and_after_are_equal_and_a_changed_value_is_named(clean_prisma_db: DatabaseURL) -> None:
    with connect_to(clean_prisma_db) as conn:
        live, models = catalog.take(conn), catalog.models_snapshot(conn)
        with conn.transaction(force_rollback=True):
            first = proof.before(conn, live, models)
            for _, sql in plan(live, models).statements:
                conn.execute(sql.encode())
            assert proof.differences(first, proof.after(conn, models, sorted(first))) == []
            assert first["tasks"][0] > 0 and len(first) == 18
            conn.execute(
                "UPDATE tasks SET title = title || '!' WHERE id = (SELECT min(id::text)::uuid FROM tasks)"
            )
            conn.execute("DELETE FROM task_notes WHERE id = (SELECT min(id::text)::uuid FROM task_notes)")
            unequal = proof.differences(first, proof.after(conn, models, sorted(first)))
    assert [line.split(":")[0] for line in unequal] == ["task_notes", "tasks"]
    assert "before" in unequal[0] and "after" in unequal[0]


def test_the_tables_proved_by_content_are_the_ones_whose_values_change() -> None:
    statements = [
        ("tasks", 'ALTER TABLE tasks RENAME COLUMN "actionId" TO action_id'),
        ("tasks", "ALTER TABLE tasks ADD CONSTRAINT ck CHECK (estimated_minutes > 0) NOT VALID"),
        ("goals", "ALTER TABLE goals ALTER COLUMN id SET DEFAULT gen_random_uuid()"),
        (
            "progress_history",
            "UPDATE progress_history SET entity_type = 'sub_goal' WHERE entity_type = 'subgoal'",
        ),
        (
            "habit_task_reminder_tracking",
            "ALTER TABLE habit_task_reminder_tracking ADD COLUMN iso_year smallint",
        ),
        (
            "workflow_executions",
            "ALTER TABLE workflow_executions ALTER COLUMN expires_at TYPE timestamptz USING x",
        ),
        ("reminder_logs", "ALTER TABLE reminder_logs DROP COLUMN gone"),
        (
            "tasks",
            "ALTER TABLE tasks ALTER COLUMN deadline TYPE timestamp with time zone "
            "USING deadline::timestamp with time zone",
        ),  # the default cast: PostgreSQL decides
        ("", 'ALTER TYPE "TaskType" RENAME TO task_type'),
    ]
    assert proof.changing(statements) == {"progress_history", "habit_task_reminder_tracking",
                                          "workflow_executions", "reminder_logs"}  # fmt: skip


def test_a_renamed_table_is_proved_by_its_storage_and_a_rewrite_is_named(
    clean_prisma_db: DatabaseURL,
) -> None:
    with connect_to(clean_prisma_db) as conn:
        live, models = catalog.take(conn), catalog.models_snapshot(conn)
        conversion = plan(live, models)
        renamed = sorted(models.tables.keys() - proof.changing(conversion.statements))
        assert "tasks" in renamed and "progress_history" not in renamed
        with conn.transaction(force_rollback=True):
            first = proof.storage(conn, live, models, renamed)
            for _, sql in conversion.statements:
                conn.execute(sql.encode())
            assert proof.storage_differences(first, proof.storage(conn, models, models, renamed)) == []
            # The same rows, but rewritten into a new file; a column dropped and added back elsewhere.
            conn.execute("ALTER TABLE tasks ALTER COLUMN title TYPE varchar(255) USING title || ''")
            conn.execute("ALTER TABLE goals DROP COLUMN description")
            conn.execute("ALTER TABLE goals ADD COLUMN description text")
            unequal = proof.storage_differences(first, proof.storage(conn, models, models, renamed))
    assert unequal == [
        "goals: column(s) description not the same attribute before and after",
        unequal[1],
    ] and unequal[1].startswith("tasks: its storage was rewritten (relfilenode ")


def test_the_checksum_does_not_depend_on_the_order_of_the_rows(clean_prisma_db: DatabaseURL) -> None:
    with connect_to(clean_prisma_db) as conn, conn.transaction(force_rollback=True):
        first = proof.checksum(conn, "tasks", ["id", "title"])
        conn.execute('CLUSTER tasks USING "tasks_createdAt_idx"')  # the same rows in another physical order
        assert proof.checksum(conn, "tasks", ["id", "title"]) == first
        conn.execute(
            "UPDATE tasks SET title = title || '!' WHERE id = (SELECT min(id::text)::uuid FROM tasks)"
        )
        assert proof.checksum(conn, "tasks", ["id", "title"]) != first
