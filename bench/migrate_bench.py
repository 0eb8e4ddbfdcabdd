"""Benchmark: `mandala-db migrate deploy` of the whole history on an empty database against `psql -f` of the
same SQL rendered offline, and the cold-start wall time of `mandala-db --help` and `migrate status`.

    .venv/bin/python bench/migrate_bench.py [--runs 7]

Uses BENCH_DATABASE_URL (else TEST_DATABASE_URL, else the embedded server). Prints medians and ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from mandala_db.core.config import DatabaseURL
from mandala_db.core.tools import find_client
from mandala_db.ops.migrate.executor import AlembicRunner
from mandala_db.ops.migrate.loader import History

TARGETS = {"deploy": 1.0, "status": 0.4}


def admin_url() -> DatabaseURL:
    raw = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if raw:
        return DatabaseURL.parse(raw)
    from mandala_db.core.embedded import ensure_embedded

    return ensure_embedded(Path(".mandala"), announce=False).with_database("postgres")


def params(url: DatabaseURL) -> dict[str, str]:
    p = url.libpq_params()
    if url.password:
        p["password"] = url.password
    return p


class Databases:
    def __init__(self, admin: DatabaseURL) -> None:
        self.admin = admin
        self.names: list[str] = []

    def new(self) -> DatabaseURL:
        name = f"mdb_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(**params(self.admin), autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        return self.admin.with_database(name)

    def drop_all(self) -> None:
        with psycopg.connect(**params(self.admin), autocommit=True) as c:
            for name in self.names:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def timed(cmd: list[str], env: dict[str, str], stdin_path: Path | None = None) -> float:
    started = time.perf_counter()
    with open(stdin_path or os.devnull) as stdin:
        subprocess.run(
            cmd, env=env, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
        )
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    admin = admin_url()
    dbs = Databases(admin)
    with psycopg.connect(**params(admin), autocommit=True) as c:
        major = int(str(c.execute("SHOW server_version_num").fetchone()[0])) // 10000  # type: ignore[index]
        version = c.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
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
            dsn = " ".join(f"{k}={v}" for k, v in raw.libpq_params().items())
            penv = {**base_env, "PGPASSWORD": raw.password or ""}
            rows["psql"].append(
                timed([str(psql.path), "-X", "-q", "-v", "ON_ERROR_STOP=1", dsn, "-f", str(sql_file)], penv)
            )
    finally:
        dbs.drop_all()
        sql_file.unlink()
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"PostgreSQL {version}, {psql.name} {psql.version}, {args.runs} runs each, median wall time\n")
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
