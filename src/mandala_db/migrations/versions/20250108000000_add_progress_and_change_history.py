"""add progress and change history

Revision ID: 20250108000000_add_progress_and_change_history
Revises: 20241217000000_init
Create Date: 2025-01-08 00:00:00
"""

from alembic import op

from mandala_db.migrations.archive import park_rows, restore_rows

revision = "20250108000000_add_progress_and_change_history"
down_revision = "20241217000000_init"
branch_labels = None
depends_on = None

UPGRADE = [
    """CREATE TABLE progress_history (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    entity_type varchar(20) NOT NULL,
    entity_id uuid NOT NULL,
    progress smallint NOT NULL,
    recorded_at timestamptz DEFAULT now() NOT NULL,
    created_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT pk_progress_history PRIMARY KEY (id),
    CONSTRAINT ck_progress_history_entity_type_allowed
        CHECK (entity_type::text IN ('goal'::text, 'sub_goal'::text, 'action'::text, 'task'::text)),
    CONSTRAINT ck_progress_history_progress_range CHECK (progress BETWEEN 0 AND 100)
)""",
    "CREATE INDEX ix_progress_history_entity_type_entity_id_recorded_at "
    "ON progress_history (entity_type, entity_id, recorded_at)",
    "CREATE INDEX ix_progress_history_recorded_at ON progress_history (recorded_at)",
    """CREATE TABLE change_history (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    entity_type varchar(20) NOT NULL,
    entity_id uuid NOT NULL,
    user_id uuid NOT NULL,
    changed_at timestamptz DEFAULT now() NOT NULL,
    changes jsonb NOT NULL,
    created_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT pk_change_history PRIMARY KEY (id),
    CONSTRAINT ck_change_history_entity_type_allowed
        CHECK (entity_type::text IN ('goal'::text, 'sub_goal'::text, 'action'::text)),
    CONSTRAINT fk_change_history_user_id_users FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
)""",
    "CREATE INDEX ix_change_history_entity_type_entity_id_changed_at "
    "ON change_history (entity_type, entity_id, changed_at)",
    "CREATE INDEX ix_change_history_user_id_changed_at ON change_history (user_id, changed_at)",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)
    op.execute(restore_rows("progress_history"))
    op.execute(restore_rows("change_history"))


def downgrade() -> None:
    op.execute(park_rows("change_history"))
    op.execute(park_rows("progress_history"))
    op.execute("DROP TABLE change_history, progress_history")
