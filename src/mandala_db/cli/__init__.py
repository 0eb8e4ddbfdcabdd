"""The `mandala-db` command line: global options, error reporting, and the command groups.

Imports stay light here (no SQLAlchemy, Alembic or pgserver) so that `--help` and `status` start fast;
each command imports the capability it needs.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
import typing
from typing import Annotated, Any

import typer

from mandala_db import __version__
from mandala_db.cli import context
from mandala_db.core.errors import MandalaError
from mandala_db.core.events import bus, json_sink, text_sink
from mandala_db.core.settings import LOG_FORMATS, SETTINGS, Settings

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


def main_options(
    ctx: typer.Context, json_output: bool, yes: bool, verbose: bool, version: bool, **flags: str | None
) -> None:
    """The global options: --json, --yes, --verbose and --version are facts of this call; every other one
    is a setting's flag (`core.settings_table.SETTINGS`), resolved with its variable and the settings file."""
    # Logging first, so that even a bad URL is reported in the requested format (the flag or variable:
    # the file is read by the resolution below, which may still change it).
    early = (flags.get("log_format") or os.environ.get("MANDALA_LOG_FORMAT") or "text").lower()
    early = early if early in LOG_FORMATS else "text"
    _log_to(early, verbose)
    command = " ".join(a for a in sys.argv[1:] if not a.startswith("-"))[:40] or "mandala-db"
    invocation = ctx.find_root().obj
    if isinstance(invocation, context.Invocation):
        invocation.log_format, invocation.json_output = early, json_output
    settings = Settings.resolve(
        flags,
        os.environ,
        json_output=json_output,
        assume_yes=yes,
        verbose=verbose,
        interactive=sys.stdin.isatty(),
        command=ctx.invoked_subcommand or command,
    )
    if isinstance(invocation, context.Invocation):
        invocation.settings = settings
    _log_to(settings.log_format, verbose)
    for warning in settings.file_warnings:
        bus.warning("settings", warning)
    bus.environment = settings.environment.value
    if isinstance(invocation, context.Invocation):
        invocation.start_monitor(settings, command_words(sys.argv[1:], ctx.invoked_subcommand))


def _log_to(fmt: str, verbose: bool) -> None:
    bus.sinks[:] = [
        json_sink(verbose=verbose) if fmt == "json" else text_sink(min_level="DEBUG" if verbose else "INFO")
    ]


def _global_options() -> None:
    """Give the callback its signature: the call's own options, then one option per setting with a flag.
    Typer reads options from the signature, so a row added to the table is an option here too."""
    import inspect

    def param(name: str, annotation: Any) -> inspect.Parameter:
        default = False if typing.get_args(annotation)[0] is bool else None
        return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)

    params = [
        inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
        param("json_output", Annotated[bool, typer.Option("--json", help="The result as one JSON document on stdout.")]),
        param("yes", Annotated[bool, typer.Option("--yes", "-y", help="Answer yes to confirmations.")]),
        param("verbose", Annotated[bool, typer.Option("--verbose", "-v", help="Tracebacks and debug lines.")]),
        param("version", Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                      help="Show the version.")]),
    ]  # fmt: skip
    for setting in SETTINGS:
        if setting.flag:
            variables = ", ".join(f"${v}" for v in setting.env)
            option = typer.Option(setting.flag, help=f"{setting.help} ({variables})", hidden=setting.hidden)
            params.append(param(setting.name, Annotated[str | None, option]))
    main_options.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    main_options.__annotations__ = {p.name: p.annotation for p in params} | {"return": None}
    app.callback()(main_options)


_global_options()


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


def _add_adopt() -> None:
    from mandala_db.cli import adopt

    app.add_typer(adopt.app, name="adopt")


def _add_prisma() -> None:
    from mandala_db.cli import prisma

    app.add_typer(prisma.app, name="prisma")


def _add_pitr() -> None:
    from mandala_db.cli import pitr

    app.add_typer(pitr.app, name="pitr")


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
    "adopt": _add_adopt,
    "prisma": _add_prisma,
    "pitr": _add_pitr,
    "server": _add_server,
    "lint": _add_lint,
}


def options_with_values() -> frozenset[str]:
    """The global options that take a value: every setting's flag (the others are switches), so an option
    added to the table is never mistaken for a command group."""
    return frozenset(s.flag for s in SETTINGS if s.flag)


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


def _report(exc: MandalaError, invocation: context.Invocation) -> None:
    settings = invocation.settings
    json_output = settings.json_output if settings is not None else invocation.json_output
    log_format = settings.log_format if settings is not None else invocation.log_format
    line = bus.scrub(exc.line())
    from mandala_db.cli.output import Output

    if json_output and not Output.document_written:
        doc = {"ok": False, "error": bus.scrub(exc.message), "hint": exc.hint, "exit_code": exc.exit_code}
        sys.stdout.write(bus.scrub(json.dumps(doc)) + "\n")
    # The record goes to every sink (alerts read it); the text log leaves ERROR records to this line.
    bus.error("error", bus.scrub(exc.message), hint=exc.hint, exit_code=exc.exit_code)
    if log_format != "json":
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
        _report(exc, invocation)
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
            invocation,
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
