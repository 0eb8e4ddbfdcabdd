"""Faults of the machine said as what they are: a server that goes away mid-deploy, a full disk. One line,
the exit code of an operation that failed, and what to do next; the state after it is settled by the next
run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import connect_to, edit, in_project, run_cli
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.migrate.loader import History
from support import ok

HISTORY = History.load()


def test_a_server_that_goes_away_mid_deploy_is_one_line_and_the_next_deploy_settles_it(
    project: Path, db_url: DatabaseURL
) -> None:
    """Every session of the deploy is ended by the server while a revision runs (what a crash or a
    restart does to it): the error says the server went away and what settles it."""
    revision = HISTORY.named("add_processing_state")
    edit(project, f"migrations/versions/{revision.id}.py", "def upgrade() -> None:\n",
         "def upgrade() -> None:\n    op.execute('SELECT pg_sleep(60)')\n")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=db_url.render(mask=False), PYTHONPATH=str(project / "src"), MANDALA_CACHE_DIR="")
    proc = subprocess.Popen([sys.executable, "-m", "mandala_db", "migrate", "deploy"], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    with connect_to(db_url) as admin:
        deadline = time.monotonic() + 60
        while not admin.execute(
            "SELECT 1 FROM pg_stat_activity WHERE datname = %s AND query LIKE '%%pg_sleep(60)%%' AND pid <> pg_backend_pid()",
            (db_url.dbname,),
        ).fetchone():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (db_url.dbname,),
        )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, out + err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: the database server went away: "), err
    assert "`mandala-db migrate deploy` settles the state" in last
    assert "unexpected error" not in err and "Traceback" not in err
    edit(project, f"migrations/versions/{revision.id}.py", "    op.execute('SELECT pg_sleep(60)')\n", "")
    ok(in_project(project, db_url, "migrate", "deploy"))
    with connect_to(db_url) as c:
        assert c.execute("SELECT version_num FROM alembic_version").fetchone() == (HISTORY.head,)
        statuses = [r[0] for r in c.execute("SELECT status FROM mandala_migration_runs ORDER BY id")]
    assert "running" not in statuses and statuses.count("succeeded") == len(HISTORY.revisions)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB file system (tmpfs), so that a backup really meets ENOSPC."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


@pytest.mark.parametrize("layout", ["custom", "directory --jobs 2"])
def test_a_full_disk_is_named_with_where_and_leaves_nothing_behind(
    layout: str, loaded: DatabaseURL, small_disk: Path
) -> None:
    fmt, *jobs = layout.split()
    result = run_cli("backup", "full", "--format", fmt, *jobs, "--compression", "none", "--dir", str(small_disk),
                     url=loaded)  # fmt: skip
    assert result.code == 1, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert "no space left on device" in last.lower() and str(small_disk) in last, last
    assert list((small_disk / "full").iterdir()) == []  # no partial dump, no manifest, no .tmp


def test_a_manifest_that_meets_a_full_disk_leaves_no_tmp_file(small_disk: Path) -> None:
    from mandala_db.ops.backup.manifest import BackupManifest

    backup = small_disk / "full_backup_20260101_000000.dump"
    backup.write_bytes(b"x")
    fd = os.open(small_disk / "filler", os.O_WRONLY | os.O_CREAT)
    try:  # fill the disk to the last block
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    manifest = BackupManifest(
        tool="mandala-db test", pg_dump_version="16", server_version="16", database="d", host="h", kind="full",
        label="full", format="custom", compression="none", started_at="2026-01-01T00:00:00+00:00",
        finished_at="2026-01-01T00:00:01+00:00", duration_ms=1, size=1, files={backup.name: {"sha256": "0", "size": 1}},
        head_revision=None, schema_fingerprint="", row_counts={"t": 1} | {f"table_{i}": i for i in range(3000)},
    )  # fmt: skip
    with pytest.raises(OSError) as caught:
        manifest.save(backup)
    assert caught.value.errno == 28 and str(BackupManifest.path_for(backup)) in str(caught.value)
    assert sorted(p.name for p in small_disk.iterdir()) == sorted([backup.name, "filler"])
