"""The drill history beside the backups (and a copy on the remote), what each drill proved of its backup in
the backup's manifest, and how stale recovery is."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mandala_db.core.errors import MandalaError
from mandala_db.core.events import bus
from mandala_db.ops.drill.result import DrillResult

HISTORY_FILE = "drills.jsonl"


def newest_good_full(backup_dir: Path) -> tuple[Path, Any] | None:
    """The newest full backup here whose latest verification is not a failure, with its manifest."""
    from mandala_db.ops.backup import newest_trusted

    return newest_trusted(backup_dir, "full")


def record_in_manifest(path: Path, manifest: Any, result: DrillResult, verdict: dict[str, Any]) -> None:
    """What the drill proved of the backup, in its manifest: a drill that found it bad makes it untrusted
    (the next drill, `backup stats` and the freshness check then look past it)."""
    entry = {"at": result.started_at, "kind": "drill", "ok": verdict["ok"], "drill_ok": result.ok,
             "duration_ms": round(result.rto_s * 1000, 1)}  # fmt: skip
    if verdict["problems"]:
        entry["problems"] = verdict["problems"][:5]
    try:
        manifest.verifications.append(entry)
        manifest.save(path)
    except (OSError, MandalaError) as exc:
        bus.warning("drill_not_recorded", f"the drill could not be recorded in {path}'s manifest: {exc}")


def record(backup_dir: Path, result: DrillResult, remote: str | None = None) -> None:
    """Beside the backups, and with a remote configured a copy there too (the evidence outlives the machine)."""
    backup_dir.mkdir(parents=True, exist_ok=True)
    with (backup_dir / HISTORY_FILE).open("a", encoding="utf-8") as f:
        f.write(json.dumps(result.to_dict(), default=str) + "\n")
    if remote:
        from mandala_db.ops.backup.remote import Remote

        try:
            Remote.at(remote).put_text(HISTORY_FILE, (backup_dir / HISTORY_FILE).read_text(encoding="utf-8"))
        except MandalaError as exc:
            bus.warning("drill_history_not_shipped", exc.message)


def history(backup_dir: Path) -> list[dict[str, Any]]:
    path = backup_dir / HISTORY_FILE
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a line cut by a crash: the rest still counts
    return out


def freshness(backup_dir: Path) -> dict[str, Any]:
    """How stale recovery is: the age of the newest full backup no verification found bad, and of the last
    drill that passed (None when there is none)."""
    now = datetime.now(UTC)
    good = newest_good_full(backup_dir)
    passed = [d for d in history(backup_dir) if d.get("ok")]
    backup_at = good[1].finished_at if good else None
    drill_at = passed[-1]["started_at"] if passed else None
    return {
        "newest_good_backup_at": backup_at,
        "newest_good_backup_age_s": round((now - datetime.fromisoformat(backup_at)).total_seconds())
        if backup_at
        else None,
        "last_passed_drill_at": drill_at,
        "last_passed_drill_age_s": round((now - datetime.fromisoformat(drill_at)).total_seconds())
        if drill_at
        else None,
    }
