"""What the lint tests share: a populated database (the whole schema, the demo data set, analysed) and a
way to lint a few statements as one pending revision against it, through the same walk `migrate plan` uses."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import run_cli
from mandala_db.core import catalog
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.migrate.analysis import Statement, analyze
from mandala_db.ops.migrate.lint import RULES, LintFinding, lint_units
from mandala_db.ops.migrate.loader import read_revision
from mandala_db.ops.migrate.plan import TableStats, revision_unit

REVISION = "20991231000000_under_test"


@pytest.fixture(scope="session")
def populated(admin_url: DatabaseURL) -> Iterator[DatabaseURL]:
    """The whole schema with the demo data set, a table with numeric and varbit columns, and an empty
    table, all analysed."""
    from conftest import create_database, drop_database

    name = f"mdb_lint_rules_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    drop_database(admin_url, name)
    url = create_database(admin_url, name)
    assert run_cli("migrate", "deploy", url=url).code == 0
    assert run_cli("seed", "demo", url=url).code == 0
    with psycopg.connect(**dict(url.libpq_params()), autocommit=True) as c:
        c.execute("CREATE TABLE prices (id int PRIMARY KEY, amount numeric(10,2), code varbit(8))")
        c.execute("INSERT INTO prices SELECT g, g, B'101' FROM generate_series(1, 100) g")
        c.execute("CREATE TABLE empty_things (id int PRIMARY KEY, name varchar(50))")
        from ops.migrate.lint.corpus import SETUP

        for statement in SETUP:
            c.execute(statement)
        c.execute("ANALYZE")
    yield url
    drop_database(admin_url, name)


def revision_file(tmp_path: Path, header: str = "", extra: str = "") -> Path:
    path = tmp_path / f"{REVISION}.py"
    path.write_text(f'"""Under test."""\n{header}revision = "{REVISION}"\ndown_revision = None\n{extra}\n')
    return path


def lint_sql(
    url: DatabaseURL, tmp_path: Path, sql: list[str], header: str = "", extra: str = ""
) -> tuple[list[LintFinding], list[Statement]]:
    """Lint the statements as one revision against the live database; the statements come back assessed."""
    path = revision_file(tmp_path, header, extra)
    with psycopg.connect(**dict(url.libpq_params()), autocommit=True) as conn:
        stats = TableStats(conn, "public")
        model = stats.model(catalog.take(conn, "public"))
        statements = [st for s in sql for st in analyze(s)]
        return lint_units([revision_unit(read_revision(path), statements)], model), statements


def findings(
    url: DatabaseURL, tmp_path: Path, sql: list[str], header: str = "", extra: str = ""
) -> list[LintFinding]:
    return lint_sql(url, tmp_path, sql, header, extra)[0]


def rules(found: list[LintFinding]) -> list[str]:
    return sorted({f.rule for f in found if f.waived is None})


def shown(found: list[Any]) -> list[str]:
    return [f.text() for f in found]


@dataclass(frozen=True)
class Case:
    """A rule's unit test: its file under tests/ops/migrate/lint/rules/ names it CASE."""

    trigger: list[str]  # statements that trip the rule on the populated database
    safe: list[str]  # the safe way to the same end, which must stay silent
    extra: str = ""  # revision-file lines the case needs (destructive_downgrade)


def fires_and_is_silent(rule: str, case: Case, url: DatabaseURL, tmp_path: Path) -> None:
    found = findings(url, tmp_path, case.trigger, extra=case.extra)
    assert rule in rules(found), shown(found)
    assert all(f.severity == RULES[f.rule].severity for f in found)
    silent = findings(url, tmp_path, case.safe)
    assert rules(silent) == [], shown(silent)


def is_waived(rule: str, case: Case, url: DatabaseURL, tmp_path: Path) -> None:
    header = f"# mandala-db: allow {rule}: reviewed, safe here\n"
    found = findings(url, tmp_path, case.trigger, header=header, extra=case.extra)
    waived = [f for f in found if f.rule == rule]
    assert waived and all(f.waived == "reviewed, safe here" and not f.blocking for f in waived)


RISKY_SQL = """-- a hand-written migration
CREATE INDEX ix_tasks_title ON tasks (title);
-- mandala-db: allow truncate: the staging copy is rebuilt every night
TRUNCATE task_reminders;
CREATE TABLE scratch (id int PRIMARY KEY, note varchar(20));
CREATE INDEX ix_scratch_note ON scratch (note);
ALTER TABLE scratch ALTER COLUMN note TYPE varchar(10);
"""
