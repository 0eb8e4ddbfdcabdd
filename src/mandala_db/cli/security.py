"""`mandala-db security ...`: parses, confirms, prints. The work is in mandala_db.ops.security."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mandala_db.cli import security_views as views
from mandala_db.cli.confirm import YES_EPILOG
from mandala_db.cli.context import database, settings_for
from mandala_db.cli.options import Suppressions, TableLockRetries, TableLockTimeout
from mandala_db.cli.output import Output, Screen
from mandala_db.core.errors import BadInput, CheckFailed

if TYPE_CHECKING:
    from mandala_db.ops.security.findings import Severity

app = typer.Typer(help="Security: check, recommend, audit, all; apply-roles.", no_args_is_help=True)

FailOn = Annotated[
    str,
    typer.Option("--fail-on", help="Exit 5 when a finding this severe or worse fails: high, medium, low."),
]


def _fail_on(value: str) -> Severity:
    from mandala_db.ops.security import SEVERITIES

    for severity in SEVERITIES:
        if value == severity:
            return severity
    raise BadInput(f"--fail-on {value!r} is not a severity", "use high, medium or low")


def _verdict(report: Any, level: Severity) -> CheckFailed | None:
    failing = report.failing(level)
    if not failing:
        return None
    names = "; ".join(f"{f.id}{' on ' + f.object if f.object else ''}" for f in failing[:5])
    return CheckFailed(
        f"{len(failing)} security finding(s) at {level} or above: {names}",
        "see `mandala-db security recommend` for the fixes, or suppress a reviewed exception in security-suppressions.toml",
    )


@app.command("check")
def check_command(ctx: typer.Context, fail_on: FailOn = "high", suppressions: Suppressions = None) -> None:
    """Every check, each pass, fail or skipped (with the reason); exit 5 on a failure at --fail-on or above."""
    from mandala_db.ops.security import check_database

    level = _fail_on(fail_on)
    s = settings_for(ctx, "security check")
    report = check_database(database(s), s.suppressions_file(suppressions), s.backup_dir, s.environment.value)
    Output(s).result({"ok": not report.failing(level), "fail_on": level, **report.to_dict()},
                     lambda c: views.print_security_report(c, report))  # fmt: skip
    failure = _verdict(report, level)
    if failure is not None:
        raise failure


@app.command("recommend")
def recommend_command(ctx: typer.Context, suppressions: Suppressions = None) -> None:
    """The URLs, postgresql.conf and pg_hba.conf lines and role SQL to use, each with why and what it fixes here."""
    from mandala_db.ops.security import recommend_for

    s = settings_for(ctx, "security recommend")
    advice, report = recommend_for(
        database(s), s.suppressions_file(suppressions), s.environment.value, s.backup_dir
    )
    Output(s).result({"ok": True, **advice.to_dict(), "failing": [f.to_dict() for f in report.failing()]},
                     lambda c: views.print_recommendation(c, advice))  # fmt: skip


@app.command("audit")
def audit_command(
    ctx: typer.Context,
    save: Annotated[
        Path | None, typer.Option("--save", help="Write the snapshot here (keep it in the repository).")
    ] = None,
    against: Annotated[
        Path | None,
        typer.Option("--against", help="Compare with a saved snapshot; exit 5 when anything differs."),
    ] = None,
) -> None:
    """Roles, grants, default privileges, RLS and policies, SECURITY DEFINER functions, unrecorded objects."""
    from mandala_db.ops.security import AuditSnapshot, compare, snapshot

    s = settings_for(ctx, "security audit")
    saved = AuditSnapshot.load(against) if against else None  # a bad file is refused before any work
    live = snapshot(database(s))
    if save:
        live.save(save)
    diff = compare(saved, live) if saved else None
    doc: dict[str, Any] = {
        "ok": diff is None or diff.empty,
        **live.to_dict(),
        "saved_to": str(save) if save else None,
    }
    if diff is not None:
        doc["against"] = {"file": str(against), **diff.to_dict()}

    def human(console: Screen) -> None:
        if diff is None:
            views.print_audit(console, live)
        else:
            views.print_audit_diff(console, str(against), diff)
        if save:
            console.print(f"Saved to {save}.")

    Output(s).result(doc, human)
    if diff is not None and not diff.empty:
        count = (
            sum(len(v) for v in diff.added.values())
            + sum(len(v) for v in diff.removed.values())
            + len(diff.changed)
        )
        raise CheckFailed(
            f"{count} privilege change(s) since {against}", "review them; if wanted, save again with --save"
        )


@app.command("apply-roles", epilog=YES_EPILOG)
def apply_roles_command(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the SQL; change nothing.")] = False,
    lock_timeout: TableLockTimeout = None,
    lock_retries: TableLockRetries = 5,
) -> None:
    """Create the least-privilege roles and grants `recommend` writes (idempotent: a second run changes nothing)."""
    from mandala_db.cli.confirm import confirm
    from mandala_db.cli.options import lock_policy
    from mandala_db.ops.security import apply_roles

    s = settings_for(ctx, "security apply-roles")
    done = apply_roles(
        database(s),
        dry_run=dry_run,
        confirm=lambda what: confirm(s, what, typed="apply"),
        locks=lock_policy(lock_timeout, lock_retries),
    )

    def human(console: Screen) -> None:
        if done.dry_run:
            for statement in done.statements:
                console.print(statement + ";", markup=False)
            console.print("Dry run: nothing was changed.")
            return
        for change in done.changes:
            console.print(f"  {change}", markup=False)
        console.print(
            f"{len(done.changes)} change(s)"
            if done.changes
            else "Nothing to change: the roles and grants are in place."
        )

    Output(s).result({"ok": True, **done.to_dict()}, human)


@app.command("all")
def all_command(ctx: typer.Context, fail_on: FailOn = "high", suppressions: Suppressions = None) -> None:
    """check, recommend and audit in one report; exit 5 as `check` does."""
    from mandala_db.ops.security import check_database, recommend, snapshot

    level = _fail_on(fail_on)
    s = settings_for(ctx, "security all")
    db = database(s)
    report = check_database(db, s.suppressions_file(suppressions), s.backup_dir, s.environment.value)
    advice = recommend(db.url, report.findings)
    live = snapshot(db)

    def human(console: Screen) -> None:
        views.print_security_report(console, report)
        console.print("")
        views.print_recommendation(console, advice)
        console.print("")
        views.print_audit(console, live)

    doc = {
        "ok": not report.failing(level),
        "check": report.to_dict(),
        "recommend": advice.to_dict(),
        "audit": live.to_dict(),
    }
    Output(s).result(doc, human)
    failure = _verdict(report, level)
    if failure is not None:
        raise failure
