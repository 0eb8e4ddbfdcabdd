"""ops/migrate/lint/rules/constraint_builds_index.py, `constraint-builds-index`: a UNIQUE, PRIMARY KEY or
EXCLUDE constraint added as such builds its index under ACCESS EXCLUSIVE.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason quiets
it."""

from __future__ import annotations

from pathlib import Path

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import Case, fires_and_is_silent, is_waived, populated

__all__ = ["populated"]

CASE = Case(
    ["ALTER TABLE tasks ADD CONSTRAINT uq_tasks_title UNIQUE (title)"],
    [
        "CREATE UNIQUE INDEX CONCURRENTLY uq_tasks_title ON tasks (title)",
        "ALTER TABLE tasks ADD CONSTRAINT uq_tasks_title UNIQUE USING INDEX uq_tasks_title",
    ],
)


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("constraint-builds-index", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("constraint-builds-index", CASE, populated, tmp_path)
