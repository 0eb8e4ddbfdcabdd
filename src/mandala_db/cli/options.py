"""The options every command that changes the schema shares, and the run options they make."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mandala_db.core.config import Settings, duration

if TYPE_CHECKING:
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
    )
