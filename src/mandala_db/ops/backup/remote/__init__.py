"""Remote copies of backups, one protocol for every kind of storage, chosen by the URL's scheme:
`s3://bucket/prefix` (S3 or any S3-compatible store) and `file:///mnt/backups` (a plain directory: a mounted
NFS or SMB share, the common on-premises target).

A `Storage` knows only objects: put one with its checksum and prove what it holds, get one, list, delete,
and abort an upload a run left unfinished. `Remote` is what a backup on any storage means, the same for
all of them: the dump and its manifest side by side (a dump without its manifest is never listed, and is
deleted when found), a record beside the local backups of every upload in progress (so the upload a killed
run left is settled by the next), listing, totals and download with the manifest first.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from mandala_db.core.errors import BadInput, MandalaError
from mandala_db.core.events import bus
from mandala_db.ops.backup.manifest import KINDS, BackupManifest
from mandala_db.ops.backup.remote.storage import BytesProgress, MissingObject, Storage

# Beside the backups: one record per upload in progress, named after its pid (`.s3-uploads` before the
# seam: still read).
UPLOADS = ".remote-uploads"
LEGACY_UPLOADS = ".s3-uploads"
MANIFEST = ".manifest.json"
SCHEMES = ("s3", "file")


def storage_for(url: str, what: str = "the remote") -> Storage:
    """The storage a URL names, by its scheme."""
    scheme = urlparse(url).scheme
    if scheme == "s3":
        from mandala_db.ops.backup.remote.s3 import S3Storage

        return S3Storage.at(url)
    if scheme == "file":
        from mandala_db.ops.backup.remote.directory import DirectoryStorage

        return DirectoryStorage.at(url)
    raise BadInput(
        f"{what} {url!r} is not a storage URL",
        "write s3://bucket/prefix (S3) or file:///absolute/folder (a directory, e.g. a mounted share)",
    )


def locate(url: str) -> tuple[Storage, str]:
    """A backup's own URL (as `restore list` shows it): the storage that holds it and its key there."""
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        from mandala_db.ops.backup.remote.s3 import S3Storage

        return S3Storage.holding(url)
    if parsed.scheme == "file":
        from mandala_db.ops.backup.remote.directory import DirectoryStorage

        return DirectoryStorage.holding(url)
    raise BadInput(
        f"{url!r} is not the URL of a remote backup",
        "give s3://bucket/path/to/backup.dump or file:///folder/path/to/backup.dump (`restore list` shows them)",
    )


