"""Benchmark: `mandala-db migrate deploy` of the whole history on an empty database against `psql -f` of the
same SQL rendered offline, and the cold-start wall time of `mandala-db --help` and `migrate status`.

    .venv/bin/python bench/migrate_bench.py [--runs 7]

Uses BENCH_DATABASE_URL (else TEST_DATABASE_URL, else the embedded server). Prints medians and ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from common import Databases, admin_url, dsn, server_major, timed

from mandala_db.core.tools import find_client
from mandala_db.ops.migrate.loader import History
from mandala_db.ops.migrate.runner import AlembicRunner

TARGETS = {"deploy": 1.0, "status": 0.4}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    admin = admin_url()
    dbs = Databases(admin)
    major, version = server_major(admin)
    psql = find_client("psql", major)
    sql = AlembicRunner().render(None, History.load().head or "", "upgrade")
    sql_file = Path(tempfile.mkstemp(suffix=".sql")[1])
    sql_file.write_text(sql)
    mandala = [sys.executable, "-m", "mandala_db"]
    base_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    rows: dict[str, list[float]] = {"deploy": [], "psql": [], "help": [], "status": []}
    try:
        for _ in range(args.runs):
            url = dbs.new()
            env = {**base_env, "DATABASE_URL": url.render(mask=False)}
            rows["deploy"].append(timed([*mandala, "migrate", "deploy"], env))
            rows["status"].append(timed([*mandala, "migrate", "status"], env))
            rows["help"].append(timed([*mandala, "--help"], env))
            raw = dbs.new()
            penv = {**base_env, "PGPASSWORD": raw.password or ""}
            rows["psql"].append(
                timed(
                    [str(psql.path), "-X", "-q", "-v", "ON_ERROR_STOP=1", dsn(raw), "-f", str(sql_file)], penv
                )
            )
    finally:
        dbs.drop_all()
        sql_file.unlink()
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"{version}, {psql.name} {psql.version}, {args.runs} runs each, median wall time\n")
    print(f"{'what':44} {'seconds':>8} {'vs raw':>8} {'target':>8}")
    print(
        f"{'mandala-db migrate deploy (7 revisions)':44} {med['deploy']:8.3f} "
        f"{med['deploy'] / med['psql']:7.2f}x {'< 1.0':>8}"
    )
    print(f"{'psql -f (same SQL, rendered offline)':44} {med['psql']:8.3f} {1.0:7.2f}x {'':>8}")
    print(f"{'mandala-db --help (cold start)':44} {med['help']:8.3f} {'':>8} {'':>8}")
    print(f"{'mandala-db migrate status (cold start)':44} {med['status']:8.3f} {'':>8} {'< 0.4':>8}")
    ok = med["deploy"] < TARGETS["deploy"] and med["status"] < TARGETS["status"]
    print("\ntargets met" if ok else "\nTARGETS MISSED")


if __name__ == "__main__":
    main()
