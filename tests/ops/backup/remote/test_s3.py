"""ops/backup/remote/s3.py: backups on a real S3 protocol server (moto) on loopback, through the remote seam."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import (
    connect_to,
    run_cli,
)
from mandala_db.core.url import DatabaseURL
from revision_data import table_checksums
from support import ok


def s3_client(env: dict[str, str]) -> Any:
    """A client of the test's S3 server, to look at or tamper with what the tool stored."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )


@pytest.fixture(scope="module")
def s3_server(aws_server: dict[str, str]) -> dict[str, str]:
    """moto's S3 protocol server on loopback only, with a bucket."""
    env = {
        **aws_server,
        "S3_BACKUP_BUCKET": "mandala-backups",
        "MANDALA_S3_MULTIPART_THRESHOLD": str(1024 * 1024),
    }
    s3_client(env).create_bucket(Bucket="mandala-backups")
    return env


def test_s3_round_trip_with_a_multipart_upload_and_s3_restore(
    s3_server: dict[str, str],
    loaded: DatabaseURL,
    conn: psycopg.Connection[Any],
    tmp_path: Path,
    other_db: str,
) -> None:
    (made,) = json.loads(
        ok(
            run_cli(
                "--json",
                "backup",
                "full",
                "--compression",
                "none",
                "--dir",
                str(tmp_path),
                url=loaded,
                env=s3_server,
            )
        ).stdout
    )["backups"]
    assert made["size"] > 1024 * 1024
    assert made["remote"]["multipart"] is True and made["remote"]["key"].startswith("mandala-db/full/")
    assert made["remote"]["checked_by"] == "read-back"  # a multipart object's checksum is of its parts
    listing = json.loads(
        ok(run_cli("--json", "restore", "list", "--dir", str(tmp_path), url=loaded, env=s3_server)).stdout
    )
    (remote,) = listing["remote"]
    assert remote["url"] == f"s3://mandala-backups/{made['remote']['key']}" and remote["size"] == made["size"]
    stats = json.loads(
        ok(run_cli("--json", "backup", "stats", "--dir", str(tmp_path), url=loaded, env=s3_server)).stdout
    )
    assert stats["remote"]["full"]["count"] == 1
    ok(
        run_cli(
            "--yes",
            "restore",
            "s3-restore",
            remote["url"],
            "--target-db",
            other_db,
            url=loaded,
            env=s3_server,
        )
    )
    with connect_to(loaded.with_database(other_db)) as restored:
        assert table_checksums(restored) == table_checksums(conn)
    missing = run_cli(
        "--yes", "restore", "s3-restore", "s3://mandala-backups/nope.dump", url=loaded, env=s3_server
    )
    assert missing.code == 2 and "has no manifest" in missing.stderr


