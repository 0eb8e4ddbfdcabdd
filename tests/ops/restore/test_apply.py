"""ops/restore/apply.py: restores that cannot make things worse."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import (
    database_state,
    run_cli,
)
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.backup.manifest import BackupManifest
from revision_data import table_checksums
from support import backup, ok


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


@pytest.mark.parametrize(
    "holder", ["an open transaction reading goals", "an idle session inside a transaction"]
)
def test_a_restore_behind_an_open_transaction_gives_up_names_it_and_leaves_the_target_untouched(
    holder: str, loaded: DatabaseURL, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    """What migrations have, restores have: lock_timeout on every lock, tries with backoff, then one line
    naming the session in the way. While it tries, the application's reads of the other tables are never
    frozen for longer than one lock_timeout."""
    import threading
    import time

    from conftest import connect_to

    (made,) = backup(loaded, tmp_path, "full")
    before = database_state(loaded)
    app = connect_to(loaded.with_database(loaded.dbname or ""))
    app.execute("SET application_name = 'goal-mandala-api'")
    app_pid = app.info.backend_pid
    app.autocommit = False
    app.execute("SELECT count(*) FROM goals")  # ACCESS SHARE on goals, held until the transaction ends
    if holder == "an idle session inside a transaction":
        app.execute("SELECT 1")
    stalls: list[float] = []
    done = threading.Event()

    def reader() -> None:  # another client reading tasks the whole time
        with connect_to(loaded) as other:
            while not done.is_set():
                started = time.monotonic()
                other.execute("SELECT count(*) FROM tasks")
                stalls.append(time.monotonic() - started)
                time.sleep(0.02)

    watcher = threading.Thread(target=reader, daemon=True)
    watcher.start()
    try:
        result = run_cli("--yes", "restore", "restore", made["path"], "--dir", str(tmp_path),
                         "--lock-timeout", "300ms", "--lock-retries", "2", url=loaded)  # fmt: skip
    finally:
        done.set()
        watcher.join()
        app.rollback()
        app.close()
    assert result.code == 1, result.output
    (line,) = result.stderr.strip().splitlines()[-1:]
    assert "could not lock the tables" in line and "in 2 tries (lock_timeout 300ms each)" in line
    assert f"pid {app_pid} (goal-mandala-api" in line and "transaction open" in line
    assert "exactly as it was" in line
    assert "try 1 of 2" in result.stderr
    assert database_state(loaded) == before
    assert stalls and max(stalls) < 0.3 + 1.0, max(stalls)
