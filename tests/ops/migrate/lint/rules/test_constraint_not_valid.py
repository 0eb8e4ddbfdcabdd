"""ops/migrate/lint/rules/constraint_not_valid.py, `constraint-not-valid`: a foreign key or CHECK added
without NOT VALID is checked against every row while the table is locked.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason quiets
it."""

from __future__ import annotations

from pathlib import Path

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import Case, fires_and_is_silent, is_waived, populated

__all__ = ["populated"]

CASE = Case(
    ["ALTER TABLE tasks ADD CONSTRAINT time_positive CHECK (estimated_minutes > 0)"],
    ["ALTER TABLE tasks ADD CONSTRAINT time_positive CHECK (estimated_minutes > 0) NOT VALID"],
)


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("constraint-not-valid", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("constraint-not-valid", CASE, populated, tmp_path)
