"""ops/security/checks/backup.py: recovery is proved recent: a good full backup within 26 hours and a passed
drill within 8 days; where this machine has no backup folder the check is not applicable, never a pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mandala_db.ops import drill
from ops.security.securitykit import offline_facts, run_check


def test_no_backup_folder_here_is_not_applicable(tmp_path: Path) -> None:
    [finding] = run_check("backup.freshness", offline_facts(backup_dir=tmp_path / "none"))
    assert finding.status == "skipped" and "no backup folder" in finding.evidence


def test_an_empty_folder_has_neither_a_backup_nor_a_drill(tmp_path: Path) -> None:
    found = run_check("backup.freshness", offline_facts(backup_dir=tmp_path))
    assert [(f.object, f.severity, f.evidence) for f in found] == [
        ("backups", "medium", "no good full backup at all"),
        ("drills", "low", "no drill has passed yet"),
    ]


@pytest.mark.parametrize(
    ("backup_h", "drill_d", "failing"),
    [(25, 7, []), (27, 7, ["backups"]), (1, 9, ["drills"])],
)
def test_the_ages_that_count_as_recent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backup_h: int, drill_d: int, failing: list[str]
) -> None:
    ages: dict[str, Any] = {
        "newest_good_backup_age_s": backup_h * 3600,
        "last_passed_drill_age_s": drill_d * 86400,
    }
    monkeypatch.setattr(drill, "freshness", lambda _: ages)
    found = run_check("backup.freshness", offline_facts(backup_dir=tmp_path))
    assert [f.object for f in found if f.status == "fail"] == failing
    if not failing:
        assert (
            found[0].evidence
            == f"newest good backup {backup_h:.1f} h old, last passed drill {drill_d:.1f} days ago"
        )
