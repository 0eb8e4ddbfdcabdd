"""cli/lint: `mandala-db lint [FILE...]` needs no database. No file lints the whole history (which is
clean); --list-rules prints the README's table; an unknown format is bad input; an unwaived error is exit 5
with the count and the way out; --json is the JSON format."""

from __future__ import annotations

import json
from pathlib import Path

from cli.clikit import one_error_line
from conftest import run_cli
from mandala_db.cli.lint_views import rules_table
from ops.migrate.lint.lintkit import RISKY_SQL

NOWHERE = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}


def test_no_file_lints_the_history_and_it_is_clean() -> None:
    result = run_cli("--json", "lint", env=NOWHERE)
    assert result.code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["ok"] and len(doc["files"]) >= 7


def test_list_rules_prints_the_readmes_table() -> None:
    result = run_cli("lint", "--list-rules", env=NOWHERE)
    assert (result.code, result.stdout) == (0, rules_table())


def test_an_unknown_format_is_bad_input_with_the_choices(tmp_path: Path) -> None:
    result = run_cli("lint", "--format", "xml", env=NOWHERE)
    assert result.code == 2 and "use one of text, json, github, sarif" in one_error_line(result)


def test_an_unwaived_error_is_exit_5_with_the_count(tmp_path: Path) -> None:
    sql = tmp_path / "change.sql"
    sql.write_text(RISKY_SQL)
    result = run_cli("lint", str(sql), cwd=tmp_path, env=NOWHERE)
    assert result.code == 5
    assert "1 lint error(s) not waived in 1 file(s)" in one_error_line(result)
    doc = json.loads(run_cli("--json", "lint", str(sql), cwd=tmp_path, env=NOWHERE).stdout)
    assert doc["ok"] is False and len(doc["findings"]) == 2
