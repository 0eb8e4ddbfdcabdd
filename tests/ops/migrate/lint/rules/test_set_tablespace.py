"""ops/migrate/lint/rules/set_tablespace.py, `set-tablespace`: ALTER TABLE ... SET TABLESPACE copies the
table's files under ACCESS EXCLUSIVE.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason quiets
it."""

from __future__ import annotations

from pathlib import Path

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import Case, fires_and_is_silent, is_waived, populated

__all__ = ["populated"]

CASE = Case(
    ["ALTER TABLE tasks SET TABLESPACE pg_default"],
    ["CREATE TABLE scratch (a int)", "ALTER TABLE scratch SET TABLESPACE pg_default"],
)


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("set-tablespace", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("set-tablespace", CASE, populated, tmp_path)
