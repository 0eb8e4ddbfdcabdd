"""cli/seed: `mandala-db seed` and `data check` as a user meets them: a load said table by table, a removal
asked for like every destructive command, a wrong name refused before a server starts, and the data
check's exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from cli.clikit import one_error_line
from conftest import run_cli
from mandala_db.core.url import DatabaseURL


def test_seed_remove_asks_like_every_destructive_command(
    deployed: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    assert run_cli("seed", "demo", url=deployed).code == 0
    users = conn.execute("SELECT count(*) FROM users").fetchone()
    refused = run_cli("seed", "demo", "--remove", url=deployed)
    assert refused.code == 3 and "--yes" in one_error_line(refused)
    assert conn.execute("SELECT count(*) FROM users").fetchone() == users
    assert run_cli("--yes", "seed", "demo", "--remove", url=deployed).code == 0
    assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)


def test_a_load_says_its_rows_table_by_table(deployed: DatabaseURL) -> None:
    result = run_cli("seed", "demo", url=deployed)
    assert result.code == 0, result.output
    first, *tables = result.stdout.splitlines()
    assert first.startswith("demo: ") and " rows loaded in " in first
    assert any(line.split()[0] == "users" for line in tables)
    again = run_cli("seed", "demo", url=deployed)
    assert again.stdout.startswith("demo: 0 rows loaded (missing rows only)")


def test_a_wrong_name_is_bad_input_before_any_server_is_started(tmp_path: Path) -> None:
    result = run_cli("seed", "prod-copy", env={"MANDALA_STATE_DIR": str(tmp_path / "state")})
    assert result.code == 2 and "unknown data set 'prod-copy'" in one_error_line(result)
    assert not (tmp_path / "state").exists()


def test_data_check_says_no_problems_or_fails_with_the_count(
    deployed: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    assert run_cli("seed", "demo", url=deployed).code == 0
    clean = run_cli("data", "check", url=deployed)
    assert (clean.code, clean.stdout) == (0, "No problems found.\n")
    conn.execute("DELETE FROM sub_goals WHERE id = (SELECT id FROM sub_goals ORDER BY id LIMIT 1)")
    found = run_cli("data", "check", url=deployed)
    assert found.code == 5
    assert "data check found 1 problem(s) of 1 kind(s)" in one_error_line(found)
