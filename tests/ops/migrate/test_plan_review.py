"""The plan that is reviewed is the plan that is applied: `migrate plan --out` writes the SQL with its
sha256, `--expect-plan` refuses anything else before it changes a thing; and in GitHub Actions, lint and
validate findings become annotations on the revision file's line."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import connect_to, in_project
from mandala_db.core.url import DatabaseURL
from ops.migrate.migratekit import HEAD, add_revision, deploy_with_demo, ok


def test_a_deploy_holds_to_the_reviewed_plan(project: Path, db_url: DatabaseURL) -> None:
    out = project / "plan.json"
    ok(in_project(project, db_url, "migrate", "plan", "--out", str(out)))
    reviewed = json.loads(out.read_text())
    assert len(reviewed["plan"]) == 7 and len(reviewed["plan_sha256"]) == 64
    assert "CREATE TABLE users" in reviewed["plan"][0]["sql"]

    other = "0" * 64
    refused = in_project(project, db_url, "migrate", "deploy", "--expect-plan", other)
    assert refused.code == 3, refused.output
    assert "is not the plan reviewed" in refused.stderr
    with connect_to(db_url) as conn:
        assert conn.execute("SELECT to_regclass('alembic_version')").fetchone() == (None,)  # nothing changed

    # A revision added after the review changes the plan: refused too.
    add_revision(
        project, "29990101000000_late_change", HEAD, ["CREATE TABLE late (id int)"], ["DROP TABLE late"]
    )
    late = in_project(project, db_url, "migrate", "deploy", "--expect-plan", reviewed["plan_sha256"])
    assert late.code == 3, late.output
    (project / "src/mandala_db/migrations/versions/29990101000000_late_change.py").unlink()

    applied = ok(in_project(project, db_url, "migrate", "deploy", "--expect-plan", reviewed["plan_sha256"]))
    assert "7 revision(s) done" in applied.stdout


def test_prod_refuses_another_plan_before_its_backup(
    project: Path, db_url: DatabaseURL, tmp_path: Path
) -> None:
    backups = tmp_path / "backups"
    result = in_project(project, db_url, "--env", "production", "--yes", "migrate", "prod", "--expect-plan", "f" * 64,
                        "--backup-dir", str(backups))  # fmt: skip
    assert result.code == 3, result.output
    assert not backups.exists() or not list(backups.rglob("*.dump"))


def test_github_annotations_name_the_file_and_line(
    project: Path, db_url: DatabaseURL, tmp_path: Path
) -> None:
    deploy_with_demo(project, db_url)
    rev = add_revision(
        project, "29990101000000_drop_position", HEAD,
        ["ALTER TABLE users DROP COLUMN position"], ["ALTER TABLE users ADD COLUMN position varchar(100)"],
    )  # fmt: skip
    summary = tmp_path / "summary.md"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    result = in_project(project, db_url, "migrate", "validate", env=env)
    assert result.code == 5, result.output
    path = f"src/mandala_db/migrations/versions/{rev}.py"
    source = (project / path).read_text().splitlines()
    [annotation] = [ln for ln in result.stdout.splitlines() if ln.startswith("::error file=") and rev in ln]
    line = int(annotation.split("line=", 1)[1].split(",", 1)[0])
    assert annotation.startswith(f"::error file={path},line=")
    assert "position" in source[line - 1]
    assert rev in summary.read_text() and "| error |" in summary.read_text()
    plan = json.loads(in_project(project, db_url, "--json", "migrate", "plan").stdout)
    assert any("drops data" in r and rev in r for r in plan["needs_review"]), plan["needs_review"]
    # Off GitHub, the same run prints no workflow commands.
    assert "::error" not in in_project(project, db_url, "migrate", "validate").stdout


def test_plan_writes_a_job_summary_with_its_sha256(
    project: Path, db_url: DatabaseURL, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    doc = json.loads(
        ok(in_project(project, db_url, "--json", "migrate", "plan",
                      env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})).stdout
    )  # fmt: skip
    text = summary.read_text()
    assert doc["plan_sha256"] in text and "```sql" in text and "20241217000000_init" in text
