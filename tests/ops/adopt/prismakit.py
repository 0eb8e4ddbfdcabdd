"""A database as Prisma built it for the goal-mandala team (../shared/spec/prisma-database.md), the input of
`adopt prisma`: camelCase columns (quoted), Prisma's constraint and index names, no CHECK constraints, soft
references without foreign keys, the two hand-written migrations' snake_case tables, no database defaults
for ids and `updatedAt`, and `_prisma_migrations`. `build(url, state=...)` builds it at the latest state of
the history or at an older one, and `populate` fills it with rows, some of which break our constraints."""

from __future__ import annotations

import hashlib
from typing import Any

import psycopg
import pytest

from conftest import connect_to, from_template
from mandala_db.core.url import DatabaseURL

ENUMS = {
    "UserIndustry": ["TECHNOLOGY", "FINANCE", "HEALTHCARE", "EDUCATION", "MANUFACTURING", "RETAIL", "CONSULTING",
                     "GOVERNMENT", "NON_PROFIT", "OTHER"],
    "CompanySize": ["STARTUP", "SMALL", "MEDIUM", "LARGE", "ENTERPRISE"],
    "GoalStatus": ["ACTIVE", "COMPLETED", "PAUSED", "CANCELLED"],
    "ActionType": ["EXECUTION", "HABIT"],
    "TaskType": ["EXECUTION", "HABIT"],
    "TaskStatus": ["NOT_STARTED", "IN_PROGRESS", "COMPLETED", "SKIPPED"],
    "ReminderStatus": ["PENDING", "SENT", "FAILED", "CANCELLED"],
    "EmailStatus": ["SENT", "FAILED", "BOUNCED"],
    "MoodPreference": ["STAY_ON_TRACK", "CHANGE_PACE"],
    "ProcessingType": ["SUBGOAL_GENERATION", "ACTION_GENERATION", "TASK_GENERATION"],
    "ProcessingStatus": ["PENDING", "PROCESSING", "COMPLETED", "FAILED", "TIMEOUT", "CANCELLED"],
    "WorkflowStatus": ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"],
}  # fmt: skip
LEGACY = {  # before 2025-11-20
    "TaskType": ["ACTION", "LEARNING", "RESEARCH", "MEETING", "REVIEW"],
    "TaskStatus": ["PENDING", "IN_PROGRESS", "COMPLETED", "CANCELLED"],
}

ID = '"id" UUID NOT NULL'
CREATED = '"createdAt" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP'
UPDATED = '"updatedAt" TIMESTAMPTZ NOT NULL'

