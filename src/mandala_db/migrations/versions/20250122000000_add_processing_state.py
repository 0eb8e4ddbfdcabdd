"""add processing state for asynchronous AI generation jobs

Revision ID: 20250122000000_add_processing_state
Revises: 20250108000000_add_progress_and_change_history
Create Date: 2025-01-22 00:00:00
"""

from alembic import op

from mandala_db.migrations.archive import park_rows, restore_rows

revision = "20250122000000_add_processing_state"
down_revision = "20250108000000_add_progress_and_change_history"
branch_labels = None
depends_on = None

UPGRADE = [
    "CREATE TYPE processing_type AS ENUM ('SUBGOAL_GENERATION', 'ACTION_GENERATION', 'TASK_GENERATION')",
    "CREATE TYPE processing_status AS ENUM ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'TIMEOUT', 'CANCELLED')",
    """CREATE TABLE processing_state (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    type processing_type NOT NULL,
    status processing_status DEFAULT 'PENDING' NOT NULL,
    target_id uuid,
    progress smallint DEFAULT 0 NOT NULL,
    result jsonb,
    error jsonb,
    retry_count smallint DEFAULT 0 NOT NULL,
    completed_at timestamptz,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT pk_processing_state PRIMARY KEY (id),
    CONSTRAINT ck_processing_state_progress_range CHECK (progress BETWEEN 0 AND 100),
    CONSTRAINT ck_processing_state_retry_count_nonnegative CHECK (retry_count >= 0),
    CONSTRAINT fk_processing_state_user_id_users FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
)""",
    "CREATE INDEX ix_processing_state_user_id_created_at ON processing_state (user_id, created_at)",
    "CREATE INDEX ix_processing_state_status_created_at ON processing_state (status, created_at)",
    "CREATE INDEX ix_processing_state_type_status ON processing_state (type, status)",
    "CREATE TRIGGER trg_processing_state_set_updated_at BEFORE UPDATE ON processing_state "
    "FOR EACH ROW EXECUTE FUNCTION set_updated_at()",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)
    op.execute(restore_rows("processing_state"))


def downgrade() -> None:
    op.execute(park_rows("processing_state"))
    op.execute("DROP TABLE processing_state")
    op.execute("DROP TYPE processing_status, processing_type")
