"""Benchmark: `adopt prisma` on a Prisma-built database of ~1,000,000 rows (the goal-mandala shape: tasks the
bulk, progress history next) while two writers update random rows, one of `tasks` (renames only) and one of
`progress_history` (values mapped on the way), every ~2 ms. Two sides, alternating which goes first, each on
a fresh copy of the same database:

- raw: psql runs the conversion's own SQL (the dry run's plan, the same locks first) in one transaction, then
  the VALIDATE CONSTRAINT statements, each in its own: no backup, no proof, no undo record;
- tool: `mandala-db --yes adopt prisma` (the pre-adoption backup, the checks, the proof, the validations).

It prints, as medians [min, max], `stall <side> <ms>` (the longest gap between two completed writes of either
writer), `time <side> <s>`, and the tool/raw ratios. Every tool run checks that the adopted database's rows
are the Prisma database's (per table, the proof's own count and checksum, read again from outside).

    .venv/bin/python bench/adopt_bench.py [--rows 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from common import Databases, admin_url, dsn, med, params, server_major
from lock_bench import Writer

from mandala_db.core.database import Database
from mandala_db.core.tools import find_client
from mandala_db.core.url import DatabaseURL

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "ops" / "adopt")]
import prismakit  # noqa: E402  (the Prisma layout the tests adopt, built from the spec)

# Per user: 1 goal, 8 sub-goals, 64 actions, 64 x TASKS tasks, 64 task notes, the 8 sub-goals' progress
# entries, and progress entries for a quarter of the tasks (the history grows with the work).
TASKS = 8
PER_USER = 1 + 1 + 8 + 64 + 64 * TASKS + 64 + 8 + 64 * TASKS // 4
HISTORY = """INSERT INTO progress_history (id, "entityType", "entityId", progress)
    SELECT gen_random_uuid(), 'task', id, 50 FROM tasks WHERE random() < 0.25"""


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.admin = admin_url()
        self.major, self.version = server_major(self.admin)
        self.psql = str(find_client("psql", self.major).path)
        self.dbs = Databases(self.admin)
        self.work = Path(tempfile.mkdtemp(prefix="mdb-adopt-bench-"))

    def sql(self, url: DatabaseURL, statement: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(**params(url), autocommit=True) as c:  # type: ignore[arg-type]
            cur = c.execute(statement)
            return cur.fetchall() if cur.description else []

    def prepare(self) -> None:
        """The Prisma-built database once, as the template every run copies."""
        self.template = self.dbs.new()
        users = max(1, self.args.rows // PER_USER)
        with psycopg.connect(**params(self.template), autocommit=True) as c:  # type: ignore[arg-type]
            prismakit.build(c)
            prismakit.populate(c, users=users, tasks=TASKS, planted=False)
            c.execute(HISTORY)
            c.execute("VACUUM ANALYZE")
            self.rows = c.execute(
                "SELECT sum(n_live_tup)::bigint, pg_size_pretty(pg_database_size(current_database())) "
                "FROM pg_stat_user_tables"
            ).fetchone()
            self.task_ids = [
                str(r[0]) for r in c.execute("SELECT id FROM tasks TABLESAMPLE SYSTEM (2) LIMIT 5000")
            ]
            self.history_ids = [
                str(r[0])
                for r in c.execute("SELECT id FROM progress_history TABLESAMPLE SYSTEM (2) LIMIT 5000")
            ]
            self.tables = {
                t: int(n)
                for t, n in c.execute(
                    "SELECT relname, n_live_tup FROM pg_stat_user_tables ORDER BY 2 DESC LIMIT 3"
                )
            }
        from mandala_db.ops.adopt import dry_run

        report = dry_run(Database(self.template))
        assert report.problems == 0, report.to_dict()
        self.plan = [sql for table in sorted(report.plan) for sql in report.plan[table]]
        self.validations = report.validations

    def copy(self) -> DatabaseURL:
        name = f"mdb_bench_{uuid.uuid4().hex[:8]}"
        self.sql(self.admin, f'CREATE DATABASE "{name}" TEMPLATE "{self.template.dbname}"')
        self.dbs.names.append(name)
        return self.admin.with_database(name)

    def writers(self, url: DatabaseURL) -> tuple[Writer, Writer]:
        # Statements that name only columns both layouts share, so they go on across the conversion.
        return (Writer(url, self.task_ids, "UPDATE tasks SET title = title WHERE id = %s"),
                Writer(url, self.history_ids, "UPDATE progress_history SET progress = progress WHERE id = %s"))  # fmt: skip

    def raw(self) -> tuple[float, float]:
        url = self.copy()
        script = self.work / "convert.sql"
        tables = ", ".join(f'"{t}"' for t in sorted(prismakit.TABLES))
        script.write_text(
            "\\set ON_ERROR_STOP 1\nBEGIN;\n"
            f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE;\n"
            + "".join(f"{s};\n" for s in self.plan)
            + "COMMIT;\n"
            + "".join(f"{s};\n" for s in self.validations)
        )
        a, b = self.writers(url)
        with a, b:
            started = time.perf_counter()
            subprocess.run([self.psql, "-X", "-q", "-d", dsn(url), "-f", str(script)], check=True,
                           env={**os.environ, "PGPASSWORD": url.password or ""}, stdout=subprocess.DEVNULL)  # fmt: skip
            seconds = time.perf_counter() - started
        self.dbs.drop((url,))
        return seconds, max(a.latencies + b.latencies)

    def tool(self) -> tuple[float, float]:
        url = self.copy()
        before = self.proof(url, prisma=True)
        env = {
            **os.environ,
            "DATABASE_URL": url.render(mask=False),
            "MANDALA_CACHE_DIR": str(self.work / "cache"),
        }
        a, b = self.writers(url)
        with a, b:
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "mandala_db", "--yes", "adopt", "prisma", "--backup-dir", str(self.work / "b")],
                env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"adopt prisma failed ({done.returncode}): {done.stderr[-2000:]}")
        # The writers changed no value (each sets a column to itself), so the rows are still the template's.
        after = self.proof(url, prisma=False)
        assert before == after, "the adopted rows differ from Prisma's"
        self.errors = a.errors + b.errors
        self.dbs.drop((url,))
        shutil.rmtree(self.work / "b", ignore_errors=True)
        return seconds, max(a.latencies + b.latencies)

    def proof(self, url: DatabaseURL, prisma: bool) -> dict[str, tuple[int, str]]:
        """Every table's count and checksum over our columns (read through the mapping on the Prisma side),
        but tasks.updated_at: our trigger sets it on the writer's updates once the table is ours."""
        from mandala_db.core import catalog
        from mandala_db.ops.adopt.mapping import quote, value_sql
        from mandala_db.ops.adopt.proof import checksum

        out = {}
        with psycopg.connect(**params(url)) as c, c.transaction(force_rollback=True):  # type: ignore[arg-type]
            models, live = catalog.models_snapshot(c), catalog.take(c)
            for table in sorted(models.tables.keys() & live.tables.keys()):
                columns = [
                    x for x in sorted(models.tables[table].columns) if (table, x) != ("tasks", "updated_at")
                ]
                have = live.tables[table].columns
                values = [(value_sql(table, x, have) or "NULL") if prisma else quote(x) for x in columns]
                out[table] = checksum(c, table, values)
        return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    b = Bench(args)
    out: dict[str, list[float]] = {k: [] for k in ("raw_s", "raw_stall", "tool_s", "tool_stall")}
    try:
        b.prepare()
        for run in range(args.runs):
            for side in ("raw", "tool") if run % 2 == 0 else ("tool", "raw"):
                seconds, stall = b.raw() if side == "raw" else b.tool()
                out[f"{side}_s"].append(seconds)
                out[f"{side}_stall"].append(stall)
            print(f"run {run + 1}: raw {out['raw_s'][-1]:.2f} s, stall {out['raw_stall'][-1] * 1000:.0f} ms; "
                  f"tool {out['tool_s'][-1]:.2f} s, stall {out['tool_stall'][-1] * 1000:.0f} ms", flush=True)  # fmt: skip
    finally:
        b.dbs.drop_all()
        shutil.rmtree(b.work, ignore_errors=True)
    assert b.rows is not None
    biggest = ", ".join(f"{t} {n:,}" for t, n in b.tables.items())
    print(f"\n{b.version}; {int(b.rows[0]):,} rows ({biggest}), {b.rows[1]}; two writers (tasks, progress_history) "
          f"updating random rows every ~2 ms; {args.runs} runs, alternating; medians [min, max]")  # fmt: skip
    print(f"stall raw {med(out['raw_stall'], 1000)} ms")
    print(f"stall tool {med(out['tool_stall'], 1000)} ms")
    print(f"time raw {med(out['raw_s'], fmt='.2f')} s")
    print(f"time tool {med(out['tool_s'], fmt='.2f')} s")
    ratios = [t / r for t, r in zip(out["tool_s"], out["raw_s"], strict=True)]
    print(f"time tool/raw {med(ratios, fmt='.2f')}")
    print(
        f"writes that failed during the adoption: {len(b.errors)}" + (f" ({b.errors[0]})" if b.errors else "")
    )
    print("every table's rows equal to Prisma's after each adoption (count and checksum): yes")


if __name__ == "__main__":
    main()
