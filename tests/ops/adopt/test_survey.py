"""ops/adopt/survey: the state of the history a Prisma-built database is in, and every row our constraints
would reject, each kind with its count and examples; a database within our rules shows none."""

from __future__ import annotations

from conftest import connect_to
from mandala_db.core import catalog
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.adopt.survey import Survey, survey
from ops.adopt.prismakit import build, clean_prisma_db, populate_2025_11, prisma_db

__all__ = ["clean_prisma_db", "prisma_db"]


def surveyed(url: DatabaseURL) -> Survey:
    with connect_to(url) as conn:
        return survey(conn, catalog.take(conn), catalog.models_snapshot(conn))


def test_every_planted_row_is_named_with_its_count_and_examples(prisma_db: DatabaseURL) -> None:
    found = surveyed(prisma_db)
    assert found.state == "latest" and found.facts == [] and found.unchecked == []
    blockers = {(b.table, b.rule.split(" ")[0]): b for b in found.blockers}
    assert sorted(blockers) == [("goals", "ck_goals_progress_range"), ("task_notes", "fk_task_notes_user_id_users"),
                                ("tasks", "ck_tasks_estimated_minutes_positive")]  # fmt: skip
    assert blockers[("tasks", "ck_tasks_estimated_minutes_positive")].count == 2
    with connect_to(prisma_db) as conn:
        zero = {
            str(r[0]) for r in conn.execute('SELECT id FROM tasks WHERE "estimatedMinutes" = 0').fetchall()
        }
    assert set(blockers[("tasks", "ck_tasks_estimated_minutes_positive")].examples) == zero


def test_duplicates_our_unique_keys_reject_are_found_where_prisma_allowed_them(
    clean_prisma_db: DatabaseURL,
) -> None:
    with connect_to(clean_prisma_db) as conn:  # emails differing in case only; one habit reminder week twice
        conn.execute("""INSERT INTO users (id, email, name, "updatedAt") SELECT gen_random_uuid(), upper(email), name,
                        now() FROM users LIMIT 1""")  # fmt: skip
        conn.execute("""INSERT INTO habit_task_reminder_tracking (id, "taskId", "lastRemindedAt", "weekNumber", "updatedAt")
                        SELECT gen_random_uuid(), id, '2026-03-04', 10, now() FROM tasks LIMIT 1""")  # fmt: skip
        conn.execute("""INSERT INTO habit_task_reminder_tracking (id, "taskId", "lastRemindedAt", "weekNumber", "updatedAt")
                        SELECT gen_random_uuid(), "taskId", '2026-03-05', 10, now() FROM habit_task_reminder_tracking""")  # fmt: skip
    found = surveyed(clean_prisma_db)
    rules = sorted((b.table, b.count) for b in found.blockers)
    assert rules == [("habit_task_reminder_tracking", 2), ("users", 2)]


def test_a_database_within_our_rules_has_no_blockers(clean_prisma_db: DatabaseURL) -> None:
    assert surveyed(clean_prisma_db).blockers == []


def test_an_older_state_is_named_and_its_rows_read_through_the_older_names(db_url: DatabaseURL) -> None:
    with connect_to(db_url) as conn:
        build(conn, state="2025-11")
        populate_2025_11(conn)  # an estimatedTime of 0, a task-level reflection rated 7
    found = surveyed(db_url)
    assert found.state == "before 2025-11-20"
    facts = "\n".join(found.facts)
    assert 'enum "TaskType" still has the labels before 2025-11-20: ACTION, LEARNING' in facts
    assert '"estimatedTime"' in facts and "reflections is still task-level" in facts
    assert "table task_notes is not there yet" in facts
    # Our rules read over the older names: estimated_minutes is coalesce("estimatedTime", 30) (a missing
    # estimate is no blocker), and task_reflections' rows are still in reflections.
    assert found.unchecked == []
    assert sorted((b.table, b.source, b.name, b.count) for b in found.blockers) == [
        ("task_reflections", "reflections", "ck_task_reflections_rating_range", 1),
        ("tasks", "tasks", "ck_tasks_estimated_minutes_positive", 1),
    ]


def test_values_a_narrower_type_of_ours_cannot_hold_are_blockers(db_url: DatabaseURL) -> None:
    # Prisma's integer into our smallint, a longer varchar into our varchar(255): the conversion's
    # ALTER ... TYPE would fail on these rows, so the dry run names them first.
    with connect_to(db_url) as conn:
        build(conn, state="2025-11")
        conn.execute("ALTER TABLE tasks ALTER COLUMN title TYPE varchar(300)")
        populate_2025_11(conn, planted=False)
        conn.execute(
            'UPDATE tasks SET "estimatedTime" = 40000 WHERE id = (SELECT min(id::text)::uuid FROM tasks)'
        )
        conn.execute(
            "UPDATE tasks SET title = repeat('x', 280) WHERE id = (SELECT max(id::text)::uuid FROM tasks)"
        )
    found = {b.name: b for b in surveyed(db_url).blockers}
    assert sorted(found) == ["estimated_minutes_fits_smallint", "title_fits_varchar_255"]
    assert (
        found["estimated_minutes_fits_smallint"].count == 1
        and found["estimated_minutes_fits_smallint"].column == "estimatedTime"
    )


def test_rows_with_a_null_in_a_unique_key_are_no_duplicates(clean_prisma_db: DatabaseURL) -> None:
    # executionArn made nullable by hand: two runs without one break our NOT NULL, not our unique key.
    with connect_to(clean_prisma_db) as conn:
        conn.execute('ALTER TABLE workflow_executions ALTER COLUMN "executionArn" DROP NOT NULL')
        conn.execute(
            'INSERT INTO workflow_executions ("goalId", "userId", "startDate", input, "totalActions", "totalBatches", '
            '"updatedAt", ttl) SELECT (SELECT min(id::text)::uuid FROM goals), (SELECT min(id::text)::uuid FROM users), now(), '
            "'{}', 1, 1, now(), 1900000000 FROM generate_series(1, 2)"
        )
    found = surveyed(clean_prisma_db).blockers
    assert [(b.kind, b.name, b.count) for b in found] == [("not-null", "execution_arn", 2)]
