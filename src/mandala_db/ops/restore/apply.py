"""Restores that cannot make things worse: the file is proved good before the target is touched, a
non-empty target is backed up first, and the restore runs as one transaction that commits only when
pg_restore finished cleanly and the result matches the manifest (rows, revision, schema fingerprint)."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mandala_db.core.blockers import LockPolicy, backoff, blockers_anywhere, describe, is_lock_timeout
from mandala_db.core.database import Database, ensure_database, quote_ident
from mandala_db.core.errors import BadInput, CheckFailed, OperationFailed
from mandala_db.core.events import bus
from mandala_db.core.process import RESTORING_TABLE, Progress, ToolProcess, capture, memory_file
from mandala_db.core.progress import Bars, no_bars
from mandala_db.core.tools import ClientTool, find_client
from mandala_db.ops.backup import Backup, BackupManifest, check_files, check_toc, create_backup, restore_tool
from mandala_db.ops.restore.guard import ScriptGuard, scan_file
from mandala_db.ops.restore.session import (
    CHECK_MARKER,
    PsqlGone,
    RestoreTransaction,
    check_sql,
    clear_schema_sql,
    lock_tables_sql,
)

_TABLE_DATA = re.compile(r"TABLE DATA (\S+) (\S+) ")


@dataclass
class RestoreResult:
    target: str
    backup: Path
    pre_restore_backup: Backup | None
    duration_ms: float
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "backup": str(self.backup),
            "pre_restore_backup": self.pre_restore_backup.to_dict() if self.pre_restore_backup else None,
            "duration_ms": round(self.duration_ms, 1),
            "problems": self.problems,
        }


def user_tables(db: Database) -> list[str]:
    with db.connect() as conn:
        rows = conn.execute(
            """SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                 AND n.nspname NOT LIKE 'pg\\_%'"""
        ).fetchall()
    return [r[0] for r in rows]


def _data_only_listing(db: Database, path: Path, pg_restore: Any) -> tuple[bytes, list[str]]:
    """Data into existing tables: the archive's list without the tables the target does not have (the
    tool's own bookkeeping of another history), and the tables to empty first."""
    code, toc, last = capture([str(pg_restore.path), "--list", str(path)])
    if code != 0:
        raise BadInput(f"{path} has an unreadable table of contents: {last}", "use another backup")
    existing = set(user_tables(db))
    keep, names = [], []
    for line in toc.decode("utf-8", "replace").splitlines():
        m = _TABLE_DATA.search(line)
        if m and f"{m.group(1)}.{m.group(2)}" not in existing:
            continue
        if m:
            names.append(f"{quote_ident(m.group(1))}.{quote_ident(m.group(2))}")
        keep.append(line)
    return ("\n".join(keep) + "\n").encode(), sorted(names)


def _apply_retrying(
    db: Database, path: Path, manifest: BackupManifest, progress: Progress | None, locks: LockPolicy
) -> None:
    """`_apply`, again after a backoff when it gave up for want of a lock (it changed nothing then)."""
    for attempt in range(1, max(1, locks.tries) + 1):
        try:
            _apply(db, path, manifest, progress, locks.timeout)
            return
        except OperationFailed as exc:
            if not is_lock_timeout(exc.message):
                raise
            if attempt < locks.tries:
                pause = backoff(attempt)
                bus.warning(
                    "lock_timeout",
                    f"restore into {db.url.dbname}: a table is locked by another session; try {attempt} of "
                    f"{locks.tries}, again in {pause:.1f} s",
                    attempt=attempt,
                )
                time.sleep(pause)
                continue
            with db.connect(suffix=":blockers") as conn:
                holders = blockers_anywhere(conn)
            raise OperationFailed(
                f"could not lock the tables of {db.url.dbname} in {locks.tries} tries (lock_timeout "
                f"{locks.timeout} each): blocked by {describe(holders)}",
                "end or wait for that session, then run again",
            ) from None


def _apply(
    db: Database, path: Path, manifest: BackupManifest, progress: Progress | None, lock_timeout: str = "5s"
) -> None:
    """The backup's SQL in one transaction of ours, then the manifest check, then COMMIT; any failure on
    the way (a damaged archive, an SQL error, a check, a refused meta-command, a kill) commits nothing."""
    bus.info("restore_start", f"restore started: {path} into {db.url.dbname}", kind=manifest.kind)
    dump_major, pg_restore = restore_tool(manifest)
    psql = find_client("psql", dump_major)
    guard = ScriptGuard(str(path))
    tx = RestoreTransaction(db, psql)
    try:
        try:
            tx.begin()
            tx.write(lock_tables_sql(lock_timeout).encode())
            if manifest.kind in ("full", "schema"):
                tx.write(clear_schema_sql(manifest.schema).encode())
            if manifest.format == "plain":
                with path.open("rb") as script:
                    tx.pump(script, guard)
            else:
                _pump_archive(db, tx, path, manifest, pg_restore, guard, progress)
            snapshot = tx.check(
                check_sql(
                    manifest.row_counts,
                    manifest.schema,
                    manifest.head_revision if manifest.kind == "full" else None,
                ),
                manifest.schema,
            )
            if manifest.kind in ("full", "schema") and snapshot.fingerprint != manifest.schema_fingerprint:
                raise CheckFailed(
                    f"{CHECK_MARKER} the restored schema's fingerprint differs from the manifest's "
                    "(objects are missing or changed)"
                )
            tx.commit()
        except PsqlGone:
            why = tx.failure()
            raise (CheckFailed if CHECK_MARKER in why else OperationFailed)(why) from None
    finally:
        tx.abort()


