"""ops/backup/schedule.py: the schedule prints cron lines and systemd units that verify."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import run_cli
from mandala_db.core.url import DatabaseURL
from support import ok


def test_the_schedule_prints_cron_and_systemd_units_that_verify(tmp_path: Path, db_url: DatabaseURL) -> None:
    import shutil

    cron = ok(run_cli("backup", "schedule", "--print", "cron", url=db_url)).stdout
    assert "30 2 * * *" in cron and "backup full" in cron and "0 4 * * 0" in cron and "drill" in cron
    assert "DATABASE_URL=" not in cron  # secrets stay in the environment file
    units = json.loads(ok(run_cli("--json", "backup", "schedule", "--print", "systemd", url=db_url)).stdout)[
        "units"
    ]
    assert set(units) == {f"mandala-db-{j}.{k}" for j in ("backup", "drill") for k in ("service", "timer")}
    if shutil.which("systemd-analyze") is None:
        return
    for name, body in units.items():
        (tmp_path / name).write_text(body)
    check = subprocess.run(
        ["systemd-analyze", "verify", *map(str, tmp_path.glob("*"))], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    assert run_cli("backup", "schedule", "--print", "launchd", url=db_url).code == 2
