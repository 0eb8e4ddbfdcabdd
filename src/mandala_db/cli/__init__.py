"""The `mandala-db` command line: global options, error reporting, and the command groups.

Imports stay light here (no SQLAlchemy, Alembic or pgserver) so that `--help` and `status` start fast;
each command imports the capability it needs.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from mandala_db import __version__
from mandala_db.cli import context
from mandala_db.core.config import DatabaseURL, Environment, MonitorSettings, Settings, project_root
from mandala_db.core.errors import BadInput, MandalaError
from mandala_db.core.events import bus, json_sink, text_sink

app = typer.Typer(
    name="mandala-db",
    help="Run the whole life of the goal-mandala PostgreSQL database safely.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mandala-db {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="Default $DATABASE_URL; with neither, the embedded PostgreSQL."),
    ] = None,
    env: Annotated[
        str | None,
        typer.Option(
            "--env", help="development, test, staging or production (default $MANDALA_ENV, $NODE_ENV)."
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="The result as one JSON document on stdout.")
    ] = False,
    log_format: Annotated[
        str | None,
        typer.Option("--log-format", help="text or json log lines on stderr (default $MANDALA_LOG_FORMAT)."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Answer yes to confirmations.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Tracebacks and debug lines.")] = False,
    state_dir: Annotated[
        Path | None,
        typer.Option(
            "--state-dir",
            help="Where the embedded server and local state live ($MANDALA_STATE_DIR).",
            hidden=True,
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    metrics: Annotated[
        str | None,
        typer.Option("--metrics", help="emf, cloudwatch, prometheus (a comma list; $MANDALA_METRICS)."),
    ] = None,
    metrics_file: Annotated[
        str | None,
        typer.Option("--metrics-file", help="EMF lines, or the Prometheus textfile ($MANDALA_METRICS_FILE)."),
    ] = None,
    pushgateway: Annotated[
        str | None,
        typer.Option("--pushgateway", help="Push metrics to this Pushgateway ($MANDALA_PUSHGATEWAY_URL)."),
    ] = None,
    alert_webhook: Annotated[
        str | None, typer.Option("--alert-webhook", help="POST alerts here ($MANDALA_ALERT_WEBHOOK).")
    ] = None,
    alert_sns: Annotated[
        str | None,
        typer.Option("--alert-sns", help="Publish alerts to this SNS topic ($MANDALA_ALERT_SNS_TOPIC)."),
    ] = None,
    alert_after: Annotated[
        str | None,
        typer.Option(
            "--alert-after", help="Alert when a revision runs longer (default 30s; $MANDALA_ALERT_AFTER)."
        ),
    ] = None,
) -> None:
    fmt = (log_format or os.environ.get("MANDALA_LOG_FORMAT") or "text").lower()
    # Logging first, so that even a bad URL is reported in the requested format.
    bus.sinks[:] = [
        json_sink(verbose=verbose) if fmt == "json" else text_sink(min_level="DEBUG" if verbose else "INFO")
    ]
    raw_url = database_url if database_url is not None else os.environ.get("DATABASE_URL") or None
    command = " ".join(a for a in sys.argv[1:] if not a.startswith("-"))[:40] or "mandala-db"
    root = project_root(Path.cwd())
    settings = Settings(
        environment=Environment.DEVELOPMENT,
        database_url=None,
        state_dir=state_dir or Path(os.environ.get("MANDALA_STATE_DIR") or root / ".mandala"),
        json_output=json_output,
        log_format=fmt,
        assume_yes=yes,
        verbose=verbose,
        interactive=sys.stdin.isatty(),
        command=ctx.invoked_subcommand or command,
        backup_dir=Path(os.environ.get("BACKUP_DIR") or root / "backups"),
        retention_env=os.environ.get("BACKUP_RETENTION_DAYS"),
        s3_bucket=os.environ.get("S3_BACKUP_BUCKET") or None,
        cache_dir=Settings.default_cache_dir(),
        security_suppressions=Path(os.environ["MANDALA_SECURITY_SUPPRESSIONS"])
        if os.environ.get("MANDALA_SECURITY_SUPPRESSIONS")
        else _found(root / "security-suppressions.toml"),
    )
    invocation = ctx.find_root().obj
    if isinstance(invocation, context.Invocation):
        invocation.settings = settings
    if fmt not in ("text", "json"):
        raise BadInput(f"unknown log format {log_format!r}", "use text or json")
    if database_url is not None and not database_url.strip():
        raise BadInput(
            "--database-url is empty",
            "give a URL such as postgresql://USER@HOST:5432/DBNAME, or leave the option out "
            "for the embedded server",
        )
    if database_url is None and "DATABASE_URL" in os.environ and not os.environ["DATABASE_URL"].strip():
        # An empty variable is a secret that did not arrive (a CI environment without it), never a request
        # for "some database".
        raise BadInput(
            "DATABASE_URL is set but empty",
            "set it to the database's URL (postgresql://USER@HOST:5432/DBNAME), or unset it to use the "
            "embedded server in development",
        )
    settings.environment = Environment.resolve(env)
    bus.environment = settings.environment.value
    if raw_url:
        # Register the raw secret before parsing, so even a parse error cannot echo it.
        for secret in DatabaseURL.raw_secrets(raw_url):
            bus.add_secret(secret)
        settings.database_url = DatabaseURL.parse(raw_url)
        bus.add_secret(settings.database_url.password)
    flags = {
        "metrics": metrics, "metrics_file": metrics_file, "pushgateway": pushgateway,
        "alert_webhook": alert_webhook, "alert_sns": alert_sns, "alert_after": alert_after,
    }  # fmt: skip
    settings.monitor = MonitorSettings.resolve(flags, os.environ, root)
    if isinstance(invocation, context.Invocation):
        invocation.start_monitor(settings, command_words(sys.argv[1:], ctx.invoked_subcommand))


def _found(path: Path) -> Path | None:
    return path if path.is_file() else None


def _add_migrate() -> None:
    from mandala_db.cli import migrate

    app.add_typer(migrate.app, name="migrate")


def _add_seed() -> None:
    from mandala_db.cli import seed
    from mandala_db.cli.confirm import YES_EPILOG

    app.command("seed", epilog=YES_EPILOG)(seed.seed)
    app.add_typer(seed.data_app, name="data")


def _add_backup() -> None:
    from mandala_db.cli import backup

    app.add_typer(backup.backup_app, name="backup")
    app.add_typer(backup.restore_app, name="restore")


def _add_security() -> None:
    from mandala_db.cli import security

    app.add_typer(security.app, name="security")


def _add_logs() -> None:
    from mandala_db.cli import logs

    app.add_typer(logs.app, name="logs")


def _add_server() -> None:
    from mandala_db.cli import server

    app.add_typer(server.app, name="server")


def _add_lint() -> None:
    from mandala_db.cli import lint

    app.command("lint")(lint.lint_command)


def _add_drill() -> None:
    from mandala_db.cli import drill

    app.add_typer(drill.app, name="drill")


# Each command group is imported and built only when it is the one asked for: Typer builds every command
# it knows on every start, and `migrate status` should not pay for the backup commands.
GROUPS = {
    "migrate": _add_migrate,
    "seed": _add_seed,
    "data": _add_seed,
    "backup": _add_backup,
    "restore": _add_backup,
    "security": _add_security,
    "logs": _add_logs,
    "drill": _add_drill,
    "server": _add_server,
    "lint": _add_lint,
}


def options_with_values() -> frozenset[str]:
    """The global options that take a value, read from the callback's own declarations (so an option added
    there is never mistaken for a command group)."""
    import typing

    names: set[str] = set()
    for hint in typing.get_type_hints(main_options, include_extras=True).values():
        info = next(iter(getattr(hint, "__metadata__", ())), None)
        if info is not None and typing.get_args(hint)[0] is not bool:
            # In Annotated form Typer reads the first declaration from `default`.
            decls = (getattr(info, "default", None), *getattr(info, "param_decls", ()))
            names.update(d for d in decls if isinstance(d, str) and d.startswith("--"))
    return frozenset(names)


def register_commands(argv: list[str]) -> None:
    """The group the arguments name, or every group (for --help, a typo, or no command at all)."""
    takes_value = options_with_values()
    words = iter(argv)
    for word in words:
        if word in takes_value:
            next(words, None)
        elif not word.startswith("-"):
            if word in GROUPS:
                GROUPS[word]()
                return
            break
    for add in dict.fromkeys(GROUPS.values()):
        add()


def _report(exc: MandalaError, _settings: Settings | None) -> None:
    line = bus.scrub(exc.line())
    from mandala_db.cli.output import Output

    if _settings is not None and _settings.json_output and not Output.document_written:
        doc = {"ok": False, "error": bus.scrub(exc.message), "hint": exc.hint, "exit_code": exc.exit_code}
        sys.stdout.write(bus.scrub(json.dumps(doc)) + "\n")
    # The record goes to every sink (alerts read it); the text log leaves ERROR records to this line.
    bus.error("error", bus.scrub(exc.message), hint=exc.hint, exit_code=exc.exit_code)
    if _settings is None or _settings.log_format != "json":
        sys.stderr.write(f"error: {line}\n")


CONFIRM_FLAGS = ("--yes", "-y")


def hoist_confirmation(argv: list[str]) -> list[str]:
    """`--yes` / `-y` anywhere before `--` confirms, as the guide's users type it after the subcommand
    (`migrate-rollback.sh to REV --yes`); it becomes the global option it is."""
    end = argv.index("--") if "--" in argv else len(argv)
    found = [a for a in argv[:end] if a in CONFIRM_FLAGS]
    if not found:
        return argv
    return ["--yes", *(a for a in argv[:end] if a not in CONFIRM_FLAGS), *argv[end:]]


def main() -> None:
    invocation = context.Invocation()
    args = hoist_confirmation(sys.argv[1:])
    register_commands(args)
    try:
        _run(args, invocation)
    finally:
        if invocation.monitor is not None:
            invocation.monitor.finish()


def _run(args: list[str], invocation: context.Invocation) -> None:
    try:
        app(args=args, obj=invocation, prog_name="mandala-db")
    except MandalaError as exc:
        if invocation.settings is not None and invocation.settings.verbose:
            traceback.print_exc()
        _report(exc, invocation.settings)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except Exception as exc:  # the last line of defence: one line, no secrets, a traceback only with -v
        if invocation.settings is not None and invocation.settings.verbose:
            sys.stderr.write(bus.scrub(traceback.format_exc()))
        failure = named_fault(exc, invocation.settings.command if invocation.settings else "")
        _report(
            failure
            or MandalaError(
                f"unexpected error: {type(exc).__name__}: {exc}", "run again with -v for details"
            ),
            invocation.settings,
        )
        sys.exit(failure.exit_code if failure else 1)


def named_fault(exc: BaseException, command: str) -> MandalaError | None:
    """Faults of the machine, not of the tool, said as what they are: the server went away, the disk is
    full, a file cannot be written."""
    import errno

    from mandala_db.core.errors import OperationFailed

    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        where = f" writing {exc.filename}" if exc.filename else ""
        return OperationFailed(
            f"no space left on device{where}", "free some space (or point BACKUP_DIR elsewhere) and run again"
        )
    if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EROFS, errno.EPERM) and exc.filename:
        return OperationFailed(
            f"cannot write {exc.filename}: {exc.strerror}", "check the folder's permissions"
        )
    if type(exc).__module__.split(".")[0] not in ("psycopg", "sqlalchemy"):
        return None
    from mandala_db.core.database import server_gone

    reason = server_gone(exc)
    if not reason:
        return None
    settle = (
        "once it is back, `mandala-db migrate deploy` settles the state: what committed is recorded, a "
        "revision cut short is marked interrupted and run again"
        if command.startswith("migrate")
        else "once it is back, run the command again: nothing was committed half-way"
    )
    return OperationFailed(f"the database server went away: {reason}", settle)


def command_words(args: list[str], group: str | None) -> str:
    """The command group and its subcommand, for metrics and alerts: never an argument (a path, a URL)."""
    if not group or group not in args:
        return group or "mandala-db"
    rest = [a for a in args[args.index(group) + 1 :] if not a.startswith("-")]
    return f"{group} {rest[0]}" if rest else group
