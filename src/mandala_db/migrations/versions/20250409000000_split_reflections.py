"""split reflections: the task-level table becomes task_reflections; a goal-level reflections table is new

Revision ID: 20250409000000_split_reflections
Revises: 20250320000000_add_workflow_executions
Create Date: 2025-04-09 00:00:00

The rename keeps every task reflection (same rows, same ids). The downgrade renames them back, and drops the
goal-level reflections with their rows: it is destructive, and says so below so the tool flags it first.
"""

from alembic import op

revision = "20250409000000_split_reflections"
down_revision = "20250320000000_add_workflow_executions"
branch_labels = None
depends_on = None

# The application release that reads task_reflections ships with this revision, and the old name is reused
# at once by the new goal-level table, so there is no window in which both names could be served.
# mandala-db: allow rename: the release that reads task_reflections ships with this revision (schema.md)

# Read by mandala-db: a rollback through this revision is flagged, confirmed, and backed up first.
destructive_downgrade = "drops the goal-level reflections table and every row in it"

# Object names follow the table so that the naming convention (and drift detection) stays exact.
RENAMES = [
    ("CONSTRAINT", "pk_reflections", "pk_task_reflections"),
    ("CONSTRAINT", "ck_reflections_rating_range", "ck_task_reflections_rating_range"),
    ("CONSTRAINT", "fk_reflections_task_id_tasks", "fk_task_reflections_task_id_tasks"),
    ("INDEX", "ix_reflections_task_id_created_at", "ix_task_reflections_task_id_created_at"),
    ("TRIGGER", "trg_reflections_set_updated_at", "trg_task_reflections_set_updated_at"),
]


def _rename(table: str, kind: str, old: str, new: str) -> str:
    if kind == "CONSTRAINT":
        return f"ALTER TABLE {table} RENAME CONSTRAINT {old} TO {new}"
    if kind == "INDEX":
        return f"ALTER INDEX {old} RENAME TO {new}"
    return f"ALTER TRIGGER {old} ON {table} RENAME TO {new}"


def upgrade() -> None:
    op.execute("ALTER TABLE reflections RENAME TO task_reflections")
    for kind, old, new in RENAMES:
        op.execute(_rename("task_reflections", kind, old, new))
    op.execute(
        """CREATE TABLE reflections (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    goal_id uuid NOT NULL,
    summary text NOT NULL,
    regretful_actions text,
    slow_progress_actions text,
    untouched_actions text,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT pk_reflections PRIMARY KEY (id),
    CONSTRAINT fk_reflections_goal_id_goals FOREIGN KEY (goal_id) REFERENCES goals (id) ON DELETE CASCADE
)"""
    )
    op.execute("CREATE INDEX ix_reflections_goal_id_created_at ON reflections (goal_id, created_at DESC)")
    op.execute(
        "CREATE TRIGGER trg_reflections_set_updated_at BEFORE UPDATE ON reflections "
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )


def downgrade() -> None:
    op.execute("DROP TABLE reflections")
    op.execute("ALTER TABLE task_reflections RENAME TO reflections")
    for kind, old, new in reversed(RENAMES):
        op.execute(_rename("reflections", kind, new, old))
