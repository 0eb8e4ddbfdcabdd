"""init: users, goals, sub-goals, actions, tasks, reminders and task-level reflections

Revision ID: 20241217000000_init
Revises:
Create Date: 2024-12-17 00:00:00

Tasks still carry the legacy task_type and task_status labels and a nullable estimated_time;
20250212000000_task_management rewrites them.
"""

from alembic import op

from mandala_db.migrations.archive import park_rows, restore_rows

revision = "20241217000000_init"
down_revision = None
branch_labels = None
depends_on = None

TABLES = ["users", "goals", "sub_goals", "actions", "tasks", "task_reminders", "reflections"]

UPGRADE = [
    """CREATE FUNCTION set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END;
$$""",
    "CREATE TYPE user_industry AS ENUM ('TECHNOLOGY', 'FINANCE', 'HEALTHCARE', 'EDUCATION', 'MANUFACTURING', "
    "'RETAIL', 'CONSULTING', 'GOVERNMENT', 'NON_PROFIT', 'OTHER')",
    "CREATE TYPE company_size AS ENUM ('STARTUP', 'SMALL', 'MEDIUM', 'LARGE', 'ENTERPRISE')",
    "CREATE TYPE goal_status AS ENUM ('ACTIVE', 'COMPLETED', 'PAUSED', 'CANCELLED')",
    "CREATE TYPE reminder_status AS ENUM ('PENDING', 'SENT', 'FAILED', 'CANCELLED')",
    "CREATE TYPE task_type AS ENUM ('ACTION', 'LEARNING', 'RESEARCH', 'MEETING', 'REVIEW')",
    "CREATE TYPE task_status AS ENUM ('PENDING', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED')",
    """CREATE TABLE users (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    email varchar(255) NOT NULL,
    name varchar(100) NOT NULL,
    industry user_industry,
    company_size company_size,
    job_type varchar(100),
    position varchar(100),
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT pk_users PRIMARY KEY (id)
)""",
    "CREATE UNIQUE INDEX uq_users_lower_email ON users (lower(email))",
    """CREATE TABLE goals (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    title varchar(200) NOT NULL,
    description text,
    deadline timestamptz,
    background text,
    constraints text,
    status goal_status DEFAULT 'ACTIVE' NOT NULL,
    progress smallint DEFAULT 0 NOT NULL,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT pk_goals PRIMARY KEY (id),
    CONSTRAINT ck_goals_progress_range CHECK (progress BETWEEN 0 AND 100),
    CONSTRAINT fk_goals_user_id_users FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
)""",
    "CREATE INDEX ix_goals_user_id_status ON goals (user_id, status)",
    "CREATE INDEX ix_goals_user_id_created_at ON goals (user_id, created_at)",
    """CREATE TABLE sub_goals (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    goal_id uuid NOT NULL,
    title varchar(200) NOT NULL,
    description text,
    background text,
    constraints text,
    position smallint NOT NULL,
    progress smallint DEFAULT 0 NOT NULL,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT pk_sub_goals PRIMARY KEY (id),
    CONSTRAINT ck_sub_goals_position_range CHECK (position BETWEEN 0 AND 7),
    CONSTRAINT ck_sub_goals_progress_range CHECK (progress BETWEEN 0 AND 100),
    CONSTRAINT uq_sub_goals_goal_id_position UNIQUE (goal_id, position),
    CONSTRAINT fk_sub_goals_goal_id_goals FOREIGN KEY (goal_id) REFERENCES goals (id) ON DELETE CASCADE
)""",
    """CREATE TABLE actions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    sub_goal_id uuid NOT NULL,
    title varchar(200) NOT NULL,
    description text,
    background text,
    constraints text,
    position smallint NOT NULL,
    progress smallint DEFAULT 0 NOT NULL,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT pk_actions PRIMARY KEY (id),
    CONSTRAINT ck_actions_position_range CHECK (position BETWEEN 0 AND 7),
    CONSTRAINT ck_actions_progress_range CHECK (progress BETWEEN 0 AND 100),
    CONSTRAINT uq_actions_sub_goal_id_position UNIQUE (sub_goal_id, position),
    CONSTRAINT fk_actions_sub_goal_id_sub_goals FOREIGN KEY (sub_goal_id) REFERENCES sub_goals (id) ON DELETE CASCADE
)""",
    """CREATE TABLE tasks (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    action_id uuid NOT NULL,
    title varchar(200) NOT NULL,
    description text,
    type task_type DEFAULT 'ACTION' NOT NULL,
    status task_status DEFAULT 'PENDING' NOT NULL,
    estimated_time integer,
    completed_at timestamptz,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT pk_tasks PRIMARY KEY (id),
    CONSTRAINT fk_tasks_action_id_actions FOREIGN KEY (action_id) REFERENCES actions (id) ON DELETE CASCADE
)""",
    "CREATE INDEX ix_tasks_action_id_status ON tasks (action_id, status)",
    "CREATE INDEX ix_tasks_status ON tasks (status)",
    "CREATE INDEX ix_tasks_created_at ON tasks (created_at)",
    """CREATE TABLE task_reminders (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    task_id uuid NOT NULL,
    remind_at timestamptz NOT NULL,
    message text,
    status reminder_status DEFAULT 'PENDING' NOT NULL,
    sent_at timestamptz,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT pk_task_reminders PRIMARY KEY (id),
    CONSTRAINT fk_task_reminders_task_id_tasks FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE CASCADE
)""",
    "CREATE INDEX ix_task_reminders_task_id_remind_at ON task_reminders (task_id, remind_at)",
    "CREATE INDEX ix_task_reminders_remind_at ON task_reminders (remind_at) WHERE status = 'PENDING'",
    # Task-level reflections; 20250409000000_split_reflections renames this table to task_reflections.
    """CREATE TABLE reflections (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    task_id uuid NOT NULL,
    content text NOT NULL,
    rating smallint,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT pk_reflections PRIMARY KEY (id),
    CONSTRAINT ck_reflections_rating_range CHECK (rating BETWEEN 1 AND 5),
    CONSTRAINT fk_reflections_task_id_tasks FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE CASCADE
)""",
    "CREATE INDEX ix_reflections_task_id_created_at ON reflections (task_id, created_at)",
    *(
        f"CREATE TRIGGER trg_{t}_set_updated_at BEFORE UPDATE ON {t} FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        for t in TABLES
    ),
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)
    # Rows parked by an earlier downgrade come back, parents before children.
    for table in TABLES:
        op.execute(restore_rows(table))


def downgrade() -> None:
    for table in TABLES:
        op.execute(park_rows(table))
    op.execute("DROP TABLE reflections, task_reminders, tasks, actions, sub_goals, goals, users")
    op.execute("DROP TYPE task_status, task_type, reminder_status, goal_status, company_size, user_industry")
    op.execute("DROP FUNCTION set_updated_at()")
