"""Backups you can trust and restores that cannot make things worse, with real pg_dump and pg_restore, and a
real S3 protocol server (moto) on loopback."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import (
    Result,
    assert_no_secret,
    connect_to,
    create_database,
    database_state,
    drop_database,
    run_cli,
)
from mandala_db.core.config import DatabaseURL
from mandala_db.ops.backup import cleanup_plan
from mandala_db.ops.backup.manifest import BackupManifest
from mandala_db.ops.migrate.executor import Executor, RunOptions
from mandala_db.ops.migrate.loader import History
from revision_data import table_checksums


def ok(result: Result) -> Result:
    assert result.code == 0, result.output
    return result


@pytest.fixture
def loaded(db_url: DatabaseURL, tmp_path: Path) -> DatabaseURL:
    """A migrated database with rows in every table (the `test` data set) and a little volume."""
    with Executor(db_url, History.load(), RunOptions()) as ex:
        ex.upgrade()
    ok(run_cli("seed", "test", url=db_url))
    ok(run_cli("seed", "performance", "--scale", "0.01", url=db_url))
    return db_url


def backup(url: DatabaseURL, directory: Path, *args: str) -> list[dict[str, Any]]:
    result = ok(run_cli("--json", "backup", *args, "--dir", str(directory), url=url))
    return list(json.loads(result.stdout)["backups"])


@pytest.fixture
def other_db(admin_url: DatabaseURL) -> Iterator[str]:
    name = f"mdb_restored_{os.getpid()}_{time.monotonic_ns() % 100000}"
    yield name
    drop_database(admin_url, name)


@pytest.mark.parametrize(
    ("kind", "args"),
    [
        ("full", ["--format", "custom"]),
        ("full", ["--format", "directory", "--jobs", "2"]),
        ("full", ["--format", "plain"]),
        ("full", ["--compression", "none"]),
        ("schema", []),
        ("data", []),
    ],
)
def test_round_trip_into_a_new_database_keeps_every_row(
    kind: str,
    args: list[str],
    loaded: DatabaseURL,
    conn: psycopg.Connection[Any],
    tmp_path: Path,
    other_db: str,
) -> None:
    (made,) = backup(loaded, tmp_path, kind, *args)
    path = Path(made["path"])
    assert path.parent == tmp_path / kind and path.name.startswith(f"{kind}_backup_")
    manifest = BackupManifest.load(path)
    assert manifest.kind == kind and manifest.head_revision == History.load().head
    target = loaded.with_database(other_db)
    if kind == "data":  # data goes into the schema of its revision
        from mandala_db.ops.migrate import build_schema

        with connect_to(loaded.with_database("postgres")) as admin:
            admin.execute(f'CREATE DATABASE "{other_db}"')
        build_schema(target, manifest.head_revision)
    ok(run_cli("--yes", "restore", "restore", str(path), "--target-db", other_db, url=loaded))
    with connect_to(target) as restored:
        after = table_checksums(restored)
    before = table_checksums(conn)
    if kind == "schema":
        assert set(after) == set(before) and all(n == 0 for n, _ in after.values())
    else:
        assert after == before


def test_all_is_three_dumps_of_one_moment_while_rows_keep_arriving(
    loaded: DatabaseURL, tmp_path: Path, other_db: str
) -> None:
    """A writer inserts users all through `backup all`: the three dumps and the manifests' counts still
    describe one moment, which the restores prove (each checks every table's rows inside its transaction)."""
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        with connect_to(loaded) as w:
            while not stop.is_set():
                w.execute(
                    "INSERT INTO users (email, name) VALUES (%s, 'arriving')",
                    (f"arriving{written[0]}@example.com",),
                )
                written[0] += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        made = backup(loaded, tmp_path, "all")
    finally:
        stop.set()
        thread.join()
    assert [b["kind"] for b in made] == ["full", "schema", "data"]
    manifests = [BackupManifest.load(Path(b["path"])) for b in made]
    assert len({m.snapshot for m in manifests}) == 1
    assert manifests[0].row_counts == manifests[2].row_counts
    with connect_to(loaded) as c:
        now = c.execute("SELECT count(*) FROM users").fetchone()
    assert written[0] > 0 and now is not None and now[0] > manifests[0].row_counts["users"]  # rows did arrive
    ok(run_cli("--yes", "restore", "restore", made[0]["path"], "--target-db", other_db, url=loaded))
    ok(run_cli("backup", "verify", "--restore", made[2]["path"], url=loaded))


@pytest.mark.parametrize("damage", ["truncated", "bit-flipped", "empty", "other format", "no manifest"])
def test_a_bad_file_is_caught_before_the_target_is_touched(
    damage: str, loaded: DatabaseURL, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    (made,) = backup(loaded, tmp_path, "full")
    path = Path(made["path"])
    bad = tmp_path / "bad.dump"
    data = path.read_bytes()
    if damage == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "bit-flipped":
        flipped = bytearray(data)
        flipped[len(data) // 2] ^= 0x10
        bad.write_bytes(bytes(flipped))
    elif damage == "empty":
        bad.write_bytes(b"")
    elif damage == "other format":
        bad.write_text("-- PostgreSQL database dump\nSELECT 1;\n")
    else:
        bad.write_bytes(data)
    if damage != "no manifest":
        shutil.copy(BackupManifest.path_for(path), BackupManifest.path_for(bad))
    before = table_checksums(conn)
    for args in (["restore", "restore", str(bad), "--dir", str(tmp_path)], ["backup", "verify", str(bad)]):
        result = run_cli("--yes", *args, url=loaded)
        assert result.code == 2, result.output
        assert len([ln for ln in result.stderr.splitlines() if ln.startswith("error:")]) == 1
        expected = (
            "has no manifest"
            if damage == "no manifest"
            else ("sha256" if damage == "bit-flipped" else "bytes")
        )
        assert expected in result.stderr
    assert table_checksums(conn) == before
    assert not list((tmp_path / "full").glob("pre_restore_*"))  # not even the pre-restore backup was needed


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


def test_restore_over_a_populated_database_confirms_backs_up_and_restores(
    loaded: DatabaseURL, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    (made,) = backup(loaded, tmp_path, "full")
    before = table_checksums(conn)
    conn.execute("DELETE FROM users WHERE email LIKE 'user%%@perf.example.com'")  # the accident
    refused = run_cli("restore", "restore", made["path"], url=loaded)
    assert refused.code == 3 and "--yes" in refused.stderr
    ok(run_cli("--yes", "restore", "restore", made["path"], "--dir", str(tmp_path), url=loaded))
    assert table_checksums(conn) == before
    (pre,) = list((tmp_path / "full").glob("pre_restore_backup_*.dump"))
    assert BackupManifest.load(pre).row_counts["users"] < before["users"][0]  # it holds the state it replaced
    ok(run_cli("backup", "verify", str(pre), url=loaded))


def test_a_restore_failing_half_way_leaves_the_target_exactly_as_it_was(
    loaded: DatabaseURL, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    (made,) = backup(loaded, tmp_path, "full")
    conn.execute("UPDATE goals SET title = 'changed since the backup' WHERE progress = 0")
    conn.execute("CREATE VIEW goal_titles AS SELECT title FROM goals")  # replaced like everything else
    # An event trigger outside the schema refuses the restore's first CREATE INDEX: by then every table has
    # been dropped, recreated and loaded.
    conn.execute("CREATE SCHEMA guard")
    conn.execute(
        "CREATE FUNCTION guard.no_indexes() RETURNS event_trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'no new indexes today'; END $$"
    )
    conn.execute(
        "CREATE EVENT TRIGGER no_indexes ON ddl_command_end WHEN TAG IN ('CREATE INDEX') "
        "EXECUTE FUNCTION guard.no_indexes()"
    )
    before = database_state(loaded)
    result = run_cli("--yes", "restore", "restore", made["path"], "--dir", str(tmp_path), url=loaded)
    assert result.code == 1
    assert (
        "the restore failed and was rolled back" in result.stderr and "no new indexes today" in result.stderr
    )
    assert database_state(loaded) == before
    assert conn.execute("SELECT count(*) FROM goal_titles").fetchone() != (0,)
    conn.execute("DROP EVENT TRIGGER no_indexes")
    ok(run_cli("--yes", "restore", "restore", made["path"], "--dir", str(tmp_path), url=loaded))
    assert conn.execute("SELECT to_regclass('goal_titles')").fetchone() == (None,)  # the target is the backup


def test_retention_keeps_exactly_what_the_rules_say(loaded: DatabaseURL, tmp_path: Path) -> None:
    (made,) = backup(loaded, tmp_path, "full")
    template = BackupManifest.load(Path(made["path"]))
    source = Path(made["path"])
    now = datetime.now(UTC)
    ages = {"full": [1, 5, 40, 50, 60, 70], "schema": [35, 45], "data": [2]}
    for kind, days in ages.items():
        (tmp_path / kind).mkdir(exist_ok=True)
        for i, age in enumerate(days):
            p = tmp_path / kind / f"{kind}_backup_old{i}.dump"
            shutil.copy(source, p)
            m = BackupManifest(
                **{
                    **vars(template),
                    "kind": kind,
                    "files": {p.name: template.files[source.name]},
                    "started_at": (now - timedelta(days=age)).isoformat(),
                    "verifications": [],
                }
            )
            if kind == "full" and age == 60:
                m.verifications = [{"at": now.isoformat(), "kind": "read", "ok": True}]
            m.save(p)
    source.unlink()
    BackupManifest.path_for(source).unlink()
    (tmp_path / "full" / "notes.dump").write_text("not ours")  # no manifest: never touched
    plan = cleanup_plan(tmp_path, retention_days=30, keep=3)
    deleted = sorted(p.name for p, _ in plan.delete)
    # full: newest 3 kept (1, 5, 40 days); 60 days is the newest verified; 50 and 70 go.
    assert deleted == ["full_backup_old3.dump", "full_backup_old5.dump"]
    dry = json.loads(
        ok(run_cli("--json", "backup", "cleanup", "--dir", str(tmp_path), "--dry-run", url=loaded)).stdout
    )
    assert sorted(Path(p).name for p in dry["would_delete"]) == deleted
    assert run_cli("backup", "cleanup", "--dir", str(tmp_path), url=loaded).code == 3
    ok(run_cli("--yes", "backup", "cleanup", "--dir", str(tmp_path), url=loaded))
    left = sorted(p.name for p in tmp_path.rglob("*.dump"))
    assert "notes.dump" in left and not set(deleted) & set(left)
    assert len(left) == 1 + 4 + 2 + 1
    shutil.rmtree(tmp_path / "full")
    ok(
        run_cli(
            "--yes",
            "backup",
            "cleanup",
            "--dir",
            str(tmp_path),
            "--retention-days",
            "0",
            "--keep",
            "0",
            url=loaded,
        )
    )
    assert not list(tmp_path.rglob("*.dump"))


def test_a_pg_dump_16_backup_of_an_older_server_and_an_explained_missing_tool(
    loaded: DatabaseURL, tmp_path: Path, other_db: str
) -> None:
    with connect_to(loaded) as c:
        major = int(str(c.execute("SHOW server_version_num").fetchone()[0])) // 10000  # type: ignore[index]
    (made,) = backup(loaded, tmp_path, "full", "--pg-version", "16")
    assert BackupManifest.load(Path(made["path"])).pg_dump_version.startswith("16")
    ok(run_cli("--yes", "restore", "restore", made["path"], "--target-db", other_db, url=loaded))
    older = Path("/usr/lib/postgresql/15/bin")
    if major > 15 or not older.exists():
        pytest.skip("needs a PostgreSQL 15 server and its client tools beside pgserver's 16")
    only_old = run_cli("backup", "verify", made["path"], url=loaded, env={"MANDALA_PG_BINDIR": str(older)})
    assert only_old.code == 1
    assert "written by pg_dump 16" in only_old.stderr and "found: pg_restore 15" in only_old.stderr


def test_the_password_reaches_no_output_manifest_log_environment_file_or_command_line(
    password_server: DatabaseURL, tmp_path: Path
) -> None:
    """The client tools are wrapped by scripts that record every argument vector and their whole
    environment, and a sampler reads /proc/PID/environ and cmdline of every child while a restore runs.
    The password reaches the tools only as PGPASSFILE=/dev/fd/N, an in-memory file of mode 600: nothing on
    disk (the runs get a TMPDIR of their own, empty afterwards), nothing in an environment or argument."""
    import pgserver

    real = Path(pgserver.__file__).parent / "pginstall" / "bin"
    wrappers = tmp_path / "bin"
    wrappers.mkdir()
    log = tmp_path / "calls.log"
    for tool in ("pg_dump", "pg_restore", "psql"):
        script = wrappers / tool
        script.write_text(
            "#!/bin/sh\n"
            f'echo "argv: $0 $*" >> {log}\n'
            f'echo "PGPASSWORD=${{PGPASSWORD:-unset}} passfile=$PGPASSFILE mode=$(stat -L -c %a "$PGPASSFILE" 2>/dev/null)" >> {log}\n'
            f"env | sed 's/^/env: /' >> {log}\n"
            f'exec {real / tool} "$@"\n'
        )
        script.chmod(0o755)
    name = f"mdb_pw_{os.getpid()}"
    create_database(password_server, name)
    url = password_server.with_database(name)
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    env = {"MANDALA_PG_BINDIR": str(wrappers), "TMPDIR": str(private_tmp)}
    ok(run_cli("migrate", "deploy", url=url))
    ok(run_cli("seed", "performance", "--scale", "0.03", url=url))
    outputs = [
        ok(
            run_cli(
                "--log-format", "json", "--json", "backup", "full", "--dir", str(tmp_path), url=url, env=env
            )
        ),
        ok(
            run_cli(
                "--log-format",
                "json",
                "backup",
                "verify",
                "--restore",
                "--dir",
                str(tmp_path),
                url=url,
                env=env,
            )
        ),
    ]
    (made,) = list((tmp_path / "full").glob("*.dump"))
    sampled: list[str] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for proc in Path("/proc").glob("[0-9]*"):
                try:
                    cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                    if any(t in cmdline for t in ("pg_restore", "psql", "pg_dump")):
                        environ = (proc / "environ").read_bytes().replace(b"\0", b"\n").decode()
                        sampled.append(f"cmdline: {cmdline}\n{environ}")
                except OSError:
                    continue
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        outputs.append(
            ok(
                run_cli(
                    "--yes",
                    "restore",
                    "restore",
                    str(made),
                    "--target-db",
                    f"{name}_r",
                    "--dir",
                    str(tmp_path),
                    url=url,
                    env=env,
                )
            ),
        )
    finally:
        stop.set()
        sampler.join()
        drop_database(password_server, f"{name}_r")
        drop_database(password_server, name)
    calls = log.read_text()
    assert "--format=custom" in calls and "pg_restore" in calls and "psql" in calls
    lines = calls.splitlines()
    pairs = [
        (a, e) for a, e in itertools.pairwise(lines) if a.startswith("argv: ") and e.startswith("PGPASSWORD=")
    ]
    connecting = [e for a, e in pairs if "dbname=" in a]
    assert len(connecting) == 3, pairs  # pg_dump; psql for verify --restore and for the restore
    assert all(re.fullmatch(r"PGPASSWORD=unset passfile=/dev/fd/\d+ mode=600", e) for e in connecting), pairs
    assert not [ln for ln in lines if ln.startswith(("env: DATABASE_URL=", "env: PGPASSWORD="))]
    assert [s for s in sampled if "psql" in s], "the sampler never saw the restore's psql"
    assert not [s for s in sampled if "DATABASE_URL=" in s]
    manifest_text = "".join(p.read_text() for p in tmp_path.rglob("*.manifest.json"))
    assert_no_secret("\n".join([calls, *sampled, manifest_text, *(r.output for r in outputs)]))
    assert not list(private_tmp.iterdir())  # no password file, no temporary file of any kind


# -- S3 -------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
def s3_server() -> Iterator[dict[str, str]]:
    """moto's S3 protocol server on loopback only, with a bucket."""
    port = _free_port()
    moto = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    proc = subprocess.Popen(
        [moto, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "S3_BACKUP_BUCKET": "mandala-backups",
        "MANDALA_S3_MULTIPART_THRESHOLD": str(1024 * 1024),
    }
    try:
        for _ in range(100):
            try:
                s3_client(env).create_bucket(Bucket="mandala-backups")
                break
            except Exception:
                time.sleep(0.1)
        yield env
    finally:
        proc.terminate()
        proc.wait()


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
    assert made["s3"]["multipart"] is True and made["s3"]["key"].startswith("mandala-db/full/")
    assert made["s3"]["checked_by"] == "read-back"  # a multipart object's checksum is of its parts
    listing = json.loads(
        ok(run_cli("--json", "restore", "list", "--dir", str(tmp_path), url=loaded, env=s3_server)).stdout
    )
    (remote,) = listing["s3"]
    assert remote["url"] == f"s3://mandala-backups/{made['s3']['key']}" and remote["size"] == made["size"]
    stats = json.loads(
        ok(run_cli("--json", "backup", "stats", "--dir", str(tmp_path), url=loaded, env=s3_server)).stdout
    )
    assert stats["s3"]["full"]["count"] == 1
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
    from mandala_db.ops.backup.s3 import S3Store

    env = {**s3_server, "MANDALA_S3_MULTIPART_THRESHOLD": str(512 * 1024 * 1024)}
    (made,) = json.loads(
        ok(run_cli("--json", "backup", "full", "--dir", str(tmp_path), url=loaded, env=env)).stdout
    )["backups"]
    assert made["s3"]["checked_by"] == "store-sha256" and made["s3"]["multipart"] is False
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    store = S3Store("mandala-backups")
    key, sha, size = made["s3"]["key"], made["sha256"], made["size"]
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
    key = made["s3"]["key"] + ".manifest.json"
    manifest = json.loads(client.get_object(Bucket="mandala-backups", Key=key)["Body"].read())
    assert manifest["signature"]["alg"] == "hmac-sha256"
    manifest["head_revision"] = None  # whoever can write the bucket can rewrite the manifest beside it
    client.put_object(Bucket="mandala-backups", Key=key, Body=json.dumps(manifest).encode())
    url = f"s3://mandala-backups/{made['s3']['key']}"
    refused = run_cli("--yes", "restore", "s3-restore", url, "--target-db", other_db, url=loaded, env=env)
    assert refused.code == 2 and "does not match its signature" in refused.stderr, refused.output
    with connect_to(loaded) as c:
        assert c.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (other_db,)).fetchone() == (
            0,
        )


def test_a_restore_that_does_not_match_its_manifest_is_rolled_back(
    loaded: DatabaseURL, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    """Rows and revision are checked inside the restore's transaction: a mismatch undoes the restore."""
    (made,) = backup(loaded, tmp_path, "full")
    path = Path(made["path"])
    manifest = BackupManifest.load(path)
    manifest.row_counts["users"] += 1  # the manifest promises a row the archive does not have
    manifest.save(path)
    conn.execute("UPDATE goals SET title = 'edited after the backup' WHERE progress = 0")
    before = table_checksums(conn)
    result = run_cli("--yes", "restore", "restore", str(path), "--dir", str(tmp_path), url=loaded)
    assert result.code == 5, result.output
    assert "did not match the manifest, so the restore was rolled back" in result.stderr
    assert "users has" in result.stderr
    assert table_checksums(conn) == before
    verify = run_cli("backup", "verify", "--restore", str(path), url=loaded)
    assert verify.code == 5 and "users has" in verify.stderr
