"""ops/pitr/backup: pgBackRest's full, differential and incremental backups of a real cluster, each with a
manifest beside the logical backups: its type and the backup it depends on, the WAL range it needs, its
size and what it stored, and the application's head revision and schema fingerprint at its start."""

from __future__ import annotations

from pathlib import Path

from conftest import connect_to
from mandala_db.core import catalog
from mandala_db.core.database import Database
from mandala_db.ops.migrate import build_schema
from mandala_db.ops.migrate.loader import History
from mandala_db.ops.pitr.backup import listing, manifest_path, take
from servers import ArchivingServer


def test_each_type_is_taken_and_described(archiving_server: ArchivingServer, tmp_path: Path) -> None:
    db = Database(archiving_server.url)
    build_schema(db, "head")  # the application's schema, at the head of the history
    stanza = archiving_server.ready()
    full = take(db, stanza, "full", tmp_path)
    with connect_to(archiving_server.url) as conn:
        conn.execute("INSERT INTO users (email, name) VALUES ('a@example.com', 'A')")
        fingerprint = catalog.take(conn).fingerprint
    incr = take(db, stanza, "incr", tmp_path)
    diff = take(db, stanza, "diff", tmp_path)
    assert (full.type, incr.type, diff.type) == ("full", "incr", "diff")
    assert full.prior is None and incr.prior == full.label and diff.prior == full.label
    assert full.head_revision == History.load().head and full.schema_fingerprint == fingerprint
    assert (
        full.size > 0 and 0 < incr.stored < full.stored and full.wal_start <= full.wal_stop < incr.wal_start
    )
    assert full.engine.startswith("pgbackrest 2.") and full.duration_ms > 0
    assert manifest_path(tmp_path, "demo", full.label).exists()
    assert [m.label for m in listing(tmp_path)] == [diff.label, incr.label, full.label]
    (tmp_path / "physical" / "demo" / "broken.manifest.json").write_text("{")
    assert len(listing(tmp_path)) == 3  # a manifest cut short by hand is passed over


def test_expire_follows_the_retention_and_the_dry_run_says_the_same(
    archiving_server: ArchivingServer, tmp_path: Path
) -> None:
    from mandala_db.ops.pitr.backup import expire

    db = Database(archiving_server.url)
    stanza = archiving_server.ready()
    first = take(db, stanza, "full", tmp_path)
    on_first = take(db, stanza, "incr", tmp_path)
    second = take(db, stanza, "full", tmp_path)
    # Every backup is within 30 days: nothing goes, whatever --keep says.
    assert expire(stanza, tmp_path, keep=1, retention_days=30, dry_run=True).removed == []
    plan = expire(stanza, tmp_path, keep=1, retention_days=0, dry_run=True)
    assert plan.removed == [first.label, on_first.label]  # the incr goes with the full it is built on
    assert {m.label for m in listing(tmp_path)} == {first.label, on_first.label, second.label}
    done = expire(stanza, tmp_path, keep=1, retention_days=0, dry_run=False)
    assert done.removed == plan.removed and done.kept == [second.label]
    assert [b["label"] for b in stanza.info()["backup"]] == [second.label]
    assert {m.label for m in listing(tmp_path)} == {second.label}


def pgbackrest_running(config: Path) -> bool:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if any(w.endswith(b"pgbackrest") for w in words) and f"--config={config}".encode() in words:
            return True
    return False


def test_a_killed_backup_leaves_the_cluster_serving_and_the_repository_consistent(
    archiving_server: ArchivingServer, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    db = Database(archiving_server.url)
    stanza = archiving_server.ready()
    config, repo = archiving_server.config, archiving_server.repo
    env = {**os.environ, "DATABASE_URL": archiving_server.url.render(mask=False), "BACKUP_DIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "mandala_db", "backup", "full", "--engine", "pgbackrest",
                             "--stanza", "demo", "--config", str(config)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    # The event: pgBackRest has begun writing the backup into the repository.
    folder = repo / "backup" / "demo"
    while proc.poll() is None and not any(p.is_dir() and p.name.endswith("F") for p in folder.glob("*")):
        time.sleep(0.01)
    assert proc.poll() is None, "the backup ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 30
    while pgbackrest_running(config) and time.monotonic() < deadline:  # its group goes with it
        time.sleep(0.05)
    assert not pgbackrest_running(config)
    assert listing(tmp_path) == [] and stanza.info().get("backup", []) == []  # nothing half-listed
    stanza.run("check")  # the repository and the archive are consistent
    with connect_to(archiving_server.url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)  # the cluster serves
    done = take(db, stanza, "full", tmp_path)  # and the next backup works
    assert [m.label for m in listing(tmp_path)] == [done.label]
