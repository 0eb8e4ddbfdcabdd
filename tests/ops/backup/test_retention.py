"""ops/backup/retention.py: what `backup cleanup` deletes and keeps."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import (
    run_cli,
)
from mandala_db.core.config import DatabaseURL
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
