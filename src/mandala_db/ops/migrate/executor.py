"""Applies and reverts revisions one at a time: each in its own transaction, under the migration lock,
with a ledger row written before it starts and finished after it ends (or fails).

A revision runs as the SQL Alembic renders for it (the same text `migrate plan` shows and the ledger's
checksum covers): a transactional revision in one round trip, a revision with statements that cannot run
in a transaction group by group, resumable after the last group done."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import psycopg

from mandala_db.core import catalog
from mandala_db.core.blockers import backoff, blockers, describe, is_lock_timeout
from mandala_db.core.database import Database, quote_ident
from mandala_db.core.errors import OperationFailed, Refused
from mandala_db.core.events import bus
from mandala_db.core.ledger import Direction, RunLedger
from mandala_db.core.lock import MigrationLock
from mandala_db.core.revision import VERSION_TABLE, current_revision, current_schema
from mandala_db.ops.migrate import backfill, phases
from mandala_db.ops.migrate.analysis import Statement, touched_tables
from mandala_db.ops.migrate.groups import run_groups
from mandala_db.ops.migrate.heartbeat import Heartbeat
from mandala_db.ops.migrate.loader import BASE, History, Revision
from mandala_db.ops.migrate.rendered import RenderedStep, Renderer, plan_digest
from mandala_db.ops.migrate.run import RunOptions, RunResult, StepResult

__all__ = ["Executor", "RunOptions", "RunResult", "StepResult", "database_error"]

if TYPE_CHECKING:
    from mandala_db.ops.migrate.runner import AlembicRunner


def database_error(exc: BaseException) -> str:
    """The server's own words, in one line: primary message, then its detail and hint."""
    orig = getattr(exc, "orig", None) or exc
    diag = getattr(orig, "diag", None)
    if diag is not None and diag.message_primary:
        parts = [diag.message_primary]
        if diag.message_detail:
            parts.append(diag.message_detail)
        if diag.message_hint:
            parts.append(diag.message_hint)
        return bus.scrub(" - ".join(parts))
    text = str(orig).strip().splitlines()
    return bus.scrub(text[0] if text else type(orig).__name__)


def _tables(statements: list[Statement]) -> list[str]:
    """The existing tables a revision touches (what the ledger records and TablesAffected counts)."""
    return touched_tables(statements, frozenset({VERSION_TABLE}))[0]


class _Failed(Exception):
    """An attempt at a revision that failed: the cause, said as the database said it, after how long."""

    def __init__(self, cause: Exception, message: str, elapsed_ms: float) -> None:
        super().__init__(message)
        self.cause, self.message, self.elapsed_ms = cause, message, elapsed_ms


