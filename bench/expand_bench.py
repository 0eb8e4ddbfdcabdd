"""Benchmark: `tasks.estimated_minutes` from smallint to integer on a populated table with a writer updating
random rows every ~2 ms (lock_bench's writer), two ways, alternating which goes first:

- plain: one `ALTER TABLE tasks ALTER COLUMN estimated_minutes TYPE integer` by psql (a rewrite under
  ACCESS EXCLUSIVE: writers wait for all of it);
- steps: the expand / validate / contract revisions `migrate dev` writes for that model change (generated
  here on a small seeded database), applied by `migrate deploy` and `migrate deploy --contract`.

It prints, as medians [min, max], `stall <side> <ms>` (the longest gap between two completed writes),
`time <side> <s>`, and `backfill rows/s` (the tool's backfill, from its ledger) against `update rows/s`
(one plain UPDATE of every row by psql into a scratch column: the raw floor). Every run checks that each
row's value equals the old column's. With --kill, one more run SIGKILLs the deploy once its backfill has
recorded its 3rd batch, reruns it, and checks that the schema and the data are those of an uninterrupted
run.

    .venv/bin/python bench/expand_bench.py [--rows 1000000] [--runs 3] [--kill] [--batch-target 200ms]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from common import Databases, admin_url, dsn, med, params, server_major
from lock_bench import Writer

from mandala_db.core import catalog
from mandala_db.core.tools import find_client

ROOT = Path(__file__).resolve().parent.parent
MODEL = (
    "estimated_minutes: Mapped[int] = mapped_column(SmallInteger, nullable=False)",
    "estimated_minutes: Mapped[int] = mapped_column(Integer, nullable=False)",
)
CHECKSUM = "SELECT md5(string_agg(id::text || ':' || estimated_minutes, ',' ORDER BY id)) FROM tasks"


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.admin = admin_url()
        self.major, self.version = server_major(self.admin)
        self.psql = str(find_client("psql", self.major).path)
        self.dbs = Databases(self.admin)
        self.work = Path(tempfile.mkdtemp(prefix="mdb-expand-bench-"))
        self.url = self.dbs.new()

    def tool(self, *args: str, url: Any = None, shipped: bool = False) -> subprocess.CompletedProcess[str]:
        """The program of the project copy (with the generated revisions), or of the shipped project."""
        src = ROOT / "src" if shipped else self.work / "src"
        env = {**os.environ, "DATABASE_URL": (url or self.url).render(mask=False),
               "PYTHONPATH": str(src), "MANDALA_CACHE_DIR": str(self.work / "cache")}  # fmt: skip
        done = subprocess.run([sys.executable, "-m", "mandala_db", *args], env=env, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL)  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"mandala-db {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
        return done

    def sql(self, statement: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(**params(self.url), autocommit=True) as c:  # type: ignore[arg-type]
            cur = c.execute(statement)
            return cur.fetchall() if cur.description else []

    def psql_run(self, statement: str) -> float:
        started = time.perf_counter()
        subprocess.run([self.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn(self.url), "-c", statement],
                       check=True, env={**os.environ, "PGPASSWORD": self.url.password or ""})  # fmt: skip
        return time.perf_counter() - started

    def prepare(self) -> None:
        """The project copy with the model change and its generated revisions, and the big database."""
        shutil.copytree(ROOT / "src" / "mandala_db", self.work / "src" / "mandala_db",
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
        self.head = self.shipped_head()
        small = self.dbs.new()
        self.tool("migrate", "deploy", url=small)
        self.tool("seed", "demo", url=small)
        models = self.work / "src/mandala_db/schema/models.py"
        text = models.read_text().replace(*MODEL).replace("    DDL,\n", "    DDL,\n    Integer,\n", 1)
        models.write_text(text)
        self.tool("migrate", "dev", "minutes_int", url=small)
        self.dbs.drop((small,))
        self.tool("migrate", "deploy", shipped=True)
        self.tool("seed", "demo", shipped=True)
        per_action = max(1, self.args.rows // 128)
        self.sql("INSERT INTO tasks (action_id, title, estimated_minutes) SELECT a.id, md5(g::text || a.id::text), "
                 f"1 + (g * 7) % 600 FROM actions a, generate_series(1, {per_action}) g")  # fmt: skip
        self.sql("VACUUM ANALYZE tasks")
        self.ids = [str(r[0]) for r in self.sql("SELECT id FROM tasks TABLESAMPLE SYSTEM (1) LIMIT 5000")]
        self.rows = self.sql("SELECT count(*), pg_size_pretty(pg_total_relation_size('tasks')) FROM tasks")[0]
        self.before = self.sql(CHECKSUM)[0][0]

    def shipped_head(self) -> str:
        from mandala_db.ops.migrate.loader import History

        return History.load().head or ""

    def plain(self) -> tuple[float, float]:
        with Writer(self.url, self.ids) as writer:
            seconds = self.psql_run("ALTER TABLE tasks ALTER COLUMN estimated_minutes TYPE integer")
        self.check("plain")
        self.psql_run("ALTER TABLE tasks ALTER COLUMN estimated_minutes TYPE smallint")
        self.psql_run("VACUUM tasks")
        return seconds, max(writer.latencies)

    def steps(self, kill: bool = False) -> tuple[float, float, float]:
        batch = ("--batch-target", self.args.batch_target)
        with Writer(self.url, self.ids) as writer:
            started = time.perf_counter()
            if kill:
                self.killed_deploy(batch)
            self.tool("migrate", "deploy", *batch)
            self.tool("migrate", "deploy", "--contract", *batch)
            seconds = time.perf_counter() - started
        rate = self.sql("SELECT rows_done / greatest(extract(epoch FROM finished_at - started_at), 1e-6) "
                        "FROM mandala_backfills")[0][0]  # fmt: skip
        self.check("steps")
        with psycopg.connect(**params(self.url)) as c:  # type: ignore[arg-type]
            self.fingerprint = catalog.take(c).fingerprint
        self.tool("--yes", "migrate", "rollback", "to", self.head)
        self.psql_run("VACUUM tasks")
        return seconds, max(writer.latencies), float(rate)

    def killed_deploy(self, batch: tuple[str, str]) -> None:
        """A deploy SIGKILLed once its backfill has recorded its 3rd batch (an event, not a clock)."""
        env = {
            **os.environ,
            "DATABASE_URL": self.url.render(mask=False),
            "PYTHONPATH": str(self.work / "src"),
        }
        proc = subprocess.Popen([sys.executable, "-m", "mandala_db", "migrate", "deploy", *batch], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        while proc.poll() is None:
            there = self.sql("SELECT to_regclass('mandala_backfills') IS NOT NULL")[0][0]
            done = self.sql("SELECT coalesce(max(batches), 0) FROM mandala_backfills")[0][0] if there else 0
            if done >= 3:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
        proc.wait()

    def update_floor(self) -> float:
        self.psql_run("ALTER TABLE tasks ADD COLUMN bench_v integer")
        seconds = self.psql_run("UPDATE tasks SET bench_v = estimated_minutes")
        self.psql_run("ALTER TABLE tasks DROP COLUMN bench_v")
        self.psql_run("VACUUM tasks")
        return self.rows[0] / seconds

    def check(self, side: str) -> None:
        found = self.sql(CHECKSUM)[0][0]
        assert found == self.before, f"{side}: the values differ from the old column's"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--kill", action="store_true")
    ap.add_argument("--batch-target", default="200ms")
    args = ap.parse_args()
    b = Bench(args)
    out: dict[str, list[float]] = {
        k: [] for k in ("plain_s", "plain_stall", "steps_s", "steps_stall", "rate", "update")
    }
    try:
        b.prepare()
        for run in range(args.runs):
            for side in ("plain", "steps") if run % 2 == 0 else ("steps", "plain"):
                if side == "plain":
                    s, stall = b.plain()
                    out["plain_s"].append(s)
                    out["plain_stall"].append(stall)
                else:
                    s, stall, rate = b.steps()
                    out["steps_s"].append(s)
                    out["steps_stall"].append(stall)
                    out["rate"].append(rate)
            out["update"].append(b.update_floor())
            print(f"run {run + 1}: plain {out['plain_s'][-1]:.2f} s, stall {out['plain_stall'][-1] * 1000:.0f} ms; "
                  f"steps {out['steps_s'][-1]:.2f} s, stall {out['steps_stall'][-1] * 1000:.0f} ms", flush=True)  # fmt: skip
        killed = ""
        if args.kill:
            uninterrupted = b.fingerprint
            s, stall, _ = b.steps(kill=True)
            same = b.fingerprint == uninterrupted
            killed = (
                f"kill after the 3rd batch, then rerun: same schema {'yes' if same else 'NO'}, same data yes"
            )
            assert same, "a killed and rerun deploy ended in another schema"
    finally:
        b.dbs.drop_all()
        shutil.rmtree(b.work, ignore_errors=True)
    print(f"\n{b.version}; tasks: {b.rows[0]:,} rows, {b.rows[1]}; a writer updating random rows every ~2 ms; "
          f"{args.runs} runs, alternating; batch target {args.batch_target}; medians [min, max]")  # fmt: skip
    print(f"stall plain {med(out['plain_stall'], 1000)} ms")
    print(f"stall steps {med(out['steps_stall'], 1000)} ms")
    print(f"time plain {med(out['plain_s'], fmt='.2f')} s")
    print(f"time steps {med(out['steps_s'], fmt='.2f')} s")
    print(f"backfill rows/s {med(out['rate'])}")
    print(f"update rows/s {med(out['update'])}")
    ratios = [r / u for r, u in zip(out["rate"], out["update"], strict=True)]
    print(f"backfill/update {med(ratios, fmt='.2f')}")
    print("every row's value equal to the old column's: yes (checked after each run)")
    if killed:
        print(killed)


if __name__ == "__main__":
    main()
