"""ops/migrate/lint/rules/non_concurrent_index.py, `non-concurrent-index`: CREATE INDEX without CONCURRENTLY
holds a SHARE lock for the whole build: every write waits.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason
quiets it."""

from __future__ import annotations

from pathlib import Path

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import Case, fires_and_is_silent, is_waived, populated

__all__ = ["populated"]

CASE = Case(
    ["CREATE INDEX ix_tasks_title ON tasks (title)"],
    ["CREATE INDEX CONCURRENTLY ix_tasks_title ON tasks (title)"],
)


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("non-concurrent-index", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("non-concurrent-index", CASE, populated, tmp_path)
