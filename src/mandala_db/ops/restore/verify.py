"""`backup verify`: what a backup must prove before it is trusted. The sha256 of every file, the signature
of its manifest (when a key is configured), the digest of its table of contents against the one recorded
when it was written, a full read of every block (plain scripts: read through the guard), and with
--restore a restore into a scratch database that is checked inside its own transaction. The outcome, good
or bad, is recorded in the manifest, which `restore list` shows and `backup cleanup` honours."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mandala_db.core.database import Database, quote_ident
from mandala_db.core.errors import BadInput, CheckFailed, MandalaError
from mandala_db.core.process import Progress, capture
from mandala_db.core.progress import Bars, no_bars
from mandala_db.ops.backup import BackupManifest, restore_tool
from mandala_db.ops.restore.apply import prove_file, restore_into_new_database
from mandala_db.ops.restore.guard import scan_file
from mandala_db.ops.restore.scratch import drop_leftover_scratch, scratch_name
from mandala_db.ops.restore.session import CHECK_MARKER


def read_all(path: Path, manifest: BackupManifest) -> None:
    """Read every block back: `pg_restore -l` only reads the table of contents, so it cannot catch damage."""
    if manifest.format == "plain":
        scan_file(path)  # nothing a psql meta-command could do gets past here
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - 4096))
            if b"PostgreSQL database dump complete" not in f.read():
                raise BadInput(f"{path} is not a complete pg_dump script (its closing line is missing)")
        return
    _, pg_restore = restore_tool(manifest)
    code, _, last = capture([str(pg_restore.path), "--file=/dev/null", str(path)])
    if code != 0:
        raise BadInput(
            f"{path} cannot be read back: {last or 'pg_restore failed'}",
            "the archive is damaged; use another backup",
        )


def verify(db: Database | None, path: Path, *, restore: bool = False, bars: Bars = no_bars) -> dict[str, Any]:
    """Prove the backup; with restore, restore it into a scratch database too. Recorded either way."""
    manifest = BackupManifest.load(path, authenticate=True)
    if restore and db is None:
        raise BadInput("verify --restore needs a database server to restore into")
    started = time.perf_counter()
    result: dict[str, Any] = {"at": datetime.now(UTC).isoformat(), "kind": "restore" if restore else "read"}
    try:
        prove_file(path, manifest)
        read_all(path, manifest)
        if restore:
            assert db is not None
            with bars(0, f"verify {path.name}") as bar:
                result["scratch_database"] = _restore_into_scratch(
                    db, path, manifest, bar.tables if bar else None
                )
        result["ok"] = True
    except MandalaError as exc:
        result.update(ok=False, problems=[exc.message])
        raise
    finally:
        result["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
        if "ok" in result:  # a tool missing or an interrupted run says nothing about the backup
            manifest.verifications.append(result)
            manifest.save(path)
    return result


def _restore_into_scratch(
    db: Database, path: Path, manifest: BackupManifest, progress: Progress | None
) -> str:
    drop_leftover_scratch(db, "verify")  # a copy a killed verification left goes first
    scratch = scratch_name(db, "verify")
    try:
        restore_into_new_database(db, scratch, path, manifest, progress)
    except CheckFailed as exc:
        raise CheckFailed(
            f"{path} restored, but does not match its manifest: {exc.message.split(CHECK_MARKER)[-1].strip()}",
            "do not rely on this backup",
        ) from None
    finally:
        with db.on("postgres").connect() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(scratch)} WITH (FORCE)")
    return scratch
