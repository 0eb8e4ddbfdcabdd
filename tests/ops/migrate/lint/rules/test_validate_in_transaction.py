"""ops/migrate/lint/rules/validate_in_transaction.py, `validate-in-transaction`: VALIDATE CONSTRAINT is the
cheap half of NOT VALID only in a transaction of its own: after ADD CONSTRAINT (or any strong lock on the
table) in the same transaction, the scan runs under that lock.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason quiets
it."""

from __future__ import annotations

from pathlib import Path

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import Case, fires_and_is_silent, is_waived, populated

__all__ = ["populated"]

CASE = Case(
    [
        "ALTER TABLE tasks ADD CONSTRAINT time_positive CHECK (estimated_minutes > 0) NOT VALID",
        "ALTER TABLE tasks VALIDATE CONSTRAINT time_positive",
    ],
    ["ALTER TABLE tasks VALIDATE CONSTRAINT ck_tasks_anything"],
)


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("validate-in-transaction", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("validate-in-transaction", CASE, populated, tmp_path)
