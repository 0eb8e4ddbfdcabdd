"""Dumping: one pg_dump per kind, all inside one exported snapshot, so every kind of one run and the
manifest's row counts describe the same moment. pg_dump writes to a `.partial` name that becomes the
backup's only when it succeeded; the manifest is written last, so a dump cut short is never listed."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from mandala_db import __version__
from mandala_db.core import catalog
from mandala_db.core.database import Database, quote_ident, server_version
from mandala_db.core.errors import BadInput, MandalaError, OperationFailed
from mandala_db.core.events import bus
from mandala_db.core.process import DUMPING_TABLE, Progress, conninfo, run_tool
from mandala_db.core.progress import Bars, no_bars
from mandala_db.core.revision import current_revision, current_schema
from mandala_db.core.tools import ClientTool, find_pair
from mandala_db.ops.backup.archive import archive_digests
from mandala_db.ops.backup.manifest import (
    EXTENSIONS,
    KINDS,
    PARTIAL,
    BackupKind,
    BackupManifest,
    file_entries,
    remove_files,
)


@dataclass
class Backup:
    path: Path
    manifest: BackupManifest

    @property
    def manifest_path(self) -> Path:
        return BackupManifest.path_for(self.path)

    def to_dict(self) -> dict[str, Any]:
        entry = self.manifest.files
        return {
            "path": str(self.path),
            "manifest": str(self.manifest_path),
            "kind": self.manifest.kind,
            "format": self.manifest.format,
            "size": self.manifest.size,
            "sha256": next(iter(entry.values()))["sha256"] if len(entry) == 1 else None,
            "duration_ms": self.manifest.duration_ms,
            "head_revision": self.manifest.head_revision,
            "remote": self.manifest.remote,
        }


def _compression_args(spec: str | None, tool: ClientTool, fmt: str) -> tuple[list[str], str]:
    """pg_dump's --compress for a spec like gzip, gzip:9, zstd:3, lz4 or none."""
    if spec is None:
        return [], "gzip (pg_dump default)" if fmt != "plain" else "none"
    method, _, level = spec.lower().partition(":")
    if method not in ("gzip", "zstd", "lz4", "none") or (level and not level.isdigit()):
        raise BadInput(f"unknown compression {spec!r}", "use gzip, gzip:1-9, zstd[:N], lz4[:N] or none")
    if fmt == "plain" and method != "none":
        raise BadInput(
            "a plain .sql backup is not compressed here", "use --format custom for a compressed backup"
        )
    if tool.major < 16:
        if method in ("zstd", "lz4"):
            raise BadInput(
                f"{tool.name} {tool.version} compresses with gzip only ({method} arrived in 16)",
                "use gzip[:N] or none, or --pg-version 16 with PostgreSQL 16 client tools",
            )
        return [f"--compress={0 if method == 'none' else (level or 6)}"], spec
    return [f"--compress={method}" + (f":{level}" if level else "")], spec


@dataclass(frozen=True)
class DumpOptions:
    """How the dumps are written: pg_dump's format, parallel jobs (directory format), compression, and the
    major version of the client tools (default: the server's)."""

    fmt: str = "custom"
    jobs: int = 1
    compression: str | None = None
    pg_version: int | None = None

    def check(self) -> None:
        if self.fmt not in EXTENSIONS:
            raise BadInput(f"unknown format {self.fmt!r}", "use custom, directory or plain")
        if self.jobs > 1 and self.fmt != "directory":
            raise BadInput(
                "--jobs needs --format directory", "pg_dump dumps tables in parallel only into a directory"
            )


@dataclass
class DumpRun:
    """What every dump of one run shares: the server, the tools, the snapshot and what was read in it."""

    db: Database
    directory: Path
    fmt: str
    jobs: int
    pg_dump: ClientTool
    pg_restore: ClientTool
    compress_args: list[str]
    compression: str
    snapshot: str
    server_version: str
    dbname: str
    schema: str
    head: str | None
    fingerprint: str
    tables: int
    counts: Callable[[], dict[str, int]]
    progress: Progress | None