# table -> (columns, extra DDL); the columns of the latest state, as Prisma's migrate writes them.
TABLES: dict[str, tuple[list[str], list[str]]] = {
    "users": ([ID, '"email" VARCHAR(255) NOT NULL', '"name" VARCHAR(100) NOT NULL', '"industry" "UserIndustry"',
               '"companySize" "CompanySize"', '"jobType" VARCHAR(100)', '"position" VARCHAR(100)', CREATED, UPDATED],
              ['CREATE UNIQUE INDEX "users_email_key" ON "users"("email")']),
    "goals": ([ID, '"userId" UUID NOT NULL', '"title" VARCHAR(200) NOT NULL', '"description" TEXT',
               '"deadline" TIMESTAMPTZ', '"background" TEXT', '"constraints" TEXT',
               '"status" "GoalStatus" NOT NULL DEFAULT \'ACTIVE\'', '"progress" SMALLINT NOT NULL DEFAULT 0', CREATED, UPDATED],
              ['CREATE INDEX "goals_userId_status_idx" ON "goals"("userId", "status")',
               'CREATE INDEX "goals_userId_createdAt_idx" ON "goals"("userId", "createdAt")',
               'ALTER TABLE "goals" ADD CONSTRAINT "goals_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE']),
    "sub_goals": ([ID, '"goalId" UUID NOT NULL', '"title" VARCHAR(200) NOT NULL', '"description" TEXT', '"background" TEXT',
                   '"constraints" TEXT', '"position" SMALLINT NOT NULL', '"progress" SMALLINT NOT NULL DEFAULT 0', CREATED, UPDATED],
                  ['CREATE UNIQUE INDEX "sub_goals_goalId_position_key" ON "sub_goals"("goalId", "position")',
                   'CREATE INDEX "sub_goals_goalId_position_idx" ON "sub_goals"("goalId", "position")',
                   'ALTER TABLE "sub_goals" ADD CONSTRAINT "sub_goals_goalId_fkey" FOREIGN KEY ("goalId") REFERENCES "goals"("id") ON DELETE CASCADE ON UPDATE CASCADE']),
    "actions": ([ID, '"subGoalId" UUID NOT NULL', '"title" VARCHAR(200) NOT NULL', '"description" TEXT', '"background" TEXT',
                 '"constraints" TEXT', '"type" "ActionType" NOT NULL DEFAULT \'EXECUTION\'', '"position" SMALLINT NOT NULL',
                 '"progress" SMALLINT NOT NULL DEFAULT 0', CREATED, UPDATED],
                ['CREATE UNIQUE INDEX "actions_subGoalId_position_key" ON "actions"("subGoalId", "position")',
                 'CREATE INDEX "actions_subGoalId_position_idx" ON "actions"("subGoalId", "position")',
                 'ALTER TABLE "actions" ADD CONSTRAINT "actions_subGoalId_fkey" FOREIGN KEY ("subGoalId") REFERENCES "sub_goals"("id") ON DELETE CASCADE ON UPDATE CASCADE']),
    "tasks": ([ID, '"actionId" UUID NOT NULL', '"title" VARCHAR(255) NOT NULL', '"description" TEXT',
               '"type" "TaskType" NOT NULL DEFAULT \'EXECUTION\'', '"status" "TaskStatus" NOT NULL DEFAULT \'NOT_STARTED\'',
               '"estimatedMinutes" SMALLINT NOT NULL', '"deadline" TIMESTAMPTZ', '"completedAt" TIMESTAMPTZ', CREATED, UPDATED],
              ['CREATE INDEX "tasks_actionId_status_idx" ON "tasks"("actionId", "status")',
               'CREATE INDEX "tasks_status_idx" ON "tasks"("status")', 'CREATE INDEX "tasks_deadline_idx" ON "tasks"("deadline")',
               'CREATE INDEX "tasks_createdAt_idx" ON "tasks"("createdAt")',
               'ALTER TABLE "tasks" ADD CONSTRAINT "tasks_actionId_fkey" FOREIGN KEY ("actionId") REFERENCES "actions"("id") ON DELETE CASCADE ON UPDATE CASCADE']),
    "task_reminders": ([ID, '"taskId" UUID NOT NULL', '"reminderAt" TIMESTAMPTZ NOT NULL', '"message" TEXT',
                        '"status" "ReminderStatus" NOT NULL DEFAULT \'PENDING\'', '"sentAt" TIMESTAMPTZ', CREATED, UPDATED],
                       ['CREATE INDEX "task_reminders_status_reminderAt_idx" ON "task_reminders"("status", "reminderAt")',
                        'CREATE INDEX "task_reminders_taskId_reminderAt_idx" ON "task_reminders"("taskId", "reminderAt")',
                        'ALTER TABLE "task_reminders" ADD CONSTRAINT "task_reminders_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "tasks"("id") ON DELETE CASCADE ON UPDATE CASCADE']),
    "task_reflections": ([ID, '"taskId" UUID NOT NULL', '"content" TEXT NOT NULL', '"rating" SMALLINT', CREATED, UPDATED],
                         ['CREATE INDEX "task_reflections_taskId_createdAt_idx" ON "task_reflections"("taskId", "createdAt")',
                          'ALTER TABLE "task_reflections" ADD CONSTRAINT "task_reflections_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "tasks"("id") ON DELETE CASCADE ON UPDATE CASCADE']),
    "reflections": ([ID, '"goalId" UUID NOT NULL', '"summary" TEXT NOT NULL', '"regretfulActions" TEXT',
                     '"slowProgressActions" TEXT', '"untouchedActions" TEXT', CREATED, UPDATED],
                    ['CREATE INDEX "reflections_goalId_createdAt_idx" ON "reflections"("goalId", "createdAt" DESC)',
                     'ALTER TABLE "reflections" ADD CONSTRAINT "reflections_goalId_fkey" FOREIGN KEY ("goalId") REFERENCES "goals"("id") ON DELETE CASCADE ON UPDATE CASCADE']),
    "progress_history": ([ID, '"entityType" VARCHAR(20) NOT NULL', '"entityId" UUID NOT NULL', '"progress" SMALLINT NOT NULL',
                          '"timestamp" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP', CREATED],
                         ['CREATE INDEX "progress_history_entityType_entityId_timestamp_idx" ON "progress_history"("entityType", "entityId", "timestamp")',
                          'CREATE INDEX "progress_history_timestamp_idx" ON "progress_history"("timestamp")']),
    # The two hand-written migrations: snake_case columns.
    "change_history": ([ID, '"entity_type" VARCHAR(20) NOT NULL', '"entity_id" UUID NOT NULL', '"user_id" UUID NOT NULL',
                        '"changed_at" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP', '"changes" JSONB NOT NULL',
                        '"created_at" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP'],
                       ['CREATE INDEX "change_history_entity_type_entity_id_changed_at_idx" ON "change_history"("entity_type", "entity_id", "changed_at")',
                        'CREATE INDEX "change_history_user_id_changed_at_idx" ON "change_history"("user_id", "changed_at")',
                        'ALTER TABLE "change_history" ADD CONSTRAINT "change_history_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE']),
    "processing_state": ([ID, '"user_id" UUID NOT NULL', '"type" "ProcessingType" NOT NULL',
                          '"status" "ProcessingStatus" NOT NULL DEFAULT \'PENDING\'', '"target_id" UUID',
                          '"progress" SMALLINT NOT NULL DEFAULT 0', '"result" JSONB', '"error" JSONB',
                          '"retry_count" SMALLINT NOT NULL DEFAULT 0', '"created_at" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP',
                          '"updated_at" TIMESTAMPTZ NOT NULL', '"completed_at" TIMESTAMPTZ'],
                         ['CREATE INDEX "processing_state_user_id_created_at_idx" ON "processing_state"("user_id", "created_at")',
                          'CREATE INDEX "processing_state_status_created_at_idx" ON "processing_state"("status", "created_at")',
                          'CREATE INDEX "processing_state_type_status_idx" ON "processing_state"("type", "status")',
                          'ALTER TABLE "processing_state" ADD CONSTRAINT "processing_state_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE']),
    "task_notes": ([ID, '"taskId" UUID NOT NULL', '"userId" UUID NOT NULL', '"content" TEXT NOT NULL', CREATED, UPDATED],
                   ['CREATE INDEX "task_notes_taskId_idx" ON "task_notes"("taskId")',
                    'CREATE INDEX "task_notes_createdAt_idx" ON "task_notes"("createdAt")',
                    'ALTER TABLE "task_notes" ADD CONSTRAINT "task_notes_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "tasks"("id") ON DELETE CASCADE ON UPDATE CASCADE']),
    "task_history": ([ID, '"taskId" UUID NOT NULL', '"userId" UUID NOT NULL', '"oldStatus" "TaskStatus" NOT NULL',
                      '"newStatus" "TaskStatus" NOT NULL', '"changedAt" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP'],
                     ['CREATE INDEX "task_history_taskId_idx" ON "task_history"("taskId")',
                      'CREATE INDEX "task_history_changedAt_idx" ON "task_history"("changedAt")',
                      'ALTER TABLE "task_history" ADD CONSTRAINT "task_history_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "tasks"("id") ON DELETE CASCADE ON UPDATE CASCADE']),
    "saved_views": ([ID, '"userId" UUID NOT NULL', '"name" VARCHAR(255) NOT NULL', '"filters" JSONB NOT NULL',
                     '"searchQuery" VARCHAR(255)', CREATED, UPDATED],
                    ['CREATE INDEX "saved_views_userId_idx" ON "saved_views"("userId")',
                     'CREATE INDEX "saved_views_createdAt_idx" ON "saved_views"("createdAt")']),
    "reminder_logs": ([ID, '"userId" UUID NOT NULL', '"sentAt" TIMESTAMPTZ NOT NULL', '"taskIds" UUID[]',
                       '"emailStatus" "EmailStatus" NOT NULL', '"messageId" VARCHAR(255)', '"errorMessage" TEXT',
                       '"retryCount" SMALLINT NOT NULL DEFAULT 0', CREATED, UPDATED],
                      ['CREATE INDEX "reminder_logs_userId_sentAt_idx" ON "reminder_logs"("userId", "sentAt")',
                       'CREATE INDEX "reminder_logs_emailStatus_idx" ON "reminder_logs"("emailStatus")',
                       'CREATE INDEX "reminder_logs_sentAt_idx" ON "reminder_logs"("sentAt")']),
    "user_reminder_preferences": (['"userId" UUID NOT NULL', '"enabled" BOOLEAN NOT NULL DEFAULT true',
                                   '"moodPreference" "MoodPreference"', '"lastReminderSentAt" TIMESTAMPTZ',
                                   '"unsubscribedAt" TIMESTAMPTZ', CREATED, UPDATED],
                                  ['CREATE INDEX "user_reminder_preferences_enabled_idx" ON "user_reminder_preferences"("enabled")',
                                   'CREATE INDEX "user_reminder_preferences_lastReminderSentAt_idx" ON "user_reminder_preferences"("lastReminderSentAt")']),
    "habit_task_reminder_tracking": ([ID, '"taskId" UUID NOT NULL', '"lastRemindedAt" TIMESTAMPTZ NOT NULL',
                                      '"reminderCount" SMALLINT NOT NULL DEFAULT 0', '"weekNumber" SMALLINT NOT NULL', CREATED, UPDATED],
                                     ['CREATE INDEX "habit_task_reminder_tracking_taskId_idx" ON "habit_task_reminder_tracking"("taskId")',
                                      'CREATE INDEX "habit_task_reminder_tracking_lastRemindedAt_idx" ON "habit_task_reminder_tracking"("lastRemindedAt")',
                                      'CREATE INDEX "habit_task_reminder_tracking_weekNumber_idx" ON "habit_task_reminder_tracking"("weekNumber")']),
    "workflow_executions": (['"id" UUID NOT NULL DEFAULT gen_random_uuid()', '"executionArn" VARCHAR(500) NOT NULL',
                             '"goalId" UUID NOT NULL', '"userId" UUID NOT NULL', '"status" "WorkflowStatus" NOT NULL DEFAULT \'RUNNING\'',
                             '"startDate" TIMESTAMPTZ NOT NULL', '"stopDate" TIMESTAMPTZ', '"input" JSONB NOT NULL', '"output" JSONB',
                             '"progressPercentage" SMALLINT NOT NULL DEFAULT 0', '"processedActions" SMALLINT NOT NULL DEFAULT 0',
                             '"totalActions" SMALLINT NOT NULL', '"currentBatch" SMALLINT NOT NULL DEFAULT 0',
                             '"totalBatches" SMALLINT NOT NULL', '"estimatedTimeRemaining" INTEGER NOT NULL DEFAULT 0',
                             '"ttl" INTEGER', CREATED, UPDATED],
                            ['CREATE UNIQUE INDEX "workflow_executions_executionArn_key" ON "workflow_executions"("executionArn")',
                             'CREATE INDEX "workflow_executions_goalId_createdAt_idx" ON "workflow_executions"("goalId", "createdAt")',
                             'CREATE INDEX "workflow_executions_userId_createdAt_idx" ON "workflow_executions"("userId", "createdAt")',
                             'CREATE INDEX "workflow_executions_status_createdAt_idx" ON "workflow_executions"("status", "createdAt")',
                             'CREATE INDEX "workflow_executions_ttl_idx" ON "workflow_executions"("ttl")']),
}  # fmt: skip
PRIMARY_KEYS = {"user_reminder_preferences": "userId"}

