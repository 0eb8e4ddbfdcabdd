"""ops/migrate/lint/rules/fails_at_deploy.py, `fails-at-deploy`: a statement the schema says cannot succeed:
it creates a column, table, index or enum label that is already there, drops a table other tables reference
or a type columns use without CASCADE, or (against a live database, where the schema is known in full)
names a table, column or index that is not there. What exists is known without a database too (the history
built it); what does not, only with one. The deploy would stop there, with the revision's earlier
statements rolled back.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason quiets
it."""

from __future__ import annotations

from pathlib import Path

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import Case, fires_and_is_silent, is_waived, populated

__all__ = ["populated"]

CASE = Case(
    ["ALTER TABLE tasks ADD COLUMN title text"], ["ALTER TABLE tasks ADD COLUMN IF NOT EXISTS title text"]
)


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("fails-at-deploy", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("fails-at-deploy", CASE, populated, tmp_path)
