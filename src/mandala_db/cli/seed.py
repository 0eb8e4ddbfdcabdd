"""`mandala-db seed NAME` and `mandala-db data check`: parses, confirms, prints."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import typer

from mandala_db.cli.confirm import confirm
from mandala_db.cli.context import database, settings_for
from mandala_db.cli.output import Output, ProgressBar, Screen
from mandala_db.core.errors import CheckFailed

data_app = typer.Typer(help="Checks on the data itself.", no_args_is_help=True)


def seed(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="development, test, demo or performance.")],
    scale: Annotated[
        float | None, typer.Option("--scale", help="Multiply (or divide) the data set's size.")
    ] = None,
    remove: Annotated[
        bool, typer.Option("--remove", help="Remove this data set's rows, and nobody else's.")
    ] = False,
) -> None:
    """Load a data set through COPY (refused in production). Loading it twice loads it once."""
    from mandala_db.ops.seed import run
    from mandala_db.ops.seed.datasets import check_allowed, check_name

    s = settings_for(ctx, f"seed {name}")
    check_name(name, scale)  # before the embedded server is started for nothing
    check_allowed(s.environment)
    result = run(
        database(s),
        name,
        scale=scale,
        remove=remove,
        environment=s.environment,
        confirm=lambda what: confirm(s, what),
        bars=partial(ProgressBar, s.json_output),
    )

    def human(console: Screen) -> None:
        done = {"copy": "loaded", "merge": "loaded (missing rows only)", "remove": "removed"}[result.mode]
        console.print(f"{name}: {result.total:,} rows {done} in {result.duration_ms / 1000:.1f} s")
        for table, count in sorted(result.rows.items()):
            if count:
                console.print(f"  {table:30} {count:>10,}")

    Output(s).result({"ok": True, **result.to_dict()}, human)


@data_app.command("check")
def data_check(ctx: typer.Context) -> None:
    """The integrity report: incomplete mandalas, progress that disagrees with tasks, dangling references."""
    from mandala_db.ops.data.check import check_database

    s = settings_for(ctx, "data check")
    findings = check_database(database(s))

    def human(console: Screen) -> None:
        for f in findings:
            console.print(f.line())
        if not findings:
            console.print("No problems found.")

    Output(s).result({"ok": not findings, "findings": [f.to_dict() for f in findings]}, human)
    if findings:
        raise CheckFailed(
            f"data check found {sum(f.count for f in findings)} problem(s) of {len(findings)} kind(s)",
            "see the report above",
        )
