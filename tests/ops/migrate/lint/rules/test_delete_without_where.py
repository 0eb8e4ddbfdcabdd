"""ops/migrate/lint/rules/delete_without_where.py, `delete-without-where`: DELETE without WHERE in a migration
deletes every row of a production table.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason
quiets it."""

from __future__ import annotations

from pathlib import Path

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import Case, fires_and_is_silent, is_waived, populated

__all__ = ["populated"]

CASE = Case(
    ["DELETE FROM task_reminders"],
    ["DELETE FROM task_reminders WHERE id = '00000000-0000-0000-0000-000000000000'"],
)


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("delete-without-where", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("delete-without-where", CASE, populated, tmp_path)
