"""Benchmark, each pair in one run with the order alternating from run to run:

- `mandala-db migrate deploy` of the whole history on an empty database against `psql -f` of the same SQL
  rendered offline: with the cache of rendered revisions warm (as on every run after the first on one
  machine) and cold (a fresh clone on a fresh machine: Alembic renders every revision);
- `mandala-db migrate status` on an up-to-date database against `psql -c 'select 1'`, and against the
  floor of any Python client of PostgreSQL, `python -c 'import psycopg'`;
- `mandala-db --help` against `python -c 'import psycopg'` (help needs no driver).

    .venv/bin/python bench/migrate_bench.py [--runs 7]

Uses BENCH_DATABASE_URL (else TEST_DATABASE_URL, else the embedded server). Prints median seconds of both
sides and the per-run ratio as median [min, max].
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from common import Databases, admin_url, alternate, dsn, ratio_row, server_major, timed

from mandala_db.core.tools import find_client
from mandala_db.ops.migrate.loader import History
from mandala_db.ops.migrate.runner import AlembicRunner

TARGETS = {"deploy (cache warm)": 4.0, "status": 5.0, "--help": 1.0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    admin = admin_url()
    dbs = Databases(admin)
    major, version = server_major(admin)
    psql = find_client("psql", major)
    work = Path(tempfile.mkdtemp(prefix="mdb-migrate-bench-"))
    sql_file = work / "history.sql"
    sql_file.write_text(AlembicRunner().render(None, History.load().head or "", "upgrade"))
    mandala = [sys.executable, "-m", "mandala_db"]
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MANDALA_CACHE_DIR")}
    warm_cache = work / "cache-warm"
    pairs: dict[str, tuple[list[float], list[float]]] = {
        "deploy (cache warm)": ([], []),
        "deploy (cache cold)": ([], []),
        "status": ([], []),
        "status (floor)": ([], []),
        "--help": ([], []),
    }

    def psql_f() -> float:
        raw = dbs.new()
        penv = {**base, "PGPASSWORD": raw.password or ""}
        cmd = [str(psql.path), "-X", "-q", "-v", "ON_ERROR_STOP=1", dsn(raw), "-f", str(sql_file)]
        return timed(cmd, penv)

    def deploy(cache: Path) -> float:
        url = dbs.new()
        env = {**base, "DATABASE_URL": url.render(mask=False), "MANDALA_CACHE_DIR": str(cache)}
        return timed([*mandala, "migrate", "deploy"], env)

    try:
        deploy(warm_cache)  # fills the cache the warm runs read
        status_url = dbs.new()
        status_env = {
            **base,
            "DATABASE_URL": status_url.render(mask=False),
            "MANDALA_CACHE_DIR": str(warm_cache),
        }
        timed([*mandala, "migrate", "deploy"], status_env)
        select_env = {**base, "PGPASSWORD": status_url.password or ""}
        for i in range(args.runs):
            cold = work / f"cache-cold-{i}"
            sides = {
                "deploy (cache warm)": (lambda: deploy(warm_cache), psql_f),
                "deploy (cache cold)": (lambda cold=cold: deploy(cold), psql_f),
                "status": (
                    lambda: timed([*mandala, "migrate", "status"], status_env),
                    lambda: timed(
                        [str(psql.path), "-X", "-q", dsn(status_url), "-c", "select 1"], select_env
                    ),
                ),
                # Any Python program that talks to PostgreSQL pays for the interpreter and the driver first.
                "status (floor)": (
                    lambda: timed([*mandala, "migrate", "status"], status_env),
                    lambda: timed([sys.executable, "-c", "import psycopg"], base),
                ),
                "--help": (
                    lambda: timed([*mandala, "--help"], base),
                    lambda: timed([sys.executable, "-c", "import psycopg"], base),
                ),
            }
            for name, (tool, raw) in sides.items():
                t, r = alternate(i, tool, raw)
                pairs[name][0].append(t)
                pairs[name][1].append(r)
            shutil.rmtree(cold, ignore_errors=True)
    finally:
        dbs.drop_all()
        shutil.rmtree(work, ignore_errors=True)

    raw_side = {
        "deploy (cache warm)": "psql -f, same SQL",
        "deploy (cache cold)": "psql -f, same SQL",
        "status": "psql -c 'select 1'",
        "status (floor)": "python -c 'import psycopg'",
        "--help": "python -c 'import psycopg'",
    }
    print(f"{version}, {psql.name} {psql.version}, {args.runs} runs, order alternating\n")
    print(f"{'mandala-db vs raw':60} {'tool s':>8} {'raw s':>8} {'ratio [min, max]':>22} {'target':>8}")
    missed = []
    for name, (tool_times, raw_times) in pairs.items():
        label = f"{name} vs {raw_side[name]}"
        target = TARGETS.get(name)
        print(
            ratio_row(label, tool_times, raw_times)
            + (f" {'<= ' + format(target, 'g') + 'x':>8}" if target else "")
        )
        ratios = sorted(t / r for t, r in zip(tool_times, raw_times, strict=True))
        if target and ratios[len(ratios) // 2] > target:
            missed.append(name)
    print("\ntargets met" if not missed else f"\nTARGETS MISSED: {', '.join(missed)}")


if __name__ == "__main__":
    main()