def create_backups(
    db: Database,
    directory: Path,
    kinds: tuple[BackupKind, ...] = ("full",),
    options: DumpOptions = DumpOptions(),
    *,
    label: str | None = None,
    progress: Progress | None = None,
) -> list[Backup]:
    """One pg_dump per kind, all from one exported snapshot, each with its manifest."""
    options.check()
    for kind in kinds:
        if kind not in KINDS:
            raise BadInput(f"unknown backup kind {kind!r}", "use full, schema, data or all")
    from mandala_db.ops.backup.retention import sweep

    sweep(directory)  # what a killed backup left goes before this one writes
    with db.connect() as conn:
        (major,) = _one(conn, "SELECT current_setting('server_version_num')::int / 10000")
        (dbname,) = _one(conn, "SELECT current_database()")
        pg_dump, pg_restore = find_pair(int(major), options.pg_version)
        compress_args, compression_text = _compression_args(options.compression, pg_dump, options.fmt)
        with conn.transaction():
            # One snapshot for every dump of this run and for the manifest's counts: they all agree.
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            (snapshot,) = _one(conn, "SELECT pg_export_snapshot()")
            schema = current_schema(conn)
            snap = catalog.take(conn, schema)
            # The exact row counts are read in the same snapshot while pg_dump runs, not before it.
            counted: dict[str, int] = {}
            counter = threading.Thread(target=lambda: counted.update(_count_rows(conn, schema, snap)))
            counter.start()

            def counts() -> dict[str, int]:
                counter.join()
                return counted

            run = DumpRun(
                db=db, directory=directory, fmt=options.fmt, jobs=options.jobs, pg_dump=pg_dump,
                pg_restore=pg_restore, compress_args=compress_args, compression=compression_text,
                snapshot=str(snapshot), server_version=server_version(conn), dbname=str(dbname), schema=schema,
                head=current_revision(conn), fingerprint=snap.fingerprint, tables=len(snap.tables),
                counts=counts, progress=progress,
            )  # fmt: skip
            try:
                return [_dump_one(run, kind, label or kind) for kind in kinds]
            finally:
                counter.join()


def _one(conn: psycopg.Connection[Any], sql: str) -> tuple[Any, ...]:
    row = conn.execute(sql).fetchone()
    assert row is not None
    return tuple(row)


def _count_rows(conn: psycopg.Connection[Any], schema: str, snap: catalog.Snapshot) -> dict[str, int]:
    return {
        table: int(_one(conn, f"SELECT count(*) FROM {quote_ident(schema)}.{quote_ident(table)}")[0])
        for table in sorted(snap.tables)
    }


def _dump_one(run: DumpRun, kind: BackupKind, label: str) -> Backup:
    started_at, started = datetime.now(UTC), time.perf_counter()
    path = _new_path(run, kind, label, started_at)
    partial = path.with_name(f"{path.name}.{os.getpid()}{PARTIAL}")
    bus.info("backup_start", f"backup started: {kind} to {path} with {run.pg_dump.name} {run.pg_dump.version}",
             kind=kind, format=run.fmt)  # fmt: skip
    try:
        run_tool(_pg_dump_command(run, kind, partial), run.db.url, pattern=DUMPING_TABLE,
                 total=0 if kind == "schema" else run.tables, progress=run.progress)  # fmt: skip
        # Everything is read from the finished dump while it still has its partial name, and the manifest
        # written before the rename: a kill at any moment leaves either a complete backup with its
        # manifest, or a partial (and perhaps a manifest without its backup) that the next run removes.
        manifest = _manifest(run, kind, label, path, partial, started_at, started)
        manifest.save(path)
        partial.rename(path)
    except BaseException as exc:
        remove_files(partial)
        if not path.exists():
            BackupManifest.path_for(path).unlink(missing_ok=True)
        if isinstance(exc, OperationFailed):
            raise _named_fault(exc, run) from None
        raise
    bus.info("backup_complete", f"backup complete: {path} ({manifest.size:,} bytes)",
             duration_ms=manifest.duration_ms, kind=kind, size=manifest.size)  # fmt: skip
    return Backup(path, manifest)


def _new_path(run: DumpRun, kind: BackupKind, label: str, started_at: datetime) -> Path:
    """`<kind>/<label>_backup_<time><ext>`, with `_N` when two backups fall in one second."""
    target = run.directory / kind
    target.mkdir(parents=True, exist_ok=True)
    stem = f"{label}_backup_{started_at:%Y%m%d_%H%M%S}"
    path = target / f"{stem}{EXTENSIONS[run.fmt]}"
    n = 0
    while any(p.exists() for p in (path, BackupManifest.path_for(path))) or list(
        target.glob(f"{path.name}.*")
    ):
        n += 1
        path = target / f"{stem}_{n}{EXTENSIONS[run.fmt]}"
    return path


