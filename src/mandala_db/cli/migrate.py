"""`mandala-db migrate ...`: parses, confirms, prints. The work is in mandala_db.ops.migrate."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from mandala_db.cli.confirm import confirm
from mandala_db.cli.context import backup_dir as backup_folder
from mandala_db.cli.context import command_settings, database_url, human_size
from mandala_db.cli.output import Output
from mandala_db.core.config import Environment, Settings
from mandala_db.core.errors import BadInput, CheckFailed, Refused

if TYPE_CHECKING:
    from mandala_db.ops.migrate.executor import RunOptions, RunResult

app = typer.Typer(help="Schema migrations: generate, apply, inspect, roll back.", no_args_is_help=True)

LockWait = Annotated[float, typer.Option("--lock-wait", help="Seconds to wait for the migration lock.")]
LockTimeout = Annotated[
    str | None,
    typer.Option(
        "--lock-timeout",
        help="lock_timeout for every statement (default 5s, or the revision's own `lock_timeout`).",
    ),
]
StatementTimeout = Annotated[
    str | None,
    typer.Option(
        "--statement-timeout",
        help="statement_timeout for each revision (default none, or the revision's own `statement_timeout`).",
    ),
]
LockRetries = Annotated[
    int,
    typer.Option("--lock-retries", min=1, help="Tries for a revision that fails only for want of a lock."),
]


def _options(
    settings: Settings,
    lock_wait: float,
    lock_timeout: str | None,
    statement_timeout: str | None,
    lock_retries: int = 5,
) -> RunOptions:
    from mandala_db.ops.migrate.executor import RunOptions

    return RunOptions(
        environment=settings.environment.value,
        application_name=settings.application_name,
        lock_wait=lock_wait,
        lock_timeout=_duration(lock_timeout, "--lock-timeout") if lock_timeout else "5s",
        lock_timeout_explicit=lock_timeout is not None,
        statement_timeout=_duration(statement_timeout, "--statement-timeout") if statement_timeout else None,
        statement_timeout_explicit=statement_timeout is not None,
        lock_retries=lock_retries,
    )


def _duration(value: str, option: str) -> str:
    import re

    if not re.fullmatch(r"\s*\d+(\.\d+)?\s*(ms|s|min|h)?\s*", value):
        raise BadInput(f"{option} {value!r} is not a duration", "write e.g. 5s, 500ms or 2min")
    return value.strip()


def _history() -> Any:
    from mandala_db.ops.migrate.loader import History

    return History.load()


def _print_run(console: Console, result: RunResult, verb: str) -> None:
    if not result.steps:
        console.print(f"Nothing to {verb}: the database is at {result.after or 'base (empty)'}.")
        return
    for step in result.steps:
        console.print(f"  {step.direction:9} {step.revision}  ({step.duration_ms:.0f} ms)")
    console.print(
        f"{len(result.steps)} revision(s) done; the database is now at {result.after or 'base (empty)'}."
    )


def _run_dict(result: RunResult) -> dict[str, Any]:
    return {
        "ok": True,
        "before": result.before,
        "current": result.after,
        "steps": [s.to_dict() for s in result.steps],
        "interrupted_runs_found": result.interrupted,
    }


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
    if s.environment is not Environment.DEVELOPMENT:
        raise Refused(
            f"migrate dev is for development, not {s.environment.value}",
            "use `migrate deploy` to apply committed revisions",
        )
    result = run_dev(
        database_url(s),
        _options(s, lock_wait, lock_timeout, None),
        name,
        empty=empty,
        confirm_loss=lambda what: confirm(s, f"The new revision {what}", typed="apply"),
    )

    def human(console: Console) -> None:
        for step in result.applied:
            console.print(f"  applied {step.revision}  ({step.duration_ms:.0f} ms)")
        if result.path is None:
            console.print("No changes: the database matches the models.")
            return
        console.print(f"Wrote {result.path} ({len(result.statements)} statement(s)).")
        for warning in result.warnings:
            console.print(f"  lint: {warning}")
        if result.destructive:
            console.print(f"  its downgrade {'; '.join(result.destructive)}")

    Output(s).result({"ok": True, **result.to_dict()}, human)


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
        url, _history(), _options(s, lock_wait, lock_timeout, statement_timeout, lock_retries)
    ) as executor:
        result = executor.upgrade()
    Output(s).result(_run_dict(result), lambda c: _print_run(c, result, "apply"))


@app.command()
def status(
    view: Annotated[str, typer.Argument(help="status, schema, history, all or test.")] = "status",
    check: Annotated[
        bool, typer.Option("--check", help="Exit 5 when revisions are pending or the schema drifted.")
    ] = False,
) -> None:
    """Current and pending revisions; `schema`, `history`, `all`, or `test` (the connection alone)."""
    views = ("status", "schema", "history", "all", "test")
    if view not in views:
        raise BadInput(f"unknown status view {view!r}", f"use one of {', '.join(views)}")
    from mandala_db.core.database import connect

    s = command_settings("migrate status")
    url = database_url(s)
    started = time.perf_counter()
    conn = connect(url, application_name=s.application_name)
    connect_ms = (time.perf_counter() - started) * 1000
    doc: dict[str, Any] = {"ok": True}
    sections: list[Any] = []
    with conn:
        from mandala_db.ops.migrate import inspect

        if view in ("test", "all"):
            report = inspect.connection_report(url, conn, connect_ms)
            doc["connection"] = report
            sections.append(lambda c: _print_connection(c, report))
        if view in ("status", "all"):
            st = inspect.status(conn, _history())
            doc["status"] = st.to_dict()
            sections.append(lambda c: _print_status(c, st))
        if view in ("schema", "all"):
            schema = inspect.schema_report(conn)
            doc["schema"] = schema
            sections.append(lambda c: _print_schema(c, schema))
        if view in ("history", "all"):
            from mandala_db.core import ledger

            rows = ledger.history(conn)
            doc["history"] = [r.to_dict() for r in rows]
            sections.append(lambda c: _print_history(c, rows))

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


def _print_connection(console: Console, r: dict[str, Any]) -> None:
    console.print(f"Connected to {r['url']} in {r['connect_ms']:.0f} ms")
    console.print(
        f"  PostgreSQL {r['server_version']}, database {r['database']}, user {r['user']}, "
        f"schema {r['schema']}, ssl {'on (' + str(r['ssl_version']) + ')' if r['ssl'] else 'off'}"
    )
    console.print(
        f"  statement_timeout {r['statement_timeout']}, lock_timeout {r['lock_timeout']}, "
        f"round trip {r['round_trip_ms']} ms"
    )


def _print_status(console: Console, st: Any) -> None:
    console.print(f"Current revision: {st.current or 'base (empty)'}")
    console.print(f"Head revision:    {st.head or '(no revisions)'}")
    if st.pending:
        console.print(f"{len(st.pending)} pending revision(s):")
        for rev in st.pending:
            console.print(f"  {rev.id}  {rev.title}")
    else:
        console.print("The database is up to date.")
    drift = {
        "none": "schema matches the fingerprint recorded at " + str(st.recorded_at),
        "drift": "DRIFT: the schema differs from the fingerprint recorded at "
        + str(st.recorded_at)
        + " (run `migrate validate`)",
        "unknown": "no recorded fingerprint to compare with",
        "locked": "not checked: another session holds a lock on a table (try again)",
    }[st.drift]
    console.print(f"Drift: {drift}")
    if st.last_failure:
        f = st.last_failure
        console.print(
            f"Last attempt {f.status}: {f.revision} ({f.direction}) at {f.started_at:%Y-%m-%d %H:%M:%S}: "
            f"{f.error}"
        )
    if st.archived:
        console.print(f"Rows kept from downgrades, restored by the next upgrade: {', '.join(st.archived)}")


def _print_schema(console: Console, schema: dict[str, Any]) -> None:
    table = Table(title=f"Schema {schema['schema']} (fingerprint {schema['fingerprint'][:12]})")
    for col in ("table", "rows (est.)", "size", "columns", "indexes", "constraints"):
        table.add_column(col, justify="right" if col != "table" else "left")
    for t in schema["tables"]:
        table.add_row(
            t["name"],
            f"{t['rows_estimate']:,}",
            human_size(t["size_bytes"]),
            str(t["columns"]),
            str(len(t["indexes"])),
            str(len(t["constraints"])),
        )
    console.print(table)
    console.print("Enums: " + "; ".join(f"{k} ({', '.join(v)})" for k, v in sorted(schema["enums"].items())))


def _print_history(console: Console, rows: list[Any]) -> None:
    table = Table(title="Migration attempts (newest first)")
    for col in ("started", "revision", "direction", "result", "ms", "user", "checksum", "error"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            r.revision,
            r.direction,
            r.status,
            f"{r.duration_ms:.0f}" if r.duration_ms is not None else "",
            r.db_user,
            (r.file_checksum or "")[:12],
            (r.error or "")[:80],
        )
    console.print(table if rows else "No migration attempts recorded yet.")


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
    if action == "reset" and s.environment.protected:
        raise Refused(
            f"rollback reset drops every table and is never allowed in {s.environment.value}",
            "use `migrate rollback to REV`, which keeps the data",
        )
    history = _history()
    target = history.resolve(revision) if action == "to" and revision else None
    url = database_url(s)
    out = Output(s)
    if action == "list":
        with connect(url, application_name=s.application_name) as conn:
            entries = ops.applied(conn, history)

        def human_list(console: Console) -> None:
            if not entries:
                console.print("No revisions are applied.")
            for e in entries:
                flag = (
                    f"  [destructive: {e.revision.destructive_downgrade}]"
                    if e.revision.destructive_downgrade
                    else ""
                )
                console.print(f"  {e.revision.id}  {e.revision.title}{flag}")

        out.result({"ok": True, "applied": [e.to_dict() for e in entries]}, human_list)
        return
    options = _options(s, lock_wait, lock_timeout, None)
    if action == "to":
        assert target is not None
        with connect(url, application_name=s.application_name) as conn:
            plan = ops.rollback_plan(conn, history, target)
        if not plan:
            out.result(
                {"ok": True, "current": target, "steps": []},
                lambda c: c.print(f"Nothing to roll back: the database is at {target}."),
            )
            return
        destructive = [f"{r.id} {r.destructive_downgrade}" for r in plan if r.destructive_downgrade]
        action_text = f"Roll back {len(plan)} revision(s) ({', '.join(r.id for r in plan)}) on {url}"
        if destructive:
            action_text += "; DESTRUCTIVE: " + "; ".join(destructive)
        from mandala_db.core.events import bus

        for d in destructive:
            bus.warning("destructive_step", f"destructive downgrade: {d}")
        confirm(s, action_text, typed="rollback" if destructive else None)
        backup = None
        if destructive:
            # What the downgrade throws away stays restorable: the same backup `migrate prod` takes.

            from mandala_db.ops.backup import create_backup

            backup = create_backup(url, backup_folder(backup_dir), label="pre_rollback")
        with Executor(url, history, options) as executor:
            result = executor.downgrade(target)
        doc = {**_run_dict(result), "backup": backup.to_dict() if backup else None}
        out.result(doc, lambda c: _print_run(c, result, "roll back"))
        return
    confirm(
        s,
        f"Reset {url}: drop every table, type and function in the schema and re-apply all revisions",
        typed="reset",
    )
    with Executor(url, history, options) as executor:
        result = ops.reset(executor)
    out.result(_run_dict(result), lambda c: _print_run(c, result, "apply"))


@app.command()
def validate() -> None:
    """Models, revision files, recorded checksums and the live schema all agree."""
    from mandala_db.core.database import connect
    from mandala_db.ops.migrate.inspect import validate as run_validate

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


def _print_plan(console: Console, plans: list[Any]) -> None:
    if not plans:
        console.print("Nothing pending: the database is at the head.")
        return
    for p in plans:
        r = p.revision
        console.print(f"\n{r.id}  {r.title}", markup=False)
        extras = []
        if r.lock_timeout or r.statement_timeout:
            extras.append(
                f"lock_timeout {r.lock_timeout or 'default'}, statement_timeout {r.statement_timeout or 'none'}"
            )
        if p.outside_transaction:
            extras.append("some statements run outside a transaction, one by one, resumable")
        if r.destructive_downgrade:
            extras.append(f"destructive downgrade: {r.destructive_downgrade}")
        for e in extras:
            console.print(f"  {e}")
        for st in p.statements:
            if st.bookkeeping:
                continue
            flags = []
            if st.rewrites:
                flags.append("REWRITES " + ", ".join(sorted(st.rewrites)))
            if not st.transactional:
                flags.append("outside transaction")
            first = " ".join(st.sql.split())
            console.print(f"  - {st.kind}: {st.lock_text()}" + (f" [{'; '.join(flags)}]" if flags else ""))
            console.print(f"      {first[:150]}{'...' if len(first) > 150 else ''}", markup=False)
        for t in p.tables:
            state = (
                f"~{t.rows_estimate:,} rows, {human_size(t.size_bytes)}"
                if t.exists
                else "created by this plan"
            )
            console.print(f"  table {t.name}: {state}")
        for f in p.findings:
            console.print(f"  lint {f.line()}", markup=False)


@app.command()
def plan() -> None:
    """What deploy would do: each pending revision, its SQL, locks, table sizes and lint. Changes nothing."""
    from mandala_db.core.database import connect
    from mandala_db.ops.migrate.plan import make_plan

    s = command_settings("migrate plan")
    with connect(database_url(s), application_name=s.application_name) as conn:
        plans = make_plan(conn, _history())
    Output(s).result({"ok": True, "plan": [p.to_dict() for p in plans]}, lambda c: _print_plan(c, plans))


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
    from mandala_db.core.errors import LockNotObtained
    from mandala_db.core.events import bus
    from mandala_db.ops.migrate import prod as ops
    from mandala_db.ops.migrate.executor import Executor

    s = command_settings("migrate prod")
    url = database_url(s)
    history = _history()
    out = Output(s)

    def report(pre: Any) -> None:
        for problem in _preflight_problems(pre):
            bus.warning("preflight", problem)
        for b in pre.blockers:
            bus.warning("blocker", f"session on a table the plan touches: {b.describe()}")

    def check(pre: Any) -> None:
        if pre.lock_holder:
            raise LockNotObtained(
                f"the migration lock is held by {pre.lock_holder}", "wait for that run to finish"
            )
        if pre.semantic_edits or pre.drift:
            raise CheckFailed(
                "pre-flight found " + "; ".join(_preflight_problems(pre)[:3]),
                "run `migrate validate` for the full list; nothing was changed",
            )
        if pre.lint_errors:
            raise Refused(
                f"pre-flight: {len(pre.lint_errors)} lint error(s) not waived: "
                + "; ".join(f.line() for f in pre.lint_errors[:2]),
                "make the change safe, or waive the rule in the revision with a reason",
            )

    if dry_run:
        with connect(url, application_name=s.application_name) as conn:
            pre = ops.preflight(url, conn, history, check_lock=True)
        report(pre)
        out.result(
            {"ok": True, "dry_run": True, **pre.to_dict()}, lambda c: _print_preflight(c, pre, dry_run=True)
        )
        check(pre)
        return
    options = _options(s, lock_wait, lock_timeout, statement_timeout, lock_retries)
    with Executor(url, history, options) as executor:
        assert executor.conn is not None
        pre = ops.preflight(url, executor.conn, history, check_lock=False)
        report(pre)
        check(pre)
        if not pre.plans:
            out.result(
                {"ok": True, **pre.to_dict(), "steps": []},
                lambda c: c.print(f"Nothing to deploy: {url} is at the head {history.head}."),
            )
            return
        _print_preflight(out.console, pre, dry_run=False)
        dbname = url.dbname or "the database"
        confirm(s, f"Deploy {len(pre.plans)} revision(s) to {url} ({s.environment.value})", typed=dbname)
        from mandala_db.ops.backup import create_backup

        backup = create_backup(url, backup_folder(backup_dir), label="pre_migration")
        result = executor.upgrade()
        post = ops.postchecks(url, executor.conn, history)
    for f in post.data_findings:
        bus.warning("data_check", f"post-check data report: {f.line()}")
    doc = {**_run_dict(result), "backup": backup.to_dict(), "postchecks": post.to_dict()}

    def human(console: Console) -> None:
        _print_run(console, result, "apply")
        console.print(f"Backup: {backup.path}")
        console.print(
            "Post-checks: head reached, schema exactly as the history builds"
            if post.ok
            else "Post-checks FAILED: " + "; ".join(post.differences[:3])
        )

    out.result(doc, human)
    if not post.ok:
        raise CheckFailed(
            "deployed, but the post-checks failed: " + "; ".join(post.differences[:3]),
            f"the pre-migration backup is {backup.path}",
        )


def _preflight_problems(pre: Any) -> list[str]:
    problems = [f.message for f in pre.semantic_edits]
    problems += [f"drift: {d}" for d in pre.drift]
    problems += [f.line() for f in pre.lint_errors]
    if pre.lock_holder:
        problems.append(f"the migration lock is held by {pre.lock_holder}")
    return problems


def _print_preflight(console: Console, pre: Any, *, dry_run: bool) -> None:
    console.print(f"Pre-flight on PostgreSQL {pre.server_version}, at {pre.current or 'base (empty)'}:")
    marks = [
        ("checksums of applied revisions", not pre.semantic_edits),
        ("no drift from what the history built", not pre.drift),
        ("no unwaived lint errors", not pre.lint_errors),
        ("migration lock obtainable", not pre.lock_holder),
    ]
    for label, ok_ in marks:
        console.print(f"  {'ok  ' if ok_ else 'FAIL'} {label}")
    console.print(f"  {len(pre.blockers)} other session(s) hold or wait for locks on the tables touched")
    for b in pre.blockers:
        console.print(f"       {b.describe()}", markup=False)
    _print_plan(console, pre.plans)
    if dry_run:
        console.print("\nDry run: nothing was changed.")


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
    with Executor(url, history, _options(s, lock_wait, None, None)) as executor:
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
