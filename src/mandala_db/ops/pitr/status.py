"""`pitr status`: the stanza's backups (newest first, with the WAL range each needs), the newest WAL segment
in the repository and when the server last archived one (the recovery point a restore could reach now),
and archive failures
(a failing archive_command is the one way a physical backup set quietly stops covering new writes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mandala_db.core.database import Database
from mandala_db.ops.pitr.engine import Stanza


@dataclass
class Backup:
    label: str
    type: str  # full, diff, incr
    started: datetime
    stopped: datetime
    size: int  # of the database at the backup
    stored: int  # in the repository (compressed, and only what changed for diff and incr)
    wal: tuple[str, str]  # the first and last WAL segment the backup needs
    prior: str | None  # the backup it depends on

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "type": self.type, "started": self.started.isoformat(),
                "stopped": self.stopped.isoformat(), "size": self.size, "stored": self.stored,
                "wal_start": self.wal[0], "wal_stop": self.wal[1], "prior": self.prior}  # fmt: skip


@dataclass
class Status:
    stanza: str
    backups: list[Backup] = field(default_factory=list)
    archived_wal: str | None = None
    archived_at: datetime | None = None  # the recovery point a restore could reach now
    failed: int = 0
    last_failed_wal: str | None = None
    last_failed_at: datetime | None = None
    repo_ok: bool = True
    repo_message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"stanza": self.stanza, "backups": [b.to_dict() for b in self.backups],
                "archived_wal": self.archived_wal,
                "recovery_point": self.archived_at.isoformat() if self.archived_at else None,
                "archive_failures": self.failed, "last_failed_wal": self.last_failed_wal,
                "last_failed_at": self.last_failed_at.isoformat() if self.last_failed_at else None,
                "repo_ok": self.repo_ok, "repo_message": self.repo_message}  # fmt: skip


def _when(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def status(db: Database, stanza: Stanza) -> Status:
    info = stanza.info()
    out = Status(stanza.name)
    state = info.get("status", {})
    # pgBackRest's codes: 0 ok, 2 no valid backups yet (a new stanza), 6 a backup running; the rest name a
    # repository that cannot serve a restore (a missing or mismatched stanza).
    out.repo_ok, out.repo_message = state.get("code", 1) in (0, 2, 6), str(state.get("message", ""))
    for b in reversed(info.get("backup", [])):
        out.backups.append(Backup(
            b["label"], b["type"], _when(b["timestamp"]["start"]), _when(b["timestamp"]["stop"]),
            int(b["info"]["size"]), int(b["info"]["repository"]["delta"]),
            (b["archive"]["start"], b["archive"]["stop"]), b.get("prior"),
        ))  # fmt: skip
    with db.connect() as conn:
        row = conn.execute("SELECT last_archived_wal, last_archived_time, failed_count, last_failed_wal, "
                           "last_failed_time FROM pg_stat_archiver").fetchone()  # fmt: skip
    if row is not None:
        out.archived_wal, out.archived_at, out.failed, out.last_failed_wal, out.last_failed_at = row
    # The newest WAL segment the repository holds is what a restore can replay to. The server's archiver
    # may name a `.backup` history file as its last one, archived after newer segments.
    newest = max((a["max"] for a in info.get("archive", []) if a.get("max")), default=None)
    out.archived_wal = newest or out.archived_wal
    return out
