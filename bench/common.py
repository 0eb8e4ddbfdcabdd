"""Shared by the benchmarks: which server to use, fresh databases, and wall-clock timing of commands."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg

from mandala_db.core.url import DatabaseURL


def admin_url() -> DatabaseURL:
    """BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the embedded server."""
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


def server_major(url: DatabaseURL) -> tuple[int, str]:
    with psycopg.connect(**params(url), autocommit=True) as c:  # type: ignore[arg-type]
        row = c.execute("SELECT current_setting('server_version_num')::int / 10000, version()").fetchone()
    assert row is not None
    return int(row[0]), str(row[1]).split(" on ")[0]


def dsn(url: DatabaseURL) -> str:
    return " ".join(f"{k}={v}" for k, v in url.libpq_params().items())


class Databases:
    """Fresh databases for one benchmark run, all dropped at the end."""

    def __init__(self, admin: DatabaseURL) -> None:
        self.admin = admin
        self.names: list[str] = []

    def new(self) -> DatabaseURL:
        name = f"mdb_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(**params(self.admin), autocommit=True) as c:  # type: ignore[arg-type]
            c.execute(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        return self.admin.with_database(name)

    def drop(self, urls: tuple[DatabaseURL, ...]) -> None:
        with psycopg.connect(**params(self.admin), autocommit=True) as c:  # type: ignore[arg-type]
            for url in urls:
                c.execute(f'DROP DATABASE IF EXISTS "{url.dbname}" WITH (FORCE)')
                self.names.remove(url.dbname or "")

    def drop_all(self) -> None:
        with psycopg.connect(**params(self.admin), autocommit=True) as c:  # type: ignore[arg-type]
            for name in self.names:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def timed(cmd: list[str], env: dict[str, str] | None = None, stdin_path: Path | None = None) -> float:
    started = time.perf_counter()
    with open(stdin_path or os.devnull) as stdin:
        subprocess.run(
            cmd, env=env, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True
        )
    return time.perf_counter() - started


def alternate(run: int, first: Callable[[], float], second: Callable[[], float]) -> tuple[float, float]:
    """Time two sides of a comparison, the tool's first on even runs and the raw tool's first on odd ones,
    so neither always meets the warmer cache."""
    if run % 2 == 0:
        a = first()
        return a, second()
    b = second()
    return first(), b


def ratio_row(label: str, tool: list[float], raw: list[float], width: int = 60) -> str:
    """Median seconds of both sides and the per-run ratio as median [min, max]."""
    ratios = [t / r for t, r in zip(tool, raw, strict=True)]
    return (
        f"{label:{width}} {statistics.median(tool):8.3f} {statistics.median(raw):8.3f} "
        f"{statistics.median(ratios):6.2f}x [{min(ratios):.2f}, {max(ratios):.2f}]"
    )


def med(values: list[float], scale: float = 1.0, fmt: str = ".0f") -> str:
    """Median [min, max] of a run's values, scaled (1000: seconds shown as ms)."""
    v = [x * scale for x in values]
    return f"{statistics.median(v):{fmt}} [{min(v):{fmt}}, {max(v):{fmt}}]"
