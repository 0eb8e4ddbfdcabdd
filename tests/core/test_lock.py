"""core/lock.py: the migration lock keeps concurrent deployers from applying a revision twice, and a held
lock names its holder and exits 4."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import psycopg

from conftest import ROOT, run_cli
from mandala_db.core.database import Database
from mandala_db.core.lock import MigrationLock
from mandala_db.core.url import DatabaseURL


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
    with psycopg.connect(**dict(db_url.libpq_params()), autocommit=True) as c:
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
