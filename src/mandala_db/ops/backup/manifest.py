"""The manifest beside every backup (`<file>.manifest.json`): what was dumped, from where, by which tools,
the sha256 of every file, the digest of the archive's table of contents, the schema and row counts it must
restore to, and every verification since. With a key configured it is signed (HMAC-SHA256), so a manifest
resealed by hand after the archive was changed is refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from mandala_db.core.errors import BadInput

TOOL_PREFIX = "mandala-db"
BackupKind = Literal["full", "schema", "data"]
KINDS: tuple[BackupKind, ...] = ("full", "schema", "data")
EXTENSIONS = {"custom": ".dump", "directory": ".dir", "plain": ".sql"}
PARTIAL = ".partial"  # pg_dump writes here; the name becomes the backup's only once the dump succeeded
DELETING = ".deleting"  # a backup being deleted is renamed first, so that a kill never leaves half of one
# The names this tool gives backups: a file of this shape without a manifest is a dump a kill cut short.
# Work in progress carries its owner's pid (`<name>.<pid>.partial`, `<name>.<pid>.deleting`), so the next
# run removes what a killed one left as soon as that process is gone, and never what a live one is writing.
BACKUP_NAME = re.compile(
    r"^[\w.-]+_backup_\d{8}_\d{6}(_\d+)?(\.dump|\.dir|\.sql)((\.(?P<pid>\d+))?(\.partial|\.deleting))?$"
)
MANIFEST_TMP = re.compile(r"^(?P<name>.+\.manifest\.json)(\.(?P<pid>\d+))?\.tmp$")
KEY_ENV, KEY_FILE_ENV = "MANDALA_BACKUP_KEY", "MANDALA_BACKUP_KEY_FILE"


def backup_key() -> bytes | None:
    """The manifest signing key: $MANDALA_BACKUP_KEY, else the content of $MANDALA_BACKUP_KEY_FILE."""
    raw = os.environ.get(KEY_ENV)
    if raw:
        return raw.encode()
    path = os.environ.get(KEY_FILE_ENV)
    if not path:
        return None
    try:
        data = Path(path).read_bytes().strip()
    except OSError as exc:
        raise BadInput(f"the backup key file {path} cannot be read: {exc.strerror}") from None
    if not data:
        raise BadInput(f"the backup key file {path} is empty")
    return data


def key_id(key: bytes) -> str:
    """Names a key without revealing it, so a mismatch can say "signed with another key"."""
    return hashlib.sha256(b"mandala-db key id:" + key).hexdigest()[:12]


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
    remote: dict[str, Any] | None = None  # where the copy on a remote storage is (`s3` before the seam)
    toc_sha256: str | None = (
        None  # the archive's table of contents (pg_restore --list), or a plain file's objects
    )
    ddl_sha256: str | None = None  # every definition in the table of contents (pg_restore --schema-only)
    toc_tool: str | None = None  # the pg_restore that read them
    signature: dict[str, str] | None = None  # {"alg", "key_id", "value"} when a key was configured

    @staticmethod
    def path_for(backup: Path) -> Path:
        return backup.with_name(backup.name + ".manifest.json")

    @classmethod
    def load(cls, backup: Path, *, authenticate: bool = False) -> BackupManifest:
        """The manifest of a backup; with authenticate (verify, restore), its signature is checked too."""
        path = cls.path_for(backup)
        if not backup.exists() and not backup.is_symlink():
            raise BadInput(f"{backup} does not exist", "check the path, or list backups with `restore list`")
        if not path.exists():
            raise BadInput(
                f"{backup} has no manifest ({path.name})",
                "only backups written by mandala-db, with their manifest beside them, can be trusted",
            )
        try:
            data = json.loads(path.read_text())
            legacy = isinstance(data, dict) and "s3" in data and "remote" not in data
            if legacy:
                data["remote"] = _remote_from_s3(data.pop("s3"))
            manifest = cls(**data)
            if legacy:  # an instance attribute only then, so vars() of a manifest holds only its fields
                manifest._signed_as_s3 = True
        except (ValueError, TypeError, OSError) as exc:
            raise BadInput(f"the manifest {path} is unreadable: {exc}") from None
        if authenticate:
            manifest.authenticate(path)
        return manifest

    _signed_as_s3 = False  # read from a manifest written before the seam: signed with its `s3` field

    def _payload(self) -> bytes:
        body = {k: v for k, v in asdict(self).items() if k != "signature"}
        if self._signed_as_s3:
            remote = body.pop("remote")
            body["s3"] = {k: v for k, v in remote.items() if k not in ("url", "store")} if remote else None
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def sign(self, key: bytes) -> None:
        digest = hmac.new(key, self._payload(), hashlib.sha256).hexdigest()
        self.signature = {"alg": "hmac-sha256", "key_id": key_id(key), "value": digest}

    def authenticate(self, path: Path) -> None:
        """With a key configured the manifest must carry a signature made with it; without one, a signed
        manifest cannot be checked, and is refused rather than trusted."""
        key = backup_key()
        if key is None:
            if self.signature:
                raise BadInput(
                    f"the manifest {path} is signed, and no key is configured to check it",
                    f"set {KEY_ENV} or {KEY_FILE_ENV} to the key the backup was taken with",
                )
            return
        if not self.signature:
            raise BadInput(
                f"the manifest {path} is not signed, and {KEY_ENV} is set: it may have been rewritten",
                "use a backup taken with the key configured",
            )
        if self.signature.get("key_id") != key_id(key):
            raise BadInput(
                f"the manifest {path} was signed with another key (key id {self.signature.get('key_id')}, "
                f"the configured key is {key_id(key)})",
                "configure the key the backup was taken with",
            )
        expected = hmac.new(key, self._payload(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, str(self.signature.get("value", ""))):
            raise BadInput(
                f"the manifest {path} does not match its signature: it was changed after the backup",
                "do not trust this backup; use another one",
            )

    def save(self, backup: Path) -> Path:
        """Written whole or not at all; signed again when a key is configured (verifications are signed too)."""
        key = backup_key()
        self.__dict__.pop("_signed_as_s3", None)  # written now in today's form, and signed as that
        if key is not None:
            self.sign(key)
        path = self.path_for(backup)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n")
            tmp.replace(path)  # never a half-written manifest
        except OSError as exc:
            tmp.unlink(missing_ok=True)  # a full disk leaves nothing behind
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        return path

    @property
    def started(self) -> datetime:
        return datetime.fromisoformat(self.started_at)

    @property
    def last_verified(self) -> dict[str, Any] | None:
        good = [v for v in self.verifications if v.get("ok")]
        return good[-1] if good else None

    @property
    def latest_verification(self) -> dict[str, Any] | None:
        """The newest verification of any outcome (read, restore or drill)."""
        return self.verifications[-1] if self.verifications else None

    @property
    def trusted(self) -> bool:
        """Good to restore: never verified yet, or its latest verification passed. A backup that its latest
        verification found bad is never "good", whatever passed before (the file may have been damaged
        since)."""
        latest = self.latest_verification
        return latest is None or latest.get("ok") is True


def _remote_from_s3(s3: dict[str, Any] | None) -> dict[str, Any] | None:
    """An old manifest's `s3` field as today's `remote`: the same facts, with the URL and the store."""
    if not s3:
        return None
    return {"url": f"s3://{s3.get('bucket')}/{s3.get('key')}", "store": "s3", **s3}


def intact(backup: Path, manifest: BackupManifest) -> bool:
    """The files on disk are the ones the manifest lists, with their sizes (a stat, not a hash: the hash
    is `backup verify`'s). A directory backup that lost a file, or a file cut short, is never "good"."""
    try:
        if backup.is_dir():
            present = {
                str(p.relative_to(backup.parent)): p.stat().st_size for p in backup.rglob("*") if p.is_file()
            }
        else:
            present = {backup.name: backup.stat().st_size}
    except OSError:
        return False
    return present == {name: int(entry.get("size", -1)) for name, entry in manifest.files.items()}


def remove_files(backup: Path) -> None:
    """A backup's file, or the directory of a directory-format one; already gone is fine."""
    if backup.is_dir():
        shutil.rmtree(backup)
    else:
        backup.unlink(missing_ok=True)


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


def listing(directory: Path) -> list[dict[str, Any]]:
    """`restore list`: each backup's kind, time, size, revision and verification state, newest first."""
    return [
        {
            "path": str(p),
            "kind": m.kind,
            "started_at": m.started_at,
            "size": m.size,
            "format": m.format,
            "head_revision": m.head_revision,
            "verified": (m.last_verified or {}).get("at"),
            "verified_by": (m.last_verified or {}).get("kind"),
            # Good to restore: its latest verification did not fail and its files are all there.
            "good": m.trusted and intact(p, m),
        }
        for p, m in find_backups(directory)
    ]


def newest_trusted(directory: Path, kind: str = "full") -> tuple[Path, BackupManifest] | None:
    """The newest backup of a kind whose latest verification is not a failure: what a drill restores, what
    `backup stats`, the `backup.freshness` check and the backup-age alert measure."""
    return next(
        ((p, m) for p, m in find_backups(directory) if m.kind == kind and m.trusted and intact(p, m)), None
    )


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
