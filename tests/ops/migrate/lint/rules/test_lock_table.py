"""ops/migrate/lint/rules/lock_table.py, `lock-table`: an explicit LOCK TABLE in a mode that conflicts with
writes stops the application for the rest of the transaction, however quick the statements after it are.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason
quiets it."""

from __future__ import annotations

from pathlib import Path

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import Case, fires_and_is_silent, is_waived, populated

__all__ = ["populated"]

CASE = Case(["LOCK TABLE tasks IN SHARE MODE"], ["LOCK TABLE tasks IN ROW EXCLUSIVE MODE"])


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("lock-table", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("lock-table", CASE, populated, tmp_path)
