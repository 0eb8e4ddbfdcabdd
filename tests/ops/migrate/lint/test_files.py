"""`mandala-db lint [FILE...]` without a database: plain .sql and revision files, each finding on its file
and line, in text, JSON, GitHub workflow commands and SARIF 2.1.0 (validated against Microsoft's published
SARIF schema); exit 5 on an unwaived error, 2 on a file that does not parse."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import in_project, run_cli
from ops.migrate.lint.lintkit import RISKY_SQL

# The schema ships in Microsoft's SARIF multitool package on the npm registry; pinned by its hash.


def test_a_sql_file_is_linted_without_a_database_each_finding_on_its_line(tmp_path: Path) -> None:
    sql = tmp_path / "change.sql"
    sql.write_text(RISKY_SQL)
    result = run_cli(
        "lint", str(sql), cwd=tmp_path, env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    )
    assert result.code == 5, result.output
    lines = result.stdout.splitlines()
    assert any(line.startswith("change.sql:2: error [non-concurrent-index]") for line in lines), result.stdout
    assert any(
        line.startswith("change.sql:4: error [truncate]") and "waived: the staging copy" in line
        for line in lines
    )
    # scratch is created by the same file: indexing it and shrinking its column are fine.
    assert "ix_scratch_note" not in result.stdout and "scratch.note" not in result.stdout
    assert "1 file(s): 1 error(s), 0 warning(s), 1 waived" in result.stdout


def _pending(project: Path, body: str, name: str = "20991231000000_pending") -> Path:
    versions = project / "src" / "mandala_db" / "migrations" / "versions"
    head = sorted(p.stem for p in versions.glob("2*.py"))[-1]
    path = versions / f"{name}.py"
    path.write_text(
        f'"""A pending change."""\n\nfrom alembic import op\n\nrevision = "{name}"\ndown_revision = "{head}"\n\n\n'
        f"def upgrade() -> None:\n{body}\n\n\ndef downgrade() -> None:\n    pass\n"
    )
    return path


def test_a_revision_is_judged_against_the_schema_its_history_builds(project: Path) -> None:
    path = _pending(
        project,
        '    op.execute("ALTER TABLE tasks ALTER COLUMN title TYPE varchar(300)")\n'
        '    op.execute("ALTER TABLE tasks ALTER COLUMN description TYPE text")\n'
        '    op.add_column("tasks", __import__("sqlalchemy").Column("weight", __import__("sqlalchemy").Integer(), nullable=False))\n'
        '    op.execute("ALTER TABLE goals ALTER COLUMN title TYPE varchar(10)")',
    )
    result = in_project(project, None, "lint", str(path))  # type: ignore[arg-type]
    assert result.code == 5, result.output
    errors = [line for line in result.stdout.splitlines() if " error [" in line]
    # varchar(200) -> varchar(300) and text -> text are known to be safe from the history; a shrink is not.
    assert len(errors) == 2, result.stdout
    assert ":12: error [not-null-without-default]" in errors[0] and "tasks.weight" in errors[0]
    assert ":13: error [type-change-rewrite]" in errors[1] and "goals.title from varchar" in errors[1]


def test_a_revision_outside_the_history_is_rendered_on_its_own(tmp_path: Path) -> None:
    path = tmp_path / "20991231000000_elsewhere.py"
    path.write_text(
        '"""Elsewhere."""\nfrom alembic import op\n\nrevision = "20991231000000_elsewhere"\ndown_revision = None\n\n'
        'def upgrade() -> None:\n    op.create_index("ix_tasks_title", "tasks", ["title"])\n'
    )
    result = run_cli("lint", str(path), cwd=tmp_path)
    assert result.code == 5 and "20991231000000_elsewhere.py:8: error [non-concurrent-index]" in result.stdout


def test_what_does_not_parse_is_named_by_file_and_line(tmp_path: Path) -> None:
    sql = tmp_path / "broken.sql"
    sql.write_text("CREATE TABLE a (id int);\n\nALTER TABLE a ADD COLUMN ;\n")
    result = run_cli("lint", str(sql), cwd=tmp_path)
    assert result.code == 2 and result.stdout == ""
    assert f"{sql}, line 3: syntax error at or near" in result.stderr
    assert run_cli("lint", str(tmp_path / "missing.sql")).code == 2
    assert "unknown --format" in run_cli("lint", "--format", "xml", str(sql)).stderr


def test_the_history_lints_clean(tmp_path: Path) -> None:
    result = run_cli("lint", "--format", "json", cwd=tmp_path)
    assert result.code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["ok"] and len(doc["files"]) >= 7
    assert all(f["waived"] or f["severity"] == "warning" for f in doc["findings"])


def test_the_corpus_without_a_database(tmp_path: Path) -> None:
    """Every migration of the corpus as a .sql file, linted with no database: each dangerous one draws a
    finding and no safe one does, though sizes are unknown (the history tells what exists and its types)."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from mandala_db.ops.migrate.lint.files import lint_files
    from ops.migrate.lint.corpus import DANGEROUS, SAFE

    missed, false = [], []
    for case in DANGEROUS + SAFE:
        path = tmp_path / f"{case.name}.sql"
        path.write_text(";\n".join(case.sql) + ";\n")
        found = {f.rule for f in lint_files([path]) if not f.waived}
        if case.rule is not None and not found:
            missed.append(case.name)
        if case.rule is None and found:
            false.append((case.name, found))
    assert missed == [] and false == []


def test_japanese_comments_before_a_statement_keep_its_text_and_line(tmp_path: Path) -> None:
    # pglast counts positions in characters; cutting the UTF-8 bytes there used to end in
    # "unexpected error: UnicodeDecodeError" (and, in a revision, a deploy that could not start).
    sql = tmp_path / "priority.sql"
    sql.write_text(
        "-- タスクに優先度を追加する（運用ガイド参照）\nALTER TABLE tasks ADD COLUMN priority int;\n"
        "-- インデックス作成の最適化\nCREATE INDEX ix_tasks_priority ON tasks (priority);\n",
        encoding="utf-8",
    )
    result = run_cli("lint", str(sql))
    assert result.code == 5, result.output
    assert "priority.sql:4: error [non-concurrent-index]" in result.stdout
    assert "unexpected" not in result.output
