"""S3 (or any S3-compatible store) as a backup storage. Standard AWS settings; AWS_ENDPOINT_URL with
path-style addressing for endpoints that are not AWS. Read where used: MANDALA_S3_MULTIPART_THRESHOLD (the
size above which uploads go in parts)."""

from __future__ import annotations

import base64
import hashlib
import os
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from mandala_db.core.aws import aws_failure, is_missing
from mandala_db.core.errors import BadInput, OperationFailed
from mandala_db.ops.backup.remote.storage import BytesProgress, MissingObject


class S3Storage:
    def __init__(self, bucket: str, prefix: str = "") -> None:
        try:
            import boto3
            from boto3.s3.transfer import TransferConfig
            from botocore.config import Config
        except ImportError as exc:
            raise OperationFailed("S3 needs boto3", "pip install boto3") from exc
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.root = f"s3://{bucket}" + (f"/{self.prefix}" if self.prefix else "")
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
        self.transfer = TransferConfig(
            multipart_threshold=threshold, multipart_chunksize=max(threshold, 8 << 20)
        )

    @classmethod
    def at(cls, url: str) -> S3Storage:
        parsed = urlparse(url)
        if not parsed.netloc:
            raise BadInput(f"{url!r} names no bucket", "write it as s3://bucket or s3://bucket/prefix")
        return cls(parsed.netloc, parsed.path)

    @classmethod
    def holding(cls, url: str) -> tuple[S3Storage, str]:
        parsed = urlparse(url)
        if not parsed.netloc or not parsed.path.strip("/"):
            raise BadInput(f"{url!r} is not an S3 object URL", "write it as s3://bucket/path/to/backup.dump")
        return cls(parsed.netloc), parsed.path.lstrip("/")

    def _full(self, key: str) -> str:
        return "/".join(p for p in (self.prefix, key) if p)

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._full(key)}"

    def put(
        self, key: str, source: Path, sha256: str, progress: BytesProgress | None = None
    ) -> dict[str, Any]:
        full = self._full(key)
        try:
            self.client.upload_file(
                str(source),
                self.bucket,
                full,
                Config=self.transfer,
                Callback=progress,
                # The store checks every part against the SHA-256 we send, and keeps one for the object.
                ExtraArgs={"Metadata": {"sha256": sha256}, "ChecksumAlgorithm": "SHA256"},
            )
            head = self.client.head_object(Bucket=self.bucket, Key=full, ChecksumMode="ENABLED")
        except Exception as exc:
            raise aws_failure(exc, f"uploading {source.name} to {self.url(key)}") from exc
        try:
            checked_by = self.check_uploaded(key, sha256, source.stat().st_size, head)
        except OperationFailed:
            # A damaged object must not stay under a backup's name, where a listing would offer it.
            with suppress(Exception):
                self.client.delete_object(Bucket=self.bucket, Key=full)
            raise
        return {
            "bucket": self.bucket,
            "key": full,
            "etag": head.get("ETag", "").strip('"'),
            "multipart": "-" in head.get("ETag", ""),
            "checked_by": checked_by,
        }

    def check_uploaded(self, key: str, sha: str, size: int, head: dict[str, Any] | None = None) -> str:
        """The object the store kept is the one we wrote, by what the store computed, never by the metadata
        we sent: its SHA-256 of a single-part object, else the object read back and hashed."""
        where, full = self.url(key), self._full(key)
        try:
            head = head or self.client.head_object(Bucket=self.bucket, Key=full, ChecksumMode="ENABLED")
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
                body = self.client.get_object(Bucket=self.bucket, Key=full)["Body"]
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

    def get(self, key: str, target: Path, progress: BytesProgress | None = None) -> None:
        try:
            self.client.download_file(
                self.bucket, self._full(key), str(target), Config=self.transfer, Callback=progress
            )
        except Exception as exc:
            if is_missing(exc):
                raise MissingObject(self.url(key)) from exc
            raise aws_failure(exc, f"downloading {self.url(key)}") from exc

    def read(self, key: str) -> bytes:
        try:
            return bytes(self.client.get_object(Bucket=self.bucket, Key=self._full(key))["Body"].read())
        except Exception as exc:
            if is_missing(exc):
                raise MissingObject(self.url(key)) from exc
            raise aws_failure(exc, f"reading {self.url(key)}") from exc

    def write(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._full(key), Body=data)
        except Exception as exc:
            raise aws_failure(exc, f"writing {self.url(key)}") from exc

    def sizes(self) -> dict[str, int]:
        start = self.prefix + "/" if self.prefix else ""
        try:
            pages = list(
                self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start)
            )
        except Exception as exc:
            raise aws_failure(exc, f"listing {self.root}") from exc
        return {
            o["Key"].removeprefix(start): int(o["Size"]) for page in pages for o in page.get("Contents", [])
        }

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._full(key))
        except Exception as exc:
            if is_missing(exc):
                return False
            raise aws_failure(exc, f"looking for {self.url(key)}") from exc
        return True

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._full(key))
        except Exception as exc:
            raise aws_failure(exc, f"deleting {self.url(key)}") from exc

    def abort(self, key: str) -> list[str]:
        full, done = self._full(key), []
        try:
            pages = self.client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=full
            )
            for page in pages:
                for upload in page.get("Uploads", []):
                    if upload["Key"] == full:
                        self.client.abort_multipart_upload(
                            Bucket=self.bucket, Key=full, UploadId=upload["UploadId"]
                        )
                        done.append(f"aborted the unfinished upload of {self.url(key)}")
        except Exception as exc:
            raise aws_failure(exc, f"aborting the unfinished uploads of {self.url(key)}") from exc
        return done
