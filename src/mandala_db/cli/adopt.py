"""`mandala-db adopt prisma --dry-run`: what taking over a Prisma-built database would meet, changing nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mandala_db.cli.context import database, settings_for
from mandala_db.cli.output import Output, Screen
from mandala_db.core.errors import CheckFailed, Refused

app = typer.Typer(help="Take over a database another tool built.", no_args_is_help=True)


@app.command("prisma")
def prisma(
    ctx: typer.Context,
    migrations_dir: Annotated[
        Path | None,
        typer.Option("--migrations-dir", help="Prisma's prisma/migrations folder: checksums compared."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Read and report; change nothing.")] = False,
) -> None:
    """Read a Prisma-built database: its ledger, its state of the history, the rows our constraints reject."""
    from mandala_db.ops.adopt import dry_run as run_dry

    s = settings_for(ctx, "adopt prisma")
    if not dry_run:
        raise Refused(
            "adopt prisma converts nothing yet: only the dry run is built (issue 24)",
            "run `mandala-db adopt prisma --dry-run` to see what the adoption would meet",
        )
    report = run_dry(database(s), migrations_dir)

    def human(console: Screen) -> None:
        applied = [m.name for m in report.migrations if m.finished]
        console.print(f"Prisma's ledger: {len(applied)} migration(s) applied, the last {applied[-1] if applied else '-'}",
                      markup=False)  # fmt: skip
        for line in report.checksums:
            console.print(f"  checksum: {line}", markup=False)
        console.print(f"State of the history: {report.survey.state}", markup=False)
        for fact in report.survey.facts:
            console.print(f"  {fact}", markup=False)
        if report.survey.blockers:
            console.print(
                "Rows our constraints would reject (the adoption refuses until they are fixed):", markup=False
            )
            for b in report.survey.blockers:
                console.print(f"  {b.text()}", markup=False)
        else:
            console.print("No row breaks our constraints.", markup=False)
        for rule in report.survey.unchecked:
            console.print(f"  not checked until the history is brought forward: {rule}", markup=False)
        console.print("Nothing was changed.", markup=False)

    Output(s).result({"ok": report.problems == 0, "dry_run": True, **report.to_dict()}, human)
    if report.problems:
        raise CheckFailed(
            f"the adoption would refuse: {len(report.survey.blockers)} kind(s) of rows our constraints reject, "
            f"{len(report.checksums)} checksum mismatch(es)",
            "see the report above; nothing was changed",
        )
