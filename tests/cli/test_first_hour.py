"""What a new user and a DevOps reviewer meet in the first hour: the right database or none, commands that
work from where people type them, tables that cut nothing a user must copy, errors that blame the right
thing, and an embedded default that is green out of the box."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, connect_to, run_cli
from mandala_db.core.url import DatabaseURL
from servers import free_port
from support import ok

# Each command group, by a command that needs a database.
NEEDS_A_DATABASE = [
    ("migrate", "status"),
    ("migrate", "deploy"),
    ("--yes", "migrate", "prod"),
    ("backup", "full"),
    ("--yes", "restore", "restore", "x.dump"),
    ("seed", "demo"),
    ("data", "check"),
    ("security", "check"),
    ("drill",),
    ("logs", "tail"),
]


@pytest.mark.parametrize("env", ["staging", "production"])
@pytest.mark.parametrize("args", NEEDS_A_DATABASE, ids=lambda a: " ".join(a))
def test_without_a_url_staging_and_production_are_refused_never_the_embedded_server(
    args: tuple[str, ...], env: str, tmp_path: Path
) -> None:
    result = run_cli("--env", env, *args, cwd=tmp_path, env={"BACKUP_DIR": str(tmp_path / "b")})
    if args[0] == "seed" and env == "production":
        assert result.code == 3 and "refused in production" in result.stderr  # refused before any URL
        return
    assert result.code == 2, result.output
    assert "set DATABASE_URL" in result.stderr and "embedded" in result.stderr
    assert not (tmp_path / ".mandala").exists()  # no server was started for it


@pytest.mark.parametrize("env", ["development", "test", "staging", "production"])
@pytest.mark.parametrize("args", [*NEEDS_A_DATABASE, ("backup", "stats")], ids=lambda a: " ".join(a))
def test_an_empty_database_url_is_an_error_in_every_environment(
    args: tuple[str, ...], env: str, tmp_path: Path
) -> None:
    result = run_cli("--env", env, *args, cwd=tmp_path, env={"DATABASE_URL": "", "BACKUP_DIR": str(tmp_path)})
    assert result.code == 2, result.output
    assert "DATABASE_URL is set but empty" in result.stderr
    assert not (tmp_path / ".mandala").exists()


def test_the_wrappers_run_the_projects_own_tool_without_an_activated_venv(db_url: DatabaseURL) -> None:
    if not (ROOT / ".venv" / "bin" / "mandala-db").exists():
        pytest.skip("needs the project's virtualenv (make install)")
    env = {k: v for k, v in os.environ.items() if k not in ("MANDALA_DB", "VIRTUAL_ENV")}
    env.update(PATH="/usr/bin:/bin", DATABASE_URL=db_url.render(mask=False))
    done = subprocess.run(["bash", str(ROOT / "scripts" / "migrate-status.sh")], env=env, cwd="/",
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pending" in (done.stdout + done.stderr).lower()


def test_a_command_run_from_a_sub_folder_uses_the_projects_state(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[tool.mandala-db]\nmetrics = "emf"\n'
    )
    deep = tmp_path / "src" / "app" / "deep"
    deep.mkdir(parents=True)
    doc = json.loads(ok(run_cli("--json", "server", "status", cwd=deep)).stdout)
    assert doc["pgdata"] == str(tmp_path / ".mandala" / "pgdata")
    # A folder with a .mandala/ is a project root too (the embedded server's state, as `make demo` leaves it).
    other = tmp_path / "other"
    (other / ".mandala").mkdir(parents=True)
    (other / "docs").mkdir()
    doc = json.loads(ok(run_cli("--json", "server", "status", cwd=other / "docs")).stdout)
    assert doc["pgdata"] == str(other / ".mandala" / "pgdata") and doc["running"] is False


def test_long_file_names_and_revision_ids_are_never_cut(db_url: DatabaseURL, tmp_path: Path) -> None:
    ok(run_cli("migrate", "deploy", url=db_url))
    folder = tmp_path / ("a-rather-long-folder-name-that-a-ci-runner-might-give-" * 3)
    made = json.loads(ok(run_cli("--json", "backup", "full", "--dir", str(folder), url=db_url)).stdout)
    path = made["backups"][0]["path"]
    for columns in ("80", "250"):
        listed = ok(run_cli("restore", "list", "--dir", str(folder), url=db_url, env={"COLUMNS": columns}))
        assert path in listed.stdout and "…" not in listed.stdout
    history = ok(run_cli("migrate", "status", "history", url=db_url)).stdout
    from mandala_db.ops.migrate.loader import History

    for rev in History.load().revisions:
        assert rev.id in history


def no_aws(tmp_path: Path, endpoint: str) -> dict[str, str]:
    """No credentials anywhere, and the metadata service never asked (nothing leaves loopback)."""
    return {
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "AWS_SESSION_TOKEN": "",
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
        "HOME": str(tmp_path),
    }


def test_s3_errors_blame_the_credentials_the_endpoint_or_the_missing_thing(
    db_url: DatabaseURL, tmp_path: Path, aws_server: dict[str, str]
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    for args in (
        ("--yes", "restore", "s3-restore", "s3://bucket/mandala-db/full/x.dump"),
        ("drill", "--from", "s3://bucket/x.dump"),
    ):
        creds = run_cli(*args, url=db_url, env=no_aws(tmp_path, closed))
        assert creds.code == 1 and "no AWS credentials" in creds.stderr, creds.output
        keys = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
        unreachable = run_cli(*args, url=db_url, env={**no_aws(tmp_path, closed), **keys})
        assert unreachable.code == 1 and "cannot be reached" in unreachable.stderr, unreachable.output
    import boto3

    boto3.client("s3", endpoint_url=aws_server["AWS_ENDPOINT_URL"], aws_access_key_id="test",
                 aws_secret_access_key="test", region_name="us-east-1").create_bucket(Bucket="first-hour")  # fmt: skip
    missing = run_cli(
        "--yes", "restore", "s3-restore", "s3://first-hour/nope.dump", url=db_url, env=aws_server
    )
    assert missing.code == 2 and "has no manifest beside it" in missing.stderr
    logs = run_cli("--metrics", "cloudwatch", "logs", "tail", url=db_url, env=no_aws(tmp_path, closed))
    assert logs.code == 1 and "no AWS credentials" in logs.stderr and "unexpected" not in logs.stderr, (
        logs.output
    )


def test_a_superuser_login_is_low_in_development_and_high_in_staging(db_url: DatabaseURL) -> None:
    ok(run_cli("migrate", "deploy", url=db_url))
    none = {"MANDALA_SECURITY_SUPPRESSIONS": ""}
    dev = json.loads(ok(run_cli("--json", "security", "check", url=db_url, env=none)).stdout)
    [role] = [f for f in dev["findings"] if f["id"] == "role.application" and "superuser" in f["evidence"]]
    assert role["severity"] == "low"
    staging = run_cli("--env", "staging", "--json", "security", "check", url=db_url, env=none)
    assert staging.code == 5
    dry = run_cli("--env", "staging", "migrate", "prod", "--dry-run", url=db_url, env=none)
    assert dry.code == 3
    last = dry.stdout.strip().splitlines()[-1]
    assert last.startswith("Dry run: nothing was changed. A real run would be refused: ")
    assert "role.application" in last and "security recommend" in last


def test_names_and_counts_are_right(db_url: DatabaseURL) -> None:
    from mandala_db.ops.migrate.loader import History

    history = History.load()
    split = next(r for r in history.revisions if r.id.endswith("split_reflections"))
    ok(run_cli("--yes", "migrate", "deploy", url=db_url))
    ok(run_cli("--yes", "migrate", "rollback", "to", history.named("add_workflow_executions").id, url=db_url))
    (plan,) = json.loads(ok(run_cli("--json", "migrate", "plan", url=db_url)).stdout)["plan"]
    assert [(t["name"], t["exists"]) for t in plan["tables"]] == [("goals", True), ("reflections", True)]
    ok(run_cli("migrate", "deploy", url=db_url))
    with connect_to(db_url) as conn:
        (tables,) = conn.execute(
            "SELECT tables FROM mandala_migration_runs WHERE revision = %s ORDER BY id DESC LIMIT 1",
            (split.id,),
        ).fetchone()
    assert sorted(tables) == ["goals", "reflections"]
    removed = ok(run_cli("seed", "development", "--remove", url=db_url))  # never loaded: nothing to ask
    assert "nothing to remove" in removed.output
    for command in (("migrate", "rollback"), ("migrate", "dev"), ("--help",)):
        text = ok(run_cli(*command, "--help", url=db_url)).stdout
        if command != ("--help",):
            assert "--statement-timeout" in text and "--lock-retries" in text and "--yes" in text
    assert "Also list the backups" in ok(run_cli("restore", "list", "--help")).stdout
    assert "_mandala_db_completion" in ok(run_cli("--show-completion", "bash")).stdout


def test_migrate_prod_proves_its_backup_before_it_deploys(db_url: DatabaseURL, tmp_path: Path) -> None:
    doc = json.loads(
        ok(run_cli("--yes", "--json", "migrate", "prod", "--backup-dir", str(tmp_path), url=db_url)).stdout
    )
    manifest = json.loads(Path(doc["backup"]["manifest"]).read_text())
    (proof,) = manifest["verifications"]
    assert proof["kind"] == "toc" and proof["ok"] is True


def test_server_status_and_stop_show_and_stop_the_embedded_server(tmp_path: Path) -> None:
    state = tmp_path / ".mandala"
    ok(run_cli("migrate", "status", env={"MANDALA_STATE_DIR": str(state)}, cwd=tmp_path))  # starts it
    running = json.loads(ok(run_cli("--json", "server", "status", cwd=tmp_path)).stdout)
    assert running["running"] is True and running["pgdata"] == str(state / "pgdata")
    try:
        os.kill(running["pid"], 0)
    finally:
        stopped = ok(run_cli("server", "stop", cwd=tmp_path))
    assert stopped.stdout.strip() == "stopped" and "Warning" not in stopped.stderr
    after = json.loads(ok(run_cli("--json", "server", "status", cwd=tmp_path)).stdout)
    assert after["running"] is False and after["exists"] is True
    assert ok(run_cli("server", "stop", cwd=tmp_path)).stdout.strip() == "not running"