LATER_TABLES = (
    "reminder_logs",
    "user_reminder_preferences",
    "habit_task_reminder_tracking",
    "workflow_executions",
)
LATER_ENUMS = ("EmailStatus", "MoodPreference", "WorkflowStatus")
MIGRATIONS = [
    "20251005002705_add_change_history_table",
    "20251011002214_add_processing_state",
    "20251208191640_add_reminder_tables",
    "20251209210730_add_workflow_execution_table",
]
LEDGER = """CREATE TABLE "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)"""


def migration_sql(name: str) -> str:
    """The text of a migration folder's migration.sql, as the fixture's checksums are taken over."""
    return f"-- {name}\n-- the migration Prisma applied (its text is what the checksum covers)\n"


def checksum(name: str) -> str:
    return hashlib.sha256(migration_sql(name).encode()).hexdigest()


def pushed(statement: str) -> str:
    """The same statement as `prisma db push` writes it: timestamps with Prisma's default precision
    (`TIMESTAMPTZ(6)`), and the hand-written tables' columns camelCase like the rest."""
    statement = statement.replace("TIMESTAMPTZ", "TIMESTAMPTZ(6)")
    for snake_name in ("entity_type", "entity_id", "user_id", "changed_at", "created_at", "updated_at", "target_id",
                       "retry_count", "completed_at"):  # fmt: skip
        head, *rest = snake_name.split("_")
        statement = statement.replace(
            f'"{snake_name}"', '"' + head + "".join(x.capitalize() for x in rest) + '"'
        )
    return statement


