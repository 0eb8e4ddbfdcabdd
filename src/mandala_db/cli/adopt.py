"""`mandala-db adopt prisma [--dry-run]`: take over a Prisma-built database, or see what that would meet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from mandala_db.cli import options as o
from mandala_db.cli.confirm import YES_EPILOG, confirm
from mandala_db.cli.context import database, settings_for
from mandala_db.cli.output import Output, Screen
from mandala_db.core.errors import CheckFailed

app = typer.Typer(help="Take over a database another tool built.", no_args_is_help=True)


@app.command("prisma", epilog=YES_EPILOG)
def prisma(
    ctx: typer.Context,
    migrations_dir: Annotated[
        Path | None,
        typer.Option("--migrations-dir", help="Prisma's prisma/migrations folder: checksums compared."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Read and report; change nothing.")] = False,
    backup_dir: o.BackupDir = None,
    undo: Annotated[
        bool, typer.Option("--undo", help="Give back the Prisma layout an adoption replaced.")
    ] = False,
    fix: Annotated[
        list[str] | None,
        typer.Option(
            "--fix",
            metavar="WHAT=ACTION",
            help="What to do with rows our constraints reject: WHAT is check, reference, not-null, unique, all "
            "or a rule's name; ACTION is clamp, null or archive (comma-separated, or repeated).",
        ),
    ] = None,
) -> None:
    """Convert a Prisma-built database into mandala-db's, every row proved equal (--dry-run: report only)."""
    from mandala_db.ops.adopt import dry_run as run_dry
    from mandala_db.ops.adopt.fix import action_for, parse

    s = settings_for(ctx, "adopt prisma")
    fixes = parse(fix or [])
    if undo:
        _undo(s, backup_dir)
        return
    if not dry_run:
        _adopt(s, migrations_dir, backup_dir, fixes)
        return
    report = run_dry(database(s), migrations_dir, fixes)

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
            console.print("Rows our constraints would reject (the adoption refuses until they are fixed, or "
                          "--fix names what to do with them):", markup=False)  # fmt: skip
            for b in report.survey.blockers:
                chosen = action_for(b, fixes)
                console.print(f"  {b.text()}" + (f" -> --fix {chosen}" if chosen else ""), markup=False)
            for line in report.unfixed if fixes else ():
                console.print(f"  not fixed: {line}", markup=False)
        else:
            console.print("No row breaks our constraints.", markup=False)
        for rule in report.survey.unchecked:
            console.print(f"  not checked until the history is brought forward: {rule}", markup=False)
        for line in report.unplannable:
            console.print(f"  the conversion needs a decision: {line}", markup=False)
        if report.plan:
            statements = sum(len(v) for v in report.plan.values()) + len(report.forward)
            console.print(f"The conversion, in one transaction: {statements} statements", markup=False)
            if report.forward:
                console.print("  -- first, the older state brought to 2025-12-11 as Prisma's migrations did "
                              "(our revisions' label mappings; tasks is rewritten once)", markup=False)  # fmt: skip
                for sql in report.forward:
                    console.print(f"  {sql};", markup=False)
            for table, sqls in sorted(report.plan.items()):
                console.print(f"  -- {table or 'types and functions'}", markup=False)
                for sql in sqls:
                    console.print(f"  {sql};", markup=False)
            console.print(
                f"Then, each in its own transaction: {len(report.validations)} VALIDATE CONSTRAINT",
                markup=False,
            )
        console.print("Nothing was changed.", markup=False)

    Output(s).result({"ok": report.problems == 0, "dry_run": True, **report.to_dict()}, human)
    if report.problems:
        raise CheckFailed(
            f"the adoption would refuse: {len(report.unfixed)} kind(s) of rows our constraints reject and no --fix covers, "
            f"{len(report.checksums)} checksum mismatch(es), {len(report.unplannable)} change(s) needing a decision",
            "see the report above; nothing was changed",
        )


def _adopt(s: Any, migrations_dir: Path | None, backup_dir: str | None, fixes: dict[str, str]) -> None:
    from mandala_db.ops.adopt.run import adopt

    db = database(s)
    done = adopt(db, s.backups_in(backup_dir), migrations_dir=migrations_dir, fixes=fixes,
                 confirm=lambda what: confirm(s, what, typed=db.url.dbname or "the database"))  # fmt: skip

    def human(console: Screen) -> None:
        if done.resumed:
            console.print(
                f"Validated what an earlier adoption left: {', '.join(done.validated)}", markup=False
            )
            return
        console.print(f"Adopted: {done.statements} statements in one transaction, {len(done.validated)} "
                      "constraints validated after it.", markup=False)  # fmt: skip
        console.print(f"  proved equal: {sum(done.tables.values()):,} rows in {len(done.tables)} tables whose "
                      f"values were mapped (counts and checksums); {len(done.unchanged)} tables only renamed "
                      f"(~{sum(done.unchanged.values()):,} rows: the same storage)", markup=False)  # fmt: skip
        if done.forwarded:
            console.print(
                f"  the older state brought to 2025-12-11 first: {done.forwarded} statements", markup=False
            )
        for f in done.fixed:
            console.print(f"  fixed: {f.text()}", markup=False)
        console.print(f"  pre-adoption backup: {done.backup}", markup=False)
        console.print(
            f"  Prisma's ledger kept as {done.archived}; the database is at {done.head}", markup=False
        )

    Output(s).result({"ok": True, **done.to_dict()}, human)


def _undo(s: Any, backup_dir: str | None) -> None:
    from mandala_db.ops.adopt.undo import undo

    db = database(s)
    done = undo(
        db,
        s.backups_in(backup_dir),
        confirm=lambda what: confirm(s, what, typed=db.url.dbname or "the database"),
    )

    def human(console: Screen) -> None:
        console.print(f"Prisma layout given back: {done.statements} statements; proved equal: "
                      f"{sum(done.tables.values()):,} rows in {len(done.tables)} tables whose values were mapped "
                      f"back, {len(done.unchanged)} tables only renamed (the same storage).", markup=False)  # fmt: skip
        console.print(f"  pre-undo backup: {done.backup}", markup=False)

    Output(s).result({"ok": True, **done.to_dict()}, human)
