"""ops/migrate/lint/rules/drop_column.py, `drop-column`: dropping a column loses its data, and the running
release may still select or insert it.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason
quiets it."""

from __future__ import annotations

from pathlib import Path

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import Case, fires_and_is_silent, is_waived, populated

__all__ = ["populated"]

CASE = Case(
    ["ALTER TABLE tasks DROP COLUMN description"],
    ["CREATE TABLE scratch (a int, b int)", "ALTER TABLE scratch DROP COLUMN b"],
)


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("drop-column", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("drop-column", CASE, populated, tmp_path)
