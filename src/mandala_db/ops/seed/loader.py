"""Loads a data set through COPY, in one transaction, and removes it again by its deterministic ids.

The first load streams straight into the tables. When some of the rows are already there (a second load,
or rows left by hand), the whole transaction rolls back and the load runs again through a staging table
with INSERT ... ON CONFLICT DO NOTHING, so a data set loaded twice is loaded once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors
from psycopg.copy import QueuedLibpqWriter

from mandala_db.core.errors import OperationFailed
from mandala_db.ops.seed.rows import Batch, DataSet

REGISTRY = "mandala_seed_loads"
REGISTRY_DDL = f"""CREATE TABLE IF NOT EXISTS {REGISTRY} (
    dataset text PRIMARY KEY,
    scale double precision NOT NULL,
    rows bigint NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now()
)"""

Progress = Callable[[str, int], None]  # (table, rows just sent)


@dataclass
class SeedResult:
    dataset: str
    scale: float
    mode: str  # copy (first load), merge (some rows were there), remove
    rows: dict[str, int] = field(default_factory=dict)  # rows inserted (or deleted) per table
    duration_ms: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "scale": self.scale,
            "mode": self.mode,
            "rows": self.rows,
            "total": self.total,
            "duration_ms": round(self.duration_ms, 1),
        }


def _columns(batch: Batch) -> str:
    return ", ".join(batch.columns)


def _copy(cur: psycopg.Cursor[Any], sql: str, batch: Batch, progress: Progress | None) -> None:
    # A queued writer sends from a worker thread: the rows of the next chunk are built while the server
    # is still taking in the last one, so generation and loading overlap on two cores.
    with cur.copy(sql, writer=QueuedLibpqWriter(cur)) as copy:
        for text, n in batch.chunks():
            copy.write(text)
            if progress:
                progress(batch.table, n)


def load(
    conn: psycopg.Connection[Any],
    dataset: DataSet,
    scale: float,
    progress: Progress | None = None,
    on_merge: Callable[[], object] | None = None,
) -> SeedResult:
    started = time.perf_counter()
    result = SeedResult(dataset.name, scale, "copy")
    try:
        with conn.transaction(), conn.cursor() as cur:
            for batch in dataset.batches:
                _copy(cur, f"COPY {batch.table} ({_columns(batch)}) FROM STDIN", batch, progress)
                result.rows[batch.table] = result.rows.get(batch.table, 0) + batch.count
            _register(cur, dataset, scale)
    except errors.UniqueViolation:
        if on_merge:
            on_merge()
        result = SeedResult(dataset.name, scale, "merge")
        with conn.transaction(), conn.cursor() as cur:
            for batch in dataset.batches:
                cur.execute(
                    f"CREATE TEMP TABLE mandala_seed_stage (LIKE {batch.table} INCLUDING DEFAULTS) "
                    "ON COMMIT DROP"
                )
                _copy(cur, f"COPY mandala_seed_stage ({_columns(batch)}) FROM STDIN", batch, progress)
                cur.execute(
                    f"INSERT INTO {batch.table} ({_columns(batch)}) SELECT {_columns(batch)} "
                    "FROM mandala_seed_stage ON CONFLICT DO NOTHING"
                )
                result.rows[batch.table] = result.rows.get(batch.table, 0) + max(cur.rowcount, 0)
                cur.execute("DROP TABLE mandala_seed_stage")
            _register(cur, dataset, scale)
    except psycopg.Error as exc:
        raise OperationFailed(
            f"loading data set {dataset.name} failed and nothing was kept: {_message(exc)}"
        ) from exc
    result.duration_ms = (time.perf_counter() - started) * 1000
    return result


def _register(cur: psycopg.Cursor[Any], dataset: DataSet, scale: float) -> None:
    cur.execute(REGISTRY_DDL)
    cur.execute(
        f"""INSERT INTO {REGISTRY} (dataset, scale, rows) VALUES (%s, %s, %s)
            ON CONFLICT (dataset) DO UPDATE SET scale = greatest({REGISTRY}.scale, excluded.scale),
                rows = greatest({REGISTRY}.rows, excluded.rows), loaded_at = now()""",
        (dataset.name, scale, dataset.row_count),
    )


def recorded_scale(conn: psycopg.Connection[Any], name: str) -> float | None:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (REGISTRY,)).fetchone()
    if not row or not row[0]:
        return None
    found = conn.execute(f"SELECT scale FROM {REGISTRY} WHERE dataset = %s", (name,)).fetchone()
    return float(found[0]) if found else None


def present(conn: psycopg.Connection[Any], dataset: DataSet) -> int:
    """How many of this data set's rows are in the database now: what a removal would take away."""
    found = 0
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE mandala_seed_present (k uuid) ON COMMIT DROP")
        for batch in dataset.batches:
            cur.execute("TRUNCATE mandala_seed_present")
            with cur.copy("COPY mandala_seed_present (k) FROM STDIN") as copy:
                for key in batch.key_values():
                    copy.write(key + "\n")
            cur.execute(
                f"SELECT count(*) FROM {batch.table} t JOIN mandala_seed_present k ON t.{batch.key} = k.k"
            )
            row = cur.fetchone()
            found += int(row[0]) if row else 0
    return found


def remove(
    conn: psycopg.Connection[Any], dataset: DataSet, scale: float, progress: Progress | None = None
) -> SeedResult:
    """Delete exactly this data set's rows, children first; nobody else's rows are looked at."""
    started = time.perf_counter()
    result = SeedResult(dataset.name, scale, "remove")
    try:
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("CREATE TEMP TABLE mandala_seed_keys (k uuid) ON COMMIT DROP")
            for batch in reversed(dataset.batches):
                cur.execute("TRUNCATE mandala_seed_keys")
                with cur.copy("COPY mandala_seed_keys (k) FROM STDIN") as copy:
                    for key in batch.key_values():
                        copy.write(key + "\n")
                if progress:
                    progress(batch.table, batch.count)
                cur.execute(
                    f"DELETE FROM {batch.table} t USING mandala_seed_keys k WHERE t.{batch.key} = k.k"
                )
                result.rows[batch.table] = result.rows.get(batch.table, 0) + max(cur.rowcount, 0)
            cur.execute(f"SELECT to_regclass('{REGISTRY}') IS NOT NULL")
            row = cur.fetchone()
            if row and row[0]:
                cur.execute(f"DELETE FROM {REGISTRY} WHERE dataset = %s", (dataset.name,))
    except psycopg.Error as exc:
        raise OperationFailed(
            f"removing data set {dataset.name} failed and nothing was removed: {_message(exc)}"
        ) from exc
    result.duration_ms = (time.perf_counter() - started) * 1000
    return result


def _message(exc: psycopg.Error) -> str:
    diag = exc.diag
    parts = [p for p in (diag.message_primary, diag.message_detail) if p]
    return " - ".join(parts) if parts else str(exc).splitlines()[0]
