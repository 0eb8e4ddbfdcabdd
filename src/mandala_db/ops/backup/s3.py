"""Backups on S3 (or any S3-compatible store): uploaded with their manifest, checked after upload, listed,
and downloaded for a restore. Standard AWS settings; AWS_ENDPOINT_URL with path-style addressing for
endpoints that are not AWS."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from mandala_db.core.aws import aws_failure, is_missing
from mandala_db.core.errors import BadInput, OperationFailed
from mandala_db.core.events import bus
from mandala_db.ops.backup.manifest import KINDS, BackupManifest

BytesProgress = Callable[[int], None]
# Beside the backups: one record per upload in progress, named after its pid.
UPLOADS = ".s3-uploads"


@dataclass
class S3Location:
    bucket: str
    key: str

    @classmethod
    def parse(cls, url: str) -> S3Location:
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc or not parsed.path.strip("/"):
            raise BadInput(f"{url!r} is not an S3 object URL", "write it as s3://bucket/path/to/backup.dump")
        return cls(parsed.netloc, parsed.path.lstrip("/"))

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


class S3Store:
    def __init__(self, bucket: str, prefix: str | None = None) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:
            raise OperationFailed("S3 needs boto3", "pip install boto3") from exc
        self.bucket = bucket
        self.prefix = (
            prefix if prefix is not None else os.environ.get("S3_BACKUP_PREFIX", "mandala-db")
        ).strip("/")
        endpoint = os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_S3")
        not_aws = bool(endpoint) and "amazonaws.com" not in (endpoint or "")
        config = Config(
            s3={"addressing_style": "path" if not_aws else "auto"},
            # Newer boto3 adds checksums by default, which some S3-compatible servers reject.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"max_attempts": 3, "mode": "standard"},
        )
        self.client = boto3.client("s3", endpoint_url=endpoint, config=config)
        threshold = int(os.environ.get("MANDALA_S3_MULTIPART_THRESHOLD", str(64 * 1024 * 1024)))
        from boto3.s3.transfer import TransferConfig

        self.transfer = TransferConfig(
            multipart_threshold=threshold, multipart_chunksize=max(threshold, 8 << 20)
        )

    def put_text(self, name: str, text: str) -> str:
        """A small file of the tool's own beside the backups (the drill history)."""
        key = "/".join(p for p in (self.prefix, name) if p)
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=text.encode())
        except Exception as exc:
            raise aws_failure(exc, f"writing s3://{self.bucket}/{key}") from exc
        return f"s3://{self.bucket}/{key}"

    def key_for(self, backup: Path, manifest: BackupManifest) -> str:
        return "/".join(p for p in (self.prefix, manifest.kind, backup.name) if p)

    def upload(
        self, backup: Path, manifest: BackupManifest, progress: BytesProgress | None = None
    ) -> dict[str, Any]:
        if backup.is_dir():
            raise BadInput(
                "a directory-format backup is not uploaded to S3", "use --format custom or plain with --s3"
            )
        key = self.key_for(backup, manifest)
        sha = manifest.files[backup.name]["sha256"]
        records = backup.parent.parent / UPLOADS
        self.sweep(records)
        # Who is uploading what, until the manifest is beside the dump: a killed upload is found by it.
        records.mkdir(parents=True, exist_ok=True)
        record = records / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
        record.write_text(json.dumps({"bucket": self.bucket, "key": key, "backup": str(backup)}))
        bus.info("upload_start", f"uploading {backup.name} to s3://{self.bucket}/{key}", size=manifest.size)
        try:
            try:
                self.client.upload_file(
                    str(backup),
                    self.bucket,
                    key,
                    Config=self.transfer,
                    Callback=progress,
                    # The store checks every part against the SHA-256 we send, and keeps one for the object.
                    ExtraArgs={"Metadata": {"sha256": sha}, "ChecksumAlgorithm": "SHA256"},
                )
                head = self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
            except Exception as exc:
                raise aws_failure(exc, f"uploading {backup.name} to s3://{self.bucket}/{key}") from exc
            checked_by = self.check_uploaded(key, sha, manifest.size, head)
            manifest.s3 = {
                "bucket": self.bucket,
                "key": key,
                "etag": head.get("ETag", "").strip('"'),
                "multipart": "-" in head.get("ETag", ""),
                "checked_by": checked_by,
            }
            manifest.save(backup)
            self.client.upload_file(str(BackupManifest.path_for(backup)), self.bucket, key + ".manifest.json")
        except BaseException:
            self._settle(key, backup, quiet=True)  # no dump without its manifest, no unfinished upload
            raise
        finally:
            record.unlink(missing_ok=True)
        bus.info("upload_complete", f"uploaded s3://{self.bucket}/{key}", size=manifest.size)
        return manifest.s3

    def sweep(self, records: Path) -> list[str]:
        """Uploads a killed run left: for each record whose process is gone, its unfinished multipart uploads
        aborted and a dump without its manifest deleted, each said in one line. Run before every upload
        and by `backup cleanup`."""
        from mandala_db.core.owner import alive

        settled = []
        for record in sorted(records.glob("*.json")) if records.is_dir() else []:
            pid = record.name.split("-", 1)[0]
            if pid.isdigit() and alive(int(pid)):
                continue
            try:
                entry = json.loads(record.read_text())
            except (OSError, ValueError):
                record.unlink(missing_ok=True)
                continue
            if entry.get("bucket") == self.bucket:
                settled += self._settle(str(entry["key"]), Path(str(entry.get("backup", ""))), quiet=False)
                record.unlink(missing_ok=True)
        return settled

    def _settle(self, key: str, backup: Path, *, quiet: bool) -> list[str]:
        """Abort what is unfinished under `key`; delete the dump if its manifest is not beside it."""
        done = []
        try:
            pages = self.client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=key
            )
            for page in pages:
                for upload in page.get("Uploads", []):
                    if upload["Key"] in (key, key + ".manifest.json"):
                        self.client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                        done.append(f"aborted the unfinished upload of s3://{self.bucket}/{upload['Key']}")
            if self._exists(key) and not self._exists(key + ".manifest.json"):
                self.client.delete_object(Bucket=self.bucket, Key=key)
                done.append(f"deleted s3://{self.bucket}/{key} (a dump uploaded without its manifest)")
                if backup.name and BackupManifest.path_for(backup).exists():
                    local = BackupManifest.load(backup)
                    if local.s3 and local.s3.get("key") == key:
                        local.s3 = None
                        local.save(backup)
        except Exception as exc:
            if not quiet:
                bus.warning(
                    "upload_leftover",
                    f"a killed upload to s3://{self.bucket}/{key} could not be settled: {exc}",
                )
            return done
        for line in done:
            bus.warning(
                "upload_leftover", line + (", left by a run that did not finish" if not quiet else "")
            )
        return done

    def _exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def check_uploaded(self, key: str, sha: str, size: int, head: dict[str, Any] | None = None) -> str:
        """The object the store kept is the one we wrote, by what the store computed, never by the metadata
        we sent: its SHA-256 of a single-part object, else the object read back and hashed. A mismatch
        fails the backup."""
        where = f"s3://{self.bucket}/{key}"
        try:
            head = head or self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
            stored = head.get("ChecksumSHA256")
            if head["ContentLength"] != size:
                raise OperationFailed(f"{where} holds {head['ContentLength']:,} bytes, the backup {size:,}")
            # A multipart object (its ETag says "-N") carries a checksum of its parts' checksums.
            multipart = "-" in str(head.get("ETag", "")) or "-" in str(stored or "")
            whole = stored and not multipart and head.get("ChecksumType", "FULL_OBJECT") == "FULL_OBJECT"
            if whole:
                actual, checked_by = base64.b64decode(str(stored)).hex(), "store-sha256"
            else:  # a multipart object's checksum is of its parts: read it back
                digest = hashlib.sha256()
                body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
                for block in iter(lambda: body.read(1 << 20), b""):
                    digest.update(block)
                actual, checked_by = digest.hexdigest(), "read-back"
        except OperationFailed:
            raise
        except Exception as exc:
            raise OperationFailed(f"checking {where} after the upload failed: {exc}") from exc
        if actual != sha:
            raise OperationFailed(
                f"{where} does not match the local backup after upload (sha256 {actual[:12]}…, "
                f"the backup's is {sha[:12]}…)",
                "the upload was damaged; run the backup again",
            )
        return checked_by

    def list(self) -> list[dict[str, Any]]:
        """Every backup under the prefix that has its manifest beside it, newest first."""
        found = []
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            pages = list(paginator.paginate(Bucket=self.bucket, Prefix=self.prefix))
        except Exception as exc:
            raise aws_failure(exc, f"listing s3://{self.bucket}/{self.prefix}") from exc
        keys = {obj["Key"]: obj for page in pages for obj in page.get("Contents", [])}
        for key, obj in keys.items():
            if key.endswith(".manifest.json") or key + ".manifest.json" not in keys:
                continue
            body = self.client.get_object(Bucket=self.bucket, Key=key + ".manifest.json")["Body"].read()
            manifest = json.loads(body)
            found.append(
                {
                    "url": f"s3://{self.bucket}/{key}",
                    "size": obj["Size"],
                    "kind": manifest.get("kind"),
                    "started_at": manifest.get("started_at"),
                    "head_revision": manifest.get("head_revision"),
                    "verified": bool([v for v in manifest.get("verifications", []) if v.get("ok")]),
                    # As a local backup's `trusted`: the latest verification, if any, passed.
                    "trusted": (manifest.get("verifications") or [{"ok": True}])[-1].get("ok") is True,
                }
            )
        return sorted(found, key=lambda f: f["started_at"] or "", reverse=True)

    def totals(self) -> dict[str, dict[str, int]]:
        """`backup stats` of the bucket: count and total size of each kind."""
        objects = self.list()
        return {
            kind: {
                "count": len([o for o in objects if o["kind"] == kind]),
                "total_size": sum(o["size"] for o in objects if o["kind"] == kind),
            }
            for kind in KINDS
        }

    def download(self, location: S3Location, directory: Path, progress: BytesProgress | None = None) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / Path(location.key).name
        bus.info("download_start", f"downloading {location}")
        try:
            self.client.download_file(
                location.bucket, location.key + ".manifest.json", str(BackupManifest.path_for(target))
            )
        except Exception as exc:
            if is_missing(exc):
                raise BadInput(
                    f"{location} has no manifest beside it",
                    "only backups uploaded by mandala-db can be restored from S3 (`restore list` shows them)",
                ) from exc
            raise aws_failure(exc, f"downloading {location}'s manifest") from exc
        try:
            self.client.download_file(
                location.bucket, location.key, str(target), Config=self.transfer, Callback=progress
            )
        except Exception as exc:
            raise aws_failure(exc, f"downloading {location}") from exc
        bus.info("download_complete", f"downloaded {location}")
        return target
