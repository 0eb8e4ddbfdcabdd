"""ops/migrate/lint/rules/add_column_constraint.py, `add-column-constraint`: a constraint written inline in
ADD COLUMN is built or checked in the same ACCESS EXCLUSIVE statement: REFERENCES and CHECK scan the table,
UNIQUE and PRIMARY KEY build an index.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason quiets
it."""

from __future__ import annotations

from pathlib import Path

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import Case, fires_and_is_silent, is_waived, populated

__all__ = ["populated"]

CASE = Case(
    ["ALTER TABLE tasks ADD COLUMN owner_id uuid REFERENCES users (id)"],
    [
        "ALTER TABLE tasks ADD COLUMN owner_id uuid",
        "ALTER TABLE tasks ADD CONSTRAINT fk_tasks_owner FOREIGN KEY (owner_id) REFERENCES users (id) NOT VALID",
    ],
)


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("add-column-constraint", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("add-column-constraint", CASE, populated, tmp_path)
