"""Backups you can trust. `create_backups` is the public function other capabilities call (migrate prod, a
destructive rollback, a restore): pg_dump runs inside one exported snapshot, so every kind of one run and
the manifest's row counts describe the same moment; every file gets a sha256; verify reads it all back."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import psycopg

from mandala_db import __version__
from mandala_db.core import catalog
from mandala_db.core.config import DatabaseURL
from mandala_db.core.database import connect, quote_ident, server_version
from mandala_db.core.errors import BadInput, CheckFailed, OperationFailed
from mandala_db.core.events import bus
from mandala_db.core.passfile import child_env, conninfo
from mandala_db.core.tools import ClientTool, find_client, find_pair
from mandala_db.ops.backup.manifest import EXTENSIONS, KINDS, BackupManifest, file_entries, find_backups

Progress = Callable[[int, int, str], None]  # (tables done, tables in all, current table)


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
            "s3": self.manifest.s3,
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


def _server_facts(conn: psycopg.Connection[Any]) -> tuple[int, str, str, str]:
    row = conn.execute(
        "SELECT current_setting('server_version_num')::int / 10000, current_database(), current_schema()"
    ).fetchone()
    assert row is not None
    return int(row[0]), server_version(conn), str(row[1]), str(row[2] or "public")


def stream_progress(
    stream: IO[str], pattern: re.Pattern[str], total: int, progress: Progress | None, tail: list[str]
) -> None:
    """Reads pg_dump/pg_restore --verbose output: progress by table, and the last lines for errors."""
    done = 0
    for line in stream:
        tail.append(line.rstrip())
        del tail[:-20]
        m = pattern.search(line)
        if m:
            done += 1
            if progress:
                progress(min(done, total), total, m.group(1))


DUMPING_TABLE = re.compile(r'dumping contents of table "([^"]+)"')
RESTORING_TABLE = re.compile(r'processing data for table "([^"]+)"')


def run_tool(
    cmd: list[str],
    url: DatabaseURL,
    pattern: re.Pattern[str],
    total: int,
    progress: Progress | None,
    stdin: IO[Any] | int | None = None,
    stdout: IO[bytes] | int | None = None,
) -> None:
    """Run a client tool with its password in a 0600 file; fail with its last meaningful line."""
    tail: list[str] = []
    with child_env(url) as env:
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=stdout if stdout is not None else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        reader = threading.Thread(target=stream_progress, args=(proc.stderr, pattern, total, progress, tail))
        reader.start()
        code = proc.wait()
        reader.join()
    if code != 0:
        errors = (
            [ln for ln in tail if "error" in ln.lower() or "fatal" in ln.lower()] or tail or [f"exit {code}"]
        )
        raise OperationFailed(f"{Path(cmd[0]).name} failed: {bus.scrub(errors[-1])}")


def create_backups(
    url: DatabaseURL,
    directory: Path,
    kinds: tuple[str, ...] = ("full",),
    *,
    fmt: str = "custom",
    jobs: int = 1,
    compression: str | None = None,
    pg_version: int | None = None,
    label: str | None = None,
    progress: Progress | None = None,
) -> list[Backup]:
    """One pg_dump per kind, all from one exported snapshot, each with its manifest."""
    if fmt not in EXTENSIONS:
        raise BadInput(f"unknown format {fmt!r}", "use custom, directory or plain")
    if jobs > 1 and fmt != "directory":
        raise BadInput(
            "--jobs needs --format directory", "pg_dump dumps tables in parallel only into a directory"
        )
    for kind in kinds:
        if kind not in KINDS:
            raise BadInput(f"unknown backup kind {kind!r}", "use full, schema, data or all")
    backups = []
    with connect(url, application_name="mandala-db:backup") as conn:
        major, version, dbname, schema = _server_facts(conn)
        pg_dump, _ = find_pair(major, pg_version)
        compress_args, compression_text = _compression_args(compression, pg_dump, fmt)
        with conn.transaction():
            # One snapshot for every dump of this run and for the manifest's counts: they all agree.
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            row = conn.execute("SELECT pg_export_snapshot()").fetchone()
            assert row is not None
            snapshot = str(row[0])
            snap = catalog.take(conn, schema)
            head = None
            if conn.execute("SELECT to_regclass('alembic_version') IS NOT NULL").fetchone() == (True,):
                found = conn.execute("SELECT version_num FROM alembic_version").fetchone()
                head = found[0] if found else None
            # The exact row counts are read in the same snapshot while pg_dump runs, not before it.
            counted: dict[str, int] = {}

            def count_rows() -> None:
                for table in sorted(snap.tables):
                    found_rows = conn.execute(
                        f"SELECT count(*) FROM {quote_ident(schema)}.{quote_ident(table)}"
                    ).fetchone()
                    counted[table] = int(found_rows[0]) if found_rows else 0

            counter = threading.Thread(target=count_rows)
            counter.start()

            def counts() -> dict[str, int]:
                counter.join()
                return counted

            for kind in kinds:
                backups.append(
                    _dump_one(
                        url,
                        directory,
                        kind,
                        label or kind,
                        fmt,
                        jobs,
                        pg_dump,
                        compress_args,
                        compression_text,
                        snapshot,
                        version,
                        dbname,
                        head,
                        snap.fingerprint,
                        len(snap.tables),
                        counts,
                        schema,
                        progress,
                    )
                )
    return backups


def _dump_one(
    url: DatabaseURL,
    directory: Path,
    kind: str,
    label: str,
    fmt: str,
    jobs: int,
    pg_dump: ClientTool,
    compress_args: list[str],
    compression: str,
    snapshot: str,
    version: str,
    dbname: str,
    head: str | None,
    fingerprint: str,
    snap_tables: int,
    counts: Callable[[], dict[str, int]],
    schema: str,
    progress: Progress | None,
) -> Backup:
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    target = directory / kind
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{label}_backup_{started_at:%Y%m%d_%H%M%S}{EXTENSIONS[fmt]}"
    n = 0
    while path.exists() or BackupManifest.path_for(path).exists():  # two backups in one second
        n += 1
        path = target / f"{label}_backup_{started_at:%Y%m%d_%H%M%S}_{n}{EXTENSIONS[fmt]}"
    cmd = [
        str(pg_dump.path),
        f"--format={fmt}",
        f"--file={path}",
        f"--snapshot={snapshot}",
        "--verbose",
        *compress_args,
        f"--dbname={conninfo(url)}",
    ]
    if kind == "schema":
        cmd.append("--schema-only")
    elif kind == "data":
        cmd.append("--data-only")
    if fmt == "directory" and jobs > 1:
        cmd.append(f"--jobs={jobs}")
    if fmt == "plain" and kind != "data":
        cmd += ["--clean", "--if-exists"]  # so a plain script can replace what a non-empty target holds
    bus.info(
        "backup_start",
        f"backup started: {kind} to {path} with {pg_dump.name} {pg_dump.version}",
        kind=kind,
        format=fmt,
    )
    try:
        run_tool(cmd, url, DUMPING_TABLE, 0 if kind == "schema" else snap_tables, progress)
    except OperationFailed:
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
        raise
    files = file_entries(path)
    finished_at = datetime.now(UTC)
    manifest = BackupManifest(
        tool=f"mandala-db {__version__}",
        pg_dump_version=pg_dump.version,
        server_version=version,
        database=dbname,
        host=url.host_label,
        kind=kind,
        label=label,
        format=fmt,
        compression=compression,
        started_at=started_at.isoformat(),
        finished_at=finished_at.isoformat(),
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
        size=sum(f["size"] for f in files.values()),
        files=files,
        head_revision=head,
        schema_fingerprint=fingerprint,
        row_counts=counts() if kind != "schema" else {},
        snapshot=snapshot,
        schema=schema,
    )
    manifest.save(path)
    bus.info(
        "backup_complete",
        f"backup complete: {path} ({manifest.size:,} bytes)",
        duration_ms=manifest.duration_ms,
        kind=kind,
        size=manifest.size,
    )
    return Backup(path, manifest)


def create_backup(url: DatabaseURL, directory: Path, *, label: str = "full", kind: str = "full") -> Backup:
    """The single full backup taken before `migrate prod`, a destructive rollback or a restore."""
    return create_backups(url, directory, (kind,), label=label)[0]


# -- verification ---------------------------------------------------------------------------------------


def check_files(path: Path, manifest: BackupManifest) -> None:
    """Every file's sha256 against the manifest: truncation and bit flips are caught before anything else."""
    if not path.exists():
        raise BadInput(f"{path} does not exist")
    actual = file_entries(path)
    if path.is_file() and len(manifest.files) == 1:
        # A single-file backup may have been renamed or copied elsewhere: its bytes are what count.
        actual = {next(iter(manifest.files)): next(iter(actual.values()))}
    if set(actual) != set(manifest.files):
        missing = sorted(set(manifest.files) - set(actual))
        extra = sorted(set(actual) - set(manifest.files))
        raise BadInput(
            f"{path} does not match its manifest (missing {missing or 'none'}, unexpected {extra or 'none'})",
            "this backup is incomplete; use another one",
        )
    for name, entry in manifest.files.items():
        if actual[name]["size"] != entry["size"]:
            raise BadInput(
                f"{name} is {actual[name]['size']:,} bytes, its manifest says {entry['size']:,}: "
                "the file is truncated or was changed",
                "use another backup",
            )
        if actual[name]["sha256"] != entry["sha256"]:
            raise BadInput(
                f"{name} fails its sha256 check: the file is corrupt or was changed", "use another backup"
            )


