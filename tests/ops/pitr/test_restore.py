"""ops/pitr/restore: a physical backup restored into a new data directory and recovered from the archived
WAL. To a time between two writes, the copy has exactly the first; to the end of the archive, both. The
live cluster goes on serving, untouched, and the copy does not archive into the stanza. A target dir that
is not empty, or a time that is not one, is bad input before anything runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import connect_to
from mandala_db.core.database import Database
from mandala_db.core.errors import BadInput
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.pitr.restore import restore
from mandala_db.ops.pitr.setup import stanza_for
from servers import ArchivingServer, free_port


def archived(conn: Any) -> None:
    """The WAL holding what was just committed, switched and waited for in the repository (an event: the
    server's archiver reports that segment)."""
    segment = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()[0]
    for _ in range(1200):  # a minute at most: an archiver that never gets there fails the test, not hangs it
        row = conn.execute("SELECT last_archived_wal, failed_count FROM pg_stat_archiver").fetchone()
        if row[0] is not None and row[0] >= segment:
            return
        conn.execute("SELECT pg_sleep(0.05)")
    raise AssertionError(f"{segment} was not archived (archive failures: {row[1]})")


def test_a_time_between_two_writes_recovers_exactly_the_first(archiving_server: ArchivingServer) -> None:
    base = archiving_server.base
    stanza = archiving_server.ready()
    stanza.run("--type=full", "backup")
    stop_second = stanza.info()["backup"][-1]["timestamp"]["stop"]
    with connect_to(archiving_server.url) as conn:
        # pgBackRest knows a backup's end to the second: a target must fall in a later second to be after it.
        conn.execute("SELECT pg_sleep_until(to_timestamp(%s + 1))", (stop_second,))
        conn.execute("CREATE TABLE writes (n int PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())")
        conn.execute("INSERT INTO writes (n) VALUES (1)")
        between = str(conn.execute("SELECT clock_timestamp()").fetchone()[0])  # after the first commit
        conn.execute("INSERT INTO writes (n) VALUES (2)")
        archived(conn)
    done = restore(stanza, archiving_server.bindir, base / "copy", free_port(), to_time=between)
    try:
        with connect_to(done.url) as copy:
            assert copy.execute("SELECT n FROM writes ORDER BY n").fetchall() == [(1,)]
            assert copy.execute("SELECT current_setting('archive_mode')").fetchone() == ("off",)
        assert done.last_replayed is not None and done.restore_seconds > 0 and done.replay_seconds > 0
        with connect_to(archiving_server.url) as live:  # untouched, and still serving
            assert live.execute("SELECT count(*) FROM writes").fetchone() == (2,)
        latest = restore(stanza, archiving_server.bindir, base / "copy2", free_port(), to_time=None)
        with connect_to(latest.url) as copy:
            assert copy.execute("SELECT n FROM writes ORDER BY n").fetchall() == [(1,), (2,)]
        archiving_server.stop_copy(base / "copy2")
    finally:
        archiving_server.stop_copy(base / "copy")


def test_bad_targets_are_refused_before_anything_runs(
    archiving_server: ArchivingServer, tmp_path: Path
) -> None:
    db = Database(archiving_server.url)
    stanza = stanza_for(db, "demo", str(tmp_path / "repo"), tmp_path / "c.conf")
    full = tmp_path / "full"
    full.mkdir()
    (full / "PG_VERSION").write_text("15")
    with pytest.raises(BadInput, match="is not empty"):
        restore(stanza, archiving_server.bindir, full, free_port(), to_time=None)
    with pytest.raises(BadInput, match="is not a time"):
        restore(stanza, archiving_server.bindir, tmp_path / "new", free_port(), to_time="yesterday-ish")
    assert not (tmp_path / "new").exists()


def test_a_target_the_archive_does_not_reach_is_the_copys_own_error(
    archiving_server: ArchivingServer,
) -> None:
    from mandala_db.core.errors import OperationFailed

    base = archiving_server.base
    stanza = archiving_server.ready()
    stanza.run("--type=full", "backup")
    with connect_to(archiving_server.url) as conn:  # a day ahead: no WAL holds it yet
        tomorrow = str(conn.execute("SELECT now() + interval '1 day'").fetchone()[0])
    try:
        with pytest.raises(
            OperationFailed, match="recovery ended before configured recovery target was reached"
        ):
            restore(stanza, archiving_server.bindir, base / "copy", free_port(), to_time=tomorrow)
        with connect_to(archiving_server.url) as live:
            assert live.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
    finally:
        archiving_server.stop_copy(base / "copy")


def test_to_revision_recovers_the_database_as_it_was_before_that_deploy(
    archiving_server: ArchivingServer,
) -> None:
    from conftest import run_cli
    from mandala_db.ops.migrate import build_schema
    from mandala_db.ops.migrate.loader import History

    db = Database(archiving_server.url)
    base, history = archiving_server.base, History.load()
    head, previous = history.revisions[-1].id, history.revisions[-2].id
    config = archiving_server.config
    build_schema(db, previous)
    stanza = archiving_server.ready()
    stanza.run("--type=full", "backup")
    stop_second = stanza.info()["backup"][-1]["timestamp"]["stop"]
    with connect_to(archiving_server.url) as conn:
        conn.execute("SELECT pg_sleep_until(to_timestamp(%s + 1))", (stop_second,))
        conn.execute("INSERT INTO users (email, name) VALUES ('before@example.com', 'Before')")
    deployed = run_cli("migrate", "deploy", url=archiving_server.url)
    assert deployed.code == 0, deployed.output
    with connect_to(archiving_server.url) as conn:
        conn.execute("INSERT INTO users (email, name) VALUES ('after@example.com', 'After')")
        archived(conn)
    copy = base / "copy"
    done = run_cli("--json", "restore", "pitr", "--stanza", "demo", "--config", str(config), "--to-revision", head,
                   "--target-dir", str(copy), url=archiving_server.url)  # fmt: skip
    try:
        assert done.code == 0, done.output
        import json

        assert json.loads(done.stdout)["revision"] == previous
        with connect_to(
            DatabaseURL.parse(
                f"postgresql://postgres@/postgres?host={base}&port={json.loads(done.stdout)['port']}"
            )
        ) as c:
            assert c.execute("SELECT email FROM users ORDER BY 1").fetchall() == [("before@example.com",)]
            assert c.execute("SELECT to_regclass('task_reflections')").fetchone() == (
                None,
            )  # before the split
    finally:
        archiving_server.stop_copy(copy)


def test_a_killed_restore_leaves_the_live_cluster_serving_and_the_repository_consistent(
    archiving_server: ArchivingServer,
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from ops.pitr.test_backup import pgbackrest_running

    base = archiving_server.base
    stanza = archiving_server.ready()
    config = archiving_server.config
    stanza.run("--type=full", "backup")
    copy = base / "copy"
    env = {**os.environ, "DATABASE_URL": archiving_server.url.render(mask=False)}
    proc = subprocess.Popen([sys.executable, "-m", "mandala_db", "restore", "pitr", "--stanza", "demo", "--config",
                             str(config), "--latest", "--target-dir", str(copy)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    # The event: pgBackRest has begun writing files into the copy.
    while proc.poll() is None and not (copy.exists() and any(copy.iterdir())):
        time.sleep(0.005)
    try:
        assert proc.poll() is None, "the restore ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 30
        while pgbackrest_running(config) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not pgbackrest_running(config)
        with connect_to(archiving_server.url) as live:
            assert live.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
        stanza.run("check")
        assert len(stanza.info()["backup"]) == 1
        with pytest.raises(
            BadInput, match="is not empty"
        ):  # a half-written copy is never started as if whole
            restore(stanza, archiving_server.bindir, copy, free_port(), to_time=None)
    finally:
        archiving_server.stop_copy(copy)  # in case the kill came after the copy had started
