"""ops/backup/remote: the seam. A storage is chosen by the URL's scheme; a URL that names no storage or no
backup is one line; records of uploads from before the seam are still recognised; and nothing outside
the seam knows which storage it talks to."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mandala_db.core.errors import BadInput
from mandala_db.ops.backup.remote import Remote, locate, storage_for
from mandala_db.ops.backup.remote.directory import DirectoryStorage

SRC = Path(__file__).resolve().parents[3] / "src" / "mandala_db"


def test_the_scheme_chooses_the_storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mandala_db.ops.backup.remote.s3 import S3Storage

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # never contacted: no call is made
    s3 = storage_for("s3://bucket/team/db")
    assert isinstance(s3, S3Storage) and s3.root == "s3://bucket/team/db"
    assert s3.url("full/x.dump") == "s3://bucket/team/db/full/x.dump"
    folder = storage_for(f"file://{tmp_path}/share")
    assert (
        isinstance(folder, DirectoryStorage)
        and folder.url("full/x.dump") == f"file://{tmp_path}/share/full/x.dump"
    )
    storage, key = locate(f"file://{tmp_path}/share/full/x.dump")
    assert isinstance(storage, DirectoryStorage) and key == "x.dump"
    storage, key = locate("s3://bucket/team/db/full/x.dump")
    assert storage.root == "s3://bucket" and key == "team/db/full/x.dump"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("gs://bucket/x", "is not a storage URL"),
        ("s3://", "names no bucket"),
        ("/plain/path", "is not a storage URL"),
    ],
)
def test_a_url_that_names_no_storage_is_bad_input(url: str, says: str) -> None:
    with pytest.raises(BadInput, match=says):
        storage_for(url)


@pytest.mark.parametrize("url", ["s3://bucket", "s3:///key", "ftp://host/x.dump"])
def test_a_url_that_names_no_backup_is_bad_input(url: str) -> None:
    with pytest.raises(BadInput):
        locate(url)


def test_an_upload_record_from_before_the_seam_is_recognised_as_this_buckets(tmp_path: Path) -> None:
    remote = Remote(DirectoryStorage(tmp_path))
    assert remote._own_key({"store": remote.root, "key": "full/x.dump"}) == "full/x.dump"
    assert remote._own_key({"store": "file:///elsewhere", "key": "full/x.dump"}) is None

    class Bucket:
        root = "s3://b/mandala-db"

    legacy = Remote(Bucket())  # type: ignore[arg-type]
    assert legacy._own_key({"bucket": "b", "key": "mandala-db/full/x.dump"}) == "full/x.dump"
    assert legacy._own_key({"bucket": "other", "key": "mandala-db/full/x.dump"}) is None


def test_no_module_outside_the_seam_names_a_storage_of_its_own() -> None:
    """Backups, restores, drills, migrations and the command line reach a remote through the seam's URLs
    and `Remote`; only the seam imports a provider (a second storage is added there, not copied)."""
    seam = SRC / "ops" / "backup" / "remote"
    provider = re.compile(
        r"ops\.backup\.remote\.(s3|directory)\b|S3Storage|DirectoryStorage|\bboto3\.client\(\s*\"s3\""
    )
    offenders = [
        f"{path.relative_to(SRC)}:{n}: {line.strip()}"
        for path in SRC.rglob("*.py")
        if seam not in path.parents
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if provider.search(line)
    ]
    assert offenders == []