def ddl(state: str = "latest") -> list[str]:
    """Every statement that builds the database at `state`: "latest" (2025-12-11), "2025-12" (before it:
    reflections still task-level, no goal-level table) or "2025-11" (before the task rework of 2025-11-20 as
    well: the legacy TaskType and TaskStatus labels, tasks.estimatedTime and the tasks index of 2025-10-10,
    no task_notes, task_history, saved_views, and none of the December migrations' reminder and workflow
    tables; Prisma's ledger then has the first two migrations only)."""
    out: list[str] = []
    enums = dict(ENUMS, **LEGACY) if state == "2025-11" else dict(ENUMS)
    if state == "2025-11":  # the reminder (2025-12-08) and workflow (2025-12-09) migrations came later
        for later in LATER_ENUMS:
            enums.pop(later)
    for enum, labels in enums.items():
        out.append(f'CREATE TYPE "{enum}" AS ENUM (' + ", ".join(f"'{x}'" for x in labels) + ")")
    tables = dict(TABLES)
    if state in ("2025-11", "2025-12"):  # reflections still task-level
        tables.pop("reflections")
        columns, extra = tables.pop("task_reflections")
        tables["reflections"] = (columns, [e.replace("task_reflections", "reflections") for e in extra])
    if state == "2025-11":
        for gone in ("task_notes", "task_history", "saved_views", *LATER_TABLES):
            tables.pop(gone)
        columns, extra = tables["tasks"]
        columns = [c.replace('"estimatedMinutes" SMALLINT NOT NULL', '"estimatedTime" INTEGER')
                   .replace("'NOT_STARTED'", "'PENDING'").replace("'EXECUTION'", "'ACTION'")
                   .replace('"title" VARCHAR(255)', '"title" VARCHAR(200)')
                   for c in columns if not c.startswith('"deadline"')]  # fmt: skip
        # The tasks index of 2025-10-10, removed on 2025-11-20.
        tables["tasks"] = (columns, [e for e in extra if "deadline" not in e]
                           + ['CREATE INDEX "tasks_actionId_createdAt_idx" ON "tasks"("actionId", "createdAt")'])  # fmt: skip
    for table, (columns, _) in tables.items():
        key = PRIMARY_KEYS.get(table, "id")
        out.append(
            f'CREATE TABLE "{table}" ('
            + ", ".join(columns)
            + f', CONSTRAINT "{table}_pkey" PRIMARY KEY ("{key}"))'
        )
    for _, (_, extra) in tables.items():
        out += extra
    out.append(LEDGER)
    return out


