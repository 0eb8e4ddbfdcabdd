"""add workflow executions for batch task generation

Revision ID: 20250320000000_add_workflow_executions
Revises: 20250305000000_add_reminder_tables
Create Date: 2025-03-20 00:00:00
"""

from alembic import op

from mandala_db.migrations.archive import park_rows, restore_rows

revision = "20250320000000_add_workflow_executions"
down_revision = "20250305000000_add_reminder_tables"
branch_labels = None
depends_on = None

UPGRADE = [
    "CREATE TYPE workflow_status AS ENUM ('RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED')",
    """CREATE TABLE workflow_executions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    execution_arn varchar(500) NOT NULL,
    goal_id uuid NOT NULL,
    user_id uuid NOT NULL,
    status workflow_status DEFAULT 'RUNNING' NOT NULL,
    start_date timestamptz NOT NULL,
    stop_date timestamptz,
    input jsonb NOT NULL,
    output jsonb,
    progress_percentage smallint DEFAULT 0 NOT NULL,
    processed_actions smallint DEFAULT 0 NOT NULL,
    total_actions smallint NOT NULL,
    current_batch smallint DEFAULT 0 NOT NULL,
    total_batches smallint NOT NULL,
    estimated_time_remaining integer DEFAULT 0 NOT NULL,
    expires_at timestamptz,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT pk_workflow_executions PRIMARY KEY (id),
    CONSTRAINT uq_workflow_executions_execution_arn UNIQUE (execution_arn),
    CONSTRAINT ck_workflow_executions_progress_percentage_range CHECK (progress_percentage BETWEEN 0 AND 100),
    CONSTRAINT ck_workflow_executions_processed_within_total CHECK (processed_actions <= total_actions),
    CONSTRAINT fk_workflow_executions_goal_id_goals FOREIGN KEY (goal_id) REFERENCES goals (id) ON DELETE CASCADE,
    CONSTRAINT fk_workflow_executions_user_id_users FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
)""",
    "CREATE INDEX ix_workflow_executions_goal_id_created_at ON workflow_executions (goal_id, created_at)",
    "CREATE INDEX ix_workflow_executions_user_id_created_at ON workflow_executions (user_id, created_at)",
    "CREATE INDEX ix_workflow_executions_status_created_at ON workflow_executions (status, created_at)",
    "CREATE INDEX ix_workflow_executions_expires_at ON workflow_executions (expires_at) WHERE expires_at IS NOT NULL",
    "CREATE TRIGGER trg_workflow_executions_set_updated_at BEFORE UPDATE ON workflow_executions "
    "FOR EACH ROW EXECUTE FUNCTION set_updated_at()",
    restore_rows("workflow_executions"),
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    op.execute(park_rows("workflow_executions"))
    op.execute("DROP TABLE workflow_executions")
    op.execute("DROP TYPE workflow_status")
