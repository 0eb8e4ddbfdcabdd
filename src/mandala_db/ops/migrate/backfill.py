"""Backfills: a revision's `backfills` run after its DDL has committed, outside it, in batches by ranges of
their key, each batch a short transaction of its own with a lock_timeout, and the progress (last key done,
rows, batch size, rate) written in the same transaction as the batch, so a kill, a failure or a server
restart resumes at the first batch not done.

The batch size follows a target duration (GitLab's batched background migrations size by duration too):
a batch that took twice the target halves the next, one that took half doubles it, within bounds. A batch
that waits for a lock gives up after lock_timeout, and the next is smaller and comes later (backoff).
Between batches the database's health is read: near max_connections, or with a replica further behind
than --max-lag, the backfill pauses with one line and goes on when it clears. `migrate backfill pause`
stops it at the next batch from any session; `resume` lets it go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

import psycopg

from mandala_db.core.blockers import blockers, describe
from mandala_db.core.database import quote_ident
from mandala_db.core.errors import OperationFailed, Refused
from mandala_db.core.events import bus
from mandala_db.migrations.backfill import Backfill

TABLE = "mandala_backfills"
DDL = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    revision text NOT NULL,
    position integer NOT NULL,
    target text NOT NULL,
    status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'paused', 'done', 'failed')),
    last_key text,
    rows_done bigint NOT NULL DEFAULT 0,
    keys_done bigint NOT NULL DEFAULT 0,
    batches integer NOT NULL DEFAULT 0,
    batch_size integer,
    rate double precision,
    error text,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    PRIMARY KEY (revision, position)
)"""

# (done, total, label): keys done and the table's estimated size, for a bar.
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class BatchPolicy:
    """How batches are sized and paced (`migrate deploy --batch-*`)."""

    target_ms: float = 200.0
    # Once a writer has waited on a batch's row locks, batches are sized to this instead: the stall a
    # writer feels is the rest of the batch it ran into.
    felt_ms: float = 50.0
    size: int | None = None  # fixed: no adapting
    delay_s: float = 0.0
    max_rows_per_second: float | None = None
    max_lag_s: float | None = None  # pause while a replica replays further behind than this
    lock_timeout: str = "1s"  # a batch waits this long for a row or table lock, then backs off
    first_size: int = 1000
    min_size: int = 10
    max_size: int = 100_000
    connection_share: float = 0.9  # pause while this share of the usable connections is taken
    give_up_after: int = 30  # consecutive batches that could not get their locks
    report_every_s: float = 5.0  # a backfill_progress record this often


def next_size(size: int, elapsed_ms: float, policy: BatchPolicy, felt: bool = False) -> int:
    """The next batch's size: toward the target duration (the shorter one once writers have waited on a
    batch), at most doubling or halving, within bounds."""
    if policy.size is not None:
        return policy.size
    target = min(policy.target_ms, policy.felt_ms) if felt else policy.target_ms
    factor = target / max(elapsed_ms, 1.0)
    return int(min(policy.max_size, max(policy.min_size, size * min(2.0, max(0.5, factor)))))


@dataclass
class State:
    revision: str
    position: int
    target: str
    status: str
    last_key: str | None
    rows_done: int
    keys_done: int
    batches: int
    batch_size: int | None
    rate: float | None
    error: str | None
    updated_at: Any

    def to_dict(self) -> dict[str, Any]:
        return {**vars(self), "updated_at": self.updated_at.isoformat() if self.updated_at else None}


_COLUMNS = "revision, position, target, status, last_key, rows_done, keys_done, batches, batch_size, rate, error, updated_at"


def ensure(conn: psycopg.Connection[Any]) -> None:
    conn.execute(DDL)


def states(conn: psycopg.Connection[Any], revision: str | None = None) -> list[State]:
    if conn.execute("SELECT to_regclass(%s)", (TABLE,)).fetchone() == (None,):
        return []
    where = "WHERE revision = %s" if revision else ""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM {TABLE} {where} ORDER BY revision, position", (revision,) if revision else ()
    ).fetchall()
    return [State(*r) for r in rows]


