"""`mandala-db migrate backfill status|pause|resume`: where each revision's backfills are, and a pause that
any session can ask for (the running backfill stops at its next batch) and lift."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mandala_db.cli.context import database, settings_for
from mandala_db.cli.options import (
    BatchDelay,
    BatchSize,
    BatchTarget,
    LockWait,
    MaxLag,
    MaxRowsPerSecond,
    batch_policy,
    run_options,
)
from mandala_db.cli.output import Output, ProgressBar, Screen, print_table

app = typer.Typer(help="Backfills of revisions: status, pause, resume.", no_args_is_help=True)

Revision = Annotated[str | None, typer.Argument(help="One revision's backfills (id or prefix); default all.")]


def _show(console: Screen, found: list[Any]) -> None:
    if not found:
        console.print("No backfill has started yet.")
        return
    rows = [[s.revision, str(s.position + 1), s.status, f"{s.rows_done:,}", f"{s.keys_done:,}", s.last_key or "",
             f"{s.rate:,.0f}" if s.rate else "", s.error or ""] for s in found]  # fmt: skip
    print_table(console, "Backfills", ["revision", "#", "status", "rows", "keys", "last key", "rows/s", "error"],
                rows, whole=("revision", "last key"), right=("#", "rows", "keys", "rows/s"))  # fmt: skip


def _resolve(revision: str | None) -> str | None:
    from mandala_db.ops.migrate.loader import History

    return History.load().resolve(revision) if revision else None


@app.command("status")
def status_command(ctx: typer.Context) -> None:
    """Each backfill: its status, rows and keys done, the last key, its rate."""
    from mandala_db.ops.migrate.backfill import states

    s = settings_for(ctx, "migrate backfill status")
    with database(s).connect() as conn:
        found = states(conn)
    Output(s).result({"ok": True, "backfills": [f.to_dict() for f in found]}, lambda c: _show(c, found))


@app.command("pause")
def pause_command(ctx: typer.Context, revision: Revision = None) -> None:
    """Stop the running backfills at their next batch, and keep deploys from starting them again."""
    from mandala_db.ops.migrate.backfill import set_paused

    s = settings_for(ctx, "migrate backfill pause")
    with database(s).connect() as conn:
        found = set_paused(conn, True, _resolve(revision))
    Output(s).result({"ok": True, "backfills": [f.to_dict() for f in found]}, lambda c: _show(c, found))


@app.command("resume")
def resume_command(
    ctx: typer.Context,
    revision: Revision = None,
    lock_wait: LockWait = 120.0,
    batch_target: BatchTarget = "200ms",
    batch_size: BatchSize = None,
    batch_delay: BatchDelay = "0",
    max_rows_per_second: MaxRowsPerSecond = None,
    max_lag: MaxLag = None,
) -> None:
    """Lift a pause (or a failure) and run the unfinished backfills of applied revisions to their end."""
    from mandala_db.ops.migrate import phases
    from mandala_db.ops.migrate.backfill import set_paused, states
    from mandala_db.ops.migrate.executor import Executor
    from mandala_db.ops.migrate.loader import History

    s = settings_for(ctx, "migrate backfill resume")
    db = database(s)
    options = run_options(s, lock_wait, None, None)
    policy = batch_policy(batch_target, batch_size, batch_delay, max_rows_per_second, max_lag)
    with (
        ProgressBar(s.json_output, 0, "backfill", unit="rows") as bar,
        Executor(db, History.load(), options) as ex,
    ):
        assert ex.conn is not None
        set_paused(ex.conn, False, _resolve(revision))
        phases.resume_backfills(ex.conn, ex.history, ex.current(), policy, bar.tables if bar else None)
        found = states(ex.conn)
    Output(s).result({"ok": True, "backfills": [f.to_dict() for f in found]}, lambda c: _show(c, found))
