"""ops/migrate/lint/rules/vacuum_full.py, `vacuum-full`: VACUUM FULL copies the whole table under ACCESS
EXCLUSIVE, unlike a plain VACUUM.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason
quiets it."""

from __future__ import annotations

from pathlib import Path

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import Case, fires_and_is_silent, is_waived, populated

__all__ = ["populated"]

CASE = Case(["VACUUM FULL tasks"], ["VACUUM tasks"])


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("vacuum-full", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("vacuum-full", CASE, populated, tmp_path)
