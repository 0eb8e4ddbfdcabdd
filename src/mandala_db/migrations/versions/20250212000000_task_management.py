"""task management: action types, task notes, history and saved views; task enums rewritten

Revision ID: 20250212000000_task_management
Revises: 20250122000000_add_processing_state
Create Date: 2025-02-12 00:00:00

task_type ACTION, LEARNING, RESEARCH, MEETING, REVIEW becomes EXECUTION, HABIT (REVIEW -> HABIT, the rest ->
EXECUTION; down: HABIT -> REVIEW, EXECUTION -> ACTION). task_status PENDING, IN_PROGRESS, COMPLETED, CANCELLED
becomes NOT_STARTED, IN_PROGRESS, COMPLETED, SKIPPED (PENDING <-> NOT_STARTED, CANCELLED <-> SKIPPED).
tasks.estimated_time (nullable integer) becomes estimated_minutes smallint NOT NULL > 0, nulls backfilled
with 30. Task titles grow to 255 characters; the downgrade refuses while a title is longer than 200.
"""

from alembic import op

# Lint waivers: this revision reshapes `tasks` as a whole, under one ACCESS EXCLUSIVE lock and one rewrite.
# mandala-db: allow enum-label-removed: every legacy label is mapped explicitly in the USING clauses below
# mandala-db: allow type-change-rewrite: the enum rewrite rewrites tasks anyway; one ALTER TABLE does it once
# mandala-db: allow constraint-not-valid: the CHECK is added right after the rewrite, under the same lock
# mandala-db: allow non-concurrent-index: deadline is a new, empty column; the build is one cheap scan
# mandala-db: allow set-not-null: done inside the same rewrite, after NULLs are backfilled with 30

from mandala_db.migrations.archive import park_columns, park_rows, restore_columns, restore_rows

revision = "20250212000000_task_management"
down_revision = "20250122000000_add_processing_state"
branch_labels = None
depends_on = None

NEW_TABLES = ["task_notes", "task_history", "saved_views"]

UPGRADE = [
    "CREATE TYPE action_type AS ENUM ('EXECUTION', 'HABIT')",
    "ALTER TABLE actions ADD COLUMN type action_type DEFAULT 'EXECUTION' NOT NULL",
    restore_columns("actions", "type"),
    # Enum rewrite: a new type, every column moved over with an explicit mapping, the old type dropped.
    # Defaults that name the old type are dropped before the change and set again after it.
    "ALTER TYPE task_type RENAME TO task_type_legacy",
    "CREATE TYPE task_type AS ENUM ('EXECUTION', 'HABIT')",
    "ALTER TYPE task_status RENAME TO task_status_legacy",
    "CREATE TYPE task_status AS ENUM ('NOT_STARTED', 'IN_PROGRESS', 'COMPLETED', 'SKIPPED')",
    "ALTER TABLE tasks ALTER COLUMN type DROP DEFAULT, ALTER COLUMN status DROP DEFAULT",
    # One ALTER TABLE, so the table is rewritten once, not once per column.
    """ALTER TABLE tasks
    ALTER COLUMN type TYPE task_type
        USING (CASE type::text WHEN 'REVIEW' THEN 'HABIT' ELSE 'EXECUTION' END)::task_type,
    ALTER COLUMN status TYPE task_status
        USING (CASE status::text WHEN 'PENDING' THEN 'NOT_STARTED' WHEN 'CANCELLED' THEN 'SKIPPED'
               ELSE status::text END)::task_status,
    ALTER COLUMN title TYPE varchar(255),
    ALTER COLUMN estimated_time TYPE smallint USING COALESCE(estimated_time, 30),
    ALTER COLUMN estimated_time SET NOT NULL,
    ADD COLUMN deadline timestamptz""",
    "ALTER TABLE tasks ALTER COLUMN type SET DEFAULT 'EXECUTION', ALTER COLUMN status SET DEFAULT 'NOT_STARTED'",
    "DROP TYPE task_type_legacy, task_status_legacy",
    "ALTER TABLE tasks RENAME COLUMN estimated_time TO estimated_minutes",
    "ALTER TABLE tasks ADD CONSTRAINT ck_tasks_estimated_minutes_positive CHECK (estimated_minutes > 0)",
    "CREATE INDEX ix_tasks_deadline ON tasks (deadline)",
    restore_columns("tasks", "deadline"),
    """CREATE TABLE task_notes (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    task_id uuid NOT NULL,
    user_id uuid NOT NULL,
    content text NOT NULL,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT pk_task_notes PRIMARY KEY (id),
    CONSTRAINT fk_task_notes_task_id_tasks FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE CASCADE,
    CONSTRAINT fk_task_notes_user_id_users FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
)""",
    "CREATE INDEX ix_task_notes_task_id ON task_notes (task_id)",
    "CREATE INDEX ix_task_notes_created_at ON task_notes (created_at)",
    "CREATE TRIGGER trg_task_notes_set_updated_at BEFORE UPDATE ON task_notes "
    "FOR EACH ROW EXECUTE FUNCTION set_updated_at()",
    """CREATE TABLE task_history (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    task_id uuid NOT NULL,
    user_id uuid NOT NULL,
    old_status task_status NOT NULL,
    new_status task_status NOT NULL,
    changed_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT pk_task_history PRIMARY KEY (id),
    CONSTRAINT fk_task_history_task_id_tasks FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE CASCADE,
    CONSTRAINT fk_task_history_user_id_users FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
)""",
    "CREATE INDEX ix_task_history_task_id ON task_history (task_id)",
    "CREATE INDEX ix_task_history_changed_at ON task_history (changed_at)",
    """CREATE TABLE saved_views (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    name varchar(255) NOT NULL,
    filters jsonb NOT NULL,
    search_query varchar(255),
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT pk_saved_views PRIMARY KEY (id),
    CONSTRAINT fk_saved_views_user_id_users FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
)""",
    "CREATE INDEX ix_saved_views_user_id ON saved_views (user_id)",
    "CREATE INDEX ix_saved_views_created_at ON saved_views (created_at)",
    "CREATE TRIGGER trg_saved_views_set_updated_at BEFORE UPDATE ON saved_views "
    "FOR EACH ROW EXECUTE FUNCTION set_updated_at()",
    *(restore_rows(t) for t in NEW_TABLES),
]