def set_paused(conn: psycopg.Connection[Any], paused: bool, revision: str | None = None) -> list[State]:
    """Pause every unfinished backfill (or one revision's), or let the paused ones go on."""
    if conn.execute("SELECT to_regclass(%s)", (TABLE,)).fetchone() == (None,):
        return []
    old, new = ("running", "paused") if paused else ("paused", "running")
    extra = " AND revision = %s" if revision else ""
    conn.execute(
        f"UPDATE {TABLE} SET status = %s, updated_at = clock_timestamp() WHERE status IN (%s, 'failed'){extra}"
        if not paused
        else f"UPDATE {TABLE} SET status = %s, updated_at = clock_timestamp() WHERE status = %s{extra}",
        (new, old, *((revision,) if revision else ())),
    )
    return states(conn, revision)


def forget(conn: psycopg.Connection[Any], revision: str) -> None:
    """A revision rolled back: its backfills start again from the beginning if it is applied again."""
    if conn.execute("SELECT to_regclass(%s)", (TABLE,)).fetchone() != (None,):
        conn.execute(f"DELETE FROM {TABLE} WHERE revision = %s", (revision,))


def unfinished(conn: psycopg.Connection[Any], revision: str, count: int) -> list[int]:
    """Positions of the revision's backfills not done (one never started counts as not done)."""
    done = {s.position for s in states(conn, revision) if s.status == "done"}
    return [p for p in range(count) if p not in done]


def health_problem(conn: psycopg.Connection[Any], policy: BatchPolicy) -> str | None:
    """Why the database should be left alone for now, or None: connections near max_connections, or a
    replica further behind than --max-lag (only where there are replicas)."""
    row = conn.execute(
        """SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
                  current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int,
                  (SELECT max(extract(epoch FROM replay_lag)) FROM pg_stat_replication)"""
    ).fetchone()
    assert row is not None
    used, usable, lag = int(row[0]), int(row[1]), row[2]
    if used >= policy.connection_share * usable:
        return f"{used} of {usable} connections in use (pauses at {policy.connection_share:.0%})"
    if policy.max_lag_s is not None and lag is not None and float(lag) > policy.max_lag_s:
        return f"a replica is {float(lag):.1f} s behind (--max-lag {policy.max_lag_s:g} s)"
    return None


