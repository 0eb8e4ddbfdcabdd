"""ops/migrate/lint/rules/drop_cascade.py, `drop-cascade`: DROP ... CASCADE drops whatever depends on the
object, which the revision does not name: DROP TYPE of an enum drops every column of that type with its
data.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason quiets
it."""

from __future__ import annotations

from pathlib import Path

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import Case, fires_and_is_silent, is_waived, populated

__all__ = ["populated"]

CASE = Case(["DROP TYPE action_type CASCADE"], ["DROP TYPE IF EXISTS some_unused_type"])


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("drop-cascade", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("drop-cascade", CASE, populated, tmp_path)
