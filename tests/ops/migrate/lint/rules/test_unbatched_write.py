"""ops/migrate/lint/rules/unbatched_write.py, `unbatched-write`: one UPDATE (or DELETE with a WHERE) over a
populated table is a backfill in one statement: every row it touches stays locked until it commits, and the
table bloats by as many dead rows.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason
quiets it."""

from __future__ import annotations

from pathlib import Path

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import Case, fires_and_is_silent, is_waived, populated

__all__ = ["populated"]

CASE = Case(
    ["UPDATE tasks SET description = '' WHERE description IS NULL"],
    [
        "UPDATE tasks SET description = '' WHERE id IN "
        "(SELECT id FROM tasks WHERE description IS NULL ORDER BY id LIMIT 1000)"
    ],
)


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("unbatched-write", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("unbatched-write", CASE, populated, tmp_path)