class _Run:
    """One backfill, batch after batch, from where its state says it stopped."""

    def __init__(self, conn: psycopg.Connection[Any], revision: str, position: int, b: Backfill,
                 policy: BatchPolicy, progress: Progress | None) -> None:  # fmt: skip
        self.conn, self.revision, self.position, self.b = conn, revision, position, b
        self.policy, self.progress = policy, progress
        self.table, self.key = quote_ident(b.table), quote_ident(b.key)
        self.where = f" AND ({b.where})" if b.where else ""
        self.label = f"{revision} backfill {position + 1}"
        self.writers_waited = False  # a session waited on one of its batches

    def _key_type(self) -> str:
        row = self.conn.execute(
            """SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
               WHERE a.attrelid = to_regclass(%s) AND a.attname = %s AND NOT a.attisdropped""",
            (self.b.table, self.b.key),
        ).fetchone()
        if row is None:
            raise OperationFailed(f"{self.label}: {self.b.table}.{self.b.key} does not exist",
                                  "a backfill's key is a column of its table (key=... in the revision)")  # fmt: skip
        return str(row[0])

    def _start(self) -> State:
        self.conn.execute(
            f"INSERT INTO {TABLE} (revision, position, target) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (self.revision, self.position, self.b.label),
        )
        state = self._state()
        if state.status == "paused":
            raise Refused(f"{self.label} is paused (at key {state.last_key or 'the start'})",
                          "run `mandala-db migrate backfill resume` to let it go on")  # fmt: skip
        if state.status == "failed":
            self.conn.execute(f"UPDATE {TABLE} SET status = 'running', error = NULL WHERE revision = %s AND position = %s",
                              (self.revision, self.position))  # fmt: skip
        return state

    def _batch(self, last: str | None, size: int, key_type: str) -> tuple[str | None, int, int, str]:
        """One batch in one transaction: the next `size` keys, the rows among them updated, the progress
        recorded. Returns (last key done or None at the end, keys, rows, the state's status)."""
        with self.conn.transaction():
            self.conn.execute(f"SET LOCAL lock_timeout = '{self.policy.lock_timeout}'")
            after = f"WHERE {self.key} > %s::{key_type} " if last is not None else ""
            # The last key by ORDER BY, not max(): uuid (the key of every table here) has no max(). Ordered by the
            # column (b.k), not by the text output named k: 999 sorts after 1000 as text.
            keys, upper = self.conn.execute(
                f"WITH batch AS (SELECT {self.key} AS k FROM {self.table} {after}ORDER BY {self.key} LIMIT {size}) "
                "SELECT (SELECT count(*) FROM batch), (SELECT b.k::text FROM batch AS b ORDER BY b.k DESC LIMIT 1)",
                (last,) if last is not None else (),
            ).fetchone() or (0, None)
            if not keys:
                return None, 0, 0, "done"
            low = f"{self.key} > %s::{key_type} AND " if last is not None else ""
            cur = self.conn.execute(
                f"UPDATE {self.table} SET {self.b.set} WHERE {low}{self.key} <= %s::{key_type}{self.where}",
                (*((last,) if last is not None else ()), upper),
            )
            rows = max(cur.rowcount, 0)
            # Who waits on this batch now, before it commits: every writer it blocked is still blocked.
            waiting = self.conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))"
            ).fetchone()
            self.writers_waited = self.writers_waited or bool(waiting and waiting[0])
            status = self.conn.execute(
                f"""UPDATE {TABLE} SET last_key = %s, rows_done = rows_done + %s, keys_done = keys_done + %s,
                        batches = batches + 1, batch_size = %s, updated_at = clock_timestamp()
                    WHERE revision = %s AND position = %s RETURNING status""",
                (upper, rows, keys, size, self.revision, self.position),
            ).fetchone()
        return upper, int(keys), rows, str(status[0]) if status else "running"

    def _wait_healthy(self) -> None:
        problem, said = health_problem(self.conn, self.policy), False
        while problem is not None:
            if not said:
                bus.warning("backfill_unhealthy", f"{self.label} paused: {problem}; it goes on when that clears",
                            migration=self.revision, problem=problem)  # fmt: skip
                said = True
            if self._state().status == "paused":
                raise Refused(f"{self.label} was paused while it waited", "run `migrate backfill resume`")
            time.sleep(1.0)
            problem = health_problem(self.conn, self.policy)
        if said:
            bus.info(
                "backfill_healthy",
                f"{self.label} goes on: the database is healthy again",
                migration=self.revision,
            )

    def run(self) -> State:
        state = self._start()
        if state.status == "done":
            return state
        key_type, total = self._key_type(), _estimate(self.conn, self.b.table)
        last, size = state.last_key, self.policy.size or state.batch_size or self.policy.first_size
        delay, stuck, rows, keys = self.policy.delay_s, 0, state.rows_done, state.keys_done
        felt = self.writers_waited = False
        started, reported = time.perf_counter(), time.perf_counter()
        bus.info("backfill_start", f"{self.label} started: {self.b.label}" + (f" (resuming after key {last})" if last else ""),
                 migration=self.revision, table=self.b.table)  # fmt: skip
        while True:
            self._wait_healthy()
            t0 = time.perf_counter()
            try:
                upper, n_keys, n_rows, status = self._batch(last, size, key_type)
            except psycopg.errors.LockNotAvailable:
                stuck += 1
                if stuck >= self.policy.give_up_after:
                    self._fail(f"could not get its locks in {stuck} batches in a row: blocked by "
                               + describe(blockers(self.conn, [self.b.table])))  # fmt: skip
                size, delay = max(self.policy.min_size, size // 2), min(5.0, max(delay * 2, 0.05))
                bus.warning("backfill_backoff", f"{self.label}: a batch waited for a lock; next {size} rows in {delay:.2f} s",
                            migration=self.revision, batch_size=size)  # fmt: skip
                time.sleep(delay)
                continue
            except psycopg.Error as exc:
                self._fail(str(exc.diag.message_primary or exc))
            elapsed_ms = (time.perf_counter() - t0) * 1000
            if upper is None:
                break
            stuck, last, rows, keys = 0, upper, rows + n_rows, keys + n_keys
            if self.progress:
                self.progress(keys, max(total, keys), self.label)
            if status == "paused":
                raise Refused(f"{self.label} paused at key {last} ({rows:,} rows done)",
                              "run `mandala-db migrate backfill resume` to let it go on")  # fmt: skip
            rate = rows / max(time.perf_counter() - started, 1e-6)
            if time.perf_counter() - reported >= self.policy.report_every_s:
                reported = time.perf_counter()
                self._rate(rate)
                bus.info("backfill_progress", f"{self.label}: {rows:,} rows, {rate:,.0f} rows/s, at key {last}",
                         migration=self.revision, rows=rows, rate=round(rate, 1), batch_size=size)  # fmt: skip
            if self.writers_waited and not felt:
                felt = True
                bus.info("backfill_writers_waited", f"{self.label}: a writer waited on a batch; batches are now "
                         f"sized to {min(self.policy.target_ms, self.policy.felt_ms):g} ms",
                         migration=self.revision, batch_size=size)  # fmt: skip
            size = next_size(size, elapsed_ms, self.policy, felt)
            time.sleep(self._pause(delay, n_rows, elapsed_ms))
        took = time.perf_counter() - started
        rate = (rows - state.rows_done) / max(took, 1e-6)
        self.conn.execute(
            f"""UPDATE {TABLE} SET status = 'done', rate = %s, finished_at = clock_timestamp(), updated_at = clock_timestamp()
                WHERE revision = %s AND position = %s""",
            (rate, self.revision, self.position),
        )
        bus.info("backfill_complete", f"{self.label} done: {rows:,} rows in {took:.1f} s ({rate:,.0f} rows/s)",
                 migration=self.revision, rows=rows, rate=round(rate, 1), duration_ms=took * 1000)  # fmt: skip
        return self._state()

    def _state(self) -> State:
        return next(s for s in states(self.conn, self.revision) if s.position == self.position)

    def _pause(self, delay: float, rows: int, elapsed_ms: float) -> float:
        ceiling = self.policy.max_rows_per_second
        floor = rows / ceiling - elapsed_ms / 1000 if ceiling else 0.0
        return max(delay, floor, 0.0)

    def _rate(self, rate: float) -> None:
        self.conn.execute(f"UPDATE {TABLE} SET rate = %s WHERE revision = %s AND position = %s",
                          (rate, self.revision, self.position))  # fmt: skip

    def _fail(self, why: str) -> NoReturn:
        self.conn.execute(
            f"UPDATE {TABLE} SET status = 'failed', error = %s, updated_at = clock_timestamp() WHERE revision = %s AND position = %s",
            (why, self.revision, self.position),
        )
        raise OperationFailed(f"{self.label} failed: {why}",
                              "fix the cause; the next `migrate deploy` resumes after the last batch done")  # fmt: skip


def _estimate(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(
        "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass(%s)", (table,)
    ).fetchone()
    return int(row[0]) if row else 0


def run(
    conn: psycopg.Connection[Any],
    revision: str,
    backfills: tuple[Backfill, ...],
    policy: BatchPolicy,
    progress: Progress | None = None,
) -> list[State]:
    """Every backfill of the revision, in order, each from where it stopped."""
    ensure(conn)
    return [_Run(conn, revision, i, b, policy, progress).run() for i, b in enumerate(backfills)]
