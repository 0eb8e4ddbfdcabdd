"""ops/restore/verify.py: what `backup verify` proves."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import (
    connect_to,
    run_cli,
)
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.backup.manifest import BackupManifest
from support import backup, ok


@pytest.mark.parametrize("damage", ["bit-flipped", "truncated"])
def test_the_full_read_catches_damage_even_behind_a_matching_checksum(
    damage: str, loaded: DatabaseURL, tmp_path: Path
) -> None:
    """Why verify reads every block: `pg_restore -l` reads only the table of contents and passes."""
    import hashlib

    (made,) = backup(loaded, tmp_path, "full")
    path = Path(made["path"])
    data = bytearray(path.read_bytes())
    if damage == "bit-flipped":
        data[int(len(data) * 0.8)] ^= 0x01
    else:
        del data[int(len(data) * 0.9) :]
    path.write_bytes(bytes(data))
    manifest = BackupManifest.load(path)
    manifest.files[path.name] = {"sha256": hashlib.sha256(bytes(data)).hexdigest(), "size": len(data)}
    manifest.save(path)  # as if the damage happened before the checksum was taken
    from mandala_db.core.tools import find_client

    pg_restore = find_client("pg_restore", int(manifest.pg_dump_version.split(".")[0]))
    toc = subprocess.run([str(pg_restore.path), "-l", str(path)], capture_output=True)
    assert toc.returncode == 0  # the table of contents is fine
    result = run_cli("backup", "verify", str(path), url=loaded)
    assert result.code == 2 and "cannot be read back" in result.stderr


def test_verify_restore_proves_the_backup_and_records_it(loaded: DatabaseURL, tmp_path: Path) -> None:
    (made,) = backup(loaded, tmp_path, "full")
    result = json.loads(
        ok(run_cli("--json", "backup", "verify", "--restore", made["path"], url=loaded)).stdout
    )
    assert result["verification"]["kind"] == "restore" and result["verification"]["ok"]
    manifest = BackupManifest.load(Path(made["path"]))
    assert manifest.last_verified is not None and manifest.last_verified["kind"] == "restore"
    with connect_to(loaded) as c:
        scratch = result["verification"]["scratch_database"]
        assert c.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (scratch,)).fetchone() == (0,)
    listing = json.loads(ok(run_cli("--json", "restore", "list", "--dir", str(tmp_path), url=loaded)).stdout)
    assert listing["local"][0]["verified_by"] == "restore"
    stats = json.loads(ok(run_cli("--json", "backup", "stats", "--dir", str(tmp_path), url=loaded)).stdout)
    assert stats["local"]["full"]["count"] == 1 and stats["local"]["full"]["last_verified"]


def test_the_scratch_copy_a_killed_verification_left_is_dropped_by_the_next_one(
    loaded: DatabaseURL, tmp_path: Path
) -> None:
    """A SIGKILLed `verify --restore` leaves its scratch database (a full copy of the data); the next
    verification of this database drops it, once nobody uses it and the process that made it is gone."""
    import os
    import sys

    from mandala_db.core.database import Database
    from mandala_db.ops.restore import scratch_prefix

    (made,) = backup(loaded, tmp_path, "full")
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    prefix = scratch_prefix(Database(loaded), "verify")
    left, alive = f"{prefix}20260101000000_{int(done.stdout)}", f"{prefix}20260101000001_{os.getpid()}"
    with connect_to(loaded) as conn:
        for name in (left, alive):
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        result = ok(run_cli("backup", "verify", "--restore", made["path"], url=loaded))
        assert f"dropped {left}, left by a verify that did not finish" in result.stderr
        with connect_to(loaded) as conn:
            rows = conn.execute(
                "SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (prefix,)
            ).fetchall()
        assert [r[0] for r in rows] == [alive]  # a verification still running beside it keeps its copy
    finally:
        with connect_to(loaded) as conn:
            for name in (left, alive):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
