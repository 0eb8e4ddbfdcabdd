"""ops/migrate/lint/rules/type_change_rewrite.py, `type-change-rewrite`: a type change that is not binary
coercible rewrites the table (and its indexes) under ACCESS EXCLUSIVE; varchar growth, varchar to text or a
numeric precision increase at the same scale does not.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason
quiets it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mandala_db.core.url import DatabaseURL
from mandala_db.ops.migrate.model import rewrites
from ops.migrate.lint.lintkit import Case, findings, fires_and_is_silent, is_waived, populated, rules

__all__ = ["populated"]

CASE = Case(
    ["ALTER TABLE tasks ALTER COLUMN estimated_minutes TYPE bigint"],
    ["ALTER TABLE tasks ALTER COLUMN title TYPE varchar(300)"],
)


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("type-change-rewrite", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("type-change-rewrite", CASE, populated, tmp_path)


@pytest.mark.parametrize(
    ("sql", "rewrites_table"),
    [
        ("ALTER TABLE tasks ALTER COLUMN estimated_minutes TYPE bigint", True),  # smallint -> bigint
        ("ALTER TABLE tasks ALTER COLUMN title TYPE varchar(300)", False),  # growth
        ("ALTER TABLE tasks ALTER COLUMN title TYPE varchar(100)", True),  # shrink: every value is checked
        ("ALTER TABLE tasks ALTER COLUMN title TYPE text", False),
        ("ALTER TABLE tasks ALTER COLUMN title TYPE varchar", False),
        ("ALTER TABLE tasks ALTER COLUMN title TYPE varchar(400) USING upper(title)", True),
        ("ALTER TABLE prices ALTER COLUMN amount TYPE numeric(12,2)", False),  # precision up, same scale
        ("ALTER TABLE prices ALTER COLUMN amount TYPE numeric(12,3)", True),  # scale changes
        ("ALTER TABLE prices ALTER COLUMN amount TYPE numeric", False),
        ("ALTER TABLE prices ALTER COLUMN code TYPE varbit(16)", False),
    ],
)
def test_type_change_is_flagged_only_when_postgresql_rewrites(
    sql: str, rewrites_table: bool, populated: DatabaseURL, tmp_path: Path
) -> None:
    assert ("type-change-rewrite" in rules(findings(populated, tmp_path, [sql]))) is rewrites_table


def test_rewrite_rule_follows_binary_coercibility() -> None:
    assert rewrites(("integer", ()), ("bigint", ()))
    assert not rewrites(("varchar", (200,)), ("varchar", (300,)))
    assert not rewrites(("varchar", (200,)), ("text", ()))
    assert not rewrites(("numeric", (10, 2)), ("numeric", (14, 2)))
    assert rewrites(("numeric", (10, 2)), ("numeric", (8, 2)))
