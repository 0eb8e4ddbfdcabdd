"""`mandala-db seed NAME` and `mandala-db data check`: parses, confirms, prints."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from mandala_db.cli.confirm import confirm
from mandala_db.cli.context import command_settings, database_url
from mandala_db.cli.output import Output, ProgressBar
from mandala_db.core.errors import CheckFailed
from mandala_db.core.events import bus

data_app = typer.Typer(help="Checks on the data itself.", no_args_is_help=True)


def seed(
    name: Annotated[str, typer.Argument(help="development, test, demo or performance.")],
    scale: Annotated[
        float | None, typer.Option("--scale", help="Multiply (or divide) the data set's size.")
    ] = None,
    remove: Annotated[
        bool, typer.Option("--remove", help="Remove this data set's rows, and nobody else's.")
    ] = False,
) -> None:
    """Load a data set through COPY (refused in production). Loading it twice loads it once."""
    from mandala_db.core.database import connect
    from mandala_db.ops.migrate import require_head
    from mandala_db.ops.seed import loader
    from mandala_db.ops.seed.datasets import build, check_allowed, check_name

    check_name(name, scale)
    s = command_settings(f"seed {name}")
    check_allowed(s.environment)
    url = database_url(s)
    with connect(url, application_name=s.application_name) as conn:
        require_head(conn)
        if remove and scale is None:
            scale = loader.recorded_scale(conn, name)
        dataset = build(name, scale or 1.0)
        if remove:
            confirm(s, f"Remove the {name} data set ({dataset.row_count:,} rows) from {url}")
        verb = "remove" if remove else "load"
        bus.info(
            "seed_start",
            f"seed {verb} started: {name} ({dataset.row_count:,} rows)",
            dataset=name,
            rows=dataset.row_count,
        )
        with ProgressBar(s.json_output, dataset.row_count, f"{verb} {name}") as bar:
            advance = bar.advance_by if bar else None
            if remove:
                result = loader.remove(conn, dataset, scale or 1.0, advance)
            else:
                result = loader.load(
                    conn,
                    dataset,
                    scale or 1.0,
                    advance,
                    on_merge=lambda: bus.info(
                        "seed_merge",
                        f"some rows of {name} are already there: loading only the missing ones",
                        dataset=name,
                    ),
                )
        bus.info(
            "seed_complete",
            f"seed {verb} complete: {name}, {result.total:,} rows {result.mode}",
            dataset=name,
            duration_ms=result.duration_ms,
            rows=result.total,
            mode=result.mode,
        )

    def human(console: Console) -> None:
        done = {"copy": "loaded", "merge": "loaded (missing rows only)", "remove": "removed"}[result.mode]
        console.print(f"{name}: {result.total:,} rows {done} in {result.duration_ms / 1000:.1f} s")
        for table, count in sorted(result.rows.items()):
            if count:
                console.print(f"  {table:30} {count:>10,}")

    Output(s).result({"ok": True, **result.to_dict()}, human)


@data_app.command("check")
def data_check() -> None:
    """The integrity report: incomplete mandalas, progress that disagrees with tasks, dangling references."""
    from mandala_db.core.database import connect
    from mandala_db.ops.data.check import check

    s = command_settings("data check")
    with connect(database_url(s), application_name=s.application_name) as conn:
        findings = check(conn)

    def human(console: Console) -> None:
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
