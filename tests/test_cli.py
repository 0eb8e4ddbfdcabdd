"""cli (mandala_db/cli/__init__.py, the program itself): exit codes, one clear line for bad input, JSON output
and log records, the guide's scripts word for word, and a password that never shows."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from cli.clikit import OTHER_SENTINEL, assert_no_secret, fingerprint, one_error_line, run_wrapper
from conftest import SENTINEL_PASSWORD, connect_to, run_cli
from conftest import assert_no_secret as assert_no_secret_in
from mandala_db.core.url import DatabaseURL
from revision_data import table_checksums


def test_malformed_url_is_bad_input_and_never_echoes_the_password() -> None:
    result = run_cli(
        "--database-url", f"postgresql://app:{SENTINEL_PASSWORD}@db:port/goals", "migrate", "status"
    )
    assert result.code == 2
    assert "a port is not a number" in one_error_line(result)
    assert_no_secret(result)


def test_unreachable_host_is_an_operation_failure_with_a_hint() -> None:
    url = f"postgresql://app:{SENTINEL_PASSWORD}@127.0.0.1:1/goals?connect_timeout=2"
    result = run_cli("--database-url", url, "migrate", "deploy")
    assert result.code == 1
    line = one_error_line(result)
    assert "cannot connect to postgresql://app:****@127.0.0.1:1/goals" in line
    assert "check that the server is running" in line
    assert_no_secret(result)


def test_wrong_password_is_reported_and_masked(password_server: DatabaseURL) -> None:
    wrong = password_server.with_password(OTHER_SENTINEL)
    result = run_cli("--json", "migrate", "status", url=wrong)
    assert result.code == 1
    assert "password authentication failed" in one_error_line(result)
    assert json.loads(result.stdout)["exit_code"] == 1
    assert_no_secret(result)


def test_sentinel_password_appears_in_no_output_json_log_or_ledger_error(
    password_server: DatabaseURL,
) -> None:
    from conftest import create_database, drop_database

    name = "mdb_sentinel_cli"
    drop_database(password_server, name)
    url = create_database(password_server, name)
    try:
        # A deploy that fails half-way (a table in the way of a revision) leaves error text in the ledger.
        outputs = [(0, run_cli("--json", "--log-format", "json", "migrate", "deploy", url=url))]
        outputs.append(
            (0, run_cli("--yes", "migrate", "rollback", "to", "20250305000000_add_reminder_tables", url=url))
        )
        with connect_to(url) as c:
            c.execute("CREATE TABLE workflow_executions (in_the_way int)")
        outputs.append((1, run_cli("--json", "--log-format", "json", "migrate", "deploy", url=url)))
        with connect_to(url) as c:
            c.execute("DROP TABLE workflow_executions")
        outputs += [
            (0, run_cli("--json", "--log-format", "json", "migrate", "deploy", url=url)),
            (0, run_cli("--json", "migrate", "status", "all", url=url)),
            (0, run_cli("--log-format", "json", "migrate", "status", "test", url=url)),
            (2, run_cli("-v", "migrate", "rollback", "to", "nope", url=url)),
            (0, run_cli("migrate", "validate", url=url)),
        ]
        for expected, result in outputs:
            assert result.code == expected, result.output
            assert_no_secret(result)
        assert json.loads(outputs[4][1].stdout)["connection"]["url"].startswith("postgresql://postgres:****@")
        with connect_to(url) as c:
            errors = [
                r[0] for r in c.execute("SELECT error FROM mandala_migration_runs WHERE error IS NOT NULL")
            ]
        assert errors, "the failing deploy should have recorded its error"
        assert_no_secret_in("\n".join(errors))
    finally:
        drop_database(password_server, name)


def test_json_log_records_follow_the_contract(db_url: DatabaseURL, cli: Any) -> None:
    result = cli("--log-format", "json", "--env", "production", "migrate", "deploy")
    assert result.code == 0
    records = [json.loads(line) for line in result.stderr.splitlines()]
    actions = [r["metadata"]["action"] for r in records]
    assert actions.count("migration_start") == 7 and actions.count("migration_complete") == 7
    start = next(r for r in records if r["metadata"]["action"] == "migration_start")
    assert set(start) >= {"timestamp", "level", "message", "migrationName", "run_id", "metadata"}
    assert start["timestamp"].endswith("Z") and start["level"] == "INFO"
    assert start["metadata"]["environment"] == "production"
    complete = next(r for r in records if r["metadata"]["action"] == "migration_complete")
    assert complete["duration"] >= 0
    assert len({r["run_id"] for r in records}) == 1


@pytest.mark.parametrize(
    ("script", "words", "says"),
    [
        ("migrate-status.sh", [], "up to date"),
        ("migrate-status.sh", ["all"], "Connected to"),
        ("migrate-status.sh", ["schema"], "goals"),
        ("migrate-status.sh", ["history"], "20241217000000_init"),
        ("migrate-status.sh", ["test"], "round trip"),
        ("migrate-rollback.sh", ["list"], "20250409000000_split_reflections"),
        ("migrate-dev.sh", [], "No changes"),
        ("backup-database.sh", ["stats"], "full"),
        ("restore-database.sh", ["list"], "ackups"),
        ("migrate-prod.sh", ["--dry-run"], "Nothing pending: the database is at the head"),
        ("setup-db-security.sh", ["check"], "passed,"),
        ("setup-db-security.sh", ["recommend"], "sslmode=verify-full"),
        ("setup-db-security.sh", ["audit"], "Security audit of"),
        ("setup-db-security.sh", ["all"], "# pg_hba.conf"),
    ],
)
def test_guide_wrappers_pass_their_words_through(
    deployed: DatabaseURL, script: str, words: list[str], says: str
) -> None:
    result = run_wrapper(script, *words, url=deployed)
    assert result.code == 0, result.output
    assert says in result.output, result.output


@pytest.mark.parametrize("env", ["staging", "production"])
def test_the_guides_destructive_words_with_yes_after_the_subcommand(
    deployed: DatabaseURL, conn: psycopg.Connection[Any], tmp_path: Path, env: str
) -> None:
    """`--yes` / `-y` where people type them: after the subcommand, through the wrappers, in staging and
    production, and `migrate-prod.sh --dry-run` changes nothing."""
    environment = {"NODE_ENV": env, "BACKUP_DIR": str(tmp_path)}
    before = fingerprint(deployed)
    dry = run_wrapper("migrate-prod.sh", "--dry-run", url=deployed, env=environment)
    assert dry.code == 0, dry.output
    assert fingerprint(deployed) == before
    made = run_wrapper("backup-database.sh", "full", url=deployed, env=environment)
    assert made.code == 0, made.output
    (path,) = list((tmp_path / "full").glob("full_backup_*.dump"))
    back = run_wrapper(
        "migrate-rollback.sh",
        "to",
        "20250320000000_add_workflow_executions",
        "--yes",
        url=deployed,
        env=environment,
    )
    assert back.code == 0, back.output
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (
        "20250320000000_add_workflow_executions",
    )
    restored = run_wrapper("restore-database.sh", "restore", str(path), "-y", url=deployed, env=environment)
    assert restored.code == 0, restored.output
    assert fingerprint(deployed) == before
    refused = run_wrapper("migrate-rollback.sh", "reset", "--yes", url=deployed, env=environment)
    assert refused.code == 3 and "never allowed in" in refused.stderr
    assert fingerprint(deployed) == before


def test_an_application_schema_from_the_url_holds_everything(db_url: DatabaseURL, cli: Any) -> None:
    raw = db_url.render(mask=False)
    url = DatabaseURL.parse(raw + ("&" if "?" in raw else "?") + "schema=tenant_a")
    assert run_cli("migrate", "deploy", url=url).code == 0
    assert run_cli("seed", "demo", url=url).code == 0
    assert run_cli("--yes", "migrate", "rollback", "to", "init", url=url).code == 0
    assert run_cli("migrate", "deploy", url=url).code == 0
    assert run_cli("migrate", "validate", url=url).code == 0
    with connect_to(db_url) as c:
        assert c.execute("SELECT count(*) FROM tenant_a.goals").fetchone() == (2,)
        assert c.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--database-url", "", "migrate", "status"], "--database-url is empty"),
        (["--database-url", "postgresql://[bad", "migrate", "status"], "an IPv6 host is written"),
        (
            [
                "--database-url",
                f"postgresql://app:{SENTINEL_PASSWORD[:8]}/x?y@127.0.0.1/db",
                "migrate",
                "status",
            ],
            "percent-encode the password",
        ),
        (["seed", "performance", "--scale", "1e9"], "--scale must be above 0 and at most 100"),
        (["seed", "performance", "--scale", "inf"], "--scale must be above 0 and at most 100"),
        (["seed", "performance", "--scale", "nan"], "--scale must be above 0 and at most 100"),
        (["--yes", "restore", "restore", "/no/such/backup.dump"], "does not exist"),
        (["--yes", "backup", "verify", "/no/such/backup.dump"], "does not exist"),
        (
            ["--yes", "restore", "restore", "/no/such/backup.dump", "--target-db", ""],
            "is not a database name",
        ),
        (
            ["--yes", "restore", "restore", "/no/such/backup.dump", "--target-db", 'x";drop'],
            "is not a database name",
        ),
        (
            ["--yes", "restore", "restore", "/no/such/backup.dump", "--target-db", "d" * 64],
            "longer than 63 bytes",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    deployed: DatabaseURL, args: list[str], says: str
) -> None:
    before = fingerprint(deployed)
    with connect_to(deployed) as c:
        rows = table_checksums(c)
    started = time.monotonic()
    result = run_cli(*args, url=deployed, env={"MANDALA_STATE_DIR": "/nonexistent/never-started"})
    assert result.code == 2, result.output
    assert says in one_error_line(result)
    assert time.monotonic() - started < 20  # no DNS lookup, no server started
    assert_no_secret(result, SENTINEL_PASSWORD[:8])
    assert fingerprint(deployed) == before
    with connect_to(deployed) as c:
        assert table_checksums(c) == rows
