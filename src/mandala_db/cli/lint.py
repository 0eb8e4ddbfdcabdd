"""`mandala-db lint [FILE...]`: the migration lint rules without a database, for editors and pull-request
jobs; text, JSON, GitHub annotations or SARIF 2.1.0 (GitHub code scanning)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from mandala_db.cli.context import settings_for
from mandala_db.cli.output import Output
from mandala_db.core.errors import BadInput, CheckFailed

FORMATS = ("text", "json", "github", "sarif")


def lint_command(
    ctx: typer.Context,
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Revision files (.py) or SQL files (.sql); none: every revision of the history."),
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option("--format", help="text, json, github (workflow annotations) or sarif (SARIF 2.1.0)."),
    ] = None,
    list_rules: Annotated[
        bool,
        typer.Option("--list-rules", help="Print the rules as a Markdown table (the README's) and exit."),
    ] = False,
) -> None:
    """Lint revision or SQL files without a database: every table counts as populated unless the files
    create it; column types come from the project's history. Exit 5 on an error no file waives."""
    from mandala_db.cli import lint_views
    from mandala_db.ops.migrate.lint.files import lint_files
    from mandala_db.ops.migrate.loader import History

    s = settings_for(ctx, "lint")
    if list_rules:
        sys.stdout.write(lint_views.rules_table())
        return
    chosen = output_format or ("json" if s.json_output else "text")
    if chosen not in FORMATS:
        raise BadInput(f"unknown --format {output_format!r}", f"use one of {', '.join(FORMATS)}")
    paths = list(files or [r.path for r in History.load().revisions])
    findings = lint_files(paths, s.cache_dir)
    if chosen == "sarif":
        sys.stdout.write(lint_views.sarif(findings) + "\n")
    elif chosen == "github":
        sys.stdout.write("".join(lint_views.github(findings)))
    else:
        if chosen == "json":
            s.json_output = True
        Output(s).result(lint_views.document(paths, findings), lambda c: lint_views.human(c, paths, findings))
    blocking = [f for f in findings if f.blocking]
    if blocking:
        raise CheckFailed(
            f"{len(blocking)} lint error(s) not waived in {len(paths)} file(s)",
            "make the change safe, or waive the rule in the file with a reason",
        )