def _pump_archive(
    db: Database,
    tx: RestoreTransaction,
    path: Path,
    manifest: BackupManifest,
    pg_restore: ClientTool,
    guard: ScriptGuard,
    progress: Progress | None,
) -> None:
    """pg_restore turns the archive into SQL for our session; it never connects to the database itself,
    and it is killed with the restore whatever ends it."""
    producer: ToolProcess | None = None
    try:
        cmd = [str(pg_restore.path), "--verbose", "--no-owner", "--file=-"]
        listing = b""
        if manifest.kind == "data":
            listing, names = _data_only_listing(db, path, pg_restore)
            if names:
                tx.write(f"TRUNCATE {', '.join(names)} CASCADE;\n".encode())
            cmd += ["--data-only", "--disable-triggers"]
        else:
            cmd += ["--clean", "--if-exists"]
        with memory_file(listing, "mandala-toc") as (list_path, list_fd):
            if manifest.kind == "data":
                cmd.append(f"--use-list={list_path}")
            producer = ToolProcess(
                [*cmd, str(path)],
                stdout=subprocess.PIPE,
                pattern=RESTORING_TABLE,
                total=len(manifest.row_counts),
                progress=progress,
                pass_fds=(list_fd,) if manifest.kind == "data" else (),
            )
        tx.pump(producer.stdout, guard)
        code = producer.wait()
        if code != 0:
            raise BadInput(
                f"pg_restore could not read {path}: {producer.error_line(code)}; the restore was "
                f"rolled back and {db.url.dbname} is exactly as it was",
                "the archive is damaged; use another backup",
            )
    finally:
        if producer is not None:
            producer.kill()


def restore_into_new_database(
    db: Database, name: str, path: Path, manifest: BackupManifest, progress: Progress | None = None
) -> None:
    if not ensure_database(db.on("postgres"), name):
        raise OperationFailed(f"database {name} already exists")
    if manifest.kind == "data":
        # Data needs its schema: the history builds exactly the one of the revision the backup was taken at.
        from mandala_db.ops.migrate import build_schema

        build_schema(db.on(name), manifest.head_revision)
    _apply_retrying(db.on(name), path, manifest, progress, LockPolicy())


def check_target_name(name: str | None) -> None:
    """A database name as PostgreSQL reads an unquoted identifier, and 63 bytes at most: anything else
    (an empty name would restore over the source) is surely a mistake."""
    if name is None:
        return
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", name) or len(name.encode()) > 63:
        raise BadInput(
            f"--target-db {name!r} is not a database name"
            + (" (it is longer than 63 bytes)" if len(name.encode()) > 63 else ""),
            "use letters, digits and underscores, starting with a letter or underscore, at most 63 bytes",
        )


def prove_file(path: Path, manifest: BackupManifest) -> None:
    """What can be proved of the files without a server, cheapest first: every byte's sha256, then the
    table of contents against the digests recorded when the backup was written."""
    check_files(path, manifest)
    check_toc(path, manifest)


def prove(path: Path) -> BackupManifest:
    """Before a target is touched: the manifest (and its signature), every byte's sha256, the table of
    contents against its recorded digest, and for a plain script every line it would make psql run."""
    manifest = BackupManifest.load(path, authenticate=True)
    prove_file(path, manifest)
    if manifest.format == "plain":
        scan_file(path)
    return manifest


def restore(
    db: Database,
    path: Path,
    *,
    target_db: str | None,
    backup_dir: Path,
    confirm: Callable[[str], None],
    bars: Bars = no_bars,
    locks: LockPolicy = LockPolicy(),
) -> RestoreResult:
    """Prove the file, confirm, back up the target, restore in one transaction checked before COMMIT."""
    check_target_name(target_db)
    started = time.perf_counter()
    manifest = prove(path)
    target = db.on(target_db) if target_db else db
    name = target.url.dbname or "postgres"
    admin = db.on("postgres")
    created = ensure_database(admin, name) if target_db else False
    pre = None
    try:
        try:
            tables = [] if created else user_tables(target)
            if tables:
                confirm(
                    f"Restore {path.name} into {target}, which holds {len(tables)} table(s): "
                    "its objects are replaced"
                )
                pre = create_backup(target, backup_dir, label="pre_restore")
            with bars(0, f"restore {path.name}") as bar:
                _apply_retrying(target, path, manifest, bar.tables if bar else None, locks)
        except (CheckFailed, OperationFailed) as exc:
            if not isinstance(exc, CheckFailed):
                raise OperationFailed(
                    f"the restore failed and was rolled back; {name} is exactly as it was: {exc.message}",
                    f"the pre-restore backup is {pre.path}" if pre else None,
                ) from exc
            raise CheckFailed(
                "the restored data did not match the manifest, so the restore was rolled back and "
                f"{name} is exactly as it was: {exc.message.split(CHECK_MARKER, 1)[-1].strip()}",
                "do not rely on this backup",
            ) from exc
    except BaseException:
        if created:  # the database this restore made for itself goes with it
            with admin.connect() as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")
        raise
    result = RestoreResult(name, path, pre, (time.perf_counter() - started) * 1000)
    bus.info("restore_complete", f"restore complete: {path.name} into {name}", duration_ms=result.duration_ms)
    return result
