"""Benchmark: the longest write stall on a 1M-row `tasks` table with a concurrent writer, while an index is
added the tool's safe way (a revision with CREATE INDEX CONCURRENTLY, run by `mandala-db migrate deploy`)
against a plain `CREATE INDEX` by psql; and the run ledger's overhead per revision.

    .venv/bin/python bench/lock_bench.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
from common import Databases, admin_url, dsn, params, server_major

from mandala_db.core import catalog
from mandala_db.core.database import Database
from mandala_db.core.ledger import RunLedger
from mandala_db.core.tools import find_client
from mandala_db.ops.migrate import build_schema
from mandala_db.ops.migrate.loader import History

ROOT = Path(__file__).resolve().parent.parent
REVISION = '''"""index task titles concurrently"""
from alembic import op

revision = "29990101000000_bench_index"
down_revision = "{head}"


def upgrade() -> None:
    op.execute("CREATE INDEX CONCURRENTLY ix_tasks_bench ON tasks (title)")


def downgrade() -> None:
    op.execute("DROP INDEX CONCURRENTLY ix_tasks_bench")
'''


class Writer:
    """Updates random rows of tasks in a loop, one autocommit statement at a time, timing each."""

    def __init__(self, url: object, ids: list[str]) -> None:
        self.url, self.ids = url, ids
        self.latencies: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        import random

        with psycopg.connect(**params(self.url), autocommit=True) as c:  # type: ignore[arg-type]
            last = time.perf_counter()
            while not self.stop.is_set():
                c.execute(
                    "UPDATE tasks SET estimated_minutes = estimated_minutes WHERE id = %s",
                    (random.choice(self.ids),),
                )
                now = time.perf_counter()
                # The stall a steady writer feels: the longest gap between two of its completed writes.
                self.latencies.append(now - last)
                last = now
                time.sleep(0.002)

    def __enter__(self) -> Writer:
        self.thread.start()
        time.sleep(0.3)
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.3)
        self.stop.set()
        self.thread.join()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    admin = admin_url()
    major, version = server_major(admin)
    psql = find_client("psql", major)
    dbs = Databases(admin)
    workdir = Path(tempfile.mkdtemp(prefix="mdb-lock-bench-"))
    try:
        url = dbs.new()
        history = History.load()
        build_schema(Database(url), "head")
        env = {**os.environ, "DATABASE_URL": url.render(mask=False)}
        subprocess.run(
            [sys.executable, "-m", "mandala_db", "seed", "demo"], env=env, check=True, capture_output=True
        )
        with psycopg.connect(**params(url), autocommit=True) as c:  # type: ignore[arg-type]
            per_action = max(1, args.rows // 128)
            c.execute(
                "INSERT INTO tasks (action_id, title, estimated_minutes) SELECT a.id, md5(g::text || a.id::text), "
                f"30 FROM actions a, generate_series(1, {per_action}) g"
            )
            c.execute("VACUUM ANALYZE tasks")
            rows = c.execute(
                "SELECT count(*), pg_size_pretty(pg_total_relation_size('tasks')) FROM tasks"
            ).fetchone()
            ids = [
                str(r[0])
                for r in c.execute("SELECT id FROM tasks TABLESAMPLE SYSTEM (1) LIMIT 5000").fetchall()
            ]
        assert rows is not None

        results = {}
        with Writer(url, ids) as plain:
            started = time.perf_counter()
            subprocess.run(
                [str(psql.path), "-X", "-q", dsn(url), "-c", "CREATE INDEX ix_tasks_plain ON tasks (title)"],
                check=True,
                env={**os.environ, "PGPASSWORD": url.password or ""},
            )
            plain_seconds = time.perf_counter() - started
        # Read after the writer stopped: the write blocked by the build completes only after it.
        results["plain"] = (plain_seconds, max(plain.latencies), len(plain.latencies))
        with psycopg.connect(**params(url), autocommit=True) as c:  # type: ignore[arg-type]
            c.execute("DROP INDEX ix_tasks_plain")
        shutil.copytree(
            ROOT / "src" / "mandala_db",
            workdir / "src" / "mandala_db",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        (workdir / "src/mandala_db/migrations/versions/29990101000000_bench_index.py").write_text(
            REVISION.format(head=history.head)
        )
        with Writer(url, ids) as safe:
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "mandala_db", "migrate", "deploy"],
                check=True,
                capture_output=True,
                env={**env, "PYTHONPATH": str(workdir / "src")},
            )
            safe_seconds = time.perf_counter() - started
        results["safe"] = (safe_seconds, max(safe.latencies), len(safe.latencies))

        # The ledger's own cost per revision: a start row, a finish row and the schema fingerprint.
        samples = []
        with psycopg.connect(**params(url), autocommit=True) as c:  # type: ignore[arg-type]
            ledger = RunLedger(c, run_id="bench", environment="bench")
            for _ in range(50):
                started = time.perf_counter()
                row = ledger.start("bench", "upgrade", "x", "y", statements_total=1)
                ledger.finish(row, "succeeded", fingerprint=catalog.take(c).fingerprint)
                samples.append(time.perf_counter() - started)
            c.execute("DELETE FROM mandala_migration_runs WHERE revision = 'bench'")
    finally:
        dbs.drop_all()
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"{version}; tasks: {rows[0]:,} rows, {rows[1]}; a writer updating random rows every ~2 ms\n")
    print(f"{'adding an index on tasks(title)':52} {'build s':>8} {'longest write stall':>20} {'writes':>7}")
    for label, key in (
        ("psql: CREATE INDEX (plain)", "plain"),
        ("mandala-db deploy: CREATE INDEX CONCURRENTLY", "safe"),
    ):
        total, stall, count = results[key]
        print(f"{label:52} {total:8.2f} {stall * 1000:17.0f} ms {count:7d}")
    ratio = results["plain"][1] / max(results["safe"][1], 1e-6)
    print(f"\nthe safe way's longest stall is {ratio:.0f}x shorter")
    print(
        f"ledger overhead per revision (start + finish + fingerprint): median "
        f"{statistics.median(samples) * 1000:.1f} ms over {len(samples)}"
    )


if __name__ == "__main__":
    main()
