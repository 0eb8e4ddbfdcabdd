"""ops/migrate/lint/rules/cluster.py, `cluster`: CLUSTER rewrites the table in index order under ACCESS
EXCLUSIVE: reads and writes wait throughout.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason
quiets it."""

from __future__ import annotations

from pathlib import Path

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import Case, fires_and_is_silent, is_waived, populated

__all__ = ["populated"]

CASE = Case(
    ["CLUSTER tasks USING ix_tasks_status"],
    ["CREATE TABLE scratch (a int PRIMARY KEY)", "CLUSTER scratch USING scratch_pkey"],
)


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("cluster", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("cluster", CASE, populated, tmp_path)
