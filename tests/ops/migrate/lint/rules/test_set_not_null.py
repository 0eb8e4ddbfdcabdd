"""ops/migrate/lint/rules/set_not_null.py, `set-not-null`: SET NOT NULL reads every row under ACCESS EXCLUSIVE
unless a validated CHECK (col IS NOT NULL) proves it already (PostgreSQL 12+); ADD PRIMARY KEY sets NOT NULL
on its columns the same way.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason
quiets it."""

from __future__ import annotations

from pathlib import Path

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import Case, findings, fires_and_is_silent, is_waived, populated, rules

__all__ = ["populated"]

CASE = Case(
    ["ALTER TABLE tasks ALTER COLUMN description SET NOT NULL"],
    ["ALTER TABLE tasks ADD CONSTRAINT description_nn CHECK (description IS NOT NULL) NOT VALID"],
)


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("set-not-null", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("set-not-null", CASE, populated, tmp_path)


def test_a_primary_key_using_an_index_of_not_null_columns_sets_nothing(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    nullable = ["CREATE UNIQUE INDEX CONCURRENTLY uq_prices_amount ON prices (amount)",
                "ALTER TABLE prices DROP CONSTRAINT prices_pkey",
                "ALTER TABLE prices ADD CONSTRAINT pk_prices PRIMARY KEY USING INDEX uq_prices_amount"]  # fmt: skip
    assert "set-not-null" in rules(findings(populated, tmp_path, nullable))
    not_null = ["CREATE UNIQUE INDEX CONCURRENTLY uq_prices_id ON prices (id)",
                "ALTER TABLE prices DROP CONSTRAINT prices_pkey",
                "ALTER TABLE prices ADD CONSTRAINT pk_prices PRIMARY KEY USING INDEX uq_prices_id"]  # fmt: skip
    assert rules(findings(populated, tmp_path, not_null)) == []
