"""ops/backup/archive: what an archive holds, read without a server. Every file is held to its manifest's
size and sha256 (a renamed single file still counts by its bytes); the table of contents to the digest
taken when it was written, so damage that pg_restore reads happily is still caught; a proof is recorded
in the manifest, pass or fail; a dump from a newer pg_dump than any pg_restore here is refused, named."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from mandala_db.core.database import Database
from mandala_db.core.errors import BadInput, OperationFailed
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.backup.archive import check_files, check_toc, prove_toc, restore_tool
from mandala_db.ops.backup.dump import create_backup
from mandala_db.ops.backup.manifest import BackupManifest
from support import damage, reseal


@pytest.fixture
def backup(loaded: DatabaseURL, tmp_path: Path) -> Path:
    return create_backup(Database(loaded), tmp_path / "backups").path


def test_an_intact_archive_passes_and_the_proof_is_recorded(backup: Path) -> None:
    entry = prove_toc(backup, BackupManifest.load(backup))
    assert entry["ok"] is True and entry["kind"] == "toc"
    assert BackupManifest.load(backup).verifications[-1]["ok"] is True


def test_a_renamed_single_file_still_counts_by_its_bytes(backup: Path, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere.dump"
    shutil.copy(backup, copy)
    check_files(copy, BackupManifest.load(backup))


@pytest.mark.parametrize("how", ["truncated by 5 bytes", "bit flipped in the middle"])
def test_a_file_that_changed_fails_its_size_or_sha256(backup: Path, how: str) -> None:
    manifest = BackupManifest.load(backup)
    damage(backup, how)  # reseals the manifest: load the one recorded before the damage
    with pytest.raises(BadInput, match=r"truncated or was changed|fails its sha256 check"):
        check_files(backup, manifest)


def test_damage_pg_restore_reads_happily_is_caught_by_the_recorded_digest_and_recorded(backup: Path) -> None:
    damage(backup, "bit flipped in the table of contents")  # public -> purlic, manifest resealed
    with pytest.raises(BadInput, match="the objects it holds differ from those recorded"):
        check_toc(backup, BackupManifest.load(backup))
    with pytest.raises(BadInput):
        prove_toc(backup, BackupManifest.load(backup))
    last = BackupManifest.load(backup).verifications[-1]
    assert last["ok"] is False and "differ from those recorded" in last["problems"][0]  # type: ignore[index]


def test_a_missing_file_is_bad_input(backup: Path, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="does not exist"):
        check_files(tmp_path / "gone.dump", BackupManifest.load(backup))


def test_a_dump_newer_than_every_pg_restore_here_is_refused_with_the_versions(backup: Path) -> None:
    future = dataclasses.replace(BackupManifest.load(backup), pg_dump_version="99.1")
    with pytest.raises(
        OperationFailed, match=r"written by pg_dump 99\.1, and pg_restore can only read archives"
    ):
        restore_tool(future)
    major, tool = restore_tool(BackupManifest.load(backup))
    assert tool.major >= major


def test_a_manifest_without_a_recorded_digest_is_not_checked_beyond_its_files(backup: Path) -> None:
    reseal(backup)
    old = dataclasses.replace(BackupManifest.load(backup), toc_sha256=None)
    check_toc(backup, old)
