"""The embedded default, and the migration lock that keeps concurrent deployers from applying twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from conftest import ROOT, run_cli
from mandala_db.core.database import Database
from mandala_db.core.lock import MigrationLock
from mandala_db.core.url import DatabaseURL


def test_without_a_url_the_embedded_server_is_started_and_reused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = run_cli("migrate", "deploy", env={"MANDALA_STATE_DIR": str(state)}, cwd=tmp_path)
    assert first.code == 0, first.output
    notices = [ln for ln in first.stderr.splitlines() if "embedded PostgreSQL" in ln]
    assert len(notices) == 1 and "(started" in notices[0]
    second = run_cli("--json", "migrate", "status", env={"MANDALA_STATE_DIR": str(state)}, cwd=tmp_path)
    assert second.code == 0
    assert "(running" in second.stderr
    assert json.loads(second.stdout)["status"]["up_to_date"] is True
    _stop_embedded(state / "pgdata")


def _stop_embedded(pgdata: Path) -> None:
    pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    subprocess.run(["kill", "-INT", str(pid)], check=False)


def test_concurrent_deploys_apply_each_revision_once(db_url: DatabaseURL) -> None:
    env = {"DATABASE_URL": db_url.render(mask=False), "PYTHONPATH": str(ROOT / "src")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "mandala_db", "--json", "migrate", "deploy"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        for _ in range(4)
    ]
    results = [(p.wait(timeout=120), p.stdout.read() if p.stdout else "") for p in procs]
    assert [code for code, _ in results] == [0, 0, 0, 0]
    applied = [s["revision"] for _, out in results for s in json.loads(out)["steps"]]
    assert len(applied) == 7 and len(set(applied)) == 7
    with psycopg.connect(**_params(db_url), autocommit=True) as c:
        rows = c.execute("SELECT revision, count(*) FROM mandala_migration_runs GROUP BY 1").fetchall()
    assert len(rows) == 7 and all(n == 1 for _, n in rows)


def test_a_held_lock_names_its_holder_and_exits_4(db_url: DatabaseURL) -> None:
    with MigrationLock(Database(db_url, "mandala-db:test-holder"), wait_seconds=1):
        started = time.monotonic()
        result = run_cli("migrate", "deploy", "--lock-wait", "1", url=db_url)
        assert time.monotonic() - started < 30
    assert result.code == 4
    assert "the migration lock is held by pid" in result.stderr
    assert "mandala-db:test-holder" in result.stderr


def _params(url: DatabaseURL) -> dict[str, Any]:
    return dict(url.libpq_params())


def test_commands_starting_the_embedded_server_at_once_share_it(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {**os.environ, "MANDALA_STATE_DIR": str(state), "PYTHONPATH": str(ROOT / "src")}
    env.pop("DATABASE_URL", None)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "mandala_db", "migrate", "status"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    try:
        assert [code for code, _ in results] == [0, 0, 0], results
        notes = " ".join(err for _, err in results)
        assert notes.count("(started") == 1 and notes.count("(running") == 2
    finally:
        _stop_embedded(state / "pgdata")
