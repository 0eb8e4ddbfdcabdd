"""`mandala-db lint [FILE...]` without a database: plain .sql and revision files, each finding on its file
and line, in text, JSON, GitHub workflow commands and SARIF 2.1.0 (validated against Microsoft's published
SARIF schema); exit 5 on an unwaived error, 2 on a file that does not parse."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from conftest import in_project, run_cli

# The schema ships in Microsoft's SARIF multitool package on the npm registry; pinned by its hash.
SARIF_PACKAGE = "@microsoft/sarif-multitool-linux@5.7.0"
SARIF_SCHEMA_SHA256 = "1c49a0f2b60444c71bb14878e21e0d882198eff4c539861b133093ad89ed798c"

RISKY_SQL = """-- a hand-written migration
CREATE INDEX ix_tasks_title ON tasks (title);
-- mandala-db: allow truncate: the staging copy is rebuilt every night
TRUNCATE task_reminders;
CREATE TABLE scratch (id int PRIMARY KEY, note varchar(20));
CREATE INDEX ix_scratch_note ON scratch (note);
ALTER TABLE scratch ALTER COLUMN note TYPE varchar(10);
"""


@pytest.fixture(scope="session")
def sarif_schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mandala-db-tests"
    path = cache / "sarif-2.1.0.json"
    if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != SARIF_SCHEMA_SHA256:
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: the SARIF schema cannot be fetched")
        work = tmp_path_factory.mktemp("sarif")
        subprocess.run(
            [npm, "pack", SARIF_PACKAGE, "-q"], cwd=work, check=True, capture_output=True, timeout=300
        )
        (tarball,) = work.glob("*.tgz")
        with tarfile.open(tarball) as tar:
            member = tar.extractfile("package/sarif-2.1.0.json")
            assert member is not None
            data = member.read()
        assert hashlib.sha256(data).hexdigest() == SARIF_SCHEMA_SHA256
        cache.mkdir(parents=True, exist_ok=True)
        partial = cache / f".sarif-2.1.0.json.{os.getpid()}"  # two workers may fetch at once: rename, whole
        partial.write_bytes(data)
        os.replace(partial, path)
    return dict(json.loads(path.read_text()))


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


def test_json_github_and_sarif_formats(tmp_path: Path, sarif_schema: dict[str, Any]) -> None:
    import jsonschema

    sql = tmp_path / "change.sql"
    sql.write_text(RISKY_SQL)
    doc = json.loads(run_cli("lint", "--format", "json", str(sql), cwd=tmp_path).stdout)
    assert not doc["ok"] and [(f["rule"], f["line"], f["waived"]) for f in doc["findings"]] == [
        ("non-concurrent-index", 2, None),
        ("truncate", 4, "the staging copy is rebuilt every night"),
    ]
    github = run_cli("lint", "--format", "github", str(sql), cwd=tmp_path).stdout.splitlines()
    assert github[0].startswith("::error file=change.sql,line=2,title=mandala-db non-concurrent-index::")
    assert github[1].startswith("::notice file=change.sql,line=4,title=mandala-db truncate::")
    result = run_cli("lint", "--format", "sarif", str(sql), cwd=tmp_path)
    assert result.code == 5
    log = json.loads(result.stdout)
    jsonschema.Draft202012Validator(sarif_schema).validate(log)
    run = log["runs"][0]
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} >= {
        "non-concurrent-index",
        "truncate",
        "drop-index",
    }
    found = [
        (r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in run["results"]
    ]
    assert found == [("non-concurrent-index", 2), ("truncate", 4)]
    assert run["results"][1]["suppressions"] == [
        {"kind": "inSource", "justification": "the staging copy is rebuilt every night"}
    ]
    # A SARIF log that is wrong in shape is refused by the schema: the validation is not vacuous.
    broken = json.loads(result.stdout)
    broken["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(sarif_schema).validate(broken)


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