def build(
    conn: psycopg.Connection[Any], state: str = "latest", failed: str | None = None, push: bool = False
) -> None:
    """The schema at `state` and Prisma's ledger: the four migrations finished (or `failed` left failed);
    `push`: as `prisma db push` builds it (see `pushed`)."""
    for statement in ddl(state):
        conn.execute(pushed(statement) if push and statement != LEDGER else statement)
    for i, name in enumerate(MIGRATIONS[:2] if state == "2025-11" else MIGRATIONS):
        done = name != failed
        conn.execute(
            'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, finished_at, logs, applied_steps_count) '
            "VALUES (%s, %s, %s, CASE WHEN %s THEN now() END, %s, %s)",
            (f"00000000-0000-4000-8000-00000000000{i}", checksum(name), name, done,
             None if done else "ERROR: relation already exists", 1 if done else 0),
        )  # fmt: skip


POPULATE = """
INSERT INTO users (id, email, name, "companySize", "updatedAt")
    SELECT gen_random_uuid(), 'user' || g || '@example.com', 'User ' || g, 'SMALL', now() FROM generate_series(1, {users}) g;
INSERT INTO goals (id, "userId", title, progress, "updatedAt")
    SELECT gen_random_uuid(), u.id, 'Goal of ' || u.name, 10, now() FROM users u;
INSERT INTO sub_goals (id, "goalId", title, position, "updatedAt")
    SELECT gen_random_uuid(), g.id, 'Sub-goal ' || p, p, now() FROM goals g, generate_series(0, 7) p;
INSERT INTO actions (id, "subGoalId", title, position, "updatedAt")
    SELECT gen_random_uuid(), s.id, 'Action ' || p, p, now() FROM sub_goals s, generate_series(0, 7) p;
INSERT INTO tasks (id, "actionId", title, "estimatedMinutes", "updatedAt")
    SELECT gen_random_uuid(), a.id, 'Task ' || t, 15 * t, now() FROM actions a, generate_series(1, {tasks}) t;
INSERT INTO task_notes (id, "taskId", "userId", content, "updatedAt")
    SELECT gen_random_uuid(), t.id, g."userId", 'note', now() FROM tasks t JOIN actions a ON a.id = t."actionId"
    JOIN sub_goals s ON s.id = a."subGoalId" JOIN goals g ON g.id = s."goalId" WHERE t.title = 'Task 1';
INSERT INTO progress_history (id, "entityType", "entityId", progress)
    SELECT gen_random_uuid(), 'subgoal', id, progress FROM sub_goals;
"""

