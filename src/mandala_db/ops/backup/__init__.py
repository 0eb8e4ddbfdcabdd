"""Backups. `create_backup` is the public function other capabilities call (migrate prod, a destructive
rollback): one consistent pg_dump in custom format, a manifest with its checksum beside it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mandala_db import __version__
from mandala_db.core import catalog
from mandala_db.core.config import DatabaseURL
from mandala_db.core.database import connect, server_version
from mandala_db.core.errors import OperationFailed
from mandala_db.core.events import bus
from mandala_db.core.passfile import child_env, conninfo
from mandala_db.core.tools import find_client


@dataclass
class Backup:
    path: Path
    manifest: Path
    size: int
    sha256: str
    duration_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "manifest": str(self.manifest),
            "size": self.size,
            "sha256": self.sha256,
            "duration_ms": round(self.duration_ms, 1),
        }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def create_backup(url: DatabaseURL, directory: Path, *, label: str = "full", kind: str = "full") -> Backup:
    """Dump the whole database with a pg_dump at least as new as the server, then write the manifest."""
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    with connect(url, application_name="mandala-db:backup") as conn:
        version = server_version(conn)
        major_row = conn.execute(
            "SELECT current_setting('server_version_num')::int / 10000, current_database()"
        ).fetchone()
        assert major_row is not None
        major, dbname = int(major_row[0]), str(major_row[1])
        schema_row = conn.execute("SELECT current_schema()").fetchone()
        schema = str(schema_row[0]) if schema_row and schema_row[0] else "public"
        snap = catalog.take(conn, schema)
        head = None
        if conn.execute("SELECT to_regclass('alembic_version') IS NOT NULL").fetchone() == (True,):
            found = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            head = found[0] if found else None
        counts = {}
        for table in sorted(snap.tables):
            row = conn.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()
            counts[table] = int(row[0]) if row else 0
    pg_dump = find_client("pg_dump", major)
    target = directory / kind
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{label}_backup_{started_at:%Y%m%d_%H%M%S}.dump"
    bus.info("backup_start", f"backup started: {path} with {pg_dump.name} {pg_dump.version}", kind=kind)
    with child_env(url) as env:
        proc = subprocess.run(
            [str(pg_dump.path), "--format=custom", f"--file={path}", f"--dbname={conninfo(url)}"],
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
    if proc.returncode != 0:
        path.unlink(missing_ok=True)
        reason = bus.scrub(
            proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
        )
        raise OperationFailed(f"the backup failed, so nothing else was done: {reason}")
    finished_at = datetime.now(UTC)
    sha = _sha256(path)
    size = path.stat().st_size
    manifest = path.with_name(path.name + ".manifest.json")
    manifest.write_text(
        json.dumps(
            {
                "tool": f"mandala-db {__version__}",
                "pg_dump_version": pg_dump.version,
                "server_version": version,
                "database": dbname,
                "host": url.host_label,
                "kind": kind,
                "label": label,
                "format": "custom",
                "compression": "gzip (pg_dump default)",
                "started_at": started_at.isoformat(),
                "finished_at": finished_at.isoformat(),
                "duration_ms": round((finished_at - started_at).total_seconds() * 1000, 1),
                "size": size,
                "files": {path.name: {"sha256": sha, "size": size}},
                "head_revision": head,
                "schema_fingerprint": snap.fingerprint,
                "row_counts": counts,
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )
    elapsed = (time.perf_counter() - started) * 1000
    bus.info(
        "backup_complete",
        f"backup complete: {path} ({size:,} bytes)",
        duration_ms=elapsed,
        kind=kind,
        sha256=sha,
    )
    return Backup(path, manifest, size, sha, elapsed)
