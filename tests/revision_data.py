"""Rows for every table the history creates, inserted at the revision that creates it.

The data exercises what the downgrades must keep: every legacy task type and status, NULL and set
estimated_time, HABIT actions, deadlines, arrays, JSON, and the task- and goal-level reflections.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

NS = uuid.UUID("6f1c2a52-8e0c-4a43-9d0e-1a0b7d3c9e11")


def uid(key: str) -> str:
    return str(uuid.uuid5(NS, key))


USERS = [
    ("alice", "Alice@example.com", "TECHNOLOGY", "STARTUP"),
    ("bob", "bob@example.com", "FINANCE", None),
    ("chie", "chie@example.jp", None, "ENTERPRISE"),
]
LEGACY_TYPES = ["ACTION", "LEARNING", "RESEARCH", "MEETING", "REVIEW"]
LEGACY_STATUSES = ["PENDING", "IN_PROGRESS", "COMPLETED", "CANCELLED"]


def _rev1(c: psycopg.Connection[Any]) -> None:
    for key, email, industry, size in USERS:
        c.execute(
            "INSERT INTO users (id, email, name, industry, company_size, job_type, position) "
            "VALUES (%s, %s, %s, %s, %s, 'engineer', 'lead')",
            (uid(key), email, key.title(), industry, size),
        )
    c.execute(
        "INSERT INTO goals (id, user_id, title, description, deadline, status, progress) VALUES "
        "(%s, %s, '年収を上げる', 'raise income', '2026-12-31T00:00:00Z', 'ACTIVE', 40)",
        (uid("goal"), uid("alice")),
    )
    for s in range(2):
        c.execute(
            "INSERT INTO sub_goals (id, goal_id, title, position, progress) VALUES (%s, %s, %s, %s, %s)",
            (uid(f"sg{s}"), uid("goal"), f"sub-goal {s}", s, 50 * s),
        )
        for a in range(2):
            c.execute(
                "INSERT INTO actions (id, sub_goal_id, title, position, progress) VALUES (%s, %s, %s, %s, 10)",
                (uid(f"a{s}{a}"), uid(f"sg{s}"), f"action {s}.{a}", a),
            )
    for i, (t, st) in enumerate([(t, s) for t in LEGACY_TYPES for s in LEGACY_STATUSES]):
        c.execute(
            "INSERT INTO tasks (id, action_id, title, type, status, estimated_time) VALUES "
            "(%s, %s, %s, %s, %s, %s)",
            (
                uid(f"t{i}"),
                uid(f"a{i % 2}{i % 2}"),
                f"task {i} " + "x" * (i * 9),
                t,
                st,
                None if i % 3 == 0 else 15 * (i + 1),
            ),
        )
    c.execute(
        "INSERT INTO task_reminders (id, task_id, remind_at, message, status) VALUES "
        "(%s, %s, '2026-01-01T09:00:00Z', 'go', 'PENDING'), (%s, %s, '2026-01-02T09:00:00Z', NULL, 'SENT')",
        (uid("r1"), uid("t1"), uid("r2"), uid("t2")),
    )
    c.execute(
        "INSERT INTO reflections (id, task_id, content, rating) VALUES (%s, %s, 'went well', 5), "
        "(%s, %s, 'no rating', NULL)",
        (uid("tr1"), uid("t1"), uid("tr2"), uid("t3")),
    )


def _rev2(c: psycopg.Connection[Any]) -> None:
    c.execute(
        "INSERT INTO progress_history (id, entity_type, entity_id, progress) VALUES "
        "(%s, 'goal', %s, 40), (%s, 'task', %s, 100)",
        (uid("ph1"), uid("goal"), uid("ph2"), uid("t1")),
    )
    c.execute(
        "INSERT INTO change_history (id, entity_type, entity_id, user_id, changes) VALUES "
        '(%s, \'goal\', %s, %s, \'[{"field": "title", "old_value": "a", "new_value": "b"}]\')',
        (uid("ch1"), uid("goal"), uid("alice")),
    )


def _rev3(c: psycopg.Connection[Any]) -> None:
    c.execute(
        "INSERT INTO processing_state (id, user_id, type, status, target_id, progress, result, retry_count) "
        "VALUES (%s, %s, 'ACTION_GENERATION', 'COMPLETED', %s, 100, '{\"ok\": true}', 2)",
        (uid("ps1"), uid("bob"), uid("sg0")),
    )


def _rev4(c: psycopg.Connection[Any]) -> None:
    c.execute("UPDATE actions SET type = 'HABIT' WHERE id = %s", (uid("a00"),))
    c.execute(
        "UPDATE tasks SET deadline = '2026-03-01T00:00:00Z' WHERE id IN (%s, %s)", (uid("t0"), uid("t5"))
    )
    c.execute(
        "INSERT INTO tasks (id, action_id, title, type, status, estimated_minutes) VALUES "
        "(%s, %s, 'new habit', 'HABIT', 'SKIPPED', 5)",
        (uid("t-new"), uid("a11")),
    )
    c.execute(
        "INSERT INTO task_notes (id, task_id, user_id, content) VALUES (%s, %s, %s, 'note')",
        (uid("n1"), uid("t1"), uid("alice")),
    )
    c.execute(
        "INSERT INTO task_history (id, task_id, user_id, old_status, new_status) VALUES "
        "(%s, %s, %s, 'NOT_STARTED', 'COMPLETED')",
        (uid("h1"), uid("t1"), uid("alice")),
    )
    c.execute(
        "INSERT INTO saved_views (id, user_id, name, filters, search_query) VALUES "
        "(%s, %s, 'mine', '{\"status\": [\"IN_PROGRESS\"]}', 'report')",
        (uid("v1"), uid("bob")),
    )


def _rev5(c: psycopg.Connection[Any]) -> None:
    c.execute(
        "INSERT INTO reminder_logs (id, user_id, sent_at, task_ids, email_status, message_id, retry_count) "
        "VALUES (%s, %s, now(), ARRAY[%s, %s]::uuid[], 'BOUNCED', 'm-1', 1)",
        (uid("rl1"), uid("alice"), uid("t1"), uid("t2")),
    )
    c.execute(
        "INSERT INTO user_reminder_preferences (user_id, enabled, mood_preference) VALUES "
        "(%s, false, 'CHANGE_PACE')",
        (uid("chie"),),
    )
    c.execute(
        "INSERT INTO habit_task_reminder_tracking (id, task_id, last_reminded_at, reminder_count, iso_year, "
        "iso_week) VALUES (%s, %s, now(), 3, 2026, 53)",
        (uid("hr1"), uid("t-new")),
    )


def _rev6(c: psycopg.Connection[Any]) -> None:
    c.execute(
        "INSERT INTO workflow_executions (id, execution_arn, goal_id, user_id, status, start_date, input, "
        "progress_percentage, processed_actions, total_actions, total_batches, expires_at) VALUES "
        "(%s, 'arn:aws:states:wf-1', %s, %s, 'SUCCEEDED', now(), '{\"goal\": 1}', 100, 64, 64, 8, now())",
        (uid("wf1"), uid("goal"), uid("alice")),
    )


def _rev7(c: psycopg.Connection[Any]) -> None:
    c.execute(
        "INSERT INTO reflections (id, goal_id, summary, regretful_actions) VALUES (%s, %s, 'a good year', 'none')",
        (uid("gr1"), uid("goal")),
    )
    c.execute(
        "INSERT INTO task_reflections (id, task_id, content, rating) VALUES (%s, %s, 'later', 1)",
        (uid("tr3"), uid("t4")),
    )


POPULATE = [_rev1, _rev2, _rev3, _rev4, _rev5, _rev6, _rev7]


def table_checksums(c: psycopg.Connection[Any]) -> dict[str, tuple[int, str]]:
    """Row count and a content checksum per application table (column order does not matter)."""
    tables = [
        r[0]
        for r in c.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename <> 'alembic_version' AND tablename NOT LIKE 'mandala\\_%' ORDER BY 1"
        ).fetchall()
    ]
    out: dict[str, tuple[int, str]] = {}
    for t in tables:
        row = c.execute(
            f"SELECT count(*), coalesce(md5(string_agg(to_jsonb(x)::text, '|' "
            f"ORDER BY to_jsonb(x)::text)), '') FROM {t} x"
        ).fetchone()
        assert row is not None
        out[t] = (int(row[0]), str(row[1]))
    return out
