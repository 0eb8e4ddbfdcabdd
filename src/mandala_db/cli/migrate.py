"""`mandala-db migrate ...`: parses, confirms, prints. The work is in mandala_db.ops.migrate."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mandala_db.cli import github, plan_views, views
from mandala_db.cli import options as o
from mandala_db.cli.backfill import app as backfill_app
from mandala_db.cli.confirm import YES_EPILOG, confirm
from mandala_db.cli.context import database, database_at, settings_for, ship_backup
from mandala_db.cli.output import Output, ProgressBar
from mandala_db.core.errors import BadInput, CheckFailed

if TYPE_CHECKING:
    from mandala_db.ops.migrate.loader import History

app = typer.Typer(help="Schema migrations: generate, apply, inspect, roll back.", no_args_is_help=True)
app.add_typer(backfill_app, name="backfill")


def _history() -> History:
    from mandala_db.ops.migrate.loader import History

    return History.load()


@app.command(epilog=YES_EPILOG)
def dev(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="Name of the revision (default: init, then migration).")
    ] = None,
    empty: Annotated[
        bool, typer.Option("--empty", help="Write an empty revision to fill in by hand.")
    ] = False,
    lock_wait: o.LockWait = 120.0,
    lock_timeout: o.LockTimeout = None,
    statement_timeout: o.StatementTimeout = None,
    lock_retries: o.LockRetries = 5,
    rename: Annotated[
        list[str] | None,
        typer.Option(
            "--rename",
            metavar="TABLE.OLD=NEW",
            help="A column the models renamed (not dropped and added): written in steps.",
        ),
    ] = None,
    in_steps: Annotated[
        bool, typer.Option("--in-steps", help="Write changes in steps even on tables that are empty here.")
    ] = False,
) -> None:
    """Development only: write a revision for what the models changed, lint it, apply it. A change that
    would lock a populated table is written as expand / validate / contract revisions."""
    from mandala_db.ops.migrate.dev import dev as run_dev

    s = settings_for(ctx, "migrate dev")
    result = run_dev(
        database(s),
        s.environment,
        o.run_options(s, lock_wait, lock_timeout, statement_timeout, lock_retries),
        name,
        empty=empty,
        confirm_loss=lambda what: confirm(s, f"The new revision {what}", typed="apply"),
        renames=o.renames(rename or []),
        in_steps=in_steps,
    )
    Output(s).result({"ok": True, **result.to_dict()}, lambda c: plan_views.print_dev(c, result))


@app.command()
def squash(
    ctx: typer.Context,
    to: Annotated[
        str, typer.Option("--to", help="The last revision the baseline stands for (an id or its name).")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Build and prove the baseline, write nothing.")
    ] = False,
) -> None:
    """One baseline revision in place of the history up to --to, proved before anything is written."""
    from mandala_db.ops.migrate.squash import squash as run_squash

    s = settings_for(ctx, "migrate squash")
    result = run_squash(database(s), s.environment, to, dry_run=dry_run)
    Output(s).result({"ok": True, **result.to_dict()}, lambda c: plan_views.print_squash(c, result))


@app.command()
def deploy(
    ctx: typer.Context,
    lock_wait: o.LockWait = 120.0,
    lock_timeout: o.LockTimeout = None,
    statement_timeout: o.StatementTimeout = None,
    lock_retries: o.LockRetries = 5,
    expect_plan: o.ExpectPlan = None,
    contract: o.Contract = False,
    min_age: o.MinAge = "0",
    batch_target: o.BatchTarget = "200ms",
    batch_size: o.BatchSize = None,
    batch_delay: o.BatchDelay = "0",
    max_rows_per_second: o.MaxRowsPerSecond = None,
    max_lag: o.MaxLag = None,
) -> None:
    """Apply every pending revision, in order, under the migration lock, and their backfills in batches;
    contract revisions wait for --contract."""
    from mandala_db.core.durations import duration_seconds
    from mandala_db.ops.migrate.executor import Executor

    s = settings_for(ctx, "migrate deploy")
    options = o.run_options(s, lock_wait, lock_timeout, statement_timeout, lock_retries, expect_plan)
    options.contract, options.min_age_s = contract, duration_seconds("--min-age", min_age)
    options.batches = o.batch_policy(batch_target, batch_size, batch_delay, max_rows_per_second, max_lag)
    with (
        ProgressBar(s.json_output, 0, "backfill", unit="rows") as bar,
        Executor(database(s), _history(), options) as executor,
    ):
        executor.options.backfill_progress = bar.tables if bar else None
        result = executor.upgrade()
    Output(s).result(views.run_dict(result), lambda c: views.print_run(c, result, "apply"))


@app.command()
def status(
    ctx: typer.Context,
    view: Annotated[str, typer.Argument(help="status, schema, history, all or test.")] = "status",
    check: Annotated[
        bool, typer.Option("--check", help="Exit 5 when revisions are pending or the schema drifted.")
    ] = False,
) -> None:
    """Current and pending revisions; `schema`, `history`, `all`, or `test` (the connection alone)."""
    from mandala_db.ops.migrate.status import VIEWS, report

    if view not in VIEWS:  # before the embedded server is started for nothing
        raise BadInput(f"unknown status view {view!r}", f"use one of {', '.join(VIEWS)}")
    s = settings_for(ctx, "migrate status")
    found = report(database(s), view)
    Output(s).result(found.to_dict(), lambda c: views.print_report(c, found))
    failure = found.check_failure() if check else None
    if failure is not None:
        raise failure


@app.command(epilog=YES_EPILOG)
def rollback(
    ctx: typer.Context,
    action: Annotated[str, typer.Argument(help="list, to or reset.")],
    revision: Annotated[
        str | None, typer.Argument(help="With `to`: the revision to go back to (id or prefix).")
    ] = None,
    backup_dir: o.BackupDir = None,
    lock_wait: o.LockWait = 120.0,
    lock_timeout: o.LockTimeout = None,
    statement_timeout: o.StatementTimeout = None,
    lock_retries: o.LockRetries = 5,
) -> None:
    """`list` the applied revisions; `to REV`: run the downgrades down to REV, keeping the data;
    `reset`: drop everything and re-apply (never in staging or production)."""
    from mandala_db.ops.migrate import rollback as ops

    s = settings_for(ctx, "migrate rollback")
    if action not in ("list", "to", "reset"):
        raise BadInput(f"unknown rollback action {action!r}", "use list, to REV, or reset")
    if action == "to" and not revision:
        raise BadInput("rollback to needs a revision", "see `mandala-db migrate rollback list`")
    if action == "reset":
        ops.check_reset_allowed(s.environment)  # before the embedded server is started for nothing
    history = _history()
    out = Output(s)
    if action == "list":
        entries = ops.applied(database(s), history)
        out.result(
            {"ok": True, "applied": [e.to_dict() for e in entries]}, lambda c: views.print_applied(c, entries)
        )
        return
    options = o.run_options(s, lock_wait, lock_timeout, statement_timeout, lock_retries)
    if action == "reset":
        result = ops.reset(
            database(s), history, options, s.environment, lambda what: confirm(s, what, typed="reset")
        )
        out.result(views.run_dict(result), lambda c: views.print_run(c, result, "apply"))
        return
    target = history.resolve(revision or "")
    done = ops.roll_back_to(
        database(s),
        history,
        target,
        options,
        s.backups_in(backup_dir),
        lambda what, destructive: confirm(s, what, typed="rollback" if destructive else None),
    )
    if done.result is None:
        out.result(
            {"ok": True, "current": target, "steps": []},
            lambda c: c.print(f"Nothing to roll back: the database is at {target}."),
        )
        return
    result = done.result
    doc = {**views.run_dict(result), "backup": done.backup.to_dict() if done.backup else None}
    out.result(doc, lambda c: views.print_run(c, result, "roll back"))


@app.command()
def validate(ctx: typer.Context) -> None:
    """Models, revision files, recorded checksums and the live schema all agree."""
    from mandala_db.ops.migrate.validate import validate as run_validate

    s = settings_for(ctx, "migrate validate")
    history = _history()
    findings = run_validate(database(s), history)
    errors = [f for f in findings if f.severity == "error"]
    github.emit(github.for_findings(findings), json_output=s.json_output)
    Output(s).result(
        {"ok": not errors, "findings": [f.to_dict() for f in findings]},
        lambda c: plan_views.print_validation(c, findings, len(history.revisions)),
    )
    if errors:
        raise CheckFailed(
            f"validation found {len(errors)} problem(s)",
            "see the list above; work done by hand is recorded with `migrate resolve --applied|--rolled-back REV`",
        )


@app.command()
def plan(
    ctx: typer.Context,
    timings_from: o.TimingsFrom = None,
    out: o.PlanOut = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 5 on a lint error that is not waived.")
    ] = False,
    contract: o.Contract = False,
) -> None:
    """What deploy would do (with --contract: deploy --contract): each pending revision, its SQL, locks, table sizes and lint, and the plan's
    sha256 for `--expect-plan`. Changes nothing."""
    from mandala_db.ops.migrate.plan import digest, lint_failure, pending_plans

    s = settings_for(ctx, "migrate plan")
    other = database_at(s, timings_from) if timings_from else None
    plans = pending_plans(database(s), _history(), other, contract=contract)
    sha = digest(plans)
    reasons = [f"{p.revision.id}: {r}" for p in plans for r in p.review_reasons()]
    doc = {"ok": True, "plan_sha256": sha, "needs_review": reasons, "plan": [p.to_dict() for p in plans]}
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    github.summarize(plan_views.plan_markdown(plans, sha))
    github.outputs({"sha256": sha, "needs_review": "true" if reasons else "false"})
    github.emit(github.for_lint(plans), json_output=s.json_output)
    Output(s).result(doc, lambda c: plan_views.print_plan(c, plans, sha))
    failure = lint_failure(plans) if check else None
    if failure is not None:
        raise failure


@app.command(epilog=YES_EPILOG)
def prod(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan and the checks; change nothing.")
    ] = False,
    backup_dir: o.BackupDir = None,
    lock_wait: o.LockWait = 120.0,
    lock_timeout: o.LockTimeout = None,
    statement_timeout: o.StatementTimeout = None,
    lock_retries: o.LockRetries = 5,
    expect_plan: o.ExpectPlan = None,
    suppressions: o.Suppressions = None,
    contract: o.Contract = False,
) -> None:
    """The guarded production run: pre-flight (security check included), typed confirmation, backup, deploy,
    post-checks."""
    from mandala_db.ops.migrate import prod as ops
    from mandala_db.ops.security import blocking_findings

    s = settings_for(ctx, "migrate prod")
    db = database(s)
    path = s.suppressions_file(suppressions)

    def gate() -> list[str]:
        return blocking_findings(db, path, environment=s.environment.value)

    history = _history()
    out = Output(s)
    if dry_run:
        pre = ops.preflight(db, history, gate, contract=contract)
        pre.report()
        out.result(
            {"ok": True, "dry_run": True, **pre.to_dict()},
            lambda c: plan_views.print_preflight(c, pre, dry_run=True),
        )
        pre.verdict()
        return

    def confirm_deploy(pre: Any) -> None:
        plan_views.print_preflight(out.console, pre, dry_run=False)
        what = f"Deploy {len(pre.plans)} revision(s) to {db} ({s.environment.value})"
        confirm(s, what, typed=db.url.dbname or "the database")

    options = o.run_options(s, lock_wait, lock_timeout, statement_timeout, lock_retries, expect_plan)
    options.contract = contract
    done = ops.run(db, history, options, s.backups_in(backup_dir), confirm_deploy, gate, ship_backup(s))
    if done.result is None:
        out.result(
            {"ok": True, **done.preflight.to_dict(), "steps": []},
            lambda c: c.print(f"Nothing to deploy: {db} is at the head {history.head}."),
        )
        return
    assert done.backup is not None and done.post is not None
    doc = {**views.run_dict(done.result), "backup": done.backup.to_dict(), "postchecks": done.post.to_dict()}
    out.result(doc, lambda c: plan_views.print_prod(c, done))
    failure = ops.post_check_failure(done)
    if failure is not None:
        raise failure


@app.command(epilog=YES_EPILOG)
def resolve(
    ctx: typer.Context,
    applied: Annotated[
        str | None, typer.Option("--applied", help="Record REV as applied (fixed by hand).")
    ] = None,
    rolled_back: Annotated[
        str | None, typer.Option("--rolled-back", help="Record REV as not applied (undone by hand).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Record the claim even when the live schema contradicts it.")
    ] = False,
    lock_wait: o.LockWait = 120.0,
) -> None:
    """Mend the record of a revision that a human applied or undid by hand; the schema is checked first."""
    from mandala_db.ops.migrate.resolve import resolve as run_resolve

    if (applied is None) == (rolled_back is None):  # before the embedded server is started for nothing
        raise BadInput("give exactly one of --applied REV or --rolled-back REV")
    s = settings_for(ctx, "migrate resolve")
    done = run_resolve(
        database(s),
        _history(),
        o.run_options(s, lock_wait, None, None),
        applied=applied,
        rolled_back=rolled_back,
        force=force,
        confirm=lambda what: confirm(s, what),
    )
    Output(s).result(
        done.to_dict(),
        lambda c: c.print(
            f"Recorded as {done.claim}: {', '.join(done.resolved)}; "
            f"the database is at {done.current or 'base (empty)'}."
        ),
    )
