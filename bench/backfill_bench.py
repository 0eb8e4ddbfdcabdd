"""Benchmark: a batched backfill (ops/migrate/backfill, the default 200 ms batch target) against one plain
UPDATE of every row by psql, the raw floor, on the same table in the same run, alternating which goes
first. Prints rows/s of each side and the median ratio with min and max. (The stall of writers during a
whole expand/backfill/contract change, under a writer, is bench/expand_bench.py's.)

    .venv/bin/python bench/backfill_bench.py [--rows 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

import psycopg
from common import Databases, admin_url, dsn, params, server_major

from mandala_db.core.tools import find_client
from mandala_db.migrations.backfill import Backfill
from mandala_db.ops.migrate.backfill import TABLE, BatchPolicy, run

FILL = Backfill("items", set="v2 = v", where="v2 IS NULL")


def reset(conn: psycopg.Connection[object], rows: int) -> None:
    conn.execute(f"DROP TABLE IF EXISTS items, {TABLE}")
    conn.execute("CREATE TABLE items (id int PRIMARY KEY, v smallint NOT NULL, v2 integer, note text)")
    conn.execute(
        f"INSERT INTO items SELECT g, g % 30000, NULL, repeat('x', 40) FROM generate_series(1, {rows}) g"
    )
    conn.execute("VACUUM ANALYZE items")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    admin = admin_url()
    major, version = server_major(admin)
    psql = find_client("psql", major).path
    dbs = Databases(admin)
    url = dbs.new()
    ratios, tool_rates, raw_rates = [], [], []
    try:
        with psycopg.connect(**params(url), autocommit=True) as conn:  # type: ignore[arg-type]
            for i in range(args.runs):
                times: dict[str, float] = {}
                for side in ("tool", "raw") if i % 2 == 0 else ("raw", "tool"):
                    reset(conn, args.rows)
                    started = time.perf_counter()
                    if side == "tool":
                        run(conn, f"bench_{i}", (FILL,), BatchPolicy())
                    else:
                        subprocess.run([str(psql), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn(url), "-c",
                                        "UPDATE items SET v2 = v WHERE v2 IS NULL"], check=True)  # fmt: skip
                    times[side] = time.perf_counter() - started
                    left = conn.execute("SELECT count(*) FROM items WHERE v2 IS DISTINCT FROM v").fetchone()
                    assert left == (0,), f"{side} left rows unfilled: {left}"
                tool_rates.append(args.rows / times["tool"])
                raw_rates.append(args.rows / times["raw"])
                ratios.append(tool_rates[-1] / raw_rates[-1])
                print(
                    f"run {i + 1}: backfill {tool_rates[-1]:,.0f} rows/s, update {raw_rates[-1]:,.0f} rows/s"
                )
    finally:
        dbs.drop_all()
    print(f"{version}, {args.rows:,} rows, {args.runs} runs")
    print(f"backfill rows/s {statistics.median(tool_rates):,.0f}")
    print(f"update rows/s {statistics.median(raw_rates):,.0f}")
    print(f"backfill/update {statistics.median(ratios):.2f} [{min(ratios):.2f}, {max(ratios):.2f}]")


if __name__ == "__main__":
    main()
