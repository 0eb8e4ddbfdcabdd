"""The options every command that changes the schema shares, and the run options they make."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mandala_db.core.durations import duration
from mandala_db.core.errors import BadInput
from mandala_db.core.settings import Settings

if TYPE_CHECKING:
    from mandala_db.core.blockers import LockPolicy
    from mandala_db.ops.migrate.backfill import BatchPolicy
    from mandala_db.ops.migrate.executor import RunOptions

LockWait = Annotated[float, typer.Option("--lock-wait", help="Seconds to wait for the migration lock.")]
LockTimeout = Annotated[
    str | None,
    typer.Option(
        "--lock-timeout",
        help="lock_timeout for every statement (default 5s, or the revision's own `lock_timeout`).",
    ),
]
StatementTimeout = Annotated[
    str | None,
    typer.Option(
        "--statement-timeout",
        help="statement_timeout for each revision (default none, or the revision's own `statement_timeout`).",
    ),
]
BackupDir = Annotated[
    str | None,
    typer.Option(
        "--backup-dir", help="Where the backup taken first goes (default $BACKUP_DIR, else ./backups)."
    ),
]
TimingsFrom = Annotated[
    str | None,
    typer.Option(
        "--timings-from", help="Another database's URL (staging): how long each revision took there."
    ),
]
PlanOut = Annotated[
    Path | None, typer.Option("--out", help="Also write the plan (SQL, locks, lint, sha256) as JSON here.")
]
Suppressions = Annotated[
    Path | None,
    typer.Option(
        "--suppressions", help="Security suppressions (default ./security-suppressions.toml if present)."
    ),
]
ExpectPlan = Annotated[
    str | None,
    typer.Option(
        "--expect-plan", help="Refuse (exit 3) unless the SQL to apply is the plan with this sha256."
    ),
]
# Restores and `security apply-roles` have no revision: their own help, the same parser (`lock_policy`).
TableLockTimeout = Annotated[
    str | None,
    typer.Option("--lock-timeout", help="lock_timeout for each wait for a table's lock (default 5s)."),
]
TableLockRetries = Annotated[
    int,
    typer.Option(
        "--lock-retries", min=1, help="Tries, with backoff, when a table stays locked by another session."
    ),
]
LockRetries = Annotated[
    int,
    typer.Option("--lock-retries", min=1, help="Tries for a revision that fails only for want of a lock."),
]


def run_options(
    settings: Settings,
    lock_wait: float,
    lock_timeout: str | None,
    statement_timeout: str | None,
    lock_retries: int = 5,
    expect_plan: str | None = None,
) -> RunOptions:
    from mandala_db.ops.migrate.executor import RunOptions

    return RunOptions(
        environment=settings.environment.value,
        lock_wait=lock_wait,
        lock_timeout=duration("--lock-timeout", lock_timeout) if lock_timeout else "5s",
        lock_timeout_explicit=lock_timeout is not None,
        statement_timeout=duration("--statement-timeout", statement_timeout) if statement_timeout else None,
        statement_timeout_explicit=statement_timeout is not None,
        lock_retries=lock_retries,
        cache_dir=settings.cache_dir,
        heartbeat_s=settings.monitor.heartbeat_s,
        expect_plan=expect_plan,
    )


def lock_policy(lock_timeout: str | None, lock_retries: int) -> LockPolicy:
    """--lock-timeout and --lock-retries of a restore or `security apply-roles`, as migrations read them."""
    from mandala_db.core.blockers import LockPolicy

    return LockPolicy(duration("--lock-timeout", lock_timeout) if lock_timeout else "5s", lock_retries)


Contract = Annotated[
    bool, typer.Option("--contract", help="Also apply contract revisions (once their backfills are done).")
]
MinAge = Annotated[
    str,
    typer.Option(
        "--min-age", help="A contract revision waits until its expand revision is this old (e.g. 1h)."
    ),
]
BatchTarget = Annotated[
    str,
    typer.Option(
        "--batch-target", help="Backfill batches are sized to take about this long (default 200ms)."
    ),
]
BatchSize = Annotated[
    int | None, typer.Option("--batch-size", min=1, help="A fixed backfill batch size instead.")
]
BatchDelay = Annotated[
    str, typer.Option("--batch-delay", help="A pause between backfill batches (e.g. 50ms).")
]
MaxRowsPerSecond = Annotated[
    float | None, typer.Option("--max-rows-per-second", min=1, help="A ceiling on the backfill's rate.")
]
MaxLag = Annotated[
    str | None,
    typer.Option("--max-lag", help="Pause the backfill while a replica is further behind (e.g. 10s)."),
]


def batch_policy(
    target: str = "200ms",
    size: int | None = None,
    delay: str = "0",
    max_rows_per_second: float | None = None,
    max_lag: str | None = None,
) -> BatchPolicy:
    from mandala_db.core.durations import duration_ms, duration_seconds
    from mandala_db.ops.migrate.backfill import BatchPolicy

    return BatchPolicy(
        target_ms=duration_ms("--batch-target", target),
        size=size,
        delay_s=duration_seconds("--batch-delay", delay),
        max_rows_per_second=max_rows_per_second,
        max_lag_s=duration_seconds("--max-lag", max_lag) if max_lag else None,
    )


def renames(given: list[str]) -> dict[str, str]:
    """`migrate dev --rename TABLE.OLD=NEW`, each: "table.old" -> new."""
    out = {}
    for item in given:
        old, sep, new = item.partition("=")
        if not sep or "." not in old or not new or "." in new:
            raise BadInput(f"--rename {item!r} is not TABLE.OLD=NEW", "e.g. --rename tasks.title=name")
        out[old.strip()] = new.strip()
    return out
