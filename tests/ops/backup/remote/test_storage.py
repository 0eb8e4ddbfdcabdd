"""ops/backup/remote/storage.py: the protocol every backup storage keeps, held to both implementations
alike (a directory, S3 on the suite's protocol server): a stored object is proved equal to its file, keys
are relative to the root, a missing object is MissingObject, and an unfinished upload can be found and
removed after the run that left it is gone."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mandala_db.core.errors import OperationFailed
from mandala_db.ops.backup.remote import storage_for
from mandala_db.ops.backup.remote.storage import MissingObject, Storage


@pytest.fixture(params=["file", "s3"])
def storage(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Storage]:
    if request.param == "file":
        yield storage_for(f"file://{tmp_path}/backups")
        return
    import boto3

    env = request.getfixturevalue("aws_server")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    bucket = f"contract-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"]).create_bucket(Bucket=bucket)
    yield storage_for(f"s3://{bucket}/team/prod")


def test_a_stored_object_is_proved_equal_and_comes_back_whole(storage: Storage, tmp_path: Path) -> None:
    source = tmp_path / "full.dump"
    source.write_bytes(b"PGDMP" + bytes(range(256)) * 4000)
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    sent: list[int] = []
    proof = storage.put("full/a.dump", source, sha, progress=sent.append)
    assert proof["checked_by"] and sum(sent) == source.stat().st_size
    target = tmp_path / "back.dump"
    storage.get("full/a.dump", target)
    assert target.read_bytes() == source.read_bytes()
    assert storage.url("full/a.dump") == storage.root.rstrip("/") + "/full/a.dump"


def test_an_object_that_is_not_the_file_is_refused_and_not_kept(storage: Storage, tmp_path: Path) -> None:
    source = tmp_path / "x.dump"
    source.write_bytes(b"data")
    with pytest.raises(OperationFailed, match="does not match the local backup after"):
        storage.put("full/x.dump", source, "0" * 64)
    assert not storage.exists("full/x.dump")


def test_small_objects_sizes_existence_and_deletion(storage: Storage) -> None:
    storage.write("full/b.dump.json", b'{"kind": "full"}')
    storage.write("schema/c.sql", b"-- schema")
    assert storage.read("full/b.dump.json") == b'{"kind": "full"}'
    assert storage.sizes() == {"full/b.dump.json": 16, "schema/c.sql": 9}
    assert storage.exists("schema/c.sql") and not storage.exists("schema/none.sql")
    storage.delete("schema/c.sql")
    assert not storage.exists("schema/c.sql") and list(storage.sizes()) == ["full/b.dump.json"]


def test_a_missing_object_is_missing_object(storage: Storage, tmp_path: Path) -> None:
    with pytest.raises(MissingObject):
        storage.get("full/none.dump", tmp_path / "none.dump")
    with pytest.raises(MissingObject):
        storage.read("full/none.json")


def test_an_unfinished_upload_is_found_and_removed(storage: Storage, tmp_path: Path) -> None:
    assert storage.abort("full/d.dump") == []
    if storage.root.startswith("s3://"):
        client = storage.client  # type: ignore[attr-defined]
        client.create_multipart_upload(Bucket=storage.bucket, Key=storage._full("full/d.dump"))  # type: ignore[attr-defined]
    else:
        folder = Path(storage.root.removeprefix("file://")) / "full"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".d.dump.partial-999999999-x").write_bytes(b"half")  # a pid no process has
    [said] = storage.abort("full/d.dump")
    assert "unfinished" in said and storage.abort("full/d.dump") == [] and not storage.exists("full/d.dump")
