"""`mandala-db migrate ...`: parses, confirms, prints. The work is in mandala_db.ops.migrate."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from mandala_db.cli import views
from mandala_db.cli.confirm import confirm
from mandala_db.cli.context import backup_dir as backup_folder
from mandala_db.cli.context import command_settings, database_url
from mandala_db.cli.options import LockRetries, LockTimeout, LockWait, StatementTimeout, run_options
from mandala_db.cli.output import Output
from mandala_db.core.errors import BadInput, CheckFailed

if TYPE_CHECKING:
    pass

app = typer.Typer(help="Schema migrations: generate, apply, inspect, roll back.", no_args_is_help=True)


def _history() -> Any:
    from mandala_db.ops.migrate.loader import History

    return History.load()


@app.command()
def dev(
    name: Annotated[
        str | None, typer.Argument(help="Name of the revision (default: init, then migration).")
    ] = None,
    empty: Annotated[
        bool, typer.Option("--empty", help="Write an empty revision to fill in by hand.")
    ] = False,
    lock_wait: LockWait = 120.0,
    lock_timeout: LockTimeout = None,
) -> None:
    """Development only: write a revision for what the models changed, lint it, apply it."""
    from mandala_db.ops.migrate.dev import dev as run_dev

    s = command_settings("migrate dev")
    result = run_dev(
        database_url(s),
        s.environment,
        run_options(s, lock_wait, lock_timeout, None),
        name,
        empty=empty,
        confirm_loss=lambda what: confirm(s, f"The new revision {what}", typed="apply"),
    )

    Output(s).result({"ok": True, **result.to_dict()}, lambda c: views.print_dev(c, result))


@app.command()
def deploy(
    lock_wait: LockWait = 120.0,
    lock_timeout: LockTimeout = None,
    statement_timeout: StatementTimeout = None,
    lock_retries: LockRetries = 5,
) -> None:
    """Apply every pending revision, in order, under the migration lock."""
    from mandala_db.ops.migrate.executor import Executor

    s = command_settings("migrate deploy")
    url = database_url(s)
    with Executor(
        url, _history(), run_options(s, lock_wait, lock_timeout, statement_timeout, lock_retries)
    ) as executor:
        result = executor.upgrade()
    Output(s).result(views.run_dict(result), lambda c: views.print_run(c, result, "apply"))


@app.command()
def status(
    view: Annotated[str, typer.Argument(help="status, schema, history, all or test.")] = "status",
    check: Annotated[
        bool, typer.Option("--check", help="Exit 5 when revisions are pending or the schema drifted.")
    ] = False,
) -> None:
    """Current and pending revisions; `schema`, `history`, `all`, or `test` (the connection alone)."""
    names = ("status", "schema", "history", "all", "test")
    if view not in names:
        raise BadInput(f"unknown status view {view!r}", f"use one of {', '.join(names)}")
    from mandala_db.core.database import connect

    s = command_settings("migrate status")
    url = database_url(s)
    started = time.perf_counter()
    conn = connect(url, application_name=s.application_name)
    connect_ms = (time.perf_counter() - started) * 1000
    doc: dict[str, Any] = {"ok": True}
    sections: list[Any] = []
    with conn:
        from mandala_db.ops.migrate import status as ops

        if view in ("test", "all"):
            report = ops.connection_report(url, conn, connect_ms)
            doc["connection"] = report
            sections.append(lambda c: views.print_connection(c, report))
        if view in ("status", "all"):
            st = ops.status(conn, _history())
            doc["status"] = st.to_dict()
            sections.append(lambda c: views.print_status(c, st))
        if view in ("schema", "all"):
            schema = ops.schema_report(conn)
            doc["schema"] = schema
            sections.append(lambda c: views.print_schema(c, schema))
        if view in ("history", "all"):
            from mandala_db.core import ledger

            rows = ledger.history(conn)
            doc["history"] = [r.to_dict() for r in rows]
            sections.append(lambda c: views.print_history(c, rows))

    def human(console: Console) -> None:
        for section in sections:
            section(console)

    Output(s).result(doc, human)
    if check and "status" in doc:
        st_doc = doc["status"]
        if st_doc["pending"] or st_doc["drift"] == "drift":
            raise CheckFailed(
                f"{len(st_doc['pending'])} pending revision(s), drift: {st_doc['drift']}",
                "run `migrate deploy`, or `migrate validate` to see the drift",
            )


@app.command()
def rollback(
    action: Annotated[str, typer.Argument(help="list, to or reset.")],
    revision: Annotated[
        str | None, typer.Argument(help="With `to`: the revision to go back to (id or prefix).")
    ] = None,
    backup_dir: Annotated[
        str | None,
        typer.Option(
            "--backup-dir", help="Where the backup before a destructive rollback goes ($BACKUP_DIR)."
        ),
    ] = None,
    lock_wait: LockWait = 120.0,
    lock_timeout: LockTimeout = None,
) -> None:
    """`list` the applied revisions; `to REV`: run the downgrades down to REV, keeping the data;
    `reset`: drop everything and re-apply (never in staging or production)."""
    from mandala_db.core.database import connect
    from mandala_db.ops.migrate import rollback as ops
    from mandala_db.ops.migrate.executor import Executor

    s = command_settings("migrate rollback")
    if action not in ("list", "to", "reset"):
        raise BadInput(f"unknown rollback action {action!r}", "use list, to REV, or reset")
    if action == "to" and not revision:
        raise BadInput("rollback to needs a revision", "see `mandala-db migrate rollback list`")
    if action == "reset":
        ops.check_reset_allowed(s.environment)
    history = _history()
    target = history.resolve(revision) if action == "to" and revision else None
    url = database_url(s)
    out = Output(s)
    if action == "list":
        with connect(url, application_name=s.application_name) as conn:
            entries = ops.applied(conn, history)

        out.result(
            {"ok": True, "applied": [e.to_dict() for e in entries]}, lambda c: views.print_applied(c, entries)
        )
        return
    options = run_options(s, lock_wait, lock_timeout, None)
    if action == "to":
        assert target is not None
        done = ops.roll_back_to(
            url,
            history,
            target,
            options,
            backup_folder(backup_dir),
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
        return
    confirm(
        s,
        f"Reset {url}: drop every table, type and function in the schema and re-apply all revisions",
        typed="reset",
    )
    with Executor(url, history, options) as executor:
        result = ops.reset(executor)
    out.result(views.run_dict(result), lambda c: views.print_run(c, result, "apply"))


@app.command()
def validate() -> None:
    """Models, revision files, recorded checksums and the live schema all agree."""
    from mandala_db.core.database import connect
    from mandala_db.ops.migrate.validate import validate as run_validate

    s = command_settings("migrate validate")
    url = database_url(s)
    history = _history()
    with connect(url, application_name=s.application_name) as conn:
        findings = run_validate(url, conn, history)
    errors = [f for f in findings if f.severity == "error"]

    def human(console: Console) -> None:
        for f in findings:
            console.print(f"  {f.severity}: {f.message}")
        if not errors:
            console.print(
                f"Valid: {len(history.revisions)} revision(s), models, checksums and the live schema agree."
            )

    Output(s).result({"ok": not errors, "findings": [f.to_dict() for f in findings]}, human)
    if errors:
        raise CheckFailed(f"validation found {len(errors)} problem(s)", "see the list above")


@app.command()
def plan() -> None:
    """What deploy would do: each pending revision, its SQL, locks, table sizes and lint. Changes nothing."""
    from mandala_db.core.database import connect
    from mandala_db.ops.migrate.plan import make_plan

    s = command_settings("migrate plan")
    with connect(database_url(s), application_name=s.application_name) as conn:
        plans = make_plan(conn, _history())
    Output(s).result({"ok": True, "plan": [p.to_dict() for p in plans]}, lambda c: views.print_plan(c, plans))


@app.command()
def prod(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan and the checks; change nothing.")
    ] = False,
    backup_dir: Annotated[
        str | None,
        typer.Option("--backup-dir", help="Where the pre-migration backup goes ($BACKUP_DIR, backups)."),
    ] = None,
    lock_wait: LockWait = 120.0,
    lock_timeout: LockTimeout = None,
    statement_timeout: StatementTimeout = None,
    lock_retries: LockRetries = 5,
) -> None:
    """The guarded production run: pre-flight, typed confirmation, backup, deploy, post-checks."""
    from mandala_db.core.database import connect
    from mandala_db.ops.migrate import prod as ops

    s = command_settings("migrate prod")
    url = database_url(s)
    history = _history()
    out = Output(s)
    if dry_run:
        with connect(url, application_name=s.application_name) as conn:
            pre = ops.preflight(url, conn, history, check_lock=True)
        pre.report()
        out.result(
            {"ok": True, "dry_run": True, **pre.to_dict()},
            lambda c: views.print_preflight(c, pre, dry_run=True),
        )
        pre.verdict()
        return

    def confirm_deploy(pre: Any) -> None:
        views.print_preflight(out.console, pre, dry_run=False)
        what = f"Deploy {len(pre.plans)} revision(s) to {url} ({s.environment.value})"
        confirm(s, what, typed=url.dbname or "the database")

    options = run_options(s, lock_wait, lock_timeout, statement_timeout, lock_retries)
    done = ops.run(url, history, options, backup_folder(backup_dir), confirm_deploy)
    if done.result is None:
        out.result(
            {"ok": True, **done.preflight.to_dict(), "steps": []},
            lambda c: c.print(f"Nothing to deploy: {url} is at the head {history.head}."),
        )
        return
    assert done.backup is not None and done.post is not None
    doc = {**views.run_dict(done.result), "backup": done.backup.to_dict(), "postchecks": done.post.to_dict()}
    out.result(doc, lambda c: views.print_prod(c, done))
    failure = ops.post_check_failure(done)
    if failure is not None:
        raise failure


@app.command()
def resolve(
    applied: Annotated[
        str | None, typer.Option("--applied", help="Record REV as applied (fixed by hand).")
    ] = None,
    rolled_back: Annotated[
        str | None, typer.Option("--rolled-back", help="Record REV as not applied (undone by hand).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Record the claim even when the live schema contradicts it.")
    ] = False,
    lock_wait: LockWait = 120.0,
) -> None:
    """Mend the record of a revision that a human applied or undid by hand; the schema is checked first."""
    from mandala_db.ops.migrate import resolve as ops
    from mandala_db.ops.migrate.executor import Executor

    if (applied is None) == (rolled_back is None):
        raise BadInput("give exactly one of --applied REV or --rolled-back REV")
    s = command_settings("migrate resolve")
    history = _history()
    revision = history.resolve(applied or rolled_back or "")
    url = database_url(s)
    what = "applied" if applied else "rolled back"
    confirm(s, f"Record {revision} as {what} on {url}" + (" without checking the schema" if force else ""))
    with Executor(url, history, run_options(s, lock_wait, None, None)) as executor:
        marked = (
            ops.resolve_applied(executor, revision, force=force)
            if applied
            else ops.resolve_rolled_back(executor, revision, force=force)
        )
        current = executor.current()
    Output(s).result(
        {"ok": True, "resolved": marked, "as": what, "current": current},
        lambda c: c.print(
            f"Recorded as {what}: {', '.join(marked)}; the database is at {current or 'base (empty)'}."
        ),
    )