def read_all(path: Path, manifest: BackupManifest) -> None:
    """Read every block back: `pg_restore -l` only reads the table of contents, so it cannot catch damage."""
    if manifest.format == "plain":
        text = path.read_bytes()
        if b"PostgreSQL database dump complete" not in text[-4096:]:
            raise BadInput(f"{path} is not a complete pg_dump script (its closing line is missing)")
        return
    _, pg_restore = restore_tool(manifest)
    proc = subprocess.run(
        [str(pg_restore.path), "--file=/dev/null", str(path)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        raise BadInput(
            f"{path} cannot be read back: {lines[-1] if lines else 'pg_restore failed'}",
            "the archive is damaged; use another backup",
        )


def restore_tool(manifest: BackupManifest) -> tuple[int, ClientTool]:
    """A pg_restore that can read this archive: at least as new as the pg_dump that wrote it."""
    m = re.match(r"(\d+)", manifest.pg_dump_version)
    dump_major = int(m.group(1)) if m else 0
    try:
        return dump_major, find_client("pg_restore", dump_major)
    except OperationFailed as exc:
        raise OperationFailed(
            f"this backup was written by pg_dump {manifest.pg_dump_version}, and pg_restore can only read archives "
            f"from its own version or older: {exc.message}",
            exc.hint,
        ) from None


def verify(
    url: DatabaseURL | None, path: Path, *, restore: bool = False, progress: Progress | None = None
) -> dict[str, Any]:
    """sha256 of every file, a full read; with restore, a restore into a scratch database compared with
    the manifest's schema fingerprint and row counts. The result is recorded in the manifest."""
    manifest = BackupManifest.load(path)
    started = time.perf_counter()
    check_files(path, manifest)
    read_all(path, manifest)
    result: dict[str, Any] = {"at": datetime.now(UTC).isoformat(), "kind": "read", "ok": True}
    if restore:
        if url is None:
            raise BadInput("verify --restore needs a database server to restore into")
        result = {**result, "kind": "restore", **_verify_by_restore(url, path, manifest, progress)}
    result["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    manifest.verifications.append(result)
    manifest.save(path)
    if not result["ok"]:
        raise CheckFailed(
            f"{path} restored, but does not match its manifest: {'; '.join(result['problems'][:3])}",
            "do not rely on this backup",
        )
    return result


def _verify_by_restore(
    url: DatabaseURL, path: Path, manifest: BackupManifest, progress: Progress | None
) -> dict[str, Any]:
    from mandala_db.ops.restore import restore_into_new_database

    scratch = f"mandala_verify_{datetime.now(UTC):%Y%m%d%H%M%S}_{time.monotonic_ns() % 100000}"
    problems: list[str] = []
    from mandala_db.ops.restore import CHECK_MARKER

    try:
        restore_into_new_database(url, scratch, path, manifest, progress)
        # Rows and revision were checked inside the restore's transaction; the schema is checked here.
        with connect(url.with_database(scratch), application_name="mandala-db:verify") as conn:
            problems = compare_with_manifest(conn, manifest, counts=False)
    except OperationFailed as exc:
        if CHECK_MARKER not in exc.message:
            raise
        problems = [exc.message.split(CHECK_MARKER, 1)[1].strip()]
    finally:
        with connect(url.with_database("postgres"), application_name="mandala-db:verify") as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(scratch)} WITH (FORCE)")
    return {"ok": not problems, "problems": problems, "scratch_database": scratch}


def compare_with_manifest(
    conn: psycopg.Connection[Any], manifest: BackupManifest, *, counts: bool = True
) -> list[str]:
    """What a restored database must show: the revision, the schema fingerprint, every table's rows."""
    problems = []
    schema_row = conn.execute("SELECT current_schema()").fetchone()
    schema = str(schema_row[0]) if schema_row and schema_row[0] else "public"
    if manifest.kind in ("full", "schema"):
        fingerprint = catalog.take(conn, schema).fingerprint
        if fingerprint != manifest.schema_fingerprint:
            problems.append("the schema fingerprint differs from the manifest's")
        # The revision is a row of alembic_version: a schema-only backup has the table, not the row.
        if manifest.kind == "full" and conn.execute(
            "SELECT to_regclass('alembic_version') IS NOT NULL"
        ).fetchone() == (True,):
            found = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            if (found[0] if found else None) != manifest.head_revision:
                problems.append(
                    f"revision {found[0] if found else None}, the manifest says {manifest.head_revision}"
                )
    for table, expected in sorted(manifest.row_counts.items()) if counts else ():
        row = conn.execute(f"SELECT count(*) FROM {quote_ident(schema)}.{quote_ident(table)}").fetchone()
        actual = int(row[0]) if row else 0
        if actual != expected:
            problems.append(f"{table} has {actual:,} rows, the manifest says {expected:,}")
    return problems


# -- statistics and retention -----------------------------------------------------------------------------


def stats(directory: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    backups = find_backups(directory)
    for kind in KINDS:
        mine = [(p, m) for p, m in backups if m.kind == kind]
        verified = [m.last_verified["at"] for _, m in mine if m.last_verified]
        out[kind] = {
            "count": len(mine),
            "total_size": sum(m.size for _, m in mine),
            "newest": mine[0][1].started_at if mine else None,
            "oldest": mine[-1][1].started_at if mine else None,
            "last_verified": max(verified) if verified else None,
        }
    return out


@dataclass
class CleanupPlan:
    delete: list[tuple[Path, BackupManifest]]
    keep: list[tuple[Path, BackupManifest, str]]  # with the rule that keeps it


def cleanup_plan(directory: Path, retention_days: int, keep: int, now: datetime | None = None) -> CleanupPlan:
    """Older than the retention is deleted, except the newest `keep` of each kind and the newest verified."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=retention_days)
    plan = CleanupPlan([], [])
    for kind in KINDS:
        mine = [(p, m) for p, m in find_backups(directory) if m.kind == kind]  # newest first
        newest_verified = next((p for p, m in mine if m.last_verified), None)
        for i, (path, manifest) in enumerate(mine):
            if i < keep:
                plan.keep.append((path, manifest, f"one of the newest {keep}"))
            elif path == newest_verified:
                plan.keep.append((path, manifest, "the newest verified backup"))
            elif manifest.started >= cutoff:
                plan.keep.append((path, manifest, f"younger than {retention_days} days"))
            else:
                plan.delete.append((path, manifest))
    return plan


def apply_cleanup(plan: CleanupPlan) -> None:
    for path, _ in plan.delete:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
        BackupManifest.path_for(path).unlink(missing_ok=True)
        bus.info("backup_deleted", f"deleted {path} (older than the retention)")
