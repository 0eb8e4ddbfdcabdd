"""Every lint rule as a unit: a revision that triggers it on a populated table, the safe form that stays
silent, and a waiver. The facts come from a real database (row estimates, column types, enum labels,
pg_proc's volatility), the statements from PostgreSQL's own parser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import run_cli
from mandala_db.core import catalog
from mandala_db.core.config import DatabaseURL
from mandala_db.ops.migrate.analysis import analyze
from mandala_db.ops.migrate.lint import RULES, LintFinding, lint, rewrites
from mandala_db.ops.migrate.loader import read_revision
from mandala_db.ops.migrate.plan import TableStats


@pytest.fixture(scope="module")
def populated(admin_url: DatabaseURL) -> Iterator[DatabaseURL]:
    """The whole schema with the demo data set, and a table with a numeric column, all analysed."""
    from conftest import create_database, drop_database

    name = "mdb_lint_rules"
    drop_database(admin_url, name)
    url = create_database(admin_url, name)
    assert run_cli("migrate", "deploy", url=url).code == 0
    assert run_cli("seed", "demo", url=url).code == 0
    with psycopg.connect(**_params(url), autocommit=True) as c:
        c.execute("CREATE TABLE prices (amount numeric(10,2), code varbit(8))")
        c.execute("INSERT INTO prices SELECT g, B'101' FROM generate_series(1, 100) g")
        c.execute("ANALYZE")
    yield url
    drop_database(admin_url, name)


def _params(url: DatabaseURL) -> dict[str, Any]:
    return dict(url.libpq_params())


def findings(
    url: DatabaseURL, tmp_path: Path, sql: list[str], header: str = "", extra: str = ""
) -> list[LintFinding]:
    path = tmp_path / "20991231000000_under_test.py"
    path.write_text(
        f'"""Under test."""\n{header}revision = "20991231000000_under_test"\ndown_revision = None\n{extra}\n'
    )
    with psycopg.connect(**_params(url), autocommit=True) as conn:
        stats = TableStats(conn, "public")
        facts = stats.facts(catalog.take(conn, "public"))
        statements = [st for s in sql for st in analyze(s)]
        return lint(read_revision(path), statements, facts)


def rules(found: list[LintFinding]) -> list[str]:
    return sorted(f.rule for f in found if f.waived is None)


CASES: dict[str, tuple[list[str], list[str]]] = {
    # rule: (statements that trigger it on a populated table, the safe form)
    "drop-table": (["DROP TABLE prices"], ["CREATE TABLE scratch (a int)", "DROP TABLE scratch"]),
    "drop-column": (
        ["ALTER TABLE tasks DROP COLUMN description"],
        ["CREATE TABLE scratch (a int, b int)", "ALTER TABLE scratch DROP COLUMN b"],
    ),
    "not-null-without-default": (
        ["ALTER TABLE tasks ADD COLUMN priority smallint NOT NULL"],
        ["ALTER TABLE tasks ADD COLUMN priority smallint NOT NULL DEFAULT 3"],
    ),
    "volatile-default": (
        ["ALTER TABLE tasks ADD COLUMN token uuid DEFAULT gen_random_uuid()"],
        ["ALTER TABLE tasks ADD COLUMN seen_at timestamptz DEFAULT now()"],
    ),
    "set-not-null": (
        ["ALTER TABLE tasks ALTER COLUMN description SET NOT NULL"],
        ["ALTER TABLE tasks ADD CONSTRAINT description_nn CHECK (description IS NOT NULL) NOT VALID"],
    ),
    "type-change-rewrite": (
        ["ALTER TABLE tasks ALTER COLUMN estimated_minutes TYPE bigint"],
        ["ALTER TABLE tasks ALTER COLUMN title TYPE varchar(300)"],
    ),
    "non-concurrent-index": (
        ["CREATE INDEX ix_tasks_title ON tasks (title)"],
        ["CREATE INDEX CONCURRENTLY ix_tasks_title ON tasks (title)"],
    ),
    "constraint-not-valid": (
        ["ALTER TABLE tasks ADD CONSTRAINT minutes_positive CHECK (estimated_minutes > 0)"],
        ["ALTER TABLE tasks ADD CONSTRAINT minutes_positive CHECK (estimated_minutes > 0) NOT VALID"],
    ),
    "rename": (["ALTER TABLE tasks RENAME COLUMN title TO name"], ["ALTER TABLE tasks ADD COLUMN name text"]),
    "enum-label-removed": (
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
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_rule_fires_on_the_risky_form_and_is_silent_on_the_safe_one(
    rule: str, populated: DatabaseURL, tmp_path: Path
) -> None:
    risky, safe = CASES[rule]
    found = findings(populated, tmp_path, risky)
    assert rule in rules(found), [f.line() for f in found]
    assert all(f.severity == RULES[f.rule].severity for f in found)
    assert rules(findings(populated, tmp_path, safe)) == [], [
        f.line() for f in findings(populated, tmp_path, safe)
    ]


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_rule_is_waived_by_a_comment_with_a_reason(
    rule: str, populated: DatabaseURL, tmp_path: Path
) -> None:
    found = findings(
        populated, tmp_path, CASES[rule][0], header=f"# mandala-db: allow {rule}: reviewed, safe here\n"
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


def test_destructive_downgrade_is_a_warning_and_can_be_waived(populated: DatabaseURL, tmp_path: Path) -> None:
    declared = 'destructive_downgrade = "drops tasks.priority"'
    assert rules(findings(populated, tmp_path, [], extra=declared)) == ["destructive-downgrade"]
    assert rules(findings(populated, tmp_path, [])) == []
    waived = findings(
        populated,
        tmp_path,
        [],
        header="# mandala-db: allow destructive-downgrade: backed up\n",
        extra=declared,
    )
    assert [f.waived for f in waived] == ["backed up"]


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
        ("ALTER TABLE tasks ALTER COLUMN estimated_minutes TYPE integer", True),  # smallint -> integer
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
    assert rewrites(("integer", []), ("bigint", []))
    assert not rewrites(("varchar", [200]), ("varchar", [300]))
    assert not rewrites(("varchar", [200]), ("text", []))
    assert not rewrites(("numeric", [10, 2]), ("numeric", [14, 2]))
    assert rewrites(("numeric", [10, 2]), ("numeric", [8, 2]))


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
    found = findings(populated, tmp_path, CASES["non-concurrent-index"][0], header=comment + "\n")
    bad = [f for f in found if f.rule == "bad-waiver"]
    assert len(bad) == 1 and bad[0].blocking
    assert "20991231000000_under_test.py, line 2" in bad[0].message and problem in bad[0].message
    # ... and it waived nothing: the rule it meant still blocks.
    assert [f.blocking for f in found if f.rule == "non-concurrent-index"] == [True]
