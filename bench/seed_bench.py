"""Benchmark: `mandala-db seed performance` (940,000 rows generated and loaded through COPY) against a raw
COPY of the same rows from files by psql, each into a freshly migrated database, in one transaction.

    .venv/bin/python bench/seed_bench.py [--scale 1.0] [--runs 1]

Target: under 60 s on this 2-core machine, within 1.5x of the raw COPY.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from common import Databases, admin_url, dsn, server_major, timed

from mandala_db.core.database import Database
from mandala_db.core.tools import find_client
from mandala_db.ops.migrate import build_schema
from mandala_db.ops.seed.datasets import build


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=1)
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
    try:
        for _ in range(args.runs):
            for kind in ("copy", "seed"):
                url = dbs.new()
                build_schema(Database(url), "head")
                if kind == "seed":
                    env = {**base_env, "DATABASE_URL": url.render(mask=False)}
                    cmd = [
                        sys.executable,
                        "-m",
                        "mandala_db",
                        "seed",
                        "performance",
                        "--scale",
                        str(args.scale),
                    ]
                    times["seed"].append(timed(cmd, env))
                else:
                    env = {**base_env, "PGPASSWORD": url.password or ""}
                    cmd = [
                        str(psql.path),
                        "-X",
                        "-q",
                        "-v",
                        "ON_ERROR_STOP=1",
                        dsn(url),
                        "-f",
                        str(workdir / "load.sql"),
                    ]
                    times["copy"].append(timed(cmd, env))
    finally:
        dbs.drop_all()
        for p in workdir.iterdir():
            p.unlink()
        workdir.rmdir()
    seed, copy = statistics.median(times["seed"]), statistics.median(times["copy"])
    print(
        f"{version}, {psql.name} {psql.version}; {dataset.row_count:,} rows ({size / 1e6:.0f} MB of COPY text), "
        f"median of {args.runs} run(s)\n"
    )
    print(f"{'what':52} {'seconds':>8} {'rows/s':>10} {'vs raw':>7}")
    print(
        f"{'mandala-db seed performance (generate + COPY)':52} {seed:8.2f} {dataset.row_count / seed:10,.0f} "
        f"{seed / copy:6.2f}x"
    )
    raw_label = "psql \\copy from files, one transaction"
    print(f"{raw_label:52} {copy:8.2f} {dataset.row_count / copy:10,.0f} {1:6.2f}x")
    met = seed < 60 and seed / copy <= 1.5
    print(
        "\ntargets met (< 60 s, <= 1.5x raw COPY)" if met else "\nTARGETS MISSED (< 60 s, <= 1.5x raw COPY)"
    )


if __name__ == "__main__":
    main()
