"""ops/migrate/lint/rules/drop_table.py, `drop-table`: dropping a table that holds rows loses them, and the
running release may still read it.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason
quiets it."""

from __future__ import annotations

from pathlib import Path

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import Case, fires_and_is_silent, is_waived, populated

__all__ = ["populated"]

CASE = Case(["DROP TABLE prices"], ["CREATE TABLE scratch (a int)", "DROP TABLE scratch"])


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("drop-table", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("drop-table", CASE, populated, tmp_path)
