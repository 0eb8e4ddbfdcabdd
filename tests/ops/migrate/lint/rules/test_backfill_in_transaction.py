"""ops/migrate/lint/rules/backfill_in_transaction.py, `backfill-in-transaction`: ADD COLUMN then UPDATE of
that column in the same transaction: the ACCESS EXCLUSIVE lock the ADD COLUMN took is held until the whole
backfill commits, so every read and write of the table waits for it.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason quiets
it."""

from __future__ import annotations

from pathlib import Path

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import Case, fires_and_is_silent, is_waived, populated

__all__ = ["populated"]

CASE = Case(
    [
        "ALTER TABLE prices ADD COLUMN cents bigint",
        "UPDATE prices SET cents = amount * 100 WHERE id BETWEEN 1 AND 1000",
    ],
    ["ALTER TABLE prices ADD COLUMN cents bigint"],
)


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("backfill-in-transaction", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("backfill-in-transaction", CASE, populated, tmp_path)
