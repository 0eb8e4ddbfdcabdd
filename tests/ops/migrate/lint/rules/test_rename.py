"""ops/migrate/lint/rules/rename.py, `rename`: a rename breaks the running release at once: it still asks for
the old name.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason quiets
it."""

from __future__ import annotations

from pathlib import Path

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import Case, fires_and_is_silent, is_waived, populated

__all__ = ["populated"]

CASE = Case(["ALTER TABLE tasks RENAME COLUMN title TO name"], ["ALTER TABLE tasks ADD COLUMN name text"])


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("rename", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("rename", CASE, populated, tmp_path)
