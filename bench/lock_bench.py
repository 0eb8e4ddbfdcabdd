"""Benchmark: the longest write stall on a 1M-row `tasks` table with a concurrent writer, while an index is
added the tool's safe way (a revision with CREATE INDEX CONCURRENTLY, run by `mandala-db migrate deploy`)
against psql running the same `CREATE INDEX CONCURRENTLY` (and a plain `CREATE INDEX`, for contrast); and
the run ledger's own cost per revision.

    .venv/bin/python bench/lock_bench.py [--rows 1000000] [--runs 3]
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
from collections.abc import Callable
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
    """Updates random rows in a loop (by default of tasks), one autocommit statement at a time, timing each.
    A failed write counts as a stall too, and is kept in `errors`."""

    def __init__(
        self,
        url: object,
        ids: list[str],
        statement: str = "UPDATE tasks SET estimated_minutes = estimated_minutes WHERE id = %s",
    ) -> None:
        self.url, self.ids, self.statement = url, ids, statement
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        import random

        with psycopg.connect(**params(self.url), autocommit=True) as c:  # type: ignore[arg-type]
            last = time.perf_counter()
            while not self.stop.is_set():
                try:
                    c.execute(self.statement, (random.choice(self.ids),))
                except psycopg.Error as exc:
                    self.errors.append(str(exc).splitlines()[0])
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
    ap.add_argument("--runs", type=int, default=3)
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

        psql_env = {**os.environ, "PGPASSWORD": url.password or ""}

        def psql_index(sql: str) -> float:
            started = time.perf_counter()
            subprocess.run([str(psql.path), "-X", "-q", dsn(url), "-c", sql], check=True, env=psql_env)
            return time.perf_counter() - started

        def drop(name: str) -> None:
            with psycopg.connect(**params(url), autocommit=True) as c:  # type: ignore[arg-type]
                c.execute(f"DROP INDEX IF EXISTS {name}")

        shutil.copytree(
            ROOT / "src" / "mandala_db",
            workdir / "src" / "mandala_db",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        (workdir / "src/mandala_db/migrations/versions/29990101000000_bench_index.py").write_text(
            REVISION.format(head=history.head)
        )
        tool_env = {**env, "PYTHONPATH": str(workdir / "src"), "MANDALA_CACHE_DIR": str(workdir / "cache")}

        def deploy_index() -> float:
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "mandala_db", "migrate", "deploy"],
                check=True,
                capture_output=True,
                env=tool_env,
            )
            return time.perf_counter() - started

        def undeploy() -> None:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "mandala_db",
                    "--yes",
                    "migrate",
                    "rollback",
                    "to",
                    history.head or "",
                ],
                check=True,
                capture_output=True,
                env=tool_env,
            )

        results: dict[str, list[tuple[float, float, int]]] = {"plain": [], "concurrently": [], "tool": []}

        def measured(key: str, build: Callable[[], float], undo: Callable[[], None]) -> None:
            with Writer(url, ids) as writer:
                seconds = build()
            # Read after the writer stopped: a write blocked by the build completes only after it.
            results[key].append((seconds, max(writer.latencies), len(writer.latencies)))
            undo()

        for run in range(args.runs):
            sides = [
                ("concurrently", lambda: psql_index("CREATE INDEX CONCURRENTLY ix_tasks_cic ON tasks (title)"),
                 lambda: drop("ix_tasks_cic")),
                ("tool", deploy_index, undeploy),
            ]  # fmt: skip
            for key, build, undo in sides if run % 2 == 0 else reversed(sides):
                measured(key, build, undo)
            measured(
                "plain",
                lambda: psql_index("CREATE INDEX ix_tasks_plain ON tasks (title)"),
                lambda: drop("ix_tasks_plain"),
            )

        # The ledger's own cost per revision, as the executor pays it: a start row and a finish row (their
        # commits do not wait for the disk), and once per run the schema fingerprint.
        rows_cost, fingerprint_cost = [], []
        with psycopg.connect(**params(url), autocommit=True) as c:  # type: ignore[arg-type]
            ledger = RunLedger(c, run_id="bench", environment="bench")
            ledger.ensure()
            for _ in range(200):
                started = time.perf_counter()
                row = ledger.start("bench", "upgrade", "x", "y", statements_total=1)
                ledger.finish(row, "succeeded")
                rows_cost.append(time.perf_counter() - started)
            for _ in range(20):
                started = time.perf_counter()
                ledger.set_fingerprint(row, catalog.take(c).fingerprint)
                fingerprint_cost.append(time.perf_counter() - started)
            c.execute("DELETE FROM mandala_migration_runs WHERE revision = 'bench'")
    finally:
        dbs.drop_all()
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"{version}; tasks: {rows[0]:,} rows, {rows[1]}; a writer updating random rows every ~2 ms")
    print(f"{args.runs} runs, the two CONCURRENTLY sides in alternating order; medians [min, max]\n")
    print(f"{'adding an index on tasks(title)':52} {'build s':>20} {'longest write stall ms':>26}")
    for label, key in (
        ("psql: CREATE INDEX (plain, for contrast)", "plain"),
        ("psql: CREATE INDEX CONCURRENTLY", "concurrently"),
        ("mandala-db migrate deploy: the same, as a revision", "tool"),
    ):
        builds = [r[0] for r in results[key]]
        stalls = [r[1] * 1000 for r in results[key]]
        print(
            f"{label:52} {statistics.median(builds):8.2f} [{min(builds):.2f}, {max(builds):.2f}] "
            f"{statistics.median(stalls):12.0f} [{min(stalls):.0f}, {max(stalls):.0f}]"
        )
    build_ratios = [t[0] / c[0] for t, c in zip(results["tool"], results["concurrently"], strict=True)]
    print(
        f"\nmandala-db vs psql, both CONCURRENTLY: build {statistics.median(build_ratios):.2f}x "
        f"[{min(build_ratios):.2f}, {max(build_ratios):.2f}] (the difference is the tool's start-up, lock, "
        "ledger and lock_timeout with retries)"
    )
    per_row = statistics.median(rows_cost) * 1000
    per_fp = statistics.median(fingerprint_cost) * 1000
    print(
        f"ledger per revision: start + finish {per_row:.2f} ms (median of {len(rows_cost)}); the fingerprint, "
        f"once per run, {per_fp:.1f} ms; per revision of a 7-revision deploy {per_row + per_fp / 7:.2f} ms"
    )


if __name__ == "__main__":
    main()