# Rows our constraints would reject, one kind each: what the dry run must name with its count.
PLANTED = {
    "goals.progress outside 0-100": "UPDATE goals SET progress = 150 WHERE id = (SELECT id FROM goals ORDER BY id LIMIT 1)",
    "tasks.estimatedMinutes <= 0": """UPDATE tasks SET "estimatedMinutes" = 0 WHERE id IN (SELECT id FROM tasks ORDER BY id LIMIT 2)""",
    "task_notes.userId pointing nowhere": """UPDATE task_notes SET "userId" = gen_random_uuid() WHERE id = (SELECT id FROM task_notes ORDER BY id LIMIT 1)""",
}  # fmt: skip


# The 2025-11 state's rows: every legacy label, estimates missing, task-level reflections; and its own
# blockers (an estimate of 0, a rating of 7), read through the older names.
POPULATE_2025_11 = """
INSERT INTO users (id, email, name, "updatedAt")
    SELECT gen_random_uuid(), 'user' || g || '@example.com', 'User ' || g, now() FROM generate_series(1, {users}) g;
INSERT INTO goals (id, "userId", title, progress, "updatedAt") SELECT gen_random_uuid(), u.id, 'Goal', 10, now() FROM users u;
INSERT INTO sub_goals (id, "goalId", title, position, "updatedAt")
    SELECT gen_random_uuid(), g.id, 'Sub-goal ' || p, p, now() FROM goals g, generate_series(0, 7) p;
INSERT INTO actions (id, "subGoalId", title, position, "updatedAt")
    SELECT gen_random_uuid(), s.id, 'Action ' || p, p, now() FROM sub_goals s, generate_series(0, 7) p;
INSERT INTO tasks (id, "actionId", title, type, status, "estimatedTime", "updatedAt")
    SELECT gen_random_uuid(), a.id, 'Task ' || t,
           (ARRAY['ACTION', 'LEARNING', 'RESEARCH', 'MEETING', 'REVIEW'])[1 + (a.position + t) % 5]::"TaskType",
           (ARRAY['PENDING', 'IN_PROGRESS', 'CANCELLED'])[1 + (a.position * 3 + t) % 3]::"TaskStatus",
           CASE WHEN t % 3 = 0 THEN NULL ELSE 20 * t END, now()
    FROM actions a, generate_series(1, {tasks}) t;
INSERT INTO reflections (id, "taskId", content, rating, "updatedAt")
    SELECT gen_random_uuid(), id, 'went well', 4, now() FROM tasks WHERE title = 'Task 1';
"""
PLANTED_2025_11 = {
    "tasks.estimatedTime 0 (estimated_minutes <= 0)": """UPDATE tasks SET "estimatedTime" = 0 WHERE id = (SELECT min(id::text)::uuid FROM tasks WHERE "estimatedTime" IS NOT NULL)""",
    "reflections.rating 7 (task_reflections rating outside 1-5)": "UPDATE reflections SET rating = 7 WHERE id = (SELECT min(id::text)::uuid FROM reflections)",
}  # fmt: skip


