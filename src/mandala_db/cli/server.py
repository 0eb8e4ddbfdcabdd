"""`mandala-db server status|stop`: the project's embedded PostgreSQL, which outlives each command (so the
next one starts at once) until it is stopped here."""

from __future__ import annotations

import typer

from mandala_db.cli.context import settings_for
from mandala_db.cli.output import Output, Screen

app = typer.Typer(help="The embedded PostgreSQL of this project: status, stop.", no_args_is_help=True)


@app.command("status")
def status_command(ctx: typer.Context) -> None:
    """Whether the embedded server runs, its data folder, socket and port."""
    from mandala_db.core.embedded import embedded_status

    s = settings_for(ctx, "server status")
    found = embedded_status(s.state_dir)

    def human(console: Screen) -> None:
        if found["running"]:
            console.print(
                f"running: PostgreSQL {found.get('version', '?')}, pid {found['pid']}, socket {found['socket']} "
                f"port {found['port']}, data {found['pgdata']}",
                markup=False,
            )
        elif found["exists"]:
            console.print(f"stopped: data {found['pgdata']} (the next command starts it)", markup=False)
        else:
            console.print(f"none: no embedded server under {found['pgdata']} yet", markup=False)

    Output(s).result({"ok": True, **found}, human)


@app.command("stop")
def stop_command(ctx: typer.Context) -> None:
    """Stop the embedded server (a fast shutdown); the next command that needs it starts it again."""
    from mandala_db.core.embedded import stop_embedded

    s = settings_for(ctx, "server stop")
    stopped = stop_embedded(s.state_dir)
    Output(s).result(
        {"ok": True, "stopped": stopped},
        lambda c: c.print("stopped" if stopped else "not running", markup=False),
    )
