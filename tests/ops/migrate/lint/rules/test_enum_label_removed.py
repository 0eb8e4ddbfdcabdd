"""ops/migrate/lint/rules/enum_label_removed.py, `enum-label-removed`: an enum label that disappears,
whichever way (renamed aside and recreated, DROP TYPE and CREATE TYPE, a new type renamed over the old),
leaves the rows that use it with no value to convert to.

The risky form fires on the populated database, the safe form stays silent, a waiver with a reason quiets
it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mandala_db.core.url import DatabaseURL
from ops.migrate.lint.lintkit import Case, findings, fires_and_is_silent, is_waived, populated

__all__ = ["populated"]

CASE = Case(
    [
        "ALTER TYPE action_type RENAME TO action_type_old",
        "CREATE TYPE action_type AS ENUM ('EXECUTION')",
        "DROP TYPE action_type_old",
    ],
    [
        "ALTER TYPE action_type ADD VALUE 'ROUTINE'",
        "ALTER TYPE action_type RENAME VALUE 'HABIT' TO 'ROUTINE_HABIT'",
    ],
)


def test_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    populated: DatabaseURL, tmp_path: Path
) -> None:
    fires_and_is_silent("enum-label-removed", CASE, populated, tmp_path)


def test_is_waived_by_a_comment_with_a_reason(populated: DatabaseURL, tmp_path: Path) -> None:
    is_waived("enum-label-removed", CASE, populated, tmp_path)


@pytest.mark.parametrize(
    "ways",
    [
        ["DROP TYPE action_type CASCADE", "CREATE TYPE action_type AS ENUM ('EXECUTION')"],
        [
            "CREATE TYPE action_type_new AS ENUM ('EXECUTION', 'ROUTINE')",
            "ALTER TABLE actions ALTER COLUMN type TYPE action_type_new USING type::text::action_type_new",
            "DROP TYPE action_type",
            "ALTER TYPE action_type_new RENAME TO action_type",
        ],
    ],
    ids=["drop and create", "create new and rename over"],
)
def test_enum_label_removed_whatever_way_the_label_goes(
    ways: list[str], populated: DatabaseURL, tmp_path: Path
) -> None:
    found = [f for f in findings(populated, tmp_path, ways) if f.rule == "enum-label-removed"]
    assert len(found) == 1 and "loses HABIT" in found[0].message
