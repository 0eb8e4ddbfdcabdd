"""Applies and reverts revisions one at a time: each in its own transaction, under the migration lock,
with a ledger row written before it starts and finished after it ends (or fails)."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psycopg

from mandala_db.core import catalog
from mandala_db.core.config import DatabaseURL
from mandala_db.core.database import make_engine
from mandala_db.core.errors import OperationFailed
from mandala_db.core.events import bus
from mandala_db.core.ledger import RunLedger
from mandala_db.core.lock import MigrationLock
from mandala_db.migrations import SCRIPT_LOCATION
from mandala_db.ops.migrate.loader import BASE, History, Revision

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection


@dataclass
class RunOptions:
    """How a run behaves; the CLI fills it from its options."""

    environment: str = "development"
    application_name: str = "mandala-db"
    lock_wait: float = 120.0
    lock_timeout: str = "5s"
    statement_timeout: str | None = None


@dataclass
class StepResult:
    revision: str
    direction: str
    duration_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "direction": self.direction,
            "duration_ms": round(self.duration_ms, 1),
        }


@dataclass
class RunResult:
    before: str | None
    after: str | None
    steps: list[StepResult] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)


def current_revision(conn: psycopg.Connection[Any]) -> str | None:
    row = conn.execute("SELECT to_regclass('alembic_version') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return None
    found = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    if len(found) > 1:
        raise OperationFailed(
            f"alembic_version holds {len(found)} rows ({', '.join(r[0] for r in found)}); mandala-db keeps one head",
            "mend it with `migrate resolve`",
        )
    return found[0][0] if found else None


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


class AlembicRunner:
    """Alembic as the engine: one ScriptDirectory, env.py run once per step (online) or per rendering."""

    def __init__(self) -> None:
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        self.config = Config()
        self.config.set_main_option("script_location", str(SCRIPT_LOCATION))
        self.script: ScriptDirectory = ScriptDirectory.from_config(self.config)

    def _steps_fn(self, destination: str, direction: str) -> Callable[[Any, Any], Any]:
        def fn(rev: Any, context: Any) -> Any:
            if direction == "upgrade":
                return self.script._upgrade_revs(destination, rev)
            return self.script._downgrade_revs(destination, rev)

        return fn

    def run(self, connection: Connection, destination: str, direction: str) -> None:
        from alembic.runtime.environment import EnvironmentContext

        self.config.attributes["connection"] = connection
        with EnvironmentContext(
            self.config, self.script, fn=self._steps_fn(destination, direction), destination_rev=destination
        ):
            self.script.run_env()

    def render(self, start: str | None, destination: str, direction: str = "upgrade") -> str:
        """The SQL that moving from start to destination runs, rendered offline."""
        from alembic.runtime.environment import EnvironmentContext

        buffer = io.StringIO()
        self.config.attributes["output_buffer"] = buffer
        try:
            with EnvironmentContext(
                self.config,
                self.script,
                fn=self._steps_fn(destination, direction),
                as_sql=True,
                starting_rev=start,
                destination_rev=destination,
            ):
                self.script.run_env()
        finally:
            self.config.attributes.pop("output_buffer", None)
        return buffer.getvalue()

    def revision_sql(self, rev: Revision, direction: str = "upgrade") -> str:
        if direction == "upgrade":
            return self.render(rev.down_revision, rev.id, "upgrade")
        return self.render(rev.id, rev.down_revision or BASE, "downgrade")


def sql_checksum(sql: str) -> str:
    """Whitespace-insensitive: reflowing a statement is not a semantic change."""
    return hashlib.sha256(" ".join(sql.split()).encode()).hexdigest()


class Executor:
    """Moves one database along the history. Use as a context manager: it holds the lock while open."""

    def __init__(self, url: DatabaseURL, history: History, options: RunOptions) -> None:
        self.url = url
        self.history = history
        self.options = options
        self._lock = MigrationLock(
            url, application_name=options.application_name, wait_seconds=options.lock_wait
        )
        self.conn: psycopg.Connection[Any] | None = None
        self.ledger: RunLedger | None = None
        self.interrupted: list[str] = []
        self._runner: AlembicRunner | None = None

    def __enter__(self) -> Executor:
        self.conn = self._lock.__enter__()
        self.ledger = RunLedger(self.conn, run_id=bus.run_id, environment=self.options.environment)
        self.ledger.ensure()
        self.interrupted = self.ledger.interrupt_stale()
        for rev in self.interrupted:
            bus.warning(
                "migration_interrupted",
                f"an earlier run of {rev} was interrupted; it was rolled back "
                "with its transaction and is marked interrupted",
                migration=rev,
            )
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.__exit__(*exc)

    def reload(self, history: History) -> None:
        """Pick up revision files written since this executor opened (migrate dev)."""
        self.history = history
        self._runner = None

    @property
    def runner(self) -> AlembicRunner:
        if self._runner is None:
            self._runner = AlembicRunner()
        return self._runner

    def current(self) -> str | None:
        assert self.conn is not None
        return current_revision(self.conn)

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        engine = make_engine(self.url, application_name=self.options.application_name)
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            engine.dispose()

    def upgrade(self, target: str | None = None) -> RunResult:
        before = self.current()
        end = self.history.index(target) if target else len(self.history.revisions) - 1
        todo = [r for r in self.history.after(before) if self.history.index(r.id) <= end]
        return self._run(before, todo, "upgrade")

    def downgrade(self, target: str) -> RunResult:
        before = self.current()
        todo = [
            r
            for r in reversed(self.history.upto(before))
            if self.history.index(r.id) > self.history.index(target)
        ]
        return self._run(before, todo, "downgrade")

    def _run(self, before: str | None, todo: list[Revision], direction: str) -> RunResult:
        assert self.conn is not None and self.ledger is not None
        result = RunResult(before, before, interrupted=self.interrupted)
        if not todo:
            return result
        with self._connection() as connection:
            for rev in todo:
                destination = rev.id if direction == "upgrade" else (rev.down_revision or BASE)
                sql = self.runner.revision_sql(rev, direction)
                row = self.ledger.start(rev.id, direction, rev.file_checksum, sql_checksum(sql))
                verb = "migration" if direction == "upgrade" else "rollback"
                bus.info(
                    "migration_start", f"{verb} started: {rev.id}", migration=rev.id, direction=direction
                )
                started = time.perf_counter()
                try:
                    with connection.begin():
                        # A DDL statement queued behind a long transaction would block every later query on
                        # the table: give up after lock_timeout instead of freezing writes.
                        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{self.options.lock_timeout}'")
                        if self.options.statement_timeout:
                            connection.exec_driver_sql(
                                f"SET LOCAL statement_timeout = '{self.options.statement_timeout}'"
                            )
                        self.runner.run(connection, destination, direction)
                except Exception as exc:
                    message = database_error(exc)
                    elapsed = (time.perf_counter() - started) * 1000
                    self.ledger.finish(row, "failed", error=message)
                    bus.error(
                        "migration_failed",
                        f"{verb} failed: {rev.id}: {message}",
                        migration=rev.id,
                        duration_ms=elapsed,
                        direction=direction,
                    )
                    at = result.after or "base (empty)"
                    raise OperationFailed(
                        f"revision {rev.id} failed and was rolled back: {message}",
                        f"the database is at {at}, as it was before this revision started; fix the cause and run again",
                    ) from exc
                elapsed = (time.perf_counter() - started) * 1000
                fingerprint = catalog.take(self.conn, self._schema()).fingerprint
                self.ledger.finish(row, "succeeded", fingerprint=fingerprint)
                result.after = destination if destination != BASE else None
                result.steps.append(StepResult(rev.id, direction, elapsed))
                bus.info(
                    "migration_complete",
                    f"{verb} complete: {rev.id}",
                    migration=rev.id,
                    duration_ms=elapsed,
                    direction=direction,
                )
        return result

    def _schema(self) -> str:
        assert self.conn is not None
        row = self.conn.execute("SELECT current_schema()").fetchone()
        return str(row[0]) if row and row[0] else "public"
