"""Restores that cannot make things worse: the file is proved good before the target is touched, a non-empty
target is backed up first, and the restore runs as one transaction, so a failure leaves it exactly as it was."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mandala_db.core.config import DatabaseURL
from mandala_db.core.database import connect, ensure_database, quote_ident
from mandala_db.core.errors import CheckFailed, OperationFailed
from mandala_db.core.events import bus
from mandala_db.core.passfile import conninfo
from mandala_db.core.tools import find_client
from mandala_db.ops.backup import (
    RESTORING_TABLE,
    Backup,
    Progress,
    check_files,
    compare_with_manifest,
    create_backup,
    restore_tool,
    run_tool,
    stream_progress,
)
from mandala_db.ops.backup.manifest import BackupManifest

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


def user_tables(url: DatabaseURL) -> list[str]:
    with connect(url, application_name="mandala-db:restore") as conn:
        rows = conn.execute(
            """SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                 AND n.nspname NOT LIKE 'pg\\_%'"""
        ).fetchall()
    return [r[0] for r in rows]


def _psql_atomic(manifest: BackupManifest) -> list[str]:
    """psql that runs everything it is given as one transaction and stops at the first error."""
    psql = find_client("psql", restore_tool(manifest)[0])
    return [str(psql.path), "-X", "-q", "--single-transaction", "-v", "ON_ERROR_STOP=1"]


CHECK_MARKER = "mandala-db check:"


def _check_sql(manifest: BackupManifest) -> str:
    """Runs last, inside the restore's transaction: the rows and the revision the manifest promises, or
    an exception that rolls the whole restore back. Counting here is also cheaper than after the commit,
    when the first read of every fresh row would have to set its hint bits."""
    expected = json.dumps(manifest.row_counts).replace("'", "''")
    schema = manifest.schema.replace("'", "''")
    revision_check = ""
    if manifest.kind == "full" and manifest.head_revision:
        revision_check = f"""
    IF to_regclass(format('%I.alembic_version', '{schema}')) IS NOT NULL THEN
        EXECUTE format('SELECT max(version_num) FROM %I.alembic_version', '{schema}') INTO revision;
        IF revision IS DISTINCT FROM '{manifest.head_revision}' THEN
            RAISE EXCEPTION '{CHECK_MARKER} the restored revision is %, the manifest says {manifest.head_revision}',
                coalesce(revision, 'none');
        END IF;
    END IF;"""
    return f"""DO $mandala_check$
DECLARE
    item record;
    found bigint;
    revision text;
BEGIN
    FOR item IN SELECT key, value::bigint AS want FROM jsonb_each_text('{expected}'::jsonb) LOOP
        EXECUTE format('SELECT count(*) FROM %I.%I', '{schema}', item.key) INTO found;
        IF found <> item.want THEN
            RAISE EXCEPTION '{CHECK_MARKER} % has % rows after the restore, the manifest says %',
                item.key, found, item.want;
        END IF;
    END LOOP;{revision_check}
