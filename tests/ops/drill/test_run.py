"""ops/drill/run.py, `mandala-db drill`: the newest good backup restored into a scratch database, checked,
measured and recorded; the scratch database never outlives the drill, even a killed one; a damaged backup
fails the drill and the live database is untouched; targets that are missed exit 5; a rehearsal ends where
it began."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import connect_to, database_state, run_cli
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.migrate.loader import History
from servers import ScratchServer
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
    ok(run_cli("--yes", "migrate", "rollback", "to", history.named("add_workflow_executions").id, url=loaded))
    take_backup(loaded, tmp_path)
    doc = json.loads(ok(run_cli("--json", "drill", "--rehearse", "--dir", str(tmp_path), url=loaded)).stdout)
    steps = [(s["direction"], s["revision"]) for s in doc["rehearsal"]]
    assert steps == [
        ("upgrade", history.named("split_reflections").id),
        ("downgrade", history.named("split_reflections").id),
    ]
    assert all(s["duration_ms"] >= 0 for s in doc["rehearsal"]) and "rehearse" in doc["phases_s"]
    recovery = sum(v for k, v in doc["phases_s"].items() if k != "rehearse")
    assert abs(doc["rto_s"] - recovery) < 0.01  # the rehearsal is not part of the recovery time
    assert doc["rto_s"] < sum(doc["phases_s"].values())
    with connect_to(loaded) as conn:  # the live database stayed where it was
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (
            history.named("add_workflow_executions").id,
        )


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
    s3_url = f"s3://{bucket}/{made['backups'][0]['remote']['key']}"
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


def _age_manifest(backup: Path, days: float) -> None:
    """As if the backup had been taken `days` ago (the manifest is not signed in these tests)."""
    from datetime import UTC, datetime, timedelta

    path = backup.with_name(backup.name + ".manifest.json")
    doc = json.loads(path.read_text())
    when = datetime.now(UTC) - timedelta(days=days)
    doc["started_at"], doc["finished_at"] = when.isoformat(), (when + timedelta(seconds=1)).isoformat()
    path.write_text(json.dumps(doc))


def test_a_backup_whose_latest_verification_failed_is_never_the_good_one(
    loaded: DatabaseURL, tmp_path: Path
) -> None:
    """Stats, the freshness check, the backup-age record the alert reads, and the drill all look past it to
    the newest backup still good; a drill that finds a backup bad marks it so in its manifest."""
    env = {"BACKUP_DIR": str(tmp_path)}
    older = take_backup(loaded, tmp_path)
    _age_manifest(older, 2)
    newer = take_backup(loaded, tmp_path)
    damage(newer, "truncated by 5 bytes")  # behind a matching checksum: only a read finds it
    assert run_cli("backup", "verify", str(newer), url=loaded, env=env).code == 2
    stats = json.loads(ok(run_cli("--json", "backup", "stats", url=loaded, env=env)).stdout)
    old_manifest = json.loads(older.with_name(older.name + ".manifest.json").read_text())
    assert stats["local"]["full"]["newest_good"] == old_manifest["started_at"]
    assert stats["local"]["full"]["failed_verification"] == 1
    assert stats["freshness"]["newest_good_backup_age_s"] > 2 * 86400 - 60
    records = run_cli("-v", "--log-format", "json", "backup", "stats", url=loaded, env=env).stderr
    (age,) = [json.loads(ln) for ln in records.splitlines() if '"backup_age"' in ln and '"full"' in ln]
    assert age["metadata"]["age_s"] > 2 * 86400 - 60  # what the backup-age alert compares with its limit
    checks = json.loads(run_cli("--json", "security", "check", url=loaded, env=env).stdout)["findings"]
    [fresh] = [f for f in checks if f["id"] == "backup.freshness" and f["object"] != "drills"]
    assert fresh["status"] == "fail" and "no good full backup in the last 26 h" in fresh["evidence"]
    listing = {Path(b["path"]).name: b["good"] for b in json.loads(
        ok(run_cli("--json", "restore", "list", url=loaded, env=env)).stdout)["local"]}  # fmt: skip
    assert listing == {older.name: True, newer.name: False}
    drilled = json.loads(ok(run_cli("--json", "drill", url=loaded, env=env)).stdout)
    assert drilled["ok"] and drilled["backup"] == str(older)
    damage(older, "truncated by 5 bytes")
    assert run_cli("drill", "--from", str(older), url=loaded, env=env).code == 5
    verdict = json.loads(older.with_name(older.name + ".manifest.json").read_text())["verifications"][-1]
    assert verdict["kind"] == "drill" and verdict["ok"] is False and verdict["problems"]
    none_left = run_cli("drill", url=loaded, env=env)
    assert none_left.code == 2 and "no good full backup" in none_left.stderr, none_left.output


def test_a_drill_given_a_source_that_is_no_backup_is_bad_input_and_recorded_nowhere(
    loaded: DatabaseURL, tmp_path: Path
) -> None:
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    backups = tmp_path / "backups"
    schema_only = json.loads(
        ok(run_cli("--json", "backup", "schema", "--dir", str(backups), url=loaded)).stdout
    )
    for source in (
        "/nonexistent",
        "/etc/passwd",
        "s3://",
        "s3:///key",
        "s3://bucket",
        schema_only["backups"][0]["path"],
    ):
        result = run_cli(
            "drill", "--from", source, "--dir", str(backups), url=loaded, env={"TMPDIR": str(private_tmp)}
        )
        assert result.code == 2, (source, result.output)
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
    assert not (backups / "drills.jsonl").exists()  # nothing was recorded as a failed recovery
    assert list(private_tmp.iterdir()) == [] and scratch_databases(loaded) == []


def test_the_temp_folder_of_a_killed_drill_is_removed_by_the_next_one(
    loaded: DatabaseURL, tmp_path: Path
) -> None:
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    take_backup(loaded, tmp_path)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(gone.stdout)  # a process that has exited: what a SIGKILLed drill leaves is owned by it
    left = private_tmp / f"mandala-db-drill-{dead_pid}-abc123"
    (left / "sub").mkdir(parents=True)
    (left / "sub" / "full_backup.dump").write_bytes(b"x" * 1000)
    alive = private_tmp / f"mandala-db-drill-{os.getpid()}-def456"  # a drill still running beside it
    alive.mkdir()
    result = ok(run_cli("drill", "--dir", str(tmp_path), url=loaded, env={"TMPDIR": str(private_tmp)}))
    assert f"removed {left}" in result.stderr and "did not finish" in result.stderr
    assert sorted(p.name for p in private_tmp.iterdir()) == [alive.name]


def test_a_drill_whose_server_goes_away_says_so_is_recorded_and_leaves_no_temp_folder(
    scratch_server: ScratchServer, tmp_path: Path
) -> None:
    from conftest import create_database

    url = create_database(scratch_server.url, "goals")
    ok(run_cli("migrate", "deploy", url=url))
    ok(run_cli("seed", "performance", "--scale", "0.02", url=url))
    take_backup(url, tmp_path)
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=url.render(mask=False), TMPDIR=str(private_tmp))
    proc = subprocess.Popen([sys.executable, "-m", "mandala_db", "drill", "--dir", str(tmp_path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stderr is not None
    for line in proc.stderr:  # the event: the restore into the scratch copy has begun
        if line.startswith("restore started"):
            break
    else:
        raise AssertionError(f"the drill never began its restore: {proc.communicate()}")
    scratch_server.crash()
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert proc.returncode == 5, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: drill failed: ") and "unexpected error" not in err, err
    assert "could not be dropped now" in err  # the clean-up's failure is a warning, not the drill's error
    (recorded,) = [json.loads(ln) for ln in (tmp_path / "drills.jsonl").read_text().splitlines()]
    assert recorded["ok"] is False and recorded["problems"]
    assert list(private_tmp.iterdir()) == []
