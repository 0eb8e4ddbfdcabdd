"""ops/backup/remote/directory.py: a plain folder (a mounted NFS or SMB share) as the remote, through the same
commands as S3: copied under a hidden name, read back, renamed into place; listed, counted, restored and
drilled from by its file:// URL; a damaged or killed copy leaves nothing a listing would trust."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import connect_to, run_cli
from mandala_db.core.errors import BadInput, OperationFailed
from mandala_db.core.url import DatabaseURL
from revision_data import table_checksums
from support import ok


def share_url(folder: Path) -> str:
    return f"file://{folder}"


def test_a_backup_on_a_folder_is_listed_counted_restored_and_drilled_like_one_on_s3(
    loaded: DatabaseURL, conn: psycopg.Connection[Any], tmp_path: Path, other_db: str
) -> None:
    share = tmp_path / "share"
    share.mkdir()
    remote = share_url(share / "mandala")
    args = ("--dir", str(tmp_path / "local"), "--remote", remote)
    (made,) = json.loads(ok(run_cli("--json", "backup", "full", *args, url=loaded)).stdout)["backups"]
    copy = share / "mandala" / "full" / Path(made["path"]).name
    assert (
        made["remote"]["url"] == f"{remote}/full/{copy.name}" and made["remote"]["checked_by"] == "read-back"
    )
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == made["sha256"]
    assert sorted(p.name for p in copy.parent.iterdir()) == [
        copy.name,
        copy.name + ".manifest.json",
    ]  # no partial

    listing = json.loads(ok(run_cli("--json", "restore", "list", *args, url=loaded)).stdout)
    (listed,) = listing["remote"]
    assert listed["url"] == made["remote"]["url"] and listed["size"] == made["size"]
    stats = json.loads(ok(run_cli("--json", "backup", "stats", *args, url=loaded)).stdout)
    assert stats["remote"]["full"]["count"] == 1

    ok(run_cli("--yes", "restore", "remote-restore", listed["url"], "--target-db", other_db, url=loaded))
    with connect_to(loaded.with_database(other_db)) as restored:
        assert table_checksums(restored) == table_checksums(conn)

    # With nothing local, a drill takes the newest good full backup on the configured remote.
    drilled = json.loads(
        ok(
            run_cli(
                "--json", "drill", "--dir", str(tmp_path / "empty"), url=loaded, env={"BACKUP_REMOTE": remote}
            )
        ).stdout
    )
    assert drilled["ok"] and "download" in drilled["phases_s"], drilled
    history = (share / "mandala" / "drills.jsonl").read_text().splitlines()
    assert json.loads(history[-1])["ok"] is True  # the evidence is on the share too


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("file://nas.local/backups", "names a host (nas.local)"),
        ("file:relative/folder", "is not an absolute folder"),
        ("file:///not/mounted/here/mandala", "/not/mounted/here/mandala does not exist"),
        ("ftp://host/folder", "is not a storage URL"),
    ],
)
def test_a_remote_that_cannot_be_a_folder_is_one_line_before_anything_starts(
    url: str, says: str, loaded: DatabaseURL, tmp_path: Path
) -> None:
    result = run_cli("backup", "full", "--dir", str(tmp_path), "--remote", url, url=loaded)
    assert result.code == 2 and says in result.stderr, result.output
    assert not list(tmp_path.glob("full/*")), "the dump is taken only once the remote is known good"


def test_a_copy_that_differs_from_the_backup_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    from mandala_db.ops.backup.remote.directory import DirectoryStorage

    source = tmp_path / "x.dump"
    source.write_bytes(os.urandom(3 << 20))
    storage = DirectoryStorage.at(share_url(tmp_path / "share"))
    with pytest.raises(OperationFailed, match="does not match the local backup after the copy"):
        storage.put("full/x.dump", source, "0" * 64)
    assert list((tmp_path / "share").rglob("*")) == [tmp_path / "share" / "full"]
    good = storage.put("full/x.dump", source, hashlib.sha256(source.read_bytes()).hexdigest())
    assert good["checked_by"] == "read-back" and storage.sizes() == {"full/x.dump": 3 << 20}


def test_a_copy_a_killed_run_left_is_removed_and_its_dump_without_manifest_deleted(
    loaded: DatabaseURL, tmp_path: Path
) -> None:
    """A run killed while copying left a hidden partial file and its upload record; one killed between the
    dump and its manifest left a dump no listing trusts. The next backup settles both, each in one line."""
    import subprocess

    share, local = tmp_path / "share", tmp_path / "local"
    gone = subprocess.Popen(["true"])  # a run that is over: its pid names no live process
    gone.wait()
    (share / "full").mkdir(parents=True)
    partial = share / "full" / f".old.dump.partial-{gone.pid}-abcd1234"
    partial.write_bytes(b"half")
    orphan = share / "full" / "orphan.dump"
    orphan.write_bytes(b"no manifest beside me")
    (local / ".remote-uploads").mkdir(parents=True)
    for name, key in (("old", "full/old.dump"), ("orphan", "full/orphan.dump")):
        record = {"store": share_url(share), "key": key, "backup": str(local / "full" / f"{name}.dump")}
        (local / ".remote-uploads" / f"{gone.pid}-{name}.json").write_text(json.dumps(record))
    again = ok(run_cli("backup", "full", "--dir", str(local), "--remote", share_url(share), url=loaded))
    settled = [ln for ln in again.stderr.splitlines() if "left by a run that did not finish" in ln]
    assert len(settled) == 2, again.stderr
    assert not partial.exists() and not orphan.exists()
    assert not list((local / ".remote-uploads").iterdir())
    names = sorted(p.name for p in (share / "full").iterdir())
    assert len(names) == 2 and names[1] == names[0] + ".manifest.json"


def test_the_storage_never_writes_outside_its_folder(tmp_path: Path) -> None:
    from mandala_db.ops.backup.remote.directory import DirectoryStorage

    storage = DirectoryStorage.at(share_url(tmp_path / "share"))
    with pytest.raises(BadInput, match="is outside"):
        storage.write("../escaped.txt", b"x")
    assert not (tmp_path / "escaped.txt").exists()
