"""ops/migrate/lint/engine.py: the walk. Each unit is a transaction of its own, judged against the schema the
earlier units left; a finding names its rule, revision, file and line, and a waiver with a reason turns an
error into a note that does not block; a waiver that cannot be read is itself an error, on its own line."""

from __future__ import annotations

from pathlib import Path

from mandala_db.ops.migrate.analysis import analyze
from mandala_db.ops.migrate.lint.engine import LintFinding, Unit, lint_units
from mandala_db.ops.migrate.model import SchemaModel, TableModel


def populated_model() -> SchemaModel:
    # rows_of answers for every table: a live catalog where tasks holds a million rows
    return SchemaModel(tables={"tasks": TableModel(columns={"id": None})}, rows_of=lambda t: 1_000_000)


def unit(ident: str, sql: str, source: str = "") -> Unit:
    return Unit(ident, Path(f"/tmp/{ident}.sql"), source or sql, analyze(sql), line_of=lambda st: 3)


def test_a_finding_says_its_rule_revision_file_line_and_the_safe_way() -> None:
    [finding] = lint_units([unit("r1", "CREATE INDEX tasks_due ON tasks (due)")], populated_model())
    assert (finding.rule, finding.severity, finding.revision, finding.line) == (
        "non-concurrent-index",
        "error",
        "r1",
        3,
    )
    assert finding.file == "/tmp/r1.sql" and finding.blocking
    assert (
        finding.text().startswith("error [non-concurrent-index] r1: ")
        and "(instead: CREATE INDEX CONCURRENTLY" in finding.text()
    )
    doc = finding.to_dict()
    assert doc["lock"].startswith("SHARE") and doc["statement"] == "CREATE INDEX tasks_due ON tasks (due)"


def test_a_table_an_earlier_unit_created_is_empty_for_the_later_ones() -> None:
    found = lint_units(
        [unit("r1", "CREATE TABLE notes (id int)"), unit("r2", "CREATE INDEX notes_id ON notes (id)")],
        populated_model(),
    )
    assert found == []


def test_a_waiver_with_a_reason_stops_blocking_and_one_without_is_an_error_of_its_own() -> None:
    sql = "CREATE INDEX tasks_due ON tasks (due)"
    waived = "-- mandala-db: allow non-concurrent-index: built at night, the service is down\n" + sql
    [finding] = lint_units([unit("r1", sql, waived)], populated_model())
    assert finding.waived == "built at night, the service is down" and not finding.blocking
    assert "(waived: built at night" in finding.text()
    unreasoned = "-- mandala-db: allow non-concurrent-index\n" + sql
    found = lint_units([unit("r1", sql, unreasoned)], populated_model())
    assert [(f.rule, f.line) for f in found] == [("bad-waiver", 1), ("non-concurrent-index", 3)]
    assert "without a reason" in found[0].message and all(f.blocking for f in found)


def test_a_warning_never_blocks() -> None:
    finding = LintFinding("rename", "warning", "r1", "renames a column")
    assert not finding.blocking
