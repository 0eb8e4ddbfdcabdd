"""cli/backup: the backup and restore commands as a user meets them. `backup all` is the three kinds;
`backup stats` and `restore list` show them with every file name whole; `cleanup --dry-run` deletes
nothing; the guide's `restore s3-restore` is `remote-restore` under its old name; a storage URL of an
unknown scheme and a schedule format that does not exist are bad input."""

from __future__ import annotations

import json
from pathlib import Path

from cli.clikit import one_error_line
from conftest import run_cli
from mandala_db.core.url import DatabaseURL
from support import ok


def test_backup_all_then_stats_list_and_a_dry_cleanup(loaded: DatabaseURL, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    doc = json.loads(ok(run_cli("--json", "backup", "all", "--dir", str(folder), url=loaded)).stdout)
    kinds = [b["kind"] for b in doc["backups"]]
    assert sorted(kinds) == ["data", "full", "schema"]
    names = [Path(b["path"]).name for b in doc["backups"]]
    listed = ok(run_cli("restore", "list", "--dir", str(folder), url=loaded)).stdout
    assert all(name in listed for name in names), listed  # whole, never cut with an ellipsis
    stats = json.loads(ok(run_cli("--json", "backup", "stats", "--dir", str(folder), url=loaded)).stdout)
    assert {k: v["count"] for k, v in stats["local"].items()} == {"full": 1, "schema": 1, "data": 1}
    assert stats["freshness"]["newest_good_backup_age_s"] is not None
    dry = json.loads(
        ok(run_cli("--json", "backup", "cleanup", "--dir", str(folder), "--retention-days", "0", "--keep", "0",
                   "--dry-run", url=loaded)).stdout
    )  # fmt: skip
    assert dry["retention_days"] == 0 and sorted(p.name for p in folder.rglob("*.dump")) == sorted(
        n for n in names if n.endswith(".dump")
    )


def test_the_guides_s3_restore_is_remote_restore_under_its_old_name() -> None:
    for name in ("s3-restore", "remote-restore"):
        help_text = run_cli("restore", name, "--help").stdout
        assert "Download a backup and its manifest, verify them" in help_text


def test_a_storage_url_of_another_scheme_is_bad_input(tmp_path: Path) -> None:
    result = run_cli("--yes", "restore", "remote-restore", "ftp://host/backup.dump",
                     env={"MANDALA_STATE_DIR": str(tmp_path / "state")})  # fmt: skip
    assert result.code == 2 and "ftp://host/backup.dump" in one_error_line(result)
    assert not (tmp_path / "state" / "pgdata").exists()  # refused before a server was started for it


def test_a_schedule_format_that_does_not_exist_is_bad_input() -> None:
    result = run_cli("backup", "schedule", "--print", "launchd")
    assert result.code == 2 and "use cron or systemd" in one_error_line(result)
