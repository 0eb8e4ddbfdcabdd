"""Benchmark: `mandala-db seed performance` (940,000 rows generated and loaded through COPY) against a raw
COPY of the same rows from files by psql, each into a freshly migrated database, in one transaction.

    .venv/bin/python bench/seed_bench.py [--scale 1.0] [--runs 3]

Target: under 60 s on this 2-core machine, within 1.5x of the raw COPY.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from common import Databases, admin_url, alternate, dsn, ratio_row, server_major, timed

from mandala_db.core.database import Database
from mandala_db.core.tools import find_client
from mandala_db.ops.migrate import build_schema
from mandala_db.ops.seed.datasets import build


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    admin = admin_url()
    major, version = server_major(admin)
    psql = find_client("psql", major)
    dataset = build("performance", args.scale)
    workdir = Path(tempfile.mkdtemp(prefix="mdb-seed-bench-"))
    script = ["BEGIN;"]
    for i, batch in enumerate(dataset.batches):
        path = workdir / f"{i:02d}_{batch.table}.tsv"
        with path.open("w") as f:
            for text, _ in batch.chunks():
                f.write(text)
        script.append(f"\\copy {batch.table} ({', '.join(batch.columns)}) FROM '{path}'")
    script.append("COMMIT;")
    (workdir / "load.sql").write_text("\n".join(script) + "\n")
    size = sum(p.stat().st_size for p in workdir.glob("*.tsv"))

    dbs = Databases(admin)
    times: dict[str, list[float]] = {"seed": [], "copy": []}
    base_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}

    def seed() -> float:
        url = dbs.new()
        build_schema(Database(url), "head")
        env = {**base_env, "DATABASE_URL": url.render(mask=False)}
        return timed(
            [sys.executable, "-m", "mandala_db", "seed", "performance", "--scale", str(args.scale)], env
        )

    def copy() -> float:
        url = dbs.new()
        build_schema(Database(url), "head")
        env = {**base_env, "PGPASSWORD": url.password or ""}
        cmd = [str(psql.path), "-X", "-q", "-v", "ON_ERROR_STOP=1", dsn(url), "-f", str(workdir / "load.sql")]
        return timed(cmd, env)

    try:
        for run in range(args.runs):
            tool, raw = alternate(run, seed, copy)
            times["seed"].append(tool)
            times["copy"].append(raw)
            dbs.drop_all()
            dbs.names.clear()
    finally:
        dbs.drop_all()
        for p in workdir.iterdir():
            p.unlink()
        workdir.rmdir()
    med_seed = statistics.median(times["seed"])
    print(
        f"{version}, {psql.name} {psql.version}; {dataset.row_count:,} rows ({size / 1e6:.0f} MB of COPY text), "
        f"{args.runs} run(s), order alternating\n"
    )
    print(f"{'mandala-db vs raw':60} {'tool s':>8} {'raw s':>8} {'ratio [min, max]':>22}")
    print(
        ratio_row("seed performance vs psql \\copy from files (1 transaction)", times["seed"], times["copy"])
    )
    print(f"\nmandala-db: {dataset.row_count / med_seed:,.0f} rows/s (generate + COPY)")
    ratios = sorted(t / r for t, r in zip(times["seed"], times["copy"], strict=True))
    met = med_seed < 60 and ratios[len(ratios) // 2] <= 1.5
    print("targets met (< 60 s, <= 1.5x raw COPY)" if met else "TARGETS MISSED (< 60 s, <= 1.5x raw COPY)")


if __name__ == "__main__":
    main()
