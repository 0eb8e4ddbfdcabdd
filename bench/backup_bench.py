"""Benchmark, on the performance data set (940,000 rows at scale 1): `mandala-db backup full` against raw
`pg_dump -Fc`, the directory format with 2 jobs against custom, and `mandala-db restore` against raw
`pg_restore` (both in one transaction), all in one run. Target: within 10% of the raw tool, manifest and
checksums included.

    .venv/bin/python bench/backup_bench.py [--scale 1.0] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import Databases, admin_url, dsn, server_major, timed

from mandala_db.core.tools import find_pair
from mandala_db.ops.migrate import build_schema


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    admin = admin_url()
    major, version = server_major(admin)
    pg_dump, pg_restore = find_pair(major)
    dbs = Databases(admin)
    work = Path(tempfile.mkdtemp(prefix="mdb-backup-bench-"))
    times: dict[str, list[float]] = {
        k: [] for k in ("tool_dump", "raw_dump", "tool_dir", "tool_restore", "raw_restore", "api_dump")
    }
    try:
        source = dbs.new()
        build_schema(source, "head")
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["DATABASE_URL"] = source.render(mask=False)
        subprocess.run(
            [sys.executable, "-m", "mandala_db", "seed", "performance", "--scale", str(args.scale)],
            env=env,
            check=True,
            capture_output=True,
        )
        raw_env = {**env, "PGPASSWORD": source.password or ""}
        mandala = [sys.executable, "-m", "mandala_db"]
        size = 0
        for i in range(args.runs):
            d = work / f"run{i}"
            raw_file = work / f"raw{i}.dump"
            times["raw_dump"].append(
                timed([str(pg_dump.path), "-Fc", f"--file={raw_file}", dsn(source)], raw_env)
            )
            started = time.perf_counter()
            out = subprocess.run(
                [*mandala, "--json", "backup", "full", "--dir", str(d)],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            times["tool_dump"].append(time.perf_counter() - started)
            made = Path(json.loads(out)["backups"][0]["path"])
            # The same backup through the Python API, as `migrate prod` takes it: no process start-up.
            from mandala_db.ops.backup import create_backups

            started = time.perf_counter()
            create_backups(source, work / f"api{i}")
            times["api_dump"].append(time.perf_counter() - started)
            size = made.stat().st_size
            times["tool_dir"].append(
                timed(
                    [
                        *mandala,
                        "backup",
                        "full",
                        "--format",
                        "directory",
                        "--jobs",
                        "2",
                        "--dir",
                        str(work / f"dir{i}"),
                    ],
                    env,
                )
            )
            target = dbs.new()
            times["raw_restore"].append(
                timed(
                    [
                        str(pg_restore.path),
                        "--single-transaction",
                        "--exit-on-error",
                        "--no-owner",
                        f"--dbname={dsn(target)}",
                        str(raw_file),
                    ],
                    raw_env,
                )
            )
            target2 = dbs.new()
            times["tool_restore"].append(
                timed(
                    [*mandala, "--yes", "restore", "restore", str(made), "--target-db", target2.dbname or ""],
                    env,
                )
            )
    finally:
        dbs.drop_all()
        shutil.rmtree(work, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(
        f"{version}; {pg_dump.name} {pg_dump.version}; performance data set at scale {args.scale} "
        f"({size / 1e6:.0f} MB custom dump); median of {args.runs}\n"
    )
    print(f"{'what':58} {'seconds':>8} {'vs raw':>7}")
    rows = [
        ("raw pg_dump -Fc", med["raw_dump"], med["raw_dump"]),
        ("mandala-db backup full (custom, manifest, sha256, counts)", med["tool_dump"], med["raw_dump"]),
        ("  the same through the API (no process start-up)", med["api_dump"], med["raw_dump"]),
        ("mandala-db backup full --format directory --jobs 2", med["tool_dir"], med["tool_dump"]),
        ("raw pg_restore --single-transaction", med["raw_restore"], med["raw_restore"]),
        (
            "mandala-db restore restore (verify first, one transaction)",
            med["tool_restore"],
            med["raw_restore"],
        ),
    ]
    for label, value, base in rows:
        print(f"{label:58} {value:8.2f} {value / base:6.2f}x")
    print("\n(directory with 2 jobs is compared with the tool's own custom-format backup)")
    within = med["tool_dump"] / med["raw_dump"] <= 1.10 and med["tool_restore"] / med["raw_restore"] <= 1.10
    print(
        "targets met (within 10% of the raw tool)" if within else "TARGET MISSED (within 10% of the raw tool)"
    )


if __name__ == "__main__":
    main()