def _pg_dump_command(run: DumpRun, kind: BackupKind, partial: Path) -> list[str]:
    cmd = [
        str(run.pg_dump.path),
        f"--format={run.fmt}",
        f"--file={partial}",
        f"--snapshot={run.snapshot}",
        "--verbose",
        *run.compress_args,
        f"--dbname={conninfo(run.db.url, run.db.application_name)}",
    ]
    if kind == "schema":
        cmd.append("--schema-only")
    elif kind == "data":
        cmd.append("--data-only")
    if run.fmt == "directory" and run.jobs > 1:
        cmd.append(f"--jobs={run.jobs}")
    if run.fmt == "plain" and kind != "data":
        cmd += ["--clean", "--if-exists"]  # so a plain script can replace what a non-empty target holds
    return cmd


def _manifest(
    run: DumpRun,
    kind: BackupKind,
    label: str,
    path: Path,
    partial: Path,
    started_at: datetime,
    started: float,
) -> BackupManifest:
    """The finished dump described: its files (named as they will be), digests, and the run's facts."""
    files = {name.replace(partial.name, path.name, 1): entry for name, entry in file_entries(partial).items()}
    toc, ddl = archive_digests(partial, run.fmt, run.pg_restore)
    return BackupManifest(
        tool=f"mandala-db {__version__}",
        pg_dump_version=run.pg_dump.version,
        server_version=run.server_version,
        database=run.dbname,
        host=run.db.url.host_label,
        kind=kind,
        label=label,
        format=run.fmt,
        compression=run.compression,
        started_at=started_at.isoformat(),
        finished_at=datetime.now(UTC).isoformat(),
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
        size=sum(f["size"] for f in files.values()),
        files=files,
        head_revision=run.head,
        schema_fingerprint=run.fingerprint,
        row_counts=run.counts() if kind != "schema" else {},
        snapshot=run.snapshot,
        schema=run.schema,
        toc_sha256=toc,
        ddl_sha256=ddl,
        toc_tool=None if run.fmt == "plain" else f"pg_restore {run.pg_restore.version}",
    )


def _named_fault(exc: OperationFailed, run: DumpRun) -> MandalaError:
    """pg_dump's failure said as what it is: a compression this build lacks, or a full disk."""
    lowered = exc.message.lower()
    if "compression" in lowered and ("not support" in lowered or "not built" in lowered):
        return BadInput(
            f"{run.pg_dump.name} {run.pg_dump.version} was built without {run.compression}: "
            f"{exc.message.split('error:', 1)[-1].strip()}",
            "use --compression gzip (every build has it), or a pg_dump built with it (--pg-version, "
            "MANDALA_PG_BINDIR)",
        )
    return _named_disk_fault(exc, run.directory)


def _named_disk_fault(exc: OperationFailed, directory: Path) -> OperationFailed:
    """pg_dump's words for a full disk vary (a parallel dump only says a worker died): when the folder has
    no room left, say that, and where."""
    import shutil

    try:
        free = shutil.disk_usage(directory).free
    except OSError:
        return exc
    if "no space left" in exc.message.lower() or free < 1 << 20:
        return OperationFailed(
            f"no space left on device in {directory} ({free:,} bytes free): {exc.message}",
            "free some space or point BACKUP_DIR (--dir) at a larger disk, then run the backup again",
        )
    return exc


def create_backup(db: Database, directory: Path, *, label: str = "full", kind: BackupKind = "full") -> Backup:
    """The single full backup taken before `migrate prod`, a destructive rollback or a restore."""
    return create_backups(db, directory, (kind,), label=label)[0]


def backup(
    db: Database,
    directory: Path,
    kinds: tuple[BackupKind, ...],
    options: DumpOptions = DumpOptions(),
    *,
    remote: str | None = None,
    require_remote: bool = False,
    bars: Bars = no_bars,
) -> list[Backup]:
    """`backup KIND`: the dumps of one snapshot, then (with a remote) each copied there and checked."""
    if require_remote and not remote:
        raise BadInput(
            "--s3 needs a bucket", "set S3_BACKUP_BUCKET (or BACKUP_REMOTE), or pass --s3-bucket or --remote"
        )
    if remote and options.fmt == "directory":
        raise BadInput("a directory-format backup is not copied to a remote", "use --format custom or plain")
    store = None
    if remote:
        from mandala_db.ops.backup.remote import Remote

        store = Remote.at(remote)  # a remote that cannot be is refused before the dump is taken
    with bars(0, f"backup {'/'.join(kinds)}") as bar:
        backups = create_backups(db, directory, kinds, options, progress=bar.tables if bar else None)
    if store is not None:
        for b in backups:
            with bars(b.manifest.size, f"upload {b.path.name}") as bar:
                store.upload(b.path, b.manifest, bar.bytes if bar else None)
    return backups
