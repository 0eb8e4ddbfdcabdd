"""Every lint rule as a unit: a revision that triggers it on a populated table, the safe form that stays
silent, and a waiver. The facts come from a real database (row estimates, column types, keys, enum labels,
pg_proc's volatility), the statements from PostgreSQL's own parser."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from mandala_db.core.url import DatabaseURL
from mandala_db.ops.migrate.lint import RULES
from mandala_db.ops.migrate.model import rewrites
from ops.migrate.lint.lintkit import findings, populated, rules, shown

__all__ = ["populated"]


@dataclass(frozen=True)
class Case:
    trigger: list[str]  # statements that trip the rule on the populated database
    safe: list[str]  # the safe way to the same end, which must stay silent
    extra: str = ""  # revision-file lines the case needs (destructive_downgrade)


CASES: dict[str, Case] = {
    "drop-table": Case(["DROP TABLE prices"], ["CREATE TABLE scratch (a int)", "DROP TABLE scratch"]),
    "drop-column": Case(
        ["ALTER TABLE tasks DROP COLUMN description"],
        ["CREATE TABLE scratch (a int, b int)", "ALTER TABLE scratch DROP COLUMN b"],
    ),
    "not-null-without-default": Case(
        ["ALTER TABLE tasks ADD COLUMN priority smallint NOT NULL"],
        ["ALTER TABLE tasks ADD COLUMN priority smallint NOT NULL DEFAULT 3"],
    ),
    "volatile-default": Case(
        ["ALTER TABLE tasks ADD COLUMN token uuid DEFAULT gen_random_uuid()"],
        ["ALTER TABLE tasks ADD COLUMN seen_at timestamptz DEFAULT now()"],
    ),
    "set-not-null": Case(
        ["ALTER TABLE tasks ALTER COLUMN description SET NOT NULL"],
        ["ALTER TABLE tasks ADD CONSTRAINT description_nn CHECK (description IS NOT NULL) NOT VALID"],
    ),
    "type-change-rewrite": Case(
        ["ALTER TABLE tasks ALTER COLUMN estimated_minutes TYPE bigint"],
        ["ALTER TABLE tasks ALTER COLUMN title TYPE varchar(300)"],
    ),
    "non-concurrent-index": Case(
        ["CREATE INDEX ix_tasks_title ON tasks (title)"],
        ["CREATE INDEX CONCURRENTLY ix_tasks_title ON tasks (title)"],
    ),
    "constraint-not-valid": Case(
        ["ALTER TABLE tasks ADD CONSTRAINT time_positive CHECK (estimated_minutes > 0)"],
        ["ALTER TABLE tasks ADD CONSTRAINT time_positive CHECK (estimated_minutes > 0) NOT VALID"],
    ),
    "rename": Case(
        ["ALTER TABLE tasks RENAME COLUMN title TO name"], ["ALTER TABLE tasks ADD COLUMN name text"]
    ),
    "enum-label-removed": Case(
        [
            "ALTER TYPE action_type RENAME TO action_type_old",
            "CREATE TYPE action_type AS ENUM ('EXECUTION')",
            "DROP TYPE action_type_old",
        ],
        [
            "ALTER TYPE action_type ADD VALUE 'ROUTINE'",
            "ALTER TYPE action_type RENAME VALUE 'HABIT' TO 'ROUTINE_HABIT'",
        ],
    ),
    "destructive-downgrade": Case([], [], extra='destructive_downgrade = "drops tasks.priority"'),
    "drop-index": Case(["DROP INDEX ix_tasks_status"], ["DROP INDEX CONCURRENTLY ix_tasks_status"]),
    "reindex": Case(["REINDEX INDEX ix_tasks_status"], ["REINDEX INDEX CONCURRENTLY ix_tasks_status"]),
    "constraint-builds-index": Case(
        ["ALTER TABLE tasks ADD CONSTRAINT uq_tasks_title UNIQUE (title)"],
        [
            "CREATE UNIQUE INDEX CONCURRENTLY uq_tasks_title ON tasks (title)",
            "ALTER TABLE tasks ADD CONSTRAINT uq_tasks_title UNIQUE USING INDEX uq_tasks_title",
        ],
    ),
    "add-column-constraint": Case(
        ["ALTER TABLE tasks ADD COLUMN owner_id uuid REFERENCES users (id)"],
        [
            "ALTER TABLE tasks ADD COLUMN owner_id uuid",
            "ALTER TABLE tasks ADD CONSTRAINT fk_tasks_owner FOREIGN KEY (owner_id) REFERENCES users (id) NOT VALID",
        ],
    ),
    "truncate": Case(["TRUNCATE task_reminders"], ["CREATE TABLE scratch (a int)", "TRUNCATE scratch"]),
    "delete-without-where": Case(
        ["DELETE FROM task_reminders"],
        ["DELETE FROM task_reminders WHERE id = '00000000-0000-0000-0000-000000000000'"],
    ),
    "unbatched-write": Case(
        ["UPDATE tasks SET description = '' WHERE description IS NULL"],
        [
            "UPDATE tasks SET description = '' WHERE id IN "
            "(SELECT id FROM tasks WHERE description IS NULL ORDER BY id LIMIT 1000)"
        ],
    ),
    "backfill-in-transaction": Case(
        [
            "ALTER TABLE prices ADD COLUMN cents bigint",
            "UPDATE prices SET cents = amount * 100 WHERE id BETWEEN 1 AND 1000",
        ],
        ["ALTER TABLE prices ADD COLUMN cents bigint"],
    ),
    "cluster": Case(
        ["CLUSTER tasks USING ix_tasks_status"],
        ["CREATE TABLE scratch (a int PRIMARY KEY)", "CLUSTER scratch USING scratch_pkey"],
    ),
    "vacuum-full": Case(["VACUUM FULL tasks"], ["VACUUM tasks"]),
    "set-tablespace": Case(
        ["ALTER TABLE tasks SET TABLESPACE pg_default"],
        ["CREATE TABLE scratch (a int)", "ALTER TABLE scratch SET TABLESPACE pg_default"],
    ),
    "set-logged": Case(
        ["ALTER TABLE tasks SET UNLOGGED"],
        ["CREATE TABLE scratch (a int)", "ALTER TABLE scratch SET UNLOGGED"],
    ),
    "lock-table": Case(["LOCK TABLE tasks IN SHARE MODE"], ["LOCK TABLE tasks IN ROW EXCLUSIVE MODE"]),
    "validate-in-transaction": Case(
        [
            "ALTER TABLE tasks ADD CONSTRAINT time_positive CHECK (estimated_minutes > 0) NOT VALID",
            "ALTER TABLE tasks VALIDATE CONSTRAINT time_positive",
        ],
        ["ALTER TABLE tasks VALIDATE CONSTRAINT ck_tasks_anything"],
    ),
    "refresh-materialized-view": Case(
        ["REFRESH MATERIALIZED VIEW task_counts"], ["REFRESH MATERIALIZED VIEW CONCURRENTLY task_counts"]
    ),
    "fails-at-deploy": Case(
        ["ALTER TABLE tasks ADD COLUMN title text"], ["ALTER TABLE tasks ADD COLUMN IF NOT EXISTS title text"]
    ),
    "drop-cascade": Case(["DROP TYPE action_type CASCADE"], ["DROP TYPE IF EXISTS some_unused_type"]),
}
TESTED_APART = {"bad-waiver"}  # test_a_waiver_without_a_reason_or_with_an_unknown_rule_is_itself_an_error


def test_every_rule_has_a_trigger_a_safe_form_and_a_waiver_test() -> None:
    assert set(CASES) | TESTED_APART == set(RULES)
    for name, case in CASES.items():
        assert case.trigger or case.extra, f"{name} has no trigger"
    assert all(CASES[n].safe for n in CASES if n != "destructive-downgrade")


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_rule_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    rule: str, populated: DatabaseURL, tmp_path: Path
) -> None:
    case = CASES[rule]
    found = findings(populated, tmp_path, case.trigger, extra=case.extra)
    assert rule in rules(found), shown(found)
    assert all(f.severity == RULES[f.rule].severity for f in found)
    silent = findings(populated, tmp_path, case.safe)
    assert rules(silent) == [], shown(silent)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_rule_is_waived_by_a_comment_with_a_reason(
    rule: str, populated: DatabaseURL, tmp_path: Path
) -> None:
    case = CASES[rule]
    found = findings(
        populated,
        tmp_path,
        case.trigger,
        header=f"# mandala-db: allow {rule}: reviewed, safe here\n",
        extra=case.extra,
    )
    waived = [f for f in found if f.rule == rule]
    assert waived and all(f.waived == "reviewed, safe here" and not f.blocking for f in waived)


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


@pytest.mark.parametrize(
    ("comment", "problem"),
    [
        ("# mandala-db: allow non-concurrent-index", "without a reason"),
        ("# mandala-db: allow non-concurrent-index:   ", "without a reason"),
        ("# mandala-db: allow non-concurent-index: a typo", "which is not a rule"),
        ("# mandala-db: allow bad-waiver: nice try", "which is not a rule"),
        ("# mandala-db: permit non-concurrent-index: wrong verb", "cannot read"),
    ],
)
def test_a_waiver_without_a_reason_or_with_an_unknown_rule_is_itself_an_error(
    comment: str, problem: str, populated: DatabaseURL, tmp_path: Path
) -> None:
    found = findings(populated, tmp_path, CASES["non-concurrent-index"].trigger, header=comment + "\n")
    bad = [f for f in found if f.rule == "bad-waiver"]
    assert len(bad) == 1 and bad[0].blocking and bad[0].line == 2
    assert "20991231000000_under_test.py, line 2" in bad[0].message and problem in bad[0].message
    # ... and it waived nothing: the rule it meant still blocks.
    assert [f.blocking for f in found if f.rule == "non-concurrent-index"] == [True]


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
