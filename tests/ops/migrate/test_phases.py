"""ops/migrate/phases: a change in steps. `migrate deploy` applies the expand revision and runs its backfill
after the DDL committed, and stops before the contract revision; `--contract` applies it, refused (exit 3)
while the expand revision is younger than --min-age or a backfill before it is unfinished; the ledger and
`migrate backfill status` show where things are; rolling the expand revision back forgets its backfill."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import in_project
from mandala_db.core.errors import Refused
from mandala_db.core.url import DatabaseURL
from mandala_db.migrations.backfill import Backfill
from mandala_db.ops.migrate.loader import History, read_revision
from mandala_db.ops.migrate.phases import check_contract, closes, deployable
from ops.migrate.migratekit import CONTRACT, EXPAND, HEAD, expand_and_contract, ok


def deploy_with_demo(project: Path, url: DatabaseURL) -> None:
    """The shipped history with the demo rows, then the expand step (its backfill fills those rows)."""
    versions = project / "src/mandala_db/migrations/versions"
    held = [versions / f"{EXPAND}.py", versions / f"{CONTRACT}.py"]
    texts = [p.read_text() for p in held]
    for p in held:
        p.unlink()
    ok(in_project(project, url, "migrate", "deploy"))
    ok(in_project(project, url, "seed", "demo"))
    for p, text in zip(held, texts, strict=True):
        p.write_text(text)
    ok(in_project(project, url, "migrate", "deploy"))


def current(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0]) if row else ""


def test_the_loader_reads_phases_and_backfills_without_running_the_file(project: Path) -> None:
    expand_and_contract(project)
    versions = project / "src/mandala_db/migrations/versions"
    rev = read_revision(versions / f"{EXPAND}.py")
    assert rev.phase == "expand" and rev.backfills == (
        Backfill("tasks", set="minutes_v2 = estimated_minutes", where="minutes_v2 IS NULL"),
    )
    history = History.load(versions)
    contract = history.by_id[CONTRACT]
    assert contract.phase == "contract" and closes(history, contract) is history.by_id[EXPAND]
    assert deployable(history.after(HEAD), contract=False) == [history.by_id[EXPAND]]
    assert len(deployable(history.after(HEAD), contract=True)) == 2


def test_deploy_stops_before_the_contract_and_contract_waits_for_min_age(
    project: Path, db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    expand_and_contract(project)
    deploy_with_demo(project, db_url)
    assert current(conn) == EXPAND
    # Between the steps, data commands work: the schema is the one both application versions use.
    ok(in_project(project, db_url, "data", "check"))
    assert conn.execute(
        "SELECT count(*) FROM tasks WHERE minutes_v2 IS DISTINCT FROM estimated_minutes"
    ).fetchone() == (0,)
    phases = dict(
        conn.execute("SELECT revision, phase FROM mandala_migration_runs WHERE phase IS NOT NULL").fetchall()
    )
    assert phases == {EXPAND: "expand"}
    status = json.loads(ok(in_project(project, db_url, "--json", "migrate", "backfill", "status")).stdout)
    [fill] = status["backfills"]
    assert fill["status"] == "done" and fill["rows_done"] > 0
    young = in_project(project, db_url, "migrate", "deploy", "--contract", "--min-age", "1h")
    assert young.code == 3 and "less than --min-age" in young.stderr and current(conn) == EXPAND
    ok(in_project(project, db_url, "migrate", "deploy", "--contract"))
    assert current(conn) == CONTRACT


def test_a_paused_backfill_holds_the_deploy_until_resumed(
    project: Path, db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    expand_and_contract(project)
    deploy_with_demo(project, db_url)
    conn.execute("UPDATE tasks SET minutes_v2 = NULL WHERE id IN (SELECT id FROM tasks ORDER BY id LIMIT 5)")
    conn.execute("UPDATE mandala_backfills SET status = 'paused', last_key = NULL")
    held = in_project(project, db_url, "migrate", "deploy", "--contract")
    assert held.code == 3 and "is paused" in held.stderr and current(conn) == EXPAND
    ok(in_project(project, db_url, "migrate", "backfill", "resume"))
    assert conn.execute("SELECT count(*) FROM tasks WHERE minutes_v2 IS NULL").fetchone() == (0,)
    ok(in_project(project, db_url, "migrate", "deploy", "--contract"))


def test_the_contract_check_names_the_unfinished_backfill(
    project: Path, db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    expand_and_contract(project)
    deploy_with_demo(project, db_url)
    history = History.load(project / "src/mandala_db/migrations/versions")
    conn.execute("DELETE FROM mandala_backfills")
    with pytest.raises(Refused, match=f"waits for unfinished backfills: {EXPAND} \\(backfill 1\\)"):
        check_contract(conn, history, history.by_id[CONTRACT], 0)


def test_rolling_the_expand_back_forgets_its_backfill(
    project: Path, db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    expand_and_contract(project)
    deploy_with_demo(project, db_url)
    ok(in_project(project, db_url, "--yes", "migrate", "rollback", "to", HEAD))
    assert conn.execute("SELECT count(*) FROM mandala_backfills").fetchone() == (0,)
    ok(in_project(project, db_url, "migrate", "deploy"))
    assert conn.execute("SELECT status FROM mandala_backfills").fetchall() == [("done",)]


def test_status_and_plan_show_the_phases_and_the_backfill(project: Path, db_url: DatabaseURL) -> None:
    expand_and_contract(project)
    status = ok(in_project(project, db_url, "migrate", "status")).stdout
    assert f"{EXPAND}  minutes v2 expand  [expand]" in status
    assert f"{CONTRACT}  minutes v2 contract  [contract: waits for deploy --contract]" in status
    full = json.loads(ok(in_project(project, db_url, "--json", "migrate", "plan", "--contract")).stdout)
    by_id = {p["revision"]: p for p in full["plan"]}
    assert by_id[EXPAND]["phase"] == "expand" and by_id[CONTRACT]["phase"] == "contract"
    assert by_id[EXPAND]["backfills"] == [
        "tasks: SET minutes_v2 = estimated_minutes WHERE minutes_v2 IS NULL"
    ]
    # Without --contract the plan is what a plain deploy applies, and its sha256 holds that deploy.
    plan = json.loads(ok(in_project(project, db_url, "--json", "migrate", "plan")).stdout)
    assert (
        CONTRACT not in {p["revision"] for p in plan["plan"]} and plan["plan_sha256"] != full["plan_sha256"]
    )
    ok(in_project(project, db_url, "migrate", "deploy", "--expect-plan", plan["plan_sha256"]))


def test_prod_stops_before_the_contract_too_and_applies_it_with_contract(
    project: Path, db_url: DatabaseURL, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    expand_and_contract(project)
    prod = ("--env", "production", "--yes", "migrate", "prod", "--backup-dir", str(tmp_path))
    ok(in_project(project, db_url, *prod))
    assert current(conn) == EXPAND
    ok(in_project(project, db_url, *prod, "--contract"))
    assert current(conn) == CONTRACT
