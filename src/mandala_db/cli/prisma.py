"""`mandala-db prisma schema [--out FILE]`: the application's schema.prisma, generated from our models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mandala_db.cli.context import database, settings_for
from mandala_db.cli.output import Output, Screen

app = typer.Typer(help="For the application on Prisma Client: its schema.prisma.", no_args_is_help=True)


@app.command("schema")
def schema(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option("--out", help="Write it here (default: print it).")] = None,
) -> None:
    """A schema.prisma with the application's names mapped to our tables and columns (@map, @@map)."""
    from mandala_db.core import catalog
    from mandala_db.ops.migrate.prisma_schema import render

    s = settings_for(ctx, "prisma schema")
    with database(s).connect() as conn:
        text = render(catalog.models_snapshot(conn))
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")

    def human(console: Screen) -> None:
        console.print(f"Wrote {out} ({text.count(chr(10) + 'model ')} models).", markup=False)

    Output(s).result({"ok": True, "path": str(out)}, human)
