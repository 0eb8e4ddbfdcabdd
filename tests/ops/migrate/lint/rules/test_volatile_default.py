"""ops/migrate/lint/rules/volatile_default.py, `volatile-default`: a column whose value is computed row by row
makes PostgreSQL write the whole table anew.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason
quiets it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import Case, findings, fires_and_is_silent, is_waived, populated, rules

__all__ = ["populated"]

CASE = Case(
    ["ALTER TABLE tasks ADD COLUMN token uuid DEFAULT gen_random_uuid()"],
    ["ALTER TABLE tasks ADD COLUMN seen_at timestamptz DEFAULT now()"],
)


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("volatile-default", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("volatile-default", CASE, populated, tmp_path)


@pytest.mark.parametrize(
    "column",
    [
        "token text DEFAULT md5(random()::text)",
        "n bigserial",
        "i int GENERATED ALWAYS AS IDENTITY",
        "g int GENERATED ALWAYS AS (estimated_minutes * 2) STORED",
    ],
)
def test_volatile_default_sees_every_value_computed_per_row(
    column: str, populated: DatabaseURL, tmp_path: Path
) -> None:
    assert rules(findings(populated, tmp_path, [f"ALTER TABLE tasks ADD COLUMN {column}"])) == [
        "volatile-default"
    ]
