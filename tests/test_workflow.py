"""The GitHub Actions workflow and docker-compose.yml pass their linters and schemas, and the workflow's
pull-request steps (make targets calling the tool) run here on a real PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, TEST_CACHE, TEST_SUPPRESSIONS, connect_to
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.migrate.loader import History

WORKFLOW = ROOT / ".github" / "workflows" / "database-migration.yml"
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.skip(f"{name} is installed by `make test` (requirements-dev.lock)")
    return str(path)


def test_the_workflow_passes_actionlint_and_the_github_schema() -> None:
    lint = subprocess.run([tool("actionlint"), str(WORKFLOW)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    schema = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
    )
    assert schema.returncode == 0, schema.stdout + schema.stderr


def test_the_workflow_never_cancels_a_migration_and_bounds_every_job() -> None:
    import yaml  # PyYAML, in requirements-dev.lock (moto needs it)

    doc = yaml.safe_load(WORKFLOW.read_text())
    assert doc["concurrency"]["cancel-in-progress"] is False
    assert doc["permissions"] == {"contents": "read"}
    assert all("timeout-minutes" in job for job in doc["jobs"].values())


def test_compose_passes_the_compose_spec() -> None:
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(ROOT / "docker-compose.yml")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_pull_request_steps_run_here(db_url: DatabaseURL) -> None:
    """ci-base loads the test data set and goes back to the base branch's head; ci-roundtrip takes the
    new revisions up, down and up again and validates. Here the last two revisions play the new ones."""
    base = History.load().named("add_reminder_tables").id
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MAKEFLAGS")},
        "DATABASE_URL": db_url.render(mask=False),
        "MANDALA_CACHE_DIR": TEST_CACHE,
        "MANDALA_SECURITY_SUPPRESSIONS": str(TEST_SUPPRESSIONS),
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    }
    for target in ("ci-base", "ci-roundtrip"):
        result = subprocess.run(["make", "-s", target, f"BASE_HEAD={base}", f"VENV={BIN.parent}"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=600)  # fmt: skip
        assert result.returncode == 0, (target, result.stdout[-2000:], result.stderr[-2000:])
    assert "Valid: 7 revision(s)" in result.stdout
    with connect_to(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] > 0  # the test data set survived it


def test_the_plan_step_gives_the_sha256_and_whether_a_reviewer_is_needed(
    db_url: DatabaseURL, tmp_path: Path
) -> None:
    outputs = tmp_path / "github_output"
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MAKEFLAGS")},
        "DATABASE_URL": db_url.render(mask=False),
        "MANDALA_CACHE_DIR": TEST_CACHE,
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }
    plan = tmp_path / "plan.json"
    result = subprocess.run(["make", "-s", "ci-plan", f"PLAN_FILE={plan}", f"VENV={BIN.parent}"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    values = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    doc = json.loads(plan.read_text())
    assert values["sha256"] == doc["plan_sha256"] and len(values["sha256"]) == 64
    assert values["needs_review"] == ("true" if doc["needs_review"] else "false")
    assert values["needs_review"] == "false"  # the shipped history on an empty database is additive


def test_a_reviewer_would_merge_it() -> None:
    """Every job that reads a production secret runs in an environment; AWS through OIDC, never stored keys;
    the required check reports on every pull request; the drill never restores beside production."""
    import yaml

    text = WORKFLOW.read_text()
    doc = yaml.safe_load(text)
    assert "paths" not in (doc[True]["pull_request"] or {})  # `on:` is read as True by YAML 1.1
    for name, job in doc["jobs"].items():
        body = yaml.safe_dump(job)
        if "secrets.PRODUCTION_DATABASE_URL" in body or "secrets.DRILL_DATABASE_URL" in body:
            assert job.get("environment"), f"job {name} reads a production secret outside an environment"
        if "configure-aws-credentials" in body:
            assert job["permissions"]["id-token"] == "write"
    assert "AWS_ACCESS_KEY_ID" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    assert doc[True]["workflow_dispatch"]["inputs"]["confirm"]["required"] is False
    assert "self-hosted" in text and "bastion" in text
    lint = doc["jobs"]["lint"]
    assert lint["permissions"]["security-events"] == "write" and "services" not in lint  # no database
    steps = [step.get("run", "") + step.get("uses", "") for step in lint["steps"]]
    assert any("mandala-db lint --format sarif > lint.sarif" in step for step in steps)
    assert any(step.startswith("github/codeql-action/upload-sarif") for step in steps)


def test_the_drill_target_refuses_to_run_beside_production(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DRILL_DATABASE_URL",)}
    done = subprocess.run(["make", "-s", "ci-scheduled", "SCHEDULE=0 4 * * 0"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode != 0 and "set DRILL_DATABASE_URL" in done.stderr, done.stdout + done.stderr
