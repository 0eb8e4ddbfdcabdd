"""ops/backup/manifest.py: a manifest written before the remote seam (its copy named in an `s3` field) is
still read, as `remote`, and its signature still proves it; written again, it is in today's form."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from mandala_db.core.errors import BadInput
from mandala_db.ops.backup.manifest import BackupManifest, key_id

KEY = "legacy-key-0123456789"
S3 = {
    "bucket": "b",
    "key": "mandala-db/full/x.dump",
    "etag": "e",
    "multipart": False,
    "checked_by": "store-sha256",
}


def legacy_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A signed manifest as the tool wrote it before the seam: the same fields with `s3` for `remote`,
    signed as it signed then (HMAC-SHA256 of the sorted, compact JSON of every field but the signature)."""
    backup = tmp_path / "x.dump"
    backup.write_bytes(b"dump")
    monkeypatch.setenv("MANDALA_BACKUP_KEY", KEY)
    fields: dict[str, Any] = {name: None for name in BackupManifest.__dataclass_fields__}
    fields.update(tool="mandala-db", kind="full", files={"x.dump": {"sha256": "0" * 64, "size": 4}}, size=4,
                  row_counts={}, verifications=[], started_at="2026-01-01T00:00:00+00:00", schema="public")  # fmt: skip
    body = {k: v for k, v in fields.items() if k not in ("signature", "remote")} | {"s3": S3}
    payload = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    value = hmac.new(KEY.encode(), payload, hashlib.sha256).hexdigest()
    signature = {"alg": "hmac-sha256", "key_id": key_id(KEY.encode()), "value": value}
    BackupManifest.path_for(backup).write_text(json.dumps(body | {"signature": signature}))
    return backup


def test_an_old_manifest_is_read_with_its_copy_as_remote_and_its_signature_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup = legacy_manifest(tmp_path, monkeypatch)
    manifest = BackupManifest.load(backup, authenticate=True)
    assert manifest.remote == {"url": "s3://b/mandala-db/full/x.dump", "store": "s3", **S3}


def test_an_old_manifest_rewritten_in_its_s3_field_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup = legacy_manifest(tmp_path, monkeypatch)
    path = BackupManifest.path_for(backup)
    doc = json.loads(path.read_text())
    doc["s3"]["key"] = "elsewhere.dump"
    path.write_text(json.dumps(doc))
    with pytest.raises(BadInput, match="does not match its signature"):
        BackupManifest.load(backup, authenticate=True)


def test_an_old_manifest_saved_again_is_in_todays_form_and_still_proves_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup = legacy_manifest(tmp_path, monkeypatch)
    manifest = BackupManifest.load(backup, authenticate=True)
    manifest.verifications.append({"ok": True, "kind": "read"})
    manifest.save(backup)
    doc = json.loads(BackupManifest.path_for(backup).read_text())
    assert "s3" not in doc and doc["remote"]["url"] == "s3://b/mandala-db/full/x.dump"
    assert BackupManifest.load(backup, authenticate=True).verifications[-1]["ok"] is True
