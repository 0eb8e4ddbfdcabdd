"""`mandala-db drill`: the newest good backup restored into a scratch database, checked, measured and
recorded; the scratch database never outlives the drill, even a killed one; a damaged backup fails the
drill and the live database is untouched; targets that are missed exit 5; a rehearsal ends where it began."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import connect_to, database_state, run_cli
from mandala_db.core.config import DatabaseURL
from mandala_db.ops.migrate.loader import History
from support import damage, ok, take_backup


def scratch_databases(url: DatabaseURL) -> list[str]:
    """This test's database's scratch copies (tests beside it have their own)."""
    prefix = f"mandala_drill_{(url.dbname or '')[:24]}_"
    with connect_to(url) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (prefix,)
        ).fetchall()
    return [r[0] for r in rows]


def test_a_drill_restores_checks_measures_and_records(loaded: DatabaseURL, tmp_path: Path) -> None:
    backup = take_backup(loaded, tmp_path)
    before = database_state(loaded)
    report = tmp_path / "drill.md"
    doc = json.loads(
        ok(run_cli("--json", "drill", "--dir", str(tmp_path), "--report", str(report), url=loaded)).stdout
    )
    assert doc["ok"] and doc["backup"] == str(backup)
    assert set(doc["phases_s"]) == {"verify", "restore", "checks"} and doc["rto_s"] > 0 and doc["rpo_s"] >= 0
    assert scratch_databases(loaded) == []
    assert database_state(loaded) == before  # the live database was never touched
    history = json.loads(
        ok(run_cli("--json", "drill", "history", "--dir", str(tmp_path), url=loaded)).stdout
    )["drills"]
    assert len(history) == 1 and history[0]["ok"] and history[0]["rto_s"] == doc["rto_s"]
    text = report.read_text()
    assert "Result: **passed**" in text and "| restore |" in text and str(backup) in text


def test_a_killed_drill_leaves_a_scratch_database_that_the_next_drill_drops(
    loaded: DatabaseURL, tmp_path: Path
) -> None:
    take_backup(loaded, tmp_path)
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "DATABASE_URL": loaded.render(mask=False),
    }
    for _ in range(100):  # kill it while the scratch database exists
        proc = subprocess.Popen([sys.executable, "-m", "mandala_db", "drill", "--dir", str(tmp_path)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 30
        while not scratch_databases(loaded) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        time.sleep(0.5)  # its sessions end with it
        if scratch_databases(loaded):
            break
    assert scratch_databases(loaded), "the drill was never caught with its scratch database"
    again = ok(run_cli("drill", "--dir", str(tmp_path), url=loaded))
    assert "left by a drill that did not finish" in again.stderr
    assert scratch_databases(loaded) == []


def test_a_damaged_backup_fails_the_drill_and_the_live_database_is_untouched(
    loaded: DatabaseURL, tmp_path: Path
) -> None:
    backup = take_backup(loaded, tmp_path)
    damage(backup, "truncated by 5 bytes")  # behind a matching checksum
    before = database_state(loaded)
    result = run_cli("drill", "--from", str(backup), "--dir", str(tmp_path), url=loaded)
    assert result.code == 5, result.output
    assert "drill failed" in result.stderr
    assert database_state(loaded) == before and scratch_databases(loaded) == []
    (recorded,) = json.loads(
        ok(run_cli("--json", "drill", "history", "--dir", str(tmp_path), url=loaded)).stdout
    )["drills"]
    assert recorded["ok"] is False and recorded["problems"]


def test_missed_targets_exit_5_and_say_why(loaded: DatabaseURL, tmp_path: Path) -> None:
    take_backup(loaded, tmp_path)
    slow = run_cli("drill", "--dir", str(tmp_path), "--rto-target", "0.001s", url=loaded)
    assert slow.code == 5 and "over the target" in slow.stderr and "slowest: restore" in slow.stderr
    time.sleep(1.2)
    old = run_cli("drill", "--dir", str(tmp_path), "--max-backup-age", "1s", url=loaded)
    assert old.code == 5 and "over the limit of 1 s" in old.stderr
    assert scratch_databases(loaded) == []


def test_a_rehearsal_applies_the_pending_revision_and_ends_where_it_began(
    loaded: DatabaseURL, tmp_path: Path
) -> None:
    history = History.load()
    ok(run_cli("--yes", "migrate", "rollback", "to", history.revisions[-2].id, url=loaded))
    take_backup(loaded, tmp_path)
    doc = json.loads(ok(run_cli("--json", "drill", "--rehearse", "--dir", str(tmp_path), url=loaded)).stdout)
    steps = [(s["direction"], s["revision"]) for s in doc["rehearsal"]]
    assert steps == [("upgrade", history.revisions[-1].id), ("downgrade", history.revisions[-1].id)]
    assert all(s["duration_ms"] >= 0 for s in doc["rehearsal"]) and "rehearse" in doc["phases_s"]
    recovery = sum(v for k, v in doc["phases_s"].items() if k != "rehearse")
    assert abs(doc["rto_s"] - recovery) < 0.01  # the rehearsal is not part of the recovery time
    assert doc["rto_s"] < sum(doc["phases_s"].values())
    with connect_to(loaded) as conn:  # the live database stayed where it was
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (
            history.revisions[-2].id,
        )


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


def test_a_drill_from_s3_downloads_checks_and_ships_its_history(
    loaded: DatabaseURL, aws_server: dict[str, str], tmp_path: Path
) -> None:
    import boto3

    bucket = f"drills-{(loaded.dbname or '').replace('_', '-')}"
    kw = {"endpoint_url": aws_server["AWS_ENDPOINT_URL"], "region_name": "us-east-1",
          "aws_access_key_id": "test", "aws_secret_access_key": "test"}  # fmt: skip
    s3 = boto3.client("s3", **kw)
    s3.create_bucket(Bucket=bucket)
    env = {**aws_server, "S3_BACKUP_BUCKET": bucket}
    made = json.loads(
        ok(run_cli("--json", "backup", "full", "--dir", str(tmp_path / "made"), url=loaded, env=env)).stdout
    )
    s3_url = f"s3://{bucket}/{made['backups'][0]['s3']['key']}"
    doc = json.loads(
        ok(
            run_cli("--json", "drill", "--from", s3_url, "--dir", str(tmp_path / "d1"), url=loaded, env=env)
        ).stdout
    )
    assert doc["ok"] and "download" in doc["phases_s"]
    # latest: with nothing here, the newest full backup on S3.
    latest = json.loads(
        ok(run_cli("--json", "drill", "--dir", str(tmp_path / "empty"), url=loaded, env=env)).stdout
    )
    assert latest["ok"] and "download" in latest["phases_s"]
    history = s3.get_object(Bucket=bucket, Key="mandala-db/drills.jsonl")["Body"].read().decode().splitlines()
    assert json.loads(history[-1])["ok"] is True
    assert scratch_databases(loaded) == []