class Executor:
    """Moves one database along the history. Use as a context manager: it holds the lock while open."""

    def __init__(self, db: Database, history: History, options: RunOptions) -> None:
        self.db = db
        self.history = history
        self.options = options
        self._lock = MigrationLock(db, wait_seconds=options.lock_wait)
        self.conn: psycopg.Connection[Any] | None = None
        self.ledger: RunLedger | None = None
        self.interrupted: list[str] = []
        self.renderer = Renderer(options.cache_dir)

    def __enter__(self) -> Executor:
        self.conn = self._lock.__enter__()
        if "schema" in self.db.url.param_dict:
            # The application's own schema (the URL's `schema=`): the history builds into it, so it must exist.
            self.conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(self.db.schema)}")
        self.ledger = RunLedger(self.conn, run_id=bus.run_id, environment=self.options.environment)
        self.ledger.ensure()
        for rev, outcome in self.ledger.interrupt_stale(self._took_effect):
            self.interrupted.append(rev)
            bus.warning(
                "migration_interrupted",
                f"an earlier run of {rev} stopped without recording its outcome; the database shows it "
                + (
                    "finished, and it is recorded as succeeded"
                    if outcome == "succeeded"
                    else "did not finish (its transaction was rolled back), and it is recorded as interrupted"
                ),
                migration=rev,
            )
        return self

    def _took_effect(self, revision: str, direction: Direction) -> bool:
        if revision not in self.history.by_id:
            return False
        position = self.history.index(revision)
        at = self.current()
        current = self.history.index(at) if at in self.history.by_id else -1
        return current >= position if direction == "upgrade" else current < position

    def __exit__(self, *exc: object) -> None:
        self._lock.__exit__(*exc)

    def reload(self, history: History) -> None:
        """Pick up revision files written since this executor opened (migrate dev)."""
        self.history = history
        self.renderer.forget_runner()

    @property
    def runner(self) -> AlembicRunner:
        return self.renderer.runner

    def current(self) -> str | None:
        assert self.conn is not None
        return current_revision(self.conn)

    def upgrade(self, target: str | None = None) -> RunResult:
        before = self.current()
        end = self.history.index(target) if target else len(self.history.revisions) - 1
        todo = [r for r in self.history.after(before) if self.history.index(r.id) <= end]
        return self._run(before, phases.deployable(todo, self.options.contract), "upgrade")

    def downgrade(self, target: str) -> RunResult:
        before = self.current()
        todo = [
            r
            for r in reversed(self.history.upto(before))
            if self.history.index(r.id) > self.history.index(target)
        ]
        return self._run(before, todo, "downgrade")

    def _run(self, before: str | None, todo: list[Revision], direction: Direction) -> RunResult:
        assert self.conn is not None and self.ledger is not None
        result = RunResult(before, before, interrupted=self.interrupted)
        if direction == "upgrade":
            self.check_expected_plan(todo)
        o = self.options
        if direction == "upgrade":  # what a kill or a pause left of applied revisions' backfills, first
            phases.resume_backfills(self.conn, self.history, before, o.batches, o.backfill_progress)
        if not todo:
            return result
        for rev in todo:  # every step rendered and parsed before the first runs: a bad one is named, not met
            self.renderer.step(rev, direction)
        last_done: int | None = None
        try:
            with self.db.connect() as work:
                for rev in todo:
                    if direction == "upgrade" and rev.phase == "contract":
                        phases.check_contract(self.conn, self.history, rev, o.min_age_s)
                    elapsed, last_done = self._step(work, rev, direction, result.after)
                    if direction == "upgrade" and rev.backfills:  # after the DDL committed, outside it
                        backfill.run(work, rev.id, rev.backfills, o.batches, o.backfill_progress)
                    elif direction == "downgrade":
                        backfill.forget(self.conn, rev.id)
                    destination = rev.id if direction == "upgrade" else (rev.down_revision or BASE)
                    result.after = destination if destination != BASE else None
                    result.steps.append(StepResult(rev.id, direction, elapsed))
        finally:
            if last_done is not None:
                self._record_fingerprint(last_done)
        return result

    def check_expected_plan(self, todo: list[Revision] | None = None) -> None:
        """With --expect-plan, the SQL about to run must be the SQL that was reviewed: the same revisions,
        the same rendered text. `migrate prod` asks before its backup; every upgrade asks again."""
        if self.options.expect_plan is None:
            return
        if todo is None:
            todo = phases.deployable(self.history.after(self.current()), self.options.contract, quiet=True)
        found = plan_digest([(r.id, self.renderer.step(r, "upgrade").checksum) for r in todo])
        expected = (self.options.expect_plan or "").strip().lower()
        if found != expected:
            raise Refused(
                f"the plan to apply (sha256 {found[:16]}..., {len(todo)} revision(s)) is not the plan reviewed "
                f"(sha256 {expected[:16]}...); nothing was changed",
                "run `mandala-db migrate plan` against this database and review it again",
            )

    def _record_fingerprint(self, row: int) -> None:
        """The schema's fingerprint, read once a run, after its last successful step (also when a later one
        failed): what `status` compares the live schema with. Reading it costs more than the rest of the
        ledger together, so the steps in between carry none."""
        assert self.conn is not None and self.ledger is not None
        try:
            self.ledger.set_fingerprint(row, catalog.take(self.conn, self._schema()).fingerprint)
        except psycopg.Error as exc:  # never hide the failure that is already on its way out
            bus.warning("fingerprint_not_recorded", f"the schema fingerprint was not recorded: {exc}")

    def timeouts(self, rev: Revision) -> tuple[str, str | None]:
        """An explicit command-line value wins, then the revision's own, then the default."""
        o = self.options
        lock = o.lock_timeout if o.lock_timeout_explicit else (rev.lock_timeout or o.lock_timeout)
        statement = (
            o.statement_timeout
            if o.statement_timeout_explicit
            else (rev.statement_timeout or o.statement_timeout)
        )
        return lock, statement

    def _step(
        self, work: psycopg.Connection[Any], rev: Revision, direction: Direction, at: str | None
    ) -> tuple[float, int]:
        """One revision, retried while it only failed to get a lock in time; returns its duration (ms) and
        its ledger row."""
        step = self.renderer.step(rev, direction)
        tries = max(1, self.options.lock_retries)
        for attempt in range(1, tries + 1):
            try:
                return self._attempt(work, rev, direction, step, attempt)
            except _Failed as failed:
                if is_lock_timeout(failed.cause) and attempt < tries:
                    pause = backoff(attempt)
                    bus.warning(
                        "lock_timeout",
                        f"{rev.id}: {failed.message}; try {attempt} of {tries}, again in {pause:.1f} s",
                        migration=rev.id,
                        attempt=attempt,
                    )
                    time.sleep(pause)
                    continue
                raise self._failure(rev, direction, step, failed, tries, at) from failed.cause
        raise AssertionError("unreachable")

    def _attempt(
        self,
        work: psycopg.Connection[Any],
        rev: Revision,
        direction: Direction,
        step: RenderedStep,
        attempt: int,
    ) -> tuple[float, int]:
        """One try, from its ledger row to its outcome: the row says succeeded or failed whatever happens
        (a failure is raised as `_Failed`, for `_step` to retry or report)."""
        assert self.conn is not None and self.ledger is not None
        verb = "migration" if direction == "upgrade" else "rollback"
        resume = self.ledger.resume_point(rev.id, direction, step.checksum) if step.split else 0
        tables = _tables(step.statements)
        row = self.ledger.start(rev.id, direction, rev.file_checksum, step.checksum,
                                statements_total=len(step.statements), statements_done=resume, tables=tables,
                                phase=rev.phase)  # fmt: skip
        bus.info(
            "migration_start",
            f"{verb} started: {rev.id}" + (f" (resuming after statement {resume})" if resume else ""),
            migration=rev.id,
            direction=direction,
            attempt=attempt,
        )
        started = time.perf_counter()
        try:
            with Heartbeat(self.conn, work.info.backend_pid, rev.id, self.options.heartbeat_s):
                self._execute(work, rev, step, row, resume)
        except Exception as exc:
            failed = _Failed(exc, database_error(exc), (time.perf_counter() - started) * 1000)
            self.ledger.finish(row, "failed", error=failed.message)
            raise failed from exc
        elapsed = (time.perf_counter() - started) * 1000
        self.ledger.finish(row, "succeeded")
        if direction == "downgrade":
            self.ledger.mark_rolled_back(rev.id)
        bus.info("migration_complete", f"{verb} complete: {rev.id}", migration=rev.id, duration_ms=elapsed,
                 direction=direction, tables=tables)  # fmt: skip
        return elapsed, row

    def _failure(
        self,
        rev: Revision,
        direction: Direction,
        step: RenderedStep,
        failed: _Failed,
        tries: int,
        at: str | None,
    ) -> OperationFailed:
        """The one line a failed revision ends with: who held the locks, or where the database is now."""
        assert self.conn is not None
        verb = "migration" if direction == "upgrade" else "rollback"
        message = failed.message
        bus.error("migration_failed", f"{verb} failed: {rev.id}: {message}", migration=rev.id,
                  duration_ms=failed.elapsed_ms, direction=direction)  # fmt: skip
        if is_lock_timeout(failed.cause):
            who = describe(blockers(self.conn, _tables(step.statements)))
            return OperationFailed(
                f"revision {rev.id} could not get its locks in {tries} tries "
                f"(lock_timeout {self.timeouts(rev)[0]} each): blocked by {who}",
                "end or wait for that session, then run again; nothing of this revision was applied",
            )
        where = at or "base (empty)"
        if step.split:
            return OperationFailed(
                f"revision {rev.id} failed at a statement that runs outside a transaction: {message}",
                f"the database is still recorded at {where}; the statements before it are kept and the "
                "next run resumes after them",
            )
        return OperationFailed(
            f"revision {rev.id} failed and was rolled back: {message}",
            f"the database is at {where}, as it was before this revision started; fix the cause and run again",
        )

    def _execute(
        self, work: psycopg.Connection[Any], rev: Revision, step: RenderedStep, row: int, resume: int
    ) -> None:
        """The rendered SQL, each transactional run of statements as one transaction sent in one round trip,
        each statement that cannot run in a transaction alone (CREATE INDEX CONCURRENTLY, ALTER TYPE ... ADD
        VALUE, VACUUM); with progress in the ledger after every group when there is more than one."""
        assert self.ledger is not None
        lock_timeout, statement_timeout = self.timeouts(rev)
        # A DDL statement queued behind a long transaction would block every later query on the table: give
        # up after lock_timeout instead of freezing writes (and retry later).
        work.execute(
            f"SET lock_timeout = '{lock_timeout}'; SET statement_timeout = '{statement_timeout or 0}'"
        )
        ledger = self.ledger
        progress = (lambda done: ledger.progress(row, done)) if step.split else None
        run_groups(work, rev.id, step.statements, resume, progress)

    def _schema(self) -> str:
        assert self.conn is not None
        return current_schema(self.conn)
