"""What the backup folder holds over time: statistics, and retention (old backups deleted by rule, dumps
that a kill cut short swept once they are clearly abandoned)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mandala_db.core.events import bus
from mandala_db.core.owner import alive
from mandala_db.ops.backup.manifest import (
    BACKUP_NAME,
    DELETING,
    KINDS,
    MANIFEST_TMP,
    PARTIAL,
    BackupManifest,
    find_backups,
    remove_files,
)

# A dump still being written is younger than this; anything older without a manifest was abandoned.
LEFTOVER_AGE_S = 3600


def stats(directory: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    backups = find_backups(directory)
    for kind in KINDS:
        mine = [(p, m) for p, m in backups if m.kind == kind]
        verified = [m.last_verified["at"] for _, m in mine if m.last_verified]
        good = next((m for _, m in mine if m.trusted), None)
        out[kind] = {
            "count": len(mine),
            "total_size": sum(m.size for _, m in mine),
            "newest": mine[0][1].started_at if mine else None,
            "newest_good": good.started_at if good else None,
            "failed_verification": sum(1 for _, m in mine if not m.trusted),
            "oldest": mine[-1][1].started_at if mine else None,
            "last_verified": max(verified) if verified else None,
        }
        if mine:
            # The age that matters is the newest backup one could restore: a backup whose latest verification
            # failed does not count. With none good, recovery has been impossible since the oldest one.
            since = good.started_at if good else mine[-1][1].started_at
            age = (datetime.now(UTC) - datetime.fromisoformat(since)).total_seconds()
            bus.debug(
                "backup_age",
                f"the newest good {kind} backup is {age / 3600:.1f} h old"
                if good
                else f"no {kind} backup passed its latest verification ({len(mine)} found, the oldest "
                f"{age / 3600:.1f} h old)",
                kind=kind,
                age_s=round(age, 3),
            )
    return out


@dataclass
class CleanupPlan:
    delete: list[tuple[Path, BackupManifest]]
    keep: list[tuple[Path, BackupManifest, str]]  # with the rule that keeps it
    leftovers: list[Path]  # what killed runs left (see `leftovers`)

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
    """What killed runs left in the backup folder, once its owner is gone:
    - work in progress named with its pid (`<backup>.<pid>.partial`, `<backup>.<pid>.deleting`,
      `<manifest>.<pid>.tmp`) whose process no longer runs;
    - a manifest whose backup is gone, with no live dump on its way to that name;
    - older namings without a pid (a dump without a manifest, `.partial`, `.tmp`), untouched for an hour."""
    now = now if now is not None else time.time()
    found = []

    def old(path: Path) -> bool:
        try:
            return now - path.lstat().st_mtime > LEFTOVER_AGE_S
        except OSError:
            return False

    def owner_gone(pid: str | None, path: Path) -> bool:
        return not alive(int(pid)) if pid else old(path)

    for kind in KINDS:
        folder = directory / kind
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            name = path.name
            if m := BACKUP_NAME.match(name):
                in_progress = name.endswith((PARTIAL, DELETING))
                if (in_progress or not BackupManifest.path_for(path).exists()) and owner_gone(m["pid"], path):
                    found.append(path)
            elif t := MANIFEST_TMP.match(name):
                if owner_gone(t["pid"], path):
                    found.append(path)
            elif name.endswith(".manifest.json"):
                backup = path.with_name(name.removesuffix(".manifest.json"))
                on_its_way = [
                    p
                    for p in folder.glob(f"{backup.name}.*{PARTIAL}")
                    if (m2 := BACKUP_NAME.match(p.name)) and m2["pid"] and alive(int(m2["pid"]))
                ]
                if not backup.exists() and not backup.is_symlink() and not on_its_way:
                    found.append(path)
    return found


def sweep(directory: Path) -> list[Path]:
    """Remove what killed runs left (see `leftovers`), each in one line: run by every backup before it
    writes, and by `backup cleanup`."""
    swept = leftovers(directory)
    for path in swept:
        remove_files(path)
        bus.warning("backup_leftover_deleted", f"deleted {path} ({leftover_reason(path)})", path=str(path))
    return swept


def leftover_reason(path: Path) -> str:
    name = path.name
    if name.endswith(".manifest.json"):
        return "a manifest whose backup is gone"
    if name.endswith(DELETING):
        return "a backup whose deletion was cut short"
    if name.endswith(".tmp"):
        return "a manifest cut short"
    return "a dump cut short, never completed"


def cleanup_plan(directory: Path, retention_days: int, keep: int, now: datetime | None = None) -> CleanupPlan:
    """Older than the retention is deleted, except the newest `keep` of each kind and the newest verified."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=retention_days)
    plan = CleanupPlan([], [], leftovers(directory, now.timestamp()))
    for kind in KINDS:
        mine = [(p, m) for p, m in find_backups(directory) if m.kind == kind]  # newest first
        newest_verified = next((p for p, m in mine if m.last_verified and m.trusted), None)
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


def delete_backup(path: Path) -> None:
    """Renamed out of the way first (atomic), then its manifest, then its files: a kill at any moment leaves
    a `.deleting` leftover and perhaps an orphan manifest, both swept by the next run, never a manifest
    beside half of a directory backup."""
    doomed = path.with_name(f"{path.name}.{os.getpid()}{DELETING}")
    path.rename(doomed)
    BackupManifest.path_for(path).unlink(missing_ok=True)
    remove_files(doomed)


def apply_cleanup(plan: CleanupPlan) -> None:
    for path, _ in plan.delete:
        delete_backup(path)
        bus.info("backup_deleted", f"deleted {path} (older than the retention)")
    for path in plan.leftovers:
        remove_files(path)
        bus.info("backup_leftover_deleted", f"deleted {path} ({leftover_reason(path)})")
