"""What the backup folder holds over time: statistics, and retention (old backups deleted by rule, dumps
that a kill cut short swept once they are clearly abandoned)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mandala_db.core.events import bus
from mandala_db.ops.backup.manifest import BACKUP_NAME, KINDS, BackupManifest, find_backups, remove_files

# A dump still being written is younger than this; anything older without a manifest was abandoned.
LEFTOVER_AGE_S = 3600


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
        if mine:
            age = (datetime.now(UTC) - datetime.fromisoformat(mine[0][1].started_at)).total_seconds()
            bus.debug(
                "backup_age",
                f"the newest {kind} backup is {age / 3600:.1f} h old",
                kind=kind,
                age_s=round(age),
            )
    return out


@dataclass
class CleanupPlan:
    delete: list[tuple[Path, BackupManifest]]
    keep: list[tuple[Path, BackupManifest, str]]  # with the rule that keeps it
    leftovers: list[Path]  # dumps without a manifest, older than an hour: cut short by a kill or a crash

    def to_dict(self, dry_run: bool) -> dict[str, Any]:
        return {
            "dry_run": dry_run,
            "deleted" if not dry_run else "would_delete": [str(p) for p, _ in self.delete],
            "kept": [{"path": str(p), "why": why} for p, _, why in self.keep],
            "leftovers_deleted" if not dry_run else "would_delete_leftovers": [
                str(p) for p in self.leftovers
            ],
        }


def leftovers(directory: Path, now: float | None = None) -> list[Path]:
    """Files named as this tool names backups, with no manifest beside them, untouched for an hour."""
    now = now if now is not None else time.time()
    found = []
    for kind in KINDS:
        for path in sorted((directory / kind).glob("*_backup_*")):
            if (
                BACKUP_NAME.match(path.name)
                and not BackupManifest.path_for(path).exists()
                and now - path.stat().st_mtime > LEFTOVER_AGE_S
            ):
                found.append(path)
    return found


def cleanup_plan(directory: Path, retention_days: int, keep: int, now: datetime | None = None) -> CleanupPlan:
    """Older than the retention is deleted, except the newest `keep` of each kind and the newest verified."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=retention_days)
    plan = CleanupPlan([], [], leftovers(directory, now.timestamp()))
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
        remove_files(path)
        BackupManifest.path_for(path).unlink(missing_ok=True)
        bus.info("backup_deleted", f"deleted {path} (older than the retention)")
    for path in plan.leftovers:
        remove_files(path)
        bus.info("backup_leftover_deleted", f"deleted {path} (a dump without a manifest, cut short)")
