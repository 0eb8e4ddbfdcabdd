"""ops/migrate/lint/rules/not_null_without_default.py, `not-null-without-default`: a NOT NULL column without a
default cannot be added to a table that has rows: the deploy fails.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason
quiets it."""

from __future__ import annotations

from pathlib import Path

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import Case, fires_and_is_silent, is_waived, populated

__all__ = ["populated"]

CASE = Case(
    ["ALTER TABLE tasks ADD COLUMN priority smallint NOT NULL"],
    ["ALTER TABLE tasks ADD COLUMN priority smallint NOT NULL DEFAULT 3"],
)


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("not-null-without-default", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("not-null-without-default", CASE, populated, tmp_path)