class Remote:
    """Backups on a storage: what the same on any storage."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    @classmethod
    def at(cls, url: str) -> Remote:
        return cls(storage_for(url))

    @property
    def root(self) -> str:
        return self.storage.root

    def key_for(self, backup: Path, manifest: BackupManifest) -> str:
        return f"{manifest.kind}/{backup.name}"

    def upload(
        self, backup: Path, manifest: BackupManifest, progress: BytesProgress | None = None
    ) -> dict[str, Any]:
        """The dump, checked where it landed, then its manifest beside it (saying where the copy is).
        Killed or failed half-way, nothing is left that a listing would trust: the unfinished upload is
        aborted and a dump without its manifest deleted, now or by the next run."""
        if backup.is_dir():
            raise BadInput("a directory-format backup is not uploaded", "use --format custom or plain")
        key = self.key_for(backup, manifest)
        sha = manifest.files[backup.name]["sha256"]
        records = backup.parent.parent / UPLOADS
        self.sweep(backup.parent.parent)
        records.mkdir(parents=True, exist_ok=True)
        record = records / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
        record.write_text(json.dumps({"store": self.root, "key": key, "backup": str(backup)}))
        where = self.storage.url(key)
        bus.info("upload_start", f"uploading {backup.name} to {where}", size=manifest.size)
        try:
            details = self.storage.put(key, backup, sha, progress)
            manifest.remote = {"url": where, "store": urlparse(where).scheme, **details}
            manifest.save(backup)
            self.storage.write(key + MANIFEST, BackupManifest.path_for(backup).read_bytes())
        except BaseException:
            self._settle(key, backup, quiet=True)  # no dump without its manifest, no unfinished upload
            raise
        finally:
            record.unlink(missing_ok=True)
        bus.info("upload_complete", f"uploaded {where}", size=manifest.size)
        return manifest.remote

    def sweep(self, backup_dir: Path) -> list[str]:
        """Uploads to this storage that a killed run left: for each record whose process is gone, its
        unfinished upload aborted and a dump without its manifest deleted, each said in one line. Run
        before every upload and by `backup cleanup`."""
        from mandala_db.core.owner import alive

        settled = []
        for folder in (backup_dir / UPLOADS, backup_dir / LEGACY_UPLOADS):
            for record in sorted(folder.glob("*.json")) if folder.is_dir() else []:
                pid = record.name.split("-", 1)[0]
                if pid.isdigit() and alive(int(pid)):
                    continue
                try:
                    entry = json.loads(record.read_text())
                except (OSError, ValueError):
                    record.unlink(missing_ok=True)
                    continue
                key = self._own_key(entry)
                if key is not None:
                    settled += self._settle(key, Path(str(entry.get("backup", ""))), quiet=False)
                    record.unlink(missing_ok=True)
        return settled

    def _own_key(self, entry: dict[str, Any]) -> str | None:
        """The record's key on this storage, or None when the record is of another one."""
        if entry.get("store") == self.root:
            return str(entry["key"])
        bucket = entry.get("bucket")  # a record from before the seam: a bucket and a full key
        if bucket and self.root.startswith(f"s3://{bucket}"):
            prefix = self.root.removeprefix(f"s3://{bucket}").strip("/")
            key = str(entry["key"])
            return key.removeprefix(prefix + "/") if prefix and key.startswith(prefix + "/") else key
        return None

    def _settle(self, key: str, backup: Path, *, quiet: bool) -> list[str]:
        """Abort what is unfinished under `key`; delete the dump if its manifest is not beside it."""
        done: list[str] = []
        try:
            done += self.storage.abort(key)
            done += self.storage.abort(key + MANIFEST)
            if self.storage.exists(key) and not self.storage.exists(key + MANIFEST):
                self.storage.delete(key)
                done.append(f"deleted {self.storage.url(key)} (a dump uploaded without its manifest)")
                if backup.name and BackupManifest.path_for(backup).exists():
                    local = BackupManifest.load(backup)
                    if local.remote and local.remote.get("url") == self.storage.url(key):
                        local.remote = None
                        local.save(backup)
        except (MandalaError, OSError) as exc:
            if not quiet:
                bus.warning(
                    "upload_leftover",
                    f"a killed upload to {self.storage.url(key)} could not be settled: {exc}",
                )
            return done
        for line in done:
            bus.warning(
                "upload_leftover", line + (", left by a run that did not finish" if not quiet else "")
            )
        return done

    def put_text(self, name: str, text: str) -> str:
        """A small file of the tool's own beside the backups (the drill history)."""
        self.storage.write(name, text.encode())
        return self.storage.url(name)

    def list(self) -> list[dict[str, Any]]:
        """Every backup on the storage that has its manifest beside it, newest first."""
        sizes = self.storage.sizes()
        found = []
        for key, size in sizes.items():
            if key.endswith(MANIFEST) or key + MANIFEST not in sizes:
                continue
            manifest = json.loads(self.storage.read(key + MANIFEST))
            verifications = manifest.get("verifications") or []
            found.append(
                {
                    "url": self.storage.url(key),
                    "size": size,
                    "kind": manifest.get("kind"),
                    "started_at": manifest.get("started_at"),
                    "head_revision": manifest.get("head_revision"),
                    "verified": any(v.get("ok") for v in verifications),
                    # As a local backup's `trusted`: the latest verification, if any, passed.
                    "trusted": (verifications or [{"ok": True}])[-1].get("ok") is True,
                }
            )
        return sorted(found, key=lambda f: f["started_at"] or "", reverse=True)

    def totals(self) -> dict[str, dict[str, int]]:
        """`backup stats` of the storage: count and total size of each kind."""
        objects = self.list()
        return {
            kind: {
                "count": len([o for o in objects if o["kind"] == kind]),
                "total_size": sum(o["size"] for o in objects if o["kind"] == kind),
            }
            for kind in KINDS
        }


def download(url: str, directory: Path, progress: BytesProgress | None = None) -> Path:
    """A backup and its manifest (first: a file without one is not a backup of ours) into the folder."""
    storage, key = locate(url)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / Path(key).name
    bus.info("download_start", f"downloading {url}")
    try:
        storage.get(key + MANIFEST, BackupManifest.path_for(target))
    except MissingObject:
        raise BadInput(
            f"{url} has no manifest beside it",
            "only backups uploaded by mandala-db can be restored from a remote (`restore list` shows them)",
        ) from None
    try:
        storage.get(key, target, progress)
    except MissingObject:
        raise BadInput(f"{url} does not exist, though its manifest does", "upload the backup again") from None
    bus.info("download_complete", f"downloaded {url}")
    return target
