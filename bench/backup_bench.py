"""Benchmark, on the performance data set (940,000 rows at scale 1), in one run: `mandala-db backup full`
against raw `pg_dump -Fc`, and `mandala-db restore restore` against raw `pg_restore --single-transaction`,
each pair timed in alternating order. The tool's side includes everything it promises: the manifest,
sha256, row counts and table-of-contents digests on backup; proving the file, the guard, the check of
rows, revision and schema fingerprint inside the transaction on restore. Targets: backup within 1.05x,
restore within 1.10x.

    .venv/bin/python bench/backup_bench.py [--scale 1.0] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import Databases, admin_url, alternate, dsn, ratio_row, server_major, timed

from mandala_db.core.database import Database
from mandala_db.core.tools import find_pair
from mandala_db.ops.migrate import build_schema

TARGETS = {"backup": 1.05, "restore": 1.10}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    admin = admin_url()
    major, version = server_major(admin)
    pg_dump, pg_restore = find_pair(major)
    dbs = Databases(admin)
    work = Path(tempfile.mkdtemp(prefix="mdb-backup-bench-"))
    times: dict[str, list[float]] = {k: [] for k in ("tool_dump", "raw_dump", "tool_restore", "raw_restore")}
    size = 0
    try:
        source = dbs.new()
        build_schema(Database(source), "head")
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["DATABASE_URL"] = source.render(mask=False)
        mandala = [sys.executable, "-m", "mandala_db"]
        subprocess.run(
            [*mandala, "seed", "performance", "--scale", str(args.scale)],
            env=env,
            check=True,
            capture_output=True,
        )
        raw_env = {**env, "PGPASSWORD": source.password or ""}
        for i in range(args.runs):
            raw_file = work / f"raw{i}.dump"
            made: list[Path] = []

            def tool_dump(i: int = i, made: list[Path] = made) -> float:
                started = time.perf_counter()
                out = subprocess.run(
                    [*mandala, "--json", "backup", "full", "--dir", str(work / f"run{i}")],
                    env=env, check=True, capture_output=True, text=True,
                ).stdout  # fmt: skip
                made.append(Path(json.loads(out)["backups"][0]["path"]))
                return time.perf_counter() - started

            def raw_dump(raw_file: Path = raw_file) -> float:
                return timed([str(pg_dump.path), "-Fc", f"--file={raw_file}", dsn(source)], raw_env)

            tool, raw = alternate(i, tool_dump, raw_dump)
            times["tool_dump"].append(tool)
            times["raw_dump"].append(raw)
            size = made[0].stat().st_size
            targets = (dbs.new(), dbs.new())

            def tool_restore(made: list[Path] = made, target: str = targets[0].dbname or "") -> float:
                return timed(
                    [*mandala, "--yes", "restore", "restore", str(made[0]), "--target-db", target], env
                )

            def raw_restore(raw_file: Path = raw_file, target: Any = targets[1]) -> float:
                return timed(
                    [str(pg_restore.path), "--single-transaction", "--exit-on-error", "--no-owner",
                     f"--dbname={dsn(target)}", str(raw_file)],
                    raw_env,
                )  # fmt: skip

            tool, raw = alternate(i, tool_restore, raw_restore)
            times["tool_restore"].append(tool)
            times["raw_restore"].append(raw)
            dbs.drop(targets)
    finally:
        dbs.drop_all()
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"{version}; {pg_dump.name} {pg_dump.version}; performance data set at scale {args.scale} "
        f"({size / 1e6:.0f} MB custom dump); {args.runs} runs, order alternating\n"
    )
    print(f"{'what (tool vs raw)':60} {'tool s':>8} {'raw s':>8} {'median ratio [min, max]':>24}")
    print(ratio_row("backup full  vs  pg_dump -Fc", times["tool_dump"], times["raw_dump"]))
    print(
        ratio_row(
            "restore restore  vs  pg_restore --single-transaction",
            times["tool_restore"],
            times["raw_restore"],
        )
    )
    ratios = {
        "backup": sorted(t / r for t, r in zip(times["tool_dump"], times["raw_dump"], strict=True)),
        "restore": sorted(t / r for t, r in zip(times["tool_restore"], times["raw_restore"], strict=True)),
    }
    met = all(r[len(r) // 2] <= TARGETS[k] for k, r in ratios.items())
    print(
        f"\ntargets (median): backup <= {TARGETS['backup']}x, restore <= {TARGETS['restore']}x: "
        + ("met" if met else "MISSED")
    )


if __name__ == "__main__":
    main()
