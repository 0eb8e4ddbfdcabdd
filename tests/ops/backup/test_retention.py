"""ops/backup/retention.py: what `backup cleanup` deletes and keeps."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import (
    run_cli,
)
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.backup import cleanup_plan
from mandala_db.ops.backup.manifest import BackupManifest
from support import backup, ok


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


def dead_pid() -> int:
    """The pid of a process that has exited: what a SIGKILLed run leaves behind is owned by such a pid."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(done.stdout)


def test_what_a_killed_backup_or_cleanup_leaves_is_removed_by_the_next_run_once_its_owner_is_gone(
    db_url: DatabaseURL, tmp_path: Path
) -> None:
    """The states a kill can leave, given the order things are written in: a dump still partial (with or
    without the manifest written just before its rename), a manifest cut short, a directory backup renamed
    for deletion beside its orphan manifest. The next backup removes each, one line apiece; the work of a
    run still alive is left alone."""
    ok(run_cli("migrate", "deploy", url=db_url))
    (good,) = backup(db_url, tmp_path, "full")
    full = tmp_path / "full"
    gone, mine = dead_pid(), os.getpid()
    partial = full / f"full_backup_20260101_000000.dump.{gone}.partial"
    partial_with_manifest = full / f"full_backup_20260101_000001.dump.{gone}.partial"
    orphan_of_it = full / "full_backup_20260101_000001.dump.manifest.json"
    tmp_manifest = full / f"full_backup_20260101_000002.dump.manifest.json.{gone}.tmp"
    deleting = full / f"full_backup_20260101_000003.dir.{gone}.deleting"
    orphan = full / "full_backup_20260101_000003.dir.manifest.json"
    live = full / f"full_backup_20260101_000004.dump.{mine}.partial"
    live_manifest = full / "full_backup_20260101_000004.dump.manifest.json"
    for path in (partial, partial_with_manifest, tmp_manifest, live):
        path.write_bytes(b"x" * 100)
    (deleting / "sub").mkdir(parents=True)
    (deleting / "sub" / "1234.dat.gz").write_bytes(b"x")
    for path in (orphan_of_it, orphan, live_manifest):
        shutil.copy(Path(good["manifest"]), path)
    listed = json.loads(ok(run_cli("--json", "restore", "list", "--dir", str(tmp_path), url=db_url)).stdout)
    assert [Path(b["path"]).name for b in listed["local"]] == [Path(good["path"]).name]  # nothing half-made
    result = ok(run_cli("backup", "full", "--dir", str(tmp_path), url=db_url))
    for path in (partial, partial_with_manifest, orphan_of_it, tmp_manifest, deleting, orphan):
        assert not path.exists(), path
        assert result.stderr.count(f"deleted {path} (") == 1, result.stderr
    assert live.exists() and live_manifest.exists()  # its owner (this process) still runs


def test_a_directory_backup_missing_a_file_is_never_listed_as_good(
    db_url: DatabaseURL, tmp_path: Path
) -> None:
    ok(run_cli("migrate", "deploy", url=db_url))
    ok(run_cli("seed", "test", url=db_url))
    (made,) = backup(db_url, tmp_path, "full", "--format", "directory")
    data_files = sorted(p for p in Path(made["path"]).iterdir() if p.name != "toc.dat")
    data_files[0].unlink()
    (local,) = json.loads(
        ok(run_cli("--json", "restore", "list", "--dir", str(tmp_path), url=db_url)).stdout
    )["local"]
    assert local["good"] is False
    drill = run_cli("drill", "--dir", str(tmp_path), url=db_url)
    assert drill.code == 2 and "no good full backup" in drill.stderr, drill.output


def test_cleanup_deletes_a_backup_so_that_a_kill_never_leaves_half_of_one_listed(
    db_url: DatabaseURL, tmp_path: Path
) -> None:
    """The backup is renamed out of the way before anything is removed: stopped right after that step
    (what a kill there leaves), it is no longer listed; the `.deleting` leftover goes with the next run once
    its owner is gone (the test above)."""
    from mandala_db.ops.backup import retention

    ok(run_cli("migrate", "deploy", url=db_url))
    (made,) = backup(db_url, tmp_path, "full", "--format", "directory")
    path = Path(made["path"])

    class Killed(BaseException):
        pass

    real = retention.remove_files

    def killed_while_removing(target: Path) -> None:
        raise Killed()

    retention.remove_files = killed_while_removing  # type: ignore[assignment]
    try:
        retention.delete_backup(path)
    except Killed:
        pass
    finally:
        retention.remove_files = real  # type: ignore[assignment]
    assert not path.exists() and not Path(made["manifest"]).exists()
    listed = json.loads(ok(run_cli("--json", "restore", "list", "--dir", str(tmp_path), url=db_url)).stdout)
    assert listed["local"] == []
    (leftover,) = list((tmp_path / "full").iterdir())
    assert leftover.name.startswith(path.name) and leftover.name.endswith(".deleting")