def test_an_upload_is_checked_against_what_the_store_holds_not_what_we_sent(
    s3_server: dict[str, str], loaded: DatabaseURL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store's own SHA-256 of a single-part object is compared with the backup; an object that was
    changed in the store (same size, same metadata) fails the check."""
    from mandala_db.core.errors import OperationFailed
    from mandala_db.ops.backup.remote.s3 import S3Storage

    env = {**s3_server, "MANDALA_S3_MULTIPART_THRESHOLD": str(512 * 1024 * 1024)}
    (made,) = json.loads(
        ok(run_cli("--json", "backup", "full", "--dir", str(tmp_path), url=loaded, env=env)).stdout
    )["backups"]
    assert made["remote"]["checked_by"] == "store-sha256" and made["remote"]["multipart"] is False
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    store = S3Storage("mandala-backups")
    key, sha, size = made["remote"]["key"], made["sha256"], made["size"]
    assert store.check_uploaded(key, sha, size) == "store-sha256"
    original = store.client.get_object(Bucket="mandala-backups", Key=key)["Body"].read()
    tampered = bytearray(original)
    tampered[len(tampered) // 2] ^= 0x01
    store.client.put_object(
        Bucket="mandala-backups",
        Key=key,
        Body=bytes(tampered),
        Metadata={"sha256": sha},
        ChecksumAlgorithm="SHA256",
    )
    with pytest.raises(OperationFailed, match="does not match the local backup after upload"):
        store.check_uploaded(key, sha, size)


def test_s3_restore_refuses_a_manifest_rewritten_in_the_bucket_when_a_key_is_set(
    s3_server: dict[str, str], loaded: DatabaseURL, tmp_path: Path, other_db: str
) -> None:
    env = {
        **s3_server,
        "MANDALA_BACKUP_KEY": "bucket-key-0123456789",
        "MANDALA_S3_MULTIPART_THRESHOLD": str(1 << 30),
    }
    (made,) = json.loads(
        ok(run_cli("--json", "backup", "full", "--dir", str(tmp_path), url=loaded, env=env)).stdout
    )["backups"]
    client = s3_client(env)
    key = made["remote"]["key"] + ".manifest.json"
    manifest = json.loads(client.get_object(Bucket="mandala-backups", Key=key)["Body"].read())
    assert manifest["signature"]["alg"] == "hmac-sha256"
    manifest["head_revision"] = None  # whoever can write the bucket can rewrite the manifest beside it
    client.put_object(Bucket="mandala-backups", Key=key, Body=json.dumps(manifest).encode())
    url = f"s3://mandala-backups/{made['remote']['key']}"
    refused = run_cli("--yes", "restore", "s3-restore", url, "--target-db", other_db, url=loaded, env=env)
    assert refused.code == 2 and "does not match its signature" in refused.stderr, refused.output
    with connect_to(loaded) as c:
        assert c.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (other_db,)).fetchone() == (
            0,
        )


def test_migrate_prod_ships_its_backup_to_s3_before_it_deploys(
    s3_server: dict[str, str], db_url: DatabaseURL, tmp_path: Path
) -> None:
    env = {**s3_server, "S3_BACKUP_PREFIX": f"prod-{db_url.dbname}"}
    ok(
        run_cli(
            "--env",
            "production",
            "--yes",
            "migrate",
            "prod",
            "--backup-dir",
            str(tmp_path),
            url=db_url,
            env=env,
        )
    )
    keys = [
        o["Key"]
        for o in s3_client(env).list_objects_v2(Bucket="mandala-backups", Prefix=f"prod-{db_url.dbname}")[
            "Contents"
        ]
    ]
    dumps = [k for k in keys if k.endswith(".dump")]
    assert len(dumps) == 1 and "pre_migration" in dumps[0] and f"{dumps[0]}.manifest.json" in keys


@pytest.mark.parametrize(
    "cut",
    ["during a multipart upload", "before the manifest was uploaded"],
)
def test_a_killed_upload_leaves_nothing_the_next_backup_does_not_settle(
    cut: str, s3_server: dict[str, str], loaded: DatabaseURL, tmp_path: Path
) -> None:
    """Killed while a part is on its way (an unfinished multipart upload on the store) or after the dump
    and before its manifest (a dump the listing could not trust): the next `backup --s3` aborts the one
    and deletes the other, each said in one line."""
    import signal
    import subprocess
    import sys

    from servers import StallingProxy

    def stall(method: str, path: str) -> bool:
        if cut == "during a multipart upload":
            return method == "PUT" and "partNumber=" in path
        return method == "PUT" and ".manifest.json" in path

    proxy = StallingProxy(s3_server["AWS_ENDPOINT_URL"], stall)
    store = s3_client(s3_server)
    prefix = f"run-{tmp_path.name}"
    env = {**s3_server, "S3_BACKUP_PREFIX": prefix}
    child_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    child_env.update(env, DATABASE_URL=loaded.render(mask=False), AWS_ENDPOINT_URL=proxy.url)
    args = ["backup", "full", "--s3", "--compression", "none", "--dir", str(tmp_path)]
    try:
        proc = subprocess.Popen([sys.executable, "-m", "mandala_db", *args], env=child_env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
        try:
            while not proxy.stalled.wait(0.1):
                assert proc.poll() is None, (
                    f"the upload ended before the stalled request: {proc.stderr.read()}"
                )
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    finally:
        proxy.close()
    unfinished = store.list_multipart_uploads(Bucket="mandala-backups", Prefix=prefix).get("Uploads", [])
    keys = [
        o["Key"] for o in store.list_objects_v2(Bucket="mandala-backups", Prefix=prefix).get("Contents", [])
    ]
    if cut == "during a multipart upload":
        assert len(unfinished) == 1
    else:
        assert len(keys) == 1 and not keys[0].endswith(".manifest.json")
    again = ok(run_cli(*args, url=loaded, env=env))
    settled = [ln for ln in again.stderr.splitlines() if "left by a run that did not finish" in ln]
    assert len(settled) == 1, again.stderr
    assert store.list_multipart_uploads(Bucket="mandala-backups", Prefix=prefix).get("Uploads", []) == []
    after = [o["Key"] for o in store.list_objects_v2(Bucket="mandala-backups", Prefix=prefix)["Contents"]]
    assert len(after) == 2 and {k.endswith(".manifest.json") for k in after} == {True, False}
    assert not list((tmp_path / ".remote-uploads").iterdir())
