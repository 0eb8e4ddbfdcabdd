"""The models are the spec's data model: names, enums, constraints, indexes and the updated_at trigger."""

from __future__ import annotations

from typing import Any

import psycopg

from mandala_db.core.catalog import models_snapshot
from mandala_db.schema.enums import PG_ENUMS
from mandala_db.schema.models import metadata

SPEC_TABLES = {
    "users",
    "goals",
    "sub_goals",
    "actions",
    "tasks",
    "task_reminders",
    "task_reflections",
    "reflections",
    "progress_history",
    "change_history",
    "processing_state",
    "task_notes",
    "task_history",
    "saved_views",
    "reminder_logs",
    "user_reminder_preferences",
    "habit_task_reminder_tracking",
    "workflow_executions",
}


def test_eighteen_tables_and_twelve_enums_with_labels_in_order() -> None:
    assert set(metadata.tables) == SPEC_TABLES
    assert list(PG_ENUMS) == [
        "user_industry",
        "company_size",
        "goal_status",
        "action_type",
        "task_type",
        "task_status",
        "reminder_status",
        "email_status",
        "mood_preference",
        "processing_type",
        "processing_status",
        "workflow_status",
    ]
    assert [m.name for m in PG_ENUMS["task_status"]] == ["NOT_STARTED", "IN_PROGRESS", "COMPLETED", "SKIPPED"]
    assert [m.name for m in PG_ENUMS["company_size"]] == ["STARTUP", "SMALL", "MEDIUM", "LARGE", "ENTERPRISE"]


def test_built_schema_follows_the_conventions(conn: psycopg.Connection[Any]) -> None:
    snap = models_snapshot(conn)
    assert list(snap.enums) == sorted(PG_ENUMS)
    for name, table in snap.tables.items():
        for con, (kind, _) in table.constraints.items():
            prefix = {"p": "pk_", "f": "fk_", "u": "uq_", "c": "ck_"}[kind]
            assert con.startswith(f"{prefix}{name}"), con
        for index in table.indexes:
            assert index.startswith((f"ix_{name}_", f"uq_{name}_")), index
        if "id" in table.columns:
            assert table.columns["id"].default == "gen_random_uuid()"
        if "created_at" in table.columns:
            assert table.columns["created_at"].default == "now()"
        has_updated = "updated_at" in table.columns
        assert (f"trg_{name}_set_updated_at" in table.triggers) == has_updated
    no_updated_at = {n for n, t in snap.tables.items() if "updated_at" not in t.columns}
    assert no_updated_at == {"progress_history", "change_history", "task_history"}
    assert "id" not in snap.tables["user_reminder_preferences"].columns
    assert "created_at" not in snap.tables["task_history"].columns


def test_special_indexes_and_checks(conn: psycopg.Connection[Any]) -> None:
    t = models_snapshot(conn).tables
    assert "lower((email)::text)" in t["users"].indexes["uq_users_lower_email"]
    assert "UNIQUE" in t["users"].indexes["uq_users_lower_email"]
    assert (
        "WHERE (status = 'PENDING'::reminder_status)"
        in t["task_reminders"].indexes["ix_task_reminders_remind_at"]
    )
    assert (
        "WHERE (expires_at IS NOT NULL)"
        in t["workflow_executions"].indexes["ix_workflow_executions_expires_at"]
    )
    assert "created_at DESC" in t["reflections"].indexes["ix_reflections_goal_id_created_at"]
    assert (
        "processed_actions <= total_actions"
        in t["workflow_executions"].constraints["ck_workflow_executions_processed_within_total"][1]
    )
    assert t["reminder_logs"].columns["task_ids"].default == "'{}'::uuid[]"
    assert t["tasks"].columns["status"].default == "'NOT_STARTED'::task_status"
    assert "ON DELETE CASCADE" in t["goals"].constraints["fk_goals_user_id_users"][1]


def test_no_index_duplicates_a_key(conn: psycopg.Connection[Any]) -> None:
    """An index on exactly the columns of a primary key or unique constraint only slows writes."""
    snap = models_snapshot(conn)
    for name, table in snap.tables.items():
        keys = {d.split("(", 1)[1].rstrip(")") for k, d in table.constraints.values() if k in ("p", "u")}
        for index, definition in table.indexes.items():
            columns = definition.split("USING btree (", 1)[1].split(")", 1)[0]
            assert columns not in keys, f"{name}.{index} duplicates a key on ({columns})"


def test_updated_at_trigger_works_for_raw_sql(conn: psycopg.Connection[Any]) -> None:
    from mandala_db.schema.ddl import models_ddl

    for statement in models_ddl():
        conn.execute(statement.encode())
    conn.execute(
        "INSERT INTO users (email, name, updated_at) VALUES ('a@b.c', 'A', now() - interval '1 day')"
    )
    conn.execute("UPDATE users SET name = 'B'")
    row = conn.execute("SELECT updated_at > now() - interval '1 minute' FROM users").fetchone()
    assert row == (True,)
