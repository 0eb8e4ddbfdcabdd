"""add reminder tables: reminder logs, user preferences, habit-task reminder tracking

Revision ID: 20250305000000_add_reminder_tables
Revises: 20250212000000_task_management
Create Date: 2025-03-05 00:00:00
"""

from alembic import op

from mandala_db.migrations.archive import park_rows, restore_rows

revision = "20250305000000_add_reminder_tables"
down_revision = "20250212000000_task_management"
branch_labels = None
depends_on = None

TABLES = ["reminder_logs", "user_reminder_preferences", "habit_task_reminder_tracking"]

UPGRADE = [
    "CREATE TYPE email_status AS ENUM ('SENT', 'FAILED', 'BOUNCED')",
    "CREATE TYPE mood_preference AS ENUM ('STAY_ON_TRACK', 'CHANGE_PACE')",
    """CREATE TABLE reminder_logs (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    sent_at timestamptz NOT NULL,
    task_ids uuid[] DEFAULT '{}' NOT NULL,
    email_status email_status NOT NULL,
    message_id varchar(255),
    error_message text,
    retry_count smallint DEFAULT 0 NOT NULL,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT pk_reminder_logs PRIMARY KEY (id),
    CONSTRAINT ck_reminder_logs_retry_count_nonnegative CHECK (retry_count >= 0),
    CONSTRAINT fk_reminder_logs_user_id_users FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
)""",
    "CREATE INDEX ix_reminder_logs_user_id_sent_at ON reminder_logs (user_id, sent_at)",
    "CREATE INDEX ix_reminder_logs_email_status ON reminder_logs (email_status)",
    "CREATE INDEX ix_reminder_logs_sent_at ON reminder_logs (sent_at)",
    """CREATE TABLE user_reminder_preferences (
    user_id uuid NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    mood_preference mood_preference,
    last_reminder_sent_at timestamptz,
    unsubscribed_at timestamptz,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT pk_user_reminder_preferences PRIMARY KEY (user_id),
    CONSTRAINT fk_user_reminder_preferences_user_id_users FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
)""",
    "CREATE INDEX ix_user_reminder_preferences_enabled ON user_reminder_preferences (enabled)",
    "CREATE INDEX ix_user_reminder_preferences_last_reminder_sent_at "
    "ON user_reminder_preferences (last_reminder_sent_at)",
    """CREATE TABLE habit_task_reminder_tracking (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    task_id uuid NOT NULL,
    last_reminded_at timestamptz NOT NULL,
    reminder_count smallint DEFAULT 0 NOT NULL,
    iso_year smallint NOT NULL,
    iso_week smallint NOT NULL,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT pk_habit_task_reminder_tracking PRIMARY KEY (id),
    CONSTRAINT ck_habit_task_reminder_tracking_reminder_count_nonnegative CHECK (reminder_count >= 0),
    CONSTRAINT ck_habit_task_reminder_tracking_iso_week_range CHECK (iso_week BETWEEN 1 AND 53),
    CONSTRAINT uq_habit_task_reminder_tracking_task_id_iso_year_iso_week UNIQUE (task_id, iso_year, iso_week),
    CONSTRAINT fk_habit_task_reminder_tracking_task_id_tasks FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE CASCADE
)""",
    "CREATE INDEX ix_habit_task_reminder_tracking_last_reminded_at ON habit_task_reminder_tracking (last_reminded_at)",
    *(
        f"CREATE TRIGGER trg_{t}_set_updated_at BEFORE UPDATE ON {t} FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        for t in TABLES
    ),
    *(restore_rows(t) for t in TABLES),
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.execute(park_rows(table))
    op.execute("DROP TABLE habit_task_reminder_tracking, user_reminder_preferences, reminder_logs")
    op.execute("DROP TYPE mood_preference, email_status")