DOWNGRADE = [
    # Refuse rather than truncate: nothing has changed yet when this raises.
    """DO $mandala$
DECLARE
    too_long bigint;
BEGIN
    SELECT count(*) INTO too_long FROM tasks WHERE length(title) > 200;
    IF too_long > 0 THEN
        RAISE EXCEPTION 'cannot downgrade 20250212000000_task_management: % task title(s) longer than 200 characters', too_long
            USING HINT = 'shorten them to 200 characters or fewer first; nothing was changed';
    END IF;
END
$mandala$""",
    *(park_rows(t) for t in reversed(NEW_TABLES)),
    "DROP TABLE saved_views, task_history, task_notes",
    park_columns("tasks", "deadline"),
    "ALTER TABLE tasks DROP CONSTRAINT ck_tasks_estimated_minutes_positive",
    "ALTER TABLE tasks RENAME COLUMN estimated_minutes TO estimated_time",
    "ALTER TYPE task_type RENAME TO task_type_current",
    "CREATE TYPE task_type AS ENUM ('ACTION', 'LEARNING', 'RESEARCH', 'MEETING', 'REVIEW')",
    "ALTER TYPE task_status RENAME TO task_status_current",
    "CREATE TYPE task_status AS ENUM ('PENDING', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED')",
    "ALTER TABLE tasks ALTER COLUMN type DROP DEFAULT, ALTER COLUMN status DROP DEFAULT",
    """ALTER TABLE tasks
    DROP COLUMN deadline,
    ALTER COLUMN type TYPE task_type
        USING (CASE type::text WHEN 'HABIT' THEN 'REVIEW' ELSE 'ACTION' END)::task_type,
    ALTER COLUMN status TYPE task_status
        USING (CASE status::text WHEN 'NOT_STARTED' THEN 'PENDING' WHEN 'SKIPPED' THEN 'CANCELLED'
               ELSE status::text END)::task_status,
    ALTER COLUMN title TYPE varchar(200),
    ALTER COLUMN estimated_time TYPE integer,
    ALTER COLUMN estimated_time DROP NOT NULL""",
    "ALTER TABLE tasks ALTER COLUMN type SET DEFAULT 'ACTION', ALTER COLUMN status SET DEFAULT 'PENDING'",
    "DROP TYPE task_type_current, task_status_current",
    park_columns("actions", "type"),
    "ALTER TABLE actions DROP COLUMN type",
    "DROP TYPE action_type",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
