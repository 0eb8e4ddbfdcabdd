"""ops/drill/history.py: the drill history beside the backups; `backup stats` and `security check` say how
stale the last proof of recovery is."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli
from mandala_db.core.url import DatabaseURL
from support import ok, take_backup


def test_backup_stats_and_security_check_report_how_stale_recovery_is(
    loaded: DatabaseURL, tmp_path: Path
) -> None:
    env = {"BACKUP_DIR": str(tmp_path)}
    take_backup(loaded, tmp_path)
    before = json.loads(ok(run_cli("--json", "backup", "stats", url=loaded, env=env)).stdout)["freshness"]
    assert before["newest_good_backup_age_s"] is not None and before["last_passed_drill_at"] is None
    checks = json.loads(run_cli("--json", "security", "check", url=loaded, env=env).stdout)["findings"]
    [drills] = [f for f in checks if f["id"] == "backup.freshness" and f["object"] == "drills"]
    assert drills["status"] == "fail" and "no drill has passed yet" in drills["evidence"]
    ok(run_cli("drill", url=loaded, env=env))
    after = json.loads(ok(run_cli("--json", "backup", "stats", url=loaded, env=env)).stdout)["freshness"]
    assert after["last_passed_drill_age_s"] is not None and after["last_passed_drill_age_s"] < 60
    checks = json.loads(run_cli("--json", "security", "check", url=loaded, env=env).stdout)["findings"]
    assert [f["status"] for f in checks if f["id"] == "backup.freshness"] == ["pass"]
