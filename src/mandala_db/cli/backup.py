"""`mandala-db backup ...` and `mandala-db restore ...`: parses, confirms, prints."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from mandala_db.cli import views
from mandala_db.cli.confirm import confirm
from mandala_db.cli.context import backup_dir, command_settings, database_url, human_size
from mandala_db.cli.output import Output, ProgressBar
from mandala_db.core.errors import BadInput

backup_app = typer.Typer(
    help="Backups: full, schema, data, all; stats, cleanup, verify.", no_args_is_help=True
)
restore_app = typer.Typer(help="Restores from a verified file or from S3.", no_args_is_help=True)

Dir = Annotated[
    str | None, typer.Option("--dir", help="The backup folder (default $BACKUP_DIR, else ./backups).")
]
S3Flag = Annotated[bool, typer.Option("--s3", help="Upload to $S3_BACKUP_BUCKET (also when that is set).")]
S3Bucket = Annotated[str | None, typer.Option("--s3-bucket", help="Upload to this bucket.")]


def _run_backup(
    kinds: tuple[str, ...],
    directory: str | None,
    fmt: str,
    jobs: int,
    compression: str | None,
    pg_version: int | None,
    s3: bool,
    s3_bucket: str | None,
    label: str,
) -> None:
    from mandala_db.ops.backup import create_backups
    from mandala_db.ops.backup.s3 import S3Store, configured_bucket

    s = command_settings(f"backup {label}")
    bucket = configured_bucket(s3_bucket)
    if s3 and not bucket:
        raise BadInput("--s3 needs a bucket", "set S3_BACKUP_BUCKET or pass --s3-bucket")
    if bucket and fmt == "directory":
        raise BadInput("a directory-format backup is not uploaded to S3", "use --format custom or plain")
    url = database_url(s)
    with ProgressBar(s.json_output, 0, f"backup {label}") as bar:
        backups = create_backups(
            url,
            backup_dir(directory),
            kinds,
            fmt=fmt,
            jobs=jobs,
            compression=compression,
            pg_version=pg_version,
            progress=bar.tables if bar else None,
        )
    if bucket:
        store = S3Store(bucket)
        for b in backups:
            with ProgressBar(s.json_output, b.manifest.size, f"upload {b.path.name}") as bar:
                store.upload(b.path, b.manifest, bar.bytes if bar else None)

    def human(console: Console) -> None:
        for b in backups:
            where = (
                f", uploaded to s3://{b.manifest.s3['bucket']}/{b.manifest.s3['key']}"
                if b.manifest.s3
                else ""
            )
            console.print(
                f"{b.manifest.kind}: {b.path} ({human_size(b.manifest.size)}, "
                f"{b.manifest.duration_ms / 1000:.1f} s, sha256 {b.to_dict()['sha256'] or 'per file'}){where}"
            )

    Output(s).result({"ok": True, "backups": [b.to_dict() for b in backups]}, human)


def _register(kind: str, kinds: tuple[str, ...], doc: str) -> None:
    def command(
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
    ) -> None:
        _run_backup(kinds, directory, fmt, jobs, compression, pg_version, s3, s3_bucket, kind)

    command.__doc__ = doc
    backup_app.command(kind)(command)


_register("full", ("full",), "The whole database, schema and data: one consistent pg_dump.")
_register("schema", ("schema",), "The schema alone.")
_register("data", ("data",), "The data alone.")
_register("all", ("full", "schema", "data"), "Full, schema and data backups, all from one snapshot.")


@backup_app.command("verify")
def verify_command(
    file: Annotated[str | None, typer.Argument(help="The backup (default: the newest).")] = None,
    restore: Annotated[
        bool, typer.Option("--restore", help="Restore into a scratch database and compare.")
    ] = False,
    directory: Dir = None,
) -> None:
    """sha256 against the manifest and a full read; --restore proves it restores to what the manifest says."""
    from mandala_db.ops.backup import find_backups
    from mandala_db.ops.restore import verify

    s = command_settings("backup verify")
    if file is None:
        found = find_backups(backup_dir(directory))
        if not found:
            raise BadInput(
                f"there are no backups in {backup_dir(directory)}", "make one with `mandala-db backup full`"
            )
        path = found[0][0]
    else:
        path = Path(file)
    url = None
    if restore:
        url = database_url(s)
    with ProgressBar(s.json_output, 0, f"verify {path.name}") as bar:
        result = verify(url, path, restore=restore, progress=bar.tables if bar else None)
    Output(s).result(
        {"ok": True, "backup": str(path), "verification": result},
        lambda c: c.print(f"{path}: verified ({result['kind']}, {result['duration_ms'] / 1000:.1f} s)"),
    )


@backup_app.command("stats")
def stats_command(directory: Dir = None, s3_bucket: S3Bucket = None) -> None:
    """Count, total size, newest, oldest and last verified backup of each kind, locally and on S3."""
    from mandala_db.ops.backup import stats
    from mandala_db.ops.backup.s3 import S3Store, configured_bucket

    s = command_settings("backup stats")
    local = stats(backup_dir(directory))
    bucket = configured_bucket(s3_bucket)
    remote = None
    if bucket:
        objects = S3Store(bucket).list()
        remote = {
            kind: {
                "count": len([o for o in objects if o["kind"] == kind]),
                "total_size": sum(o["size"] for o in objects if o["kind"] == kind),
            }
            for kind in ("full", "schema", "data")
        }

    Output(s).result(
        {"ok": True, "local": local, "s3": remote},
        lambda c: views.print_backup_stats(
            c, f"{backup_dir(directory)}" + (f" and s3://{bucket}" if bucket else ""), local, remote
        ),
    )


@backup_app.command("cleanup")
def cleanup_command(
    directory: Dir = None,
    retention_days: Annotated[
        int | None, typer.Option("--retention-days", min=0, help="Default $BACKUP_RETENTION_DAYS, else 30.")
    ] = None,
    keep: Annotated[int, typer.Option("--keep", min=0, help="Always keep this many of each kind.")] = 3,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be deleted.")] = False,
) -> None:
    """Delete backups older than the retention, keeping the newest few of each kind and the newest verified."""
    from mandala_db.ops.backup import apply_cleanup, cleanup_plan

    s = command_settings("backup cleanup")
    days = (
        retention_days if retention_days is not None else int(os.environ.get("BACKUP_RETENTION_DAYS", "30"))
    )
    plan = cleanup_plan(backup_dir(directory), days, keep)
    if (plan.delete or plan.leftovers) and not dry_run:
        confirm(
            s,
            f"Delete {len(plan.delete)} backup(s) older than {days} days and {len(plan.leftovers)} "
            f"dump(s) left without a manifest from {backup_dir(directory)}",
        )
        apply_cleanup(plan)
    doc = {
        "ok": True,
        "dry_run": dry_run,
        "retention_days": days,
        "keep": keep,
        "deleted" if not dry_run else "would_delete": [str(p) for p, _ in plan.delete],
        "kept": [{"path": str(p), "why": why} for p, _, why in plan.keep],
        "leftovers_deleted" if not dry_run else "would_delete_leftovers": [str(p) for p in plan.leftovers],
    }

    def human(console: Console) -> None:
        verb = "would delete" if dry_run else "deleted"
        for path, manifest in plan.delete:
            console.print(f"{verb} {path} ({manifest.started_at[:10]})")
        for path in plan.leftovers:
            console.print(f"{verb} {path} (a dump cut short: no manifest, untouched for over an hour)")
        console.print(f"{len(plan.delete) + len(plan.leftovers)} {verb}, {len(plan.keep)} kept")

    Output(s).result(doc, human)


@restore_app.command("list")
def list_command(directory: Dir = None, s3_bucket: S3Bucket = None) -> None:
    """The backups with their kind, time, size, revision and verification state, locally and on S3."""
    from mandala_db.ops.backup.manifest import find_backups
    from mandala_db.ops.backup.s3 import S3Store, configured_bucket

    s = command_settings("restore list")
    local: list[dict[str, Any]] = [
        {
            "path": str(p),
            "kind": m.kind,
            "started_at": m.started_at,
            "size": m.size,
            "format": m.format,
            "head_revision": m.head_revision,
            "verified": (m.last_verified or {}).get("at"),
            "verified_by": (m.last_verified or {}).get("kind"),
        }
        for p, m in find_backups(backup_dir(directory))
    ]
    bucket = configured_bucket(s3_bucket)
    remote = S3Store(bucket).list() if bucket else []

    Output(s).result(
        {"ok": True, "local": local, "s3": remote}, lambda c: views.print_backup_list(c, local, remote)
    )


def _check_target(name: str | None) -> None:
    """A database name as PostgreSQL reads an unquoted identifier, and 63 bytes at most: anything else
    (an empty name restores over the source) is surely a mistake."""
    if name is None:
        return
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", name) or len(name.encode()) > 63:
        raise BadInput(
            f"--target-db {name!r} is not a database name"
            + (" (it is longer than 63 bytes)" if len(name.encode()) > 63 else ""),
            "use letters, digits and underscores, starting with a letter or underscore, at most 63 bytes",
        )


def _restore(path: Path, target_db: str | None, directory: str | None, s: Any) -> None:
    from mandala_db.ops.restore import restore

    url = database_url(s)
    with ProgressBar(s.json_output, 0, f"restore {path.name}") as bar:
        result = restore(
            url,
            path,
            target_db=target_db,
            backup_dir=backup_dir(directory),
            confirm=lambda what: confirm(s, what, typed=target_db if target_db else url.dbname),
            progress=bar.tables if bar else None,
        )

    def human(console: Console) -> None:
        console.print(
            f"Restored {path.name} into {result.target} in {result.duration_ms / 1000:.1f} s; "
            "revision and row counts match the manifest."
        )
        if result.pre_restore_backup:
            console.print(f"The target was backed up first: {result.pre_restore_backup.path}")

    Output(s).result({"ok": True, **result.to_dict()}, human)


@restore_app.command("restore")
def restore_command(
    file: Annotated[str, typer.Argument(help="The backup file (its manifest must be beside it).")],
    target_db: Annotated[
        str | None, typer.Option("--target-db", help="Restore into this database instead.")
    ] = None,
    directory: Dir = None,
) -> None:
    """Verify the file, confirm, back up the target, restore in one transaction, check against the manifest."""
    _check_target(target_db)
    _restore(Path(file), target_db, directory, command_settings("restore"))


@restore_app.command("s3-restore")
def s3_restore_command(
    url: Annotated[str, typer.Argument(help="s3://bucket/key of a backup uploaded by mandala-db.")],
    target_db: Annotated[
        str | None, typer.Option("--target-db", help="Restore into this database instead.")
    ] = None,
    directory: Dir = None,
) -> None:
    """Download a backup and its manifest, verify them, then restore as `restore restore` does."""
    from mandala_db.ops.backup.s3 import S3Location, S3Store

    s = command_settings("restore s3-restore")
    _check_target(target_db)
    location = S3Location.parse(url)
    workdir = Path(tempfile.mkdtemp(prefix="mandala-s3-restore-"))
    try:
        with ProgressBar(s.json_output, 0, f"download {Path(location.key).name}") as bar:
            path = S3Store(location.bucket).download(location, workdir, bar.bytes if bar else None)
        _restore(path, target_db, directory, s)
    finally:
        for p in sorted(workdir.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        workdir.rmdir()
