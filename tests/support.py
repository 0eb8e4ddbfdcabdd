"""Helpers and fixtures the backup and restore tests share: a loaded database, a backup taken through the
command line, a database name to restore into."""

from __future__ import annotations

import hashlib
import json
import os
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import (
    Result,
    drop_database,
    from_template,
    run_cli,
)
from mandala_db.core.database import Database
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.backup.manifest import BackupManifest
from mandala_db.ops.migrate.executor import Executor, RunOptions
from mandala_db.ops.migrate.loader import History


def ok(result: Result) -> Result:
    assert result.code == 0, result.output
    return result


def build_loaded(url: DatabaseURL, scale: str = "0.01") -> None:
    with Executor(Database(url), History.load(), RunOptions()) as ex:
        ex.upgrade()
    ok(run_cli("seed", "test", url=url))
    ok(run_cli("seed", "performance", "--scale", scale, url=url))


@pytest.fixture
def loaded(db_url: DatabaseURL, admin_url: DatabaseURL) -> DatabaseURL:
    """A migrated database with rows in every table (the `test` data set) and a little volume: a copy of
    a template built once per test process."""
    return from_template(admin_url, db_url, "loaded", build_loaded)


def backup(url: DatabaseURL, directory: Path, *args: str) -> list[dict[str, Any]]:
    result = ok(run_cli("--json", "backup", *args, "--dir", str(directory), url=url))
    return list(json.loads(result.stdout)["backups"])


@pytest.fixture
def other_db(admin_url: DatabaseURL) -> Iterator[str]:
    name = f"mdb_restored_{os.getpid()}_{time.monotonic_ns() % 100000}"
    yield name
    drop_database(admin_url, name)


def take_backup(url: DatabaseURL, directory: Path, *args: str, env: dict[str, str] | None = None) -> Path:
    result = ok(run_cli("--json", "backup", "full", *args, "--dir", str(directory), url=url, env=env))
    return Path(json.loads(result.stdout)["backups"][0]["path"])


def reseal(path: Path) -> None:
    """Rewrite the manifest's sha256 and size to match the file, as if the damage happened before the
    checksum was taken (the digest of the table of contents is left as it was recorded)."""
    manifest = BackupManifest.load(path)
    data = path.read_bytes()
    manifest.files = {path.name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}}
    manifest.save(path)


def zlib_streams(data: bytes) -> list[int]:
    """Where the compressed data blocks of a custom archive start (pg_dump's zlib streams)."""
    starts = []
    at = data.find(b"\x78\x9c")
    while at >= 0:
        d = zlib.decompressobj()
        try:
            d.decompress(data[at : at + 65536])
            if d.eof or len(data) - at < 65536:
                starts.append(at)
        except zlib.error:
            pass
        at = data.find(b"\x78\x9c", at + 1)
    return starts


def damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    streams = zlib_streams(bytes(data))
    assert len(streams) > 5, "the archive should hold several compressed data blocks"
    if how.startswith("truncated"):
        cut = {"truncated by 5 bytes": len(data) - 5, "truncated at 60%": len(data) * 6 // 10}.get(
            how, len(data) * 9 // 10
        )
        del data[cut:]
    else:
        at = {
            "bit flipped in the table of contents": data.find(b"public") + 2,  # public -> purlic
            "bit flipped in the first data block": streams[0] + 12,
            "bit flipped in the middle": len(data) // 2,
            "bit flipped in the last data block": streams[-1] + 12,
            "bit flipped in the last 4 bytes": len(data) - 2,
        }[how]
        data[at] ^= 0x10
    path.write_bytes(bytes(data))
    reseal(path)
