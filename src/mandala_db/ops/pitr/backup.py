"""`backup full|diff|incr --engine pgbackrest`: pgBackRest takes the backup (of the whole cluster); mandala-db
writes its manifest beside the logical backups' (`physical/<stanza>/<label>.manifest.json`): the label and
type, the backup it depends on, the WAL range and LSNs it needs, its size and what the repository stored,
its duration, and what the application schema was at its start (the head revision and the catalog
fingerprint), so `restore list` and `backup stats` can show it with the rest, and a restore can say which
revision it brings back. The repository stays pgBackRest's: the manifest describes, it does not hold."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from mandala_db.core import catalog
from mandala_db.core.database import Database
from mandala_db.core.errors import OperationFailed
from mandala_db.core.events import bus
from mandala_db.core.revision import current_revision
from mandala_db.ops.pitr.engine import Stanza, version

PhysicalKind = Literal["full", "diff", "incr"]
FOLDER = "physical"


@dataclass
class PhysicalManifest:
    tool: str
    engine: str  # pgbackrest <version>
    stanza: str
    label: str
    type: str
    prior: str | None  # the backup a diff or incr depends on
    wal_start: str
    wal_stop: str
    lsn_start: str
    lsn_stop: str
    size: int  # the cluster's size at the backup
    stored: int  # what this backup added to the repository
    started_at: str
    finished_at: str
    duration_ms: float
    head_revision: str | None  # of the application schema, at the start
    schema_fingerprint: str
    server_version: str
    database: str
    host: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def manifest_path(folder: Path, stanza: str, label: str) -> Path:
    return folder / FOLDER / stanza / f"{label}.manifest.json"


def take(db: Database, stanza: Stanza, kind: PhysicalKind, folder: Path) -> PhysicalManifest:
    with db.connect() as conn:
        head, fingerprint = current_revision(conn), catalog.take(conn).fingerprint
        row = conn.execute("SELECT current_setting('server_version')").fetchone()
    before = {b["label"] for b in stanza.info().get("backup", [])}
    started, clock = datetime.now(UTC), time.monotonic()
    bus.info(
        "backup_start", f"pgbackrest {kind} backup of stanza {stanza.name}", kind=kind, engine="pgbackrest"
    )
    stanza.run(f"--type={kind}", "backup")
    made = [b for b in stanza.info().get("backup", []) if b["label"] not in before]
    if not made:
        raise OperationFailed(f"pgbackrest reported success but stanza {stanza.name} lists no new backup",
                              "run `mandala-db pitr status` and pgBackRest's own `info`")  # fmt: skip
    b = made[-1]
    manifest = PhysicalManifest(
        "mandala-db", f"pgbackrest {version()}", stanza.name, b["label"], b["type"], b.get("prior"),
        b["archive"]["start"], b["archive"]["stop"], b["lsn"]["start"], b["lsn"]["stop"], int(b["info"]["size"]),
        int(b["info"]["repository"]["delta"]), started.isoformat(), datetime.now(UTC).isoformat(),
        round((time.monotonic() - clock) * 1000, 1), head, fingerprint, str(row[0]) if row else "",
        db.url.dbname or "", db.url.host_label,
    )  # fmt: skip
    path = manifest_path(folder, stanza.name, manifest.label)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(manifest.to_dict(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)  # a kill leaves the old listing or the new one, never half a manifest
    bus.info("backup_complete", f"pgbackrest {kind} backup {manifest.label}: {manifest.stored:,} bytes stored "
             f"in {manifest.duration_ms / 1000:.1f} s", label=manifest.label, engine="pgbackrest")  # fmt: skip
    return manifest


def listing(folder: Path) -> list[PhysicalManifest]:
    """Every physical backup's manifest under the backup folder, newest first."""
    out = []
    for path in sorted((folder / FOLDER).glob("*/*.manifest.json")):
        try:
            out.append(PhysicalManifest(**json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError):
            continue  # not one of ours, or cut short by hand: listing goes on
    return sorted(out, key=lambda m: m.finished_at, reverse=True)


@dataclass
class Expired:
    removed: list[str]  # labels pgBackRest expired (and whose manifests went with them)
    kept: list[str]
    dry_run: bool

    def to_dict(self) -> dict[str, Any]:
        return {"removed": self.removed, "kept": self.kept, "dry_run": self.dry_run}


def expire(stanza: Stanza, folder: Path, *, keep: int, retention_days: int, dry_run: bool) -> Expired:
    """pgBackRest's own `expire`, driven by the same `--keep` / `--retention-days` as the logical backups:
    the full backups older than the retention go, with the diff and incr backups built on them (and the WAL
    only they need), but never the newest `keep` full ones (nor the newest, whatever the numbers say). The
    dry run says which, from the same rule; the manifests follow the repository."""
    backups = stanza.info().get("backup", [])
    fulls = [b for b in backups if b["type"] == "full"]  # oldest first, as pgBackRest lists them
    cutoff = time.time() - retention_days * 86400
    kept = {b["label"] for b in fulls[-max(keep, 1) :]} | {
        b["label"] for b in fulls if b["timestamp"]["stop"] >= cutoff
    }
    # pgBackRest counts full backups from the newest: keeping the oldest one kept keeps every one after it.
    oldest = next((i for i, b in enumerate(fulls) if b["label"] in kept), len(fulls) - 1)
    going = {b["label"] for b in fulls[:oldest]}
    prior = {b["label"]: b.get("prior") for b in backups}

    def base(label: str) -> str:
        while prior.get(label):
            label = str(prior[label])
        return label

    removed = [b["label"] for b in backups if base(b["label"]) in going]
    if dry_run or not removed:
        return Expired(removed, [b["label"] for b in backups if b["label"] not in removed], dry_run)
    stanza.run("--repo1-retention-full-type=count", f"--repo1-retention-full={len(fulls) - oldest}", "expire")
    after = {b["label"] for b in stanza.info().get("backup", [])}
    gone = [b["label"] for b in backups if b["label"] not in after]
    for label in gone:
        manifest_path(folder, stanza.name, label).unlink(missing_ok=True)
    bus.info(
        "backup_expired", f"pgbackrest expired {len(gone)} backup(s) of stanza {stanza.name}", removed=gone
    )
    return Expired(gone, sorted(after), False)
