"""The manifest beside every backup (`<file>.manifest.json`): what was dumped, from where, by which tools,
the sha256 of every file, the schema and row counts it must restore to, and every verification since."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mandala_db.core.errors import BadInput

TOOL_PREFIX = "mandala-db"
KINDS = ("full", "schema", "data")
EXTENSIONS = {"custom": ".dump", "directory": ".dir", "plain": ".sql"}


@dataclass
class BackupManifest:
    tool: str
    pg_dump_version: str
    server_version: str
    database: str
    host: str
    kind: str
    label: str
    format: str
    compression: str
    started_at: str
    finished_at: str
    duration_ms: float
    size: int
    files: dict[str, dict[str, Any]]  # relative path -> {sha256, size}
    head_revision: str | None
    schema_fingerprint: str
    row_counts: dict[str, int]
    snapshot: str | None = None
    schema: str = "public"  # the application schema the row counts are of
    verifications: list[dict[str, Any]] = field(default_factory=list)
    s3: dict[str, Any] | None = None

    @staticmethod
    def path_for(backup: Path) -> Path:
        return backup.with_name(backup.name + ".manifest.json")

    @classmethod
    def load(cls, backup: Path) -> BackupManifest:
        path = cls.path_for(backup)
        if not path.exists():
            raise BadInput(
                f"{backup} has no manifest ({path.name})",
                "only backups written by mandala-db, with their manifest beside them, can be trusted",
            )
        try:
            data = json.loads(path.read_text())
            return cls(**data)
        except (ValueError, TypeError) as exc:
            raise BadInput(f"the manifest {path} is unreadable: {exc}") from None

    def save(self, backup: Path) -> Path:
        path = self.path_for(backup)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n")
        tmp.replace(path)  # never a half-written manifest
        return path

    @property
    def started(self) -> datetime:
        return datetime.fromisoformat(self.started_at)

    @property
    def last_verified(self) -> dict[str, Any] | None:
        good = [v for v in self.verifications if v.get("ok")]
        return good[-1] if good else None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_entries(backup: Path) -> dict[str, dict[str, Any]]:
    """sha256 and size of the backup file, or of every file of a directory-format backup."""
    if backup.is_dir():
        return {
            str(p.relative_to(backup.parent)): {"sha256": sha256_file(p), "size": p.stat().st_size}
            for p in sorted(backup.rglob("*"))
            if p.is_file()
        }
    return {backup.name: {"sha256": sha256_file(backup), "size": backup.stat().st_size}}


def is_ours(backup: Path) -> bool:
    """Cleanup touches only what this tool wrote: a backup with a readable manifest that says so."""
    try:
        return BackupManifest.load(backup).tool.startswith(TOOL_PREFIX)
    except BadInput:
        return False


def find_backups(directory: Path) -> list[tuple[Path, BackupManifest]]:
    """Every backup with a manifest under directory/{full,schema,data}, newest first."""
    found = []
    for kind in KINDS:
        for manifest_path in sorted((directory / kind).glob("*.manifest.json")):
            backup = manifest_path.with_name(manifest_path.name.removesuffix(".manifest.json"))
            if not backup.exists():
                continue
            try:
                found.append((backup, BackupManifest.load(backup)))
            except BadInput:
                continue
    return sorted(found, key=lambda item: item[1].started_at, reverse=True)
