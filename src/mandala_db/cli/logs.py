"""`mandala-db logs tail`: parses, prints. The work is in mandala_db.ops.monitor.logs."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from typing import Annotated

import typer

from mandala_db.cli.context import database, settings_for
from mandala_db.core.durations import duration_seconds
from mandala_db.core.events import bus

app = typer.Typer(
    help="The migration log: from CloudWatch Logs when shipped there, else the run ledger.",
    no_args_is_help=True,
)


@app.command("tail")
def tail_command(
    ctx: typer.Context,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new records until interrupted.")
    ] = False,
    since: Annotated[str, typer.Option("--since", help="How far back: 30min, 1h, 24h (default 1h).")] = "1h",
    filter_text: Annotated[
        str | None, typer.Option("--filter", help="Only records containing this text.")
    ] = None,
) -> None:
    """The guide's `aws logs tail /aws/lambda/goal-mandala-migration --follow`; --json prints each record as
    the structured log line it was."""
    from mandala_db.ops.monitor import logs

    s = settings_for(ctx, "logs tail")
    window = timedelta(seconds=duration_seconds("--since", since))
    if s.monitor.ships_logs:
        group = s.monitor.log_group

        def fetch(last: int | None) -> list[tuple[int, dict[str, object]]]:
            return logs.cloudwatch_records(group, window, filter_text, last)

    else:
        db = database(s)

        def fetch(last: int | None) -> list[tuple[int, dict[str, object]]]:
            return logs.ledger_records(db, window, filter_text, last or 0)

    try:
        for record in logs.tail(fetch, follow=follow):
            if s.json_output:
                line = json.dumps(record, ensure_ascii=False, default=str)
            else:
                took = (
                    f" ({record['duration']:.0f} ms)"
                    if isinstance(record.get("duration"), (int, float))
                    else ""
                )
                line = f"{record.get('timestamp', '')} {record.get('level', '')} {record.get('message', '')}{took}"
            sys.stdout.write(bus.scrub(line) + "\n")
            sys.stdout.flush()
    except KeyboardInterrupt:
        return
