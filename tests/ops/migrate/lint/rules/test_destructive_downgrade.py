"""ops/migrate/lint/rules/destructive_downgrade.py, `destructive-downgrade`: a revision that says its
downgrade throws data away: rolling back through it needs a backup.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason quiets
it."""

from __future__ import annotations

from pathlib import Path

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import Case, fires_and_is_silent, is_waived, populated

__all__ = ["populated"]

CASE = Case([], [], extra='destructive_downgrade = "drops tasks.priority"')


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("destructive-downgrade", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("destructive-downgrade", CASE, populated, tmp_path)