END
$mandala_check$"""


def _apply(url: DatabaseURL, path: Path, manifest: BackupManifest, progress: Progress | None) -> None:
    """One psql transaction: the SQL of the backup, then the manifest check. Any error, in the SQL or in
    the check, rolls every statement back, the drops of --clean included."""
    total = len(manifest.row_counts)
    bus.info("restore_start", f"restore started: {path} into {url.dbname}", kind=manifest.kind)
    psql = [*_psql_atomic(manifest), f"--dbname={conninfo(url)}"]
    check = ["-c", _check_sql(manifest)]
    if manifest.format == "plain":
        run_tool([*psql, f"--file={path}", *check], url, RESTORING_TABLE, total, progress)
        return
    _, pg_restore = restore_tool(manifest)
    prologue: list[str] = []
    producer_cmd = [str(pg_restore.path), "--verbose", "--no-owner", "--file=-"]
    listing: Path | None = None
    if manifest.kind == "data":
        # Data into existing tables: empty every table the archive has data for, then load. Tables the
        # target does not have (the tool's own bookkeeping of another history) are left out.
        toc = subprocess.run(
            [str(pg_restore.path), "--list", str(path)], capture_output=True, text=True
        ).stdout
        existing = set(user_tables(url))
        keep, names = [], []
        for line in toc.splitlines():
            m = _TABLE_DATA.search(line)
            if m and f"{m.group(1)}.{m.group(2)}" not in existing:
                continue
            if m:
                names.append(f"{quote_ident(m.group(1))}.{quote_ident(m.group(2))}")
            keep.append(line)
        listing = Path(tempfile.mkstemp(prefix="mandala-toc-")[1])
        listing.write_text("\n".join(keep) + "\n")
        prologue = ["-c", f"TRUNCATE {', '.join(sorted(names))} CASCADE"] if names else []
        producer_cmd += ["--data-only", "--disable-triggers", f"--use-list={listing}"]
    else:
        producer_cmd += ["--clean", "--if-exists"]
    producer = subprocess.Popen(
        [*producer_cmd, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert producer.stdout is not None and producer.stderr is not None
    # pg_restore's --verbose lines (one per table) drive the progress; psql's errors decide the outcome.
    tail: list[str] = []
    reader = threading.Thread(
        target=stream_progress, args=(producer.stderr, RESTORING_TABLE, total, progress, tail)
    )
    reader.start()
    try:
        run_tool(
            [*psql, *prologue, "-f", "-", *check], url, RESTORING_TABLE, total, None, stdin=producer.stdout
        )
    finally:
        producer.stdout.close()
        code = producer.wait()
        reader.join()
        if listing is not None:
            listing.unlink()
    if code != 0:
        raise OperationFailed(f"pg_restore could not read {path}: {tail[-1] if tail else f'exit {code}'}")


def restore_into_new_database(
    url: DatabaseURL, name: str, path: Path, manifest: BackupManifest, progress: Progress | None = None
) -> None:
    if not ensure_database(url.with_database("postgres"), name, application_name="mandala-db:restore"):
        raise OperationFailed(f"database {name} already exists")
    if manifest.kind == "data":
        # Data needs its schema: the history builds exactly the one of the revision the backup was taken at.
        from mandala_db.ops.migrate import build_schema

        build_schema(url.with_database(name), manifest.head_revision)
    _apply(url.with_database(name), path, manifest, progress)


def restore(
    url: DatabaseURL,
    path: Path,
    *,
    target_db: str | None,
    backup_dir: Path,
    confirm: Callable[[str], None],
    progress: Progress | None = None,
) -> RestoreResult:
    """Verify, confirm, back up the target, restore in one transaction, then check against the manifest."""
    started = time.perf_counter()
    manifest = BackupManifest.load(path)
    # A bad file never touches the database: every byte is checked against the manifest's sha256 first.
    # A matching file is the very one pg_dump wrote; reading it all again here would only repeat the
    # restore's own read, which runs in one transaction and leaves the target as it was if it fails.
    check_files(path, manifest)
    target = url.with_database(target_db) if target_db else url
    name = target.dbname or "postgres"
    created = (
        ensure_database(url.with_database("postgres"), name, application_name="mandala-db:restore")
        if target_db
        else False
    )
    pre = None
    tables = [] if created else user_tables(target)
    if tables:
        confirm(
            f"Restore {path.name} into {target}, which holds {len(tables)} table(s): its objects are replaced"
        )
        pre = create_backup(target, backup_dir, label="pre_restore")
    try:
        _apply(target, path, manifest, progress)
    except OperationFailed as exc:
        if CHECK_MARKER in exc.message:
            raise CheckFailed(
                "the restored data did not match the manifest, so the restore was rolled back and "
                f"{name} is exactly as it was: {exc.message.split(CHECK_MARKER, 1)[1].strip()}",
                "do not rely on this backup",
            ) from exc
        raise OperationFailed(
            f"the restore failed and was rolled back; {name} is exactly as it was: {exc.message}",
            f"the pre-restore backup is {pre.path}" if pre else None,
        ) from exc
    with connect(target, application_name="mandala-db:restore") as conn:
        problems = compare_with_manifest(conn, manifest, counts=False)
    result = RestoreResult(name, path, pre, (time.perf_counter() - started) * 1000, problems)
    bus.info("restore_complete", f"restore complete: {path.name} into {name}", duration_ms=result.duration_ms)
    if problems:
        raise CheckFailed(
            f"restored into {name}, but it does not match the manifest: {'; '.join(problems[:3])}",
            f"the pre-restore backup is {pre.path}" if pre else "check the target database",
        )
    return result