def populate_2025_11(
    conn: psycopg.Connection[Any], users: int = 2, tasks: int = 3, planted: bool = True
) -> None:
    conn.execute(POPULATE_2025_11.format(users=users, tasks=tasks))
    if planted:
        for statement in PLANTED_2025_11.values():
            conn.execute(statement)


def populate(conn: psycopg.Connection[Any], users: int = 3, tasks: int = 2, planted: bool = True) -> None:
    conn.execute(POPULATE.format(users=users, tasks=tasks))
    if planted:
        for statement in PLANTED.values():
            conn.execute(statement)


def _latest(url: DatabaseURL) -> None:
    with connect_to(url) as conn:
        build(conn)
        populate(conn)


def _clean(url: DatabaseURL) -> None:
    with connect_to(url) as conn:
        build(conn)
        populate(conn, planted=False)


@pytest.fixture
def prisma_db(admin_url: DatabaseURL, db_url: DatabaseURL) -> DatabaseURL:
    """The latest state, populated, with the PLANTED rows that break our constraints."""
    return from_template(admin_url, db_url, "prisma-latest", _latest)


@pytest.fixture
def clean_prisma_db(admin_url: DatabaseURL, db_url: DatabaseURL) -> DatabaseURL:
    """The latest state, populated, every row within our constraints."""
    return from_template(admin_url, db_url, "prisma-clean", _clean)
