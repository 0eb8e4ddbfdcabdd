"""`mandala-db backup ...` and `mandala-db restore ...`: parses, confirms, prints. The work is in
mandala_db.ops.backup and mandala_db.ops.restore."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mandala_db.cli import views
from mandala_db.cli.confirm import YES_EPILOG, confirm
from mandala_db.cli.context import database, settings_for
from mandala_db.cli.options import TableLockRetries, TableLockTimeout, lock_policy
from mandala_db.cli.output import Output, ProgressBar, Screen
from mandala_db.core.errors import BadInput

if TYPE_CHECKING:
    from mandala_db.ops.backup.manifest import BackupKind
from mandala_db.core.settings import Settings

backup_app = typer.Typer(
    help="Backups: full, schema, data, all; stats, cleanup, verify.", no_args_is_help=True
)
restore_app = typer.Typer(help="Restores from a verified file or from a remote copy.", no_args_is_help=True)

Dir = Annotated[
    str | None, typer.Option("--dir", help="The backup folder (default $BACKUP_DIR, else ./backups).")
]
S3Flag = Annotated[
    bool,
    typer.Option(
        "--s3", help="Copy to the remote ($S3_BACKUP_BUCKET, $BACKUP_REMOTE), and fail without one."
    ),
]
S3Bucket = Annotated[
    str | None, typer.Option("--s3-bucket", help="Copy to this bucket (s3://BUCKET/$S3_BACKUP_PREFIX).")
]
RemoteTo = Annotated[
    str | None, typer.Option("--remote", help="Copy to this storage: s3://bucket/prefix or file:///folder.")
]
S3Listed = Annotated[str | None, typer.Option("--s3-bucket", help="Also list the backups in this bucket.")]
RemoteListed = Annotated[
    str | None,
    typer.Option("--remote", help="Also list the backups on this storage (default: the configured remote)."),
]
TargetDb = Annotated[str | None, typer.Option("--target-db", help="Restore into this database instead.")]
Engine = Annotated[
    str,
    typer.Option(
        "--engine", help="pg_dump (a logical dump) or pgbackrest (a physical backup of the cluster)."
    ),
]
Stanza = Annotated[
    str | None, typer.Option("--stanza", help="With --engine pgbackrest: the stanza (pitr setup).")
]
PitrConfig = Annotated[
    Path | None,
    typer.Option("--config", help="With --engine pgbackrest: its configuration (default: per stanza)."),
]


def _register(kind: str, kinds: tuple[BackupKind, ...], doc: str) -> None:
    def command(
        ctx: typer.Context,
        directory: Dir = None,
        fmt: Annotated[
            str, typer.Option("--format", help="custom (.dump), directory (with --jobs) or plain (.sql).")
        ] = "custom",
        jobs: Annotated[int, typer.Option("--jobs", min=1, help="Parallel dump (directory format).")] = 1,
        compression: Annotated[
            str | None,
            typer.Option("--compression", help="gzip[:1-9], zstd[:N], lz4[:N] (pg_dump 16+) or none."),
        ] = None,
        pg_version: Annotated[
            int | None,
            typer.Option(
                "--pg-version", help="Use client tools of this major version (default: the server's)."
            ),
        ] = None,
        s3: S3Flag = False,
        s3_bucket: S3Bucket = None,
        remote: RemoteTo = None,
        engine: Engine = "pg_dump",
        stanza: Stanza = None,
        config: PitrConfig = None,
    ) -> None:
        from mandala_db.ops.backup import DumpOptions, backup

        s = settings_for(ctx, f"backup {kind}")
        if engine == "pgbackrest":
            if kind != "full":
                raise BadInput(f"backup {kind} --engine pgbackrest: a physical backup is of the whole cluster",
                               "use backup full, diff or incr --engine pgbackrest")  # fmt: skip
            _physical(s, "full", stanza, config, directory)
            return
        if engine != "pg_dump":
            raise BadInput(f"--engine {engine!r} is not an engine", "use pg_dump or pgbackrest")
        backups = backup(
            database(s),
            s.backups_in(directory),
            kinds,
            DumpOptions(fmt=fmt, jobs=jobs, compression=compression, pg_version=pg_version),
            remote=s.remote(remote, s3_bucket),
            require_remote=s3,
            bars=partial(ProgressBar, s.json_output),
        )
        Output(s).result(
            {"ok": True, "backups": [b.to_dict() for b in backups]},
            lambda c: views.print_backups(c, backups),
        )

    command.__doc__ = doc
    backup_app.command(kind)(command)


def _physical(s: Settings, kind: str, stanza: str | None, config: Path | None, directory: str | None) -> None:
    from mandala_db.cli.pitr import physical_backup

    if not stanza:
        raise BadInput(f"backup {kind} --engine pgbackrest needs --stanza", "the stanza `pitr setup` created")
    physical_backup(s, kind, stanza, config, directory)


def _register_physical(kind: str, doc: str) -> None:
    def command(ctx: typer.Context, stanza: Stanza = None, config: PitrConfig = None, directory: Dir = None,
                engine: Engine = "pgbackrest") -> None:  # fmt: skip
        s = settings_for(ctx, f"backup {kind}")
        if engine != "pgbackrest":
            raise BadInput(f"backup {kind} is a physical backup: only --engine pgbackrest takes one",
                           "use backup full for a logical dump")  # fmt: skip
        _physical(s, kind, stanza, config, directory)

    command.__doc__ = doc
    backup_app.command(kind)(command)


_register("full", ("full",), "The whole database, schema and data: one consistent pg_dump.")
_register("schema", ("schema",), "The schema alone.")
_register("data", ("data",), "The data alone.")
_register("all", ("full", "schema", "data"), "Full, schema and data backups, all from one snapshot.")
_register_physical("diff", "A physical backup of what changed since the last full one (pgBackRest).")
_register_physical(
    "incr", "A physical backup of what changed since the last backup of any type (pgBackRest)."
)


@backup_app.command("verify")
def verify_command(
    ctx: typer.Context,
    file: Annotated[str | None, typer.Argument(help="The backup (default: the newest).")] = None,
    restore: Annotated[
        bool, typer.Option("--restore", help="Restore into a scratch database and compare.")
    ] = False,
    directory: Dir = None,
) -> None:
    """sha256 against the manifest and a full read; --restore proves it restores to what the manifest says."""
    from mandala_db.ops.backup import find_backups
    from mandala_db.ops.restore import verify

    s = settings_for(ctx, "backup verify")
    folder = s.backups_in(directory)
    if file is None:
        found = find_backups(folder)
        if not found:
            raise BadInput(f"there are no backups in {folder}", "make one with `mandala-db backup full`")
        path = found[0][0]
    else:
        path = Path(file)
    db = database(s) if restore else None
    result = verify(db, path, restore=restore, bars=partial(ProgressBar, s.json_output))
    Output(s).result(
        {"ok": True, "backup": str(path), "verification": result},
        lambda c: c.print(f"{path}: verified ({result['kind']}, {result['duration_ms'] / 1000:.1f} s)"),
    )


@backup_app.command("schedule")
def schedule_command(
    ctx: typer.Context,
    print_as: Annotated[str, typer.Option("--print", help="cron or systemd.")] = "cron",
    directory: Annotated[
        Path | None, typer.Option("--workdir", help="Where the jobs run (default: here).")
    ] = None,
) -> None:
    """A nightly backup and a weekly drill, as a crontab or systemd service and timer units (printed)."""
    import shutil
    import sys

    from mandala_db.ops.backup import schedule

    s = settings_for(ctx, "backup schedule")
    workdir = (directory or Path.cwd()).resolve()
    program = Path(shutil.which("mandala-db") or Path(sys.executable).with_name("mandala-db")).resolve()
    if print_as == "cron":
        text = schedule.cron(workdir, program)
        Output(s).result({"ok": True, "cron": text}, lambda c: c.print(text.rstrip("\n"), markup=False))
    elif print_as == "systemd":
        units = schedule.systemd(workdir, program)
        listing = "\n".join(f"# {name}\n{body}" for name, body in units.items())
        Output(s).result({"ok": True, "units": units}, lambda c: c.print(listing.rstrip("\n"), markup=False))
    else:
        raise BadInput(f"--print {print_as!r} is not a format", "use cron or systemd")


@backup_app.command("stats")
def stats_command(
    ctx: typer.Context, directory: Dir = None, s3_bucket: S3Listed = None, remote: RemoteListed = None
) -> None:
    """Count, total size, newest, oldest and last verified backup of each kind, locally and on the remote."""
    from mandala_db.cli.pitr import physical_stats
    from mandala_db.ops.backup import stats
    from mandala_db.ops.backup.remote import Remote
    from mandala_db.ops.drill import freshness
    from mandala_db.ops.pitr.backup import listing as physical

    s = settings_for(ctx, "backup stats")
    folder, url = s.backups_in(directory), s.remote(remote, s3_bucket)
    local = stats(folder)
    fresh = freshness(folder)
    totals = Remote.at(url).totals() if url else None
    where = f"{folder}" + (f" and {url}" if url else "")
    per_type = physical_stats(physical(folder))

    def human(c: Screen) -> None:
        views.print_backup_stats(c, where, local, totals, fresh)
        for kind, entry in per_type.items():
            c.print(f"pgBackRest {kind}: {entry['count']} backup(s), {entry['stored']:,} bytes stored, newest "
                    f"{entry['newest'][:19]}", markup=False)  # fmt: skip

    Output(s).result(
        {"ok": True, "local": local, "remote": totals, "freshness": fresh, "physical": per_type}, human
    )


@backup_app.command("cleanup", epilog=YES_EPILOG)
def cleanup_command(
    ctx: typer.Context,
    directory: Dir = None,
    retention_days: Annotated[
        int | None, typer.Option("--retention-days", min=0, help="Default $BACKUP_RETENTION_DAYS, else 30.")
    ] = None,
    keep: Annotated[int, typer.Option("--keep", min=0, help="Always keep this many of each kind.")] = 3,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be deleted.")] = False,
    engine: Engine = "pg_dump",
    stanza: Stanza = None,
    config: PitrConfig = None,
) -> None:
    """Delete backups older than the retention, keeping the newest few of each kind and the newest verified."""
    from mandala_db.ops.backup import apply_cleanup, cleanup_plan

    s = settings_for(ctx, "backup cleanup")
    days, folder = s.retention_days(retention_days), s.backups_in(directory)
    if engine == "pgbackrest":
        from mandala_db.cli.pitr import physical_cleanup

        if not stanza:
            raise BadInput(
                "backup cleanup --engine pgbackrest needs --stanza", "the stanza `pitr setup` created"
            )
        physical_cleanup(s, stanza, config, folder, keep=keep, days=days, dry_run=dry_run)
        return
    if engine != "pg_dump":
        raise BadInput(f"--engine {engine!r} is not an engine", "use pg_dump or pgbackrest")
    plan = cleanup_plan(folder, days, keep)
    if (plan.delete or plan.leftovers) and not dry_run:
        confirm(
            s,
            f"Delete {len(plan.delete)} backup(s) older than {days} days and {len(plan.leftovers)} "
            f"dump(s) left without a manifest from {folder}",
        )
        apply_cleanup(plan)
    settled: list[str] = []
    url = s.remote()
    if not dry_run and url:
        from mandala_db.ops.backup.remote import Remote

        settled = Remote.at(url).sweep(folder)
    Output(s).result(
        {
            "ok": True,
            "retention_days": days,
            "keep": keep,
            **plan.to_dict(dry_run),
            "remote_settled": settled,
        },
        lambda c: views.print_cleanup(c, plan, dry_run),
    )


@restore_app.command("list")
def list_command(
    ctx: typer.Context, directory: Dir = None, s3_bucket: S3Listed = None, remote: RemoteListed = None
) -> None:
    """The backups with their kind, time, size, revision and verification state, locally and on the remote."""
    from mandala_db.cli.pitr import print_physical
    from mandala_db.ops.backup import listing
    from mandala_db.ops.backup.remote import Remote
    from mandala_db.ops.pitr.backup import listing as physical

    s = settings_for(ctx, "restore list")
    local = listing(s.backups_in(directory))
    url = s.remote(remote, s3_bucket)
    copies = Remote.at(url).list() if url else []
    found = physical(s.backups_in(directory))

    def human(c: Screen) -> None:
        views.print_backup_list(c, local, copies)
        print_physical(c, found)

    Output(s).result(
        {"ok": True, "local": local, "remote": copies, "physical": [m.to_dict() for m in found]}, human
    )


def _show_restore(s: Settings, result: Any) -> None:
    def human(console: Screen) -> None:
        console.print(
            f"Restored {result.backup.name} into {result.target} in {result.duration_ms / 1000:.1f} s; "
            "revision and row counts match the manifest."
        )
        if result.pre_restore_backup:
            console.print(f"The target was backed up first: {result.pre_restore_backup.path}")

    Output(s).result({"ok": True, **result.to_dict()}, human)


@restore_app.command("restore", epilog=YES_EPILOG)
def restore_command(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help="The backup file (its manifest must be beside it).")],
    target_db: TargetDb = None,
    directory: Dir = None,
    lock_timeout: TableLockTimeout = None,
    lock_retries: TableLockRetries = 5,
) -> None:
    """Verify the file, confirm, back up the target, restore in one transaction, check against the manifest."""
    from mandala_db.ops.restore import check_target_name, restore

    s = settings_for(ctx, "restore")
    check_target_name(target_db)  # before the embedded server is started for nothing
    db = database(s)
    result = restore(
        db,
        Path(file),
        target_db=target_db,
        backup_dir=s.backups_in(directory),
        confirm=lambda what: confirm(s, what, typed=target_db or db.url.dbname),
        bars=partial(ProgressBar, s.json_output),
        locks=lock_policy(lock_timeout, lock_retries),
    )
    _show_restore(s, result)


def _remote_restore(name: str) -> None:
    def command(
        ctx: typer.Context,
        url: Annotated[
            str,
            typer.Argument(
                help="The backup's URL (s3://bucket/key, file:///path), as `restore list` shows it."
            ),
        ],
        target_db: TargetDb = None,
        directory: Dir = None,
        lock_timeout: TableLockTimeout = None,
        lock_retries: TableLockRetries = 5,
    ) -> None:
        """Download a backup and its manifest, verify them, then restore as `restore restore` does."""
        _restore_from_remote(ctx, name, url, target_db, directory, lock_timeout, lock_retries)

    restore_app.command(name, epilog=YES_EPILOG)(command)


def _restore_from_remote(
    ctx: typer.Context,
    name: str,
    url: str,
    target_db: str | None,
    directory: str | None,
    lock_timeout: str | None,
    lock_retries: int,
) -> None:
    from mandala_db.ops.backup.remote import locate
    from mandala_db.ops.restore import check_target_name, restore_from_remote

    s = settings_for(ctx, f"restore {name}")
    check_target_name(target_db)
    locate(url)  # a URL no storage serves is refused before a server is started or reached for it
    db = database(s)
    result = restore_from_remote(
        db,
        url,
        target_db=target_db,
        backup_dir=s.backups_in(directory),
        confirm=lambda what: confirm(s, what, typed=target_db or db.url.dbname),
        bars=partial(ProgressBar, s.json_output),
        locks=lock_policy(lock_timeout, lock_retries),
    )
    _show_restore(s, result)


_remote_restore("remote-restore")
_remote_restore("s3-restore")  # the guide's name: the same command, for every storage


def _restore_pitr() -> None:
    from mandala_db.cli.pitr import restore_pitr

    restore_app.command("pitr")(restore_pitr)


_restore_pitr()
