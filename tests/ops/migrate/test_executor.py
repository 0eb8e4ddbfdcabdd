"""The migration engine never leaves an unknown state: concurrent runners, SIGKILL, failures half-way,
lock timeouts with retries, resumable CREATE INDEX CONCURRENTLY, plan, lint, edits to applied revisions,
`migrate prod` and `migrate resolve`."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import connect_to, create_database, drop_database, in_project, run_cli
from mandala_db.core import catalog
from mandala_db.core.catalog import models_snapshot
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.migrate.loader import History
from ops.migrate.migratekit import (
    HEAD,
    add_revision,
    deploy_with_demo,
    ledger,
    ok,
    spawn,
)

# -- concurrency and kills -------------------------------------------------------------------------------


@pytest.mark.parametrize("schema", [None, "app"])
@pytest.mark.parametrize("lock_wait", ["120", "0.05"])
def test_eight_deployers_at_once_apply_each_revision_exactly_once(
    lock_wait: str, schema: str | None, db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    """With `?schema=app` on a new database too: the schema does not exist until the first runner makes
    it, and the lock must be the same one before and after."""
    url = dataclasses.replace(db_url, params=(*db_url.params, ("schema", schema))) if schema else db_url
    procs = [spawn(url, "--json", "migrate", "deploy", "--lock-wait", lock_wait) for _ in range(8)]
    outcomes = [
        (p.wait(timeout=180), p.stdout.read() if p.stdout else "", p.stderr.read() if p.stderr else "")
        for p in procs
    ]
    codes = [code for code, _, _ in outcomes]
    assert set(codes) <= {0, 4}, outcomes
    if lock_wait == "120":
        assert codes == [0] * 8
    for code, _, err in outcomes:
        if code == 4:
            assert "the migration lock is held by pid" in err and "mandala-db:migrate deploy" in err
    applied = [s["revision"] for code, out, _ in outcomes if code == 0 for s in json.loads(out)["steps"]]
    assert sorted(applied) == sorted(r.id for r in History.load().revisions)
    if schema:
        conn.execute(f"SET search_path TO {schema}")
    rows = ledger(conn)
    assert [r for r in rows if r[2] == "succeeded"] == [(r, "upgrade", "succeeded") for r in sorted(applied)]
    assert catalog.take(conn, schema or "public").fingerprint == models_snapshot(conn).fingerprint


def kill_points() -> list[tuple[str, str]]:
    """Every moment a deploy can be killed at, named by the log record it has just written: the lock
    taken (before any revision), each revision started (its ledger row written, its SQL on its way), and
    each revision complete (between two revisions)."""
    points = [("lock_acquired", "")]
    for rev in History.load().revisions:
        points += [("migration_start", rev.id), ("migration_complete", rev.id)]
    return points


def kill_at(proc: subprocess.Popen[str], action: str, revision: str) -> None:
    """SIGKILL the run as soon as it has written the record of `action` (for `revision`): aimed at an event
    of the run, never at a moment on the clock, so a busy machine moves the kill with the run."""
    assert proc.stderr is not None
    for line in proc.stderr:
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        if record["metadata"]["action"] == action and record.get("migrationName", "") == revision:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return
    raise AssertionError(f"the deploy ended before {action} {revision}: exit {proc.wait()}")


def test_a_deploy_killed_at_every_step_always_recovers(admin_url: DatabaseURL) -> None:
    points = kill_points()
    outcomes: dict[str, int] = {}
    for i, (action, revision) in enumerate(points):
        name = f"mdb_kill_{os.getpid()}_{i}"
        url = create_database(admin_url, name)
        try:
            proc = spawn(url, "--log-format", "json", "migrate", "deploy")
            kill_at(proc, action, revision)
            with connect_to(url) as c:
                exists = c.execute("SELECT to_regclass('mandala_migration_runs') IS NOT NULL").fetchone() == (
                    True,
                )
                before = ledger(c) if exists else []
                versioned = c.execute("SELECT to_regclass('alembic_version') IS NOT NULL").fetchone() == (
                    True,
                )
                at_kill = (
                    c.execute("SELECT version_num FROM alembic_version").fetchone() if versioned else None
                )
                # What the ledger says is the truth: at most one attempt is left running, the rest succeeded.
                assert [r for r in before if r[2] not in ("succeeded", "running")] == []
                assert len([r for r in before if r[2] == "running"]) <= 1
                ok(run_cli("migrate", "deploy", url=url))
                after = ledger(c)
                running = [r for r in before if r[2] == "running"]
                if running:
                    # Killed before its commit: interrupted. Killed after it, before the bookkeeping: the
                    # database shows the revision applied, and the ledger records it as succeeded.
                    committed = at_kill is not None and at_kill[0] >= running[0][0]
                    expected = "succeeded" if committed else "interrupted"
                    assert after[len(before) - 1] == (running[0][0], "upgrade", expected)
                assert all(r[2] in ("succeeded", "interrupted") for r in after)
                assert c.execute("SELECT version_num FROM alembic_version").fetchone() == (HEAD,)
                assert catalog.take(c).fingerprint == models_snapshot(c).fingerprint
                state = (
                    "interrupted"
                    if running
                    else ("before any revision" if not before else "between revisions")
                )
                outcomes[state] = outcomes.get(state, 0) + 1
        finally:
            drop_database(admin_url, name)
    assert sum(outcomes.values()) == len(points)
    assert outcomes.get("interrupted", 0) > 0 and outcomes.get("between revisions", 0) > 0, outcomes


# -- failures ----------------------------------------------------------------------------------------------


def test_a_revision_failing_half_way_leaves_the_previous_revision_and_the_next_deploy_retries(
    project: Path, db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    deploy_with_demo(project, db_url)
    rev = add_revision(
        project,
        "20261201000000_short_titles",
        HEAD,
        [
            "CREATE TABLE goal_labels (id int PRIMARY KEY)",
            "ALTER TABLE goals ADD CONSTRAINT ck_goals_title_short CHECK (length(title) <= 20)",
        ],
        ["ALTER TABLE goals DROP CONSTRAINT ck_goals_title_short", "DROP TABLE goal_labels"],
        header="# mandala-db: allow constraint-not-valid: goals is small\n",
    )
    failed = in_project(project, db_url, "migrate", "deploy")
    assert failed.code == 1
    assert (
        f"revision {rev} failed and was rolled back" in failed.stderr
        and "ck_goals_title_short" in failed.stderr
    )
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (HEAD,)
    assert conn.execute("SELECT to_regclass('goal_labels')").fetchone() == (None,)  # half-way is undone
    assert ledger(conn)[-1] == (rev, "upgrade", "failed")
    conn.execute("UPDATE goals SET title = left(title, 20)")
    ok(in_project(project, db_url, "migrate", "deploy"))
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (rev,)
    assert ledger(conn)[-1] == (rev, "upgrade", "succeeded")


def test_lock_timeouts_are_retried_then_name_the_blocker_and_never_stall_writes(
    project: Path, db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    deploy_with_demo(project, db_url)
    rev = add_revision(
        project,
        "20261201000000_task_note_column",
        HEAD,
        ["ALTER TABLE tasks ADD COLUMN note text"],
        ["ALTER TABLE tasks DROP COLUMN note"],
    )
    blocker = connect_to(db_url)
    blocker.execute("SET application_name = 'report-job'")
    blocker.autocommit = False
    blocker.execute("SELECT count(*) FROM tasks")  # holds ACCESS SHARE until the transaction ends
    stalls: list[float] = []
    stop = threading.Event()

    def writer() -> None:
        with connect_to(db_url) as w:
            while not stop.is_set():
                started = time.perf_counter()
                w.execute(
                    "UPDATE tasks SET estimated_minutes = estimated_minutes WHERE id = "
                    "(SELECT id FROM tasks ORDER BY id LIMIT 1)"
                )
                stalls.append(time.perf_counter() - started)
                time.sleep(0.01)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        result = in_project(
            project, db_url, "migrate", "deploy", "--lock-timeout", "300ms", "--lock-retries", "3"
        )
    finally:
        stop.set()
        thread.join()
        blocker.rollback()
        blocker.close()
    assert result.code == 1
    assert "could not get its locks in 3 tries (lock_timeout 300ms each)" in result.stderr
    assert "report-job" in result.stderr and "holds AccessShareLock on tasks" in result.stderr
    assert [r for r in ledger(conn) if r[0] == rev] == [(rev, "upgrade", "failed")] * 3
    # Writes queue behind the waiting ALTER (so some stall is seen), but never longer than its lock_timeout
    # (300 ms) and a little scheduling slack.
    assert 0.15 < max(stalls) < 0.3 + 0.2, f"the longest write waited {max(stalls):.2f} s"
    ok(in_project(project, db_url, "migrate", "deploy"))  # with the blocker gone it simply goes through


def test_a_revision_lock_timeout_applies_unless_the_command_line_overrides_it(
    project: Path, db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    ok(in_project(project, db_url, "migrate", "deploy"))
    add_revision(
        project,
        "20261201000000_patient",
        HEAD,
        ["ALTER TABLE tasks ADD COLUMN note text"],
        ["ALTER TABLE tasks DROP COLUMN note"],
        header='lock_timeout = "150ms"\n',
    )
    blocker = connect_to(db_url)
    blocker.autocommit = False
    blocker.execute("SELECT count(*) FROM tasks")
    try:
        own = in_project(project, db_url, "migrate", "deploy", "--lock-retries", "1")
        cli = in_project(
            project, db_url, "migrate", "deploy", "--lock-retries", "1", "--lock-timeout", "120ms"
        )
    finally:
        blocker.rollback()
        blocker.close()
    assert own.code == 1 and "lock_timeout 150ms" in own.stderr
    assert cli.code == 1 and "lock_timeout 120ms" in cli.stderr


def test_create_index_concurrently_killed_mid_build_resumes_cleanly(
    project: Path, db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    deploy_with_demo(project, db_url)
    rev = add_revision(
        project,
        "20261201000000_index_task_titles",
        HEAD,
        [
            "CREATE TABLE task_labels (id int PRIMARY KEY)",
            "CREATE INDEX CONCURRENTLY ix_tasks_title ON tasks (title)",
        ],
        ["DROP INDEX CONCURRENTLY ix_tasks_title", "DROP TABLE task_labels"],
    )
    plan = json.loads(ok(in_project(project, db_url, "--json", "migrate", "plan")).stdout)["plan"][0]
    assert plan["runs_statements_outside_a_transaction"] is True
    # A writer's open transaction makes the concurrent build wait, so it can be caught mid-build.
    writer = connect_to(db_url)
    writer.autocommit = False
    writer.execute("UPDATE tasks SET title = title WHERE id = (SELECT id FROM tasks ORDER BY id LIMIT 1)")
    runner = spawn(db_url, "migrate", "deploy", "--lock-timeout", "60s", project=project)
    try:
        build_pid = None
        for _ in range(200):
            row = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%' "
                "AND wait_event_type = 'Lock'"
            ).fetchone()
            if row:
                build_pid = row[0]
                break
            time.sleep(0.05)
        assert build_pid is not None, "the concurrent build never started"
        runner.send_signal(signal.SIGKILL)
        runner.wait()
        conn.execute("SELECT pg_terminate_backend(%s)", (build_pid,))  # the build dies with its runner
    finally:
        writer.rollback()
        writer.close()
    for _ in range(100):
        if conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (build_pid,)).fetchone() == (
            0,
        ):
            break
        time.sleep(0.05)
    assert conn.execute(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_tasks_title'::regclass"
    ).fetchone() == (False,)
    assert conn.execute(
        "SELECT statements_done, status FROM mandala_migration_runs ORDER BY id DESC LIMIT 1"
    ).fetchone() == (1, "running")
    resumed = in_project(project, db_url, "migrate", "deploy")
    assert resumed.code == 0, resumed.output
    assert "resuming after statement 1" in resumed.stderr
    assert "dropping the INVALID index ix_tasks_title" in resumed.stderr
    assert conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone() == (0,)
    assert conn.execute(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_tasks_title'::regclass"
    ).fetchone() == (True,)
    assert [s for r, _, s in ledger(conn) if r == rev] == ["interrupted", "succeeded"]


# -- plan, lint, checksums ---------------------------------------------------------------------------------


# -- prod and resolve ----------------------------------------------------------------------------------------
