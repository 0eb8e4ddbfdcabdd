"""Metrics as sinks of the event stream: CloudWatch EMF lines as the specification lays them out, a
Prometheus textfile that prometheus-client's own parser reads, a real Pushgateway, and CloudWatch metrics
and logs on a moto server, which `logs tail` prints back."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import SENTINEL_PASSWORD, assert_no_secret, run_cli
from mandala_db.core.url import DatabaseURL
from servers import free_port
from support import ok

UNITS = {
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Count",
    "Percent",
    "None",
}


def emf_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def check_emf(doc: dict[str, Any]) -> list[str]:
    """The specification's structure: every named metric and dimension is a root key; units are valid."""
    aws = doc["_aws"]
    assert isinstance(aws["Timestamp"], int) and aws["Timestamp"] > 1_600_000_000_000
    names = []
    for directive in aws["CloudWatchMetrics"]:
        assert directive["Namespace"] == "GoalMandala/Migration"
        for dimension_set in directive["Dimensions"]:
            assert all(isinstance(doc[d], str) for d in dimension_set), dimension_set
        for metric in directive["Metrics"]:
            assert metric["Unit"] in UNITS
            assert isinstance(doc[metric["Name"]], (int, float))
            names.append(metric["Name"])
    assert "revision" not in [d for ds in aws["CloudWatchMetrics"][0]["Dimensions"] for d in ds]
    return names


def test_emf_lines_follow_the_specification(db_url: DatabaseURL, tmp_path: Path) -> None:
    out = tmp_path / "metrics.emf"
    ok(run_cli("--metrics", "emf", "--metrics-file", str(out), "migrate", "deploy", url=db_url))
    docs = emf_lines(out)
    names = [n for d in docs for n in check_emf(d)]
    assert names.count("MigrationStarted") == 7 and names.count("MigrationCompleted") == 7
    assert names.count("MigrationDuration") == 7 and "TablesAffected" in names and "LockWait" in names
    assert "DatabaseConnectionSuccess" in names
    completed = [d for d in docs if "MigrationCompleted" in d]
    assert completed[-1]["revision"] == "20250409000000_split_reflections"
    assert {d["command"] for d in docs} == {"migrate deploy"}
    # On stdout when no file is named, and beside a --json document, on stderr instead.
    json_run = ok(run_cli("--json", "--metrics", "emf", "migrate", "status", url=db_url))
    assert json.loads(json_run.stdout)["ok"] and '"_aws"' in json_run.stderr


def test_settings_come_from_pyproject_then_environment_then_flags(
    db_url: DatabaseURL, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.mandala-db]\nmetrics = ["emf"]\nmetrics-file = "{tmp_path / "from-file.emf"}"\n'
    )
    ok(run_cli("migrate", "status", url=db_url, cwd=tmp_path))
    assert emf_lines(tmp_path / "from-file.emf")
    ok(
        run_cli(
            "migrate",
            "status",
            url=db_url,
            cwd=tmp_path,
            env={"MANDALA_METRICS_FILE": str(tmp_path / "env.emf")},
        )
    )
    assert emf_lines(tmp_path / "env.emf")
    ok(
        run_cli(
            "--metrics-file", str(tmp_path / "flag.emf"), "migrate", "status", url=db_url, cwd=tmp_path,
            env={"MANDALA_METRICS_FILE": str(tmp_path / "env2.emf")},
        )
    )  # fmt: skip
    assert emf_lines(tmp_path / "flag.emf") and not (tmp_path / "env2.emf").exists()
    bad = run_cli("--metrics", "statsd", "migrate", "status", url=db_url)
    assert bad.code == 2 and "unknown metrics sink 'statsd'" in bad.stderr


def test_the_prometheus_textfile_parses(db_url: DatabaseURL, tmp_path: Path) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    out = tmp_path / "textfile" / "mandala.prom"
    ok(run_cli("--metrics", "prometheus", "--metrics-file", str(out), "migrate", "deploy", url=db_url))
    samples = {s.name: s for f in text_string_to_metric_families(out.read_text()) for s in f.samples}
    assert samples["mandala_migrations_completed_total"].value == 7
    assert samples["mandala_migrations_started_total"].labels == {
        "environment": "development",
        "command": "migrate deploy",
    }
    assert samples["mandala_migration_duration_seconds_count"].value == 7
    assert samples["mandala_migration_last_success_timestamp_seconds"].value > time.time() - 60
    assert not list(out.parent.glob("*.tmp*"))  # written atomically


@pytest.fixture(scope="module")
def pushgateway() -> Iterator[str]:
    binary = shutil.which("prometheus-pushgateway") or shutil.which("pushgateway")
    if binary is None:
        pytest.skip("needs Debian's prometheus-pushgateway (.ci/run installs it)")
    port = free_port()
    proc = subprocess.Popen([binary, f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/-/ready", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait()


def test_a_real_pushgateway_receives_the_metrics(db_url: DatabaseURL, pushgateway: str) -> None:
    ok(run_cli("--pushgateway", pushgateway, "migrate", "deploy", url=db_url))
    groups = json.loads(urllib.request.urlopen(f"{pushgateway}/api/v1/metrics", timeout=5).read())["data"]
    (group,) = [g for g in groups if g["labels"].get("job") == "mandala-db"]
    assert group["labels"]["environment"] == "development"
    completed = group["mandala_migrations_completed_total"]["metrics"][0]
    assert float(completed["value"]) == 7


def test_a_pushgateway_that_is_down_costs_one_warning_not_the_deploy(db_url: DatabaseURL) -> None:
    result = run_cli("--pushgateway", f"http://127.0.0.1:{free_port()}", "migrate", "deploy", url=db_url)
    assert result.code == 0, result.output
    assert result.stderr.count("warning: Pushgateway: the metrics could not be delivered") == 1


def test_cloudwatch_metrics_and_logs_on_moto_and_logs_tail(
    db_url: DatabaseURL, aws_server: dict[str, str]
) -> None:
    import boto3

    group = f"/aws/lambda/goal-mandala-migration-{db_url.dbname}"
    env = {**aws_server, "MANDALA_LOG_GROUP": group}
    ok(run_cli("--metrics", "cloudwatch", "migrate", "deploy", url=db_url, env=env))
    kw = {"endpoint_url": aws_server["AWS_ENDPOINT_URL"], "region_name": "us-east-1",
          "aws_access_key_id": "test", "aws_secret_access_key": "test"}  # fmt: skip
    names = {
        m["MetricName"]
        for m in boto3.client("cloudwatch", **kw).list_metrics(Namespace="GoalMandala/Migration")["Metrics"]
    }
    assert {"MigrationStarted", "MigrationCompleted", "MigrationDuration", "TablesAffected"} <= names
    events = boto3.client("logs", **kw).filter_log_events(logGroupName=group)["events"]
    messages = [json.loads(e["message"])["message"] for e in events]
    assert "migration complete: 20250409000000_split_reflections" in messages
    tailed = ok(run_cli("logs", "tail", "--since", "1h", url=db_url, env=env)).stdout
    assert "migration complete: 20250409000000_split_reflections" in tailed
    as_json = [
        json.loads(line)
        for line in ok(run_cli("--json", "logs", "tail", url=db_url, env=env)).stdout.splitlines()
    ]
    assert all({"timestamp", "level", "message", "run_id", "metadata"} <= set(r) for r in as_json)


def test_logs_tail_reads_the_ledger_when_nothing_is_shipped(db_url: DatabaseURL) -> None:
    ok(run_cli("migrate", "deploy", url=db_url))
    out = ok(run_cli("logs", "tail", "--filter", "split_reflections", url=db_url)).stdout.splitlines()
    assert len(out) == 1 and "migration complete: 20250409000000_split_reflections" in out[0]
    records = [
        json.loads(line) for line in ok(run_cli("--json", "logs", "tail", url=db_url)).stdout.splitlines()
    ]
    assert len(records) == 7 and records[0]["metadata"]["action"] == "migration_complete"
    assert records[0]["metadata"]["tables"] == []  # the first revision creates its tables: none existed
    history = json.loads(ok(run_cli("--json", "migrate", "status", "history", url=db_url)).stdout)["history"]
    assert any(h["tables"] for h in history)  # later revisions touch existing tables, and say which


def test_no_password_in_any_metric(password_server: DatabaseURL, tmp_path: Path) -> None:
    out = tmp_path / "metrics.emf"
    prom = tmp_path / "m.prom"
    runs = [
        run_cli("--metrics", "emf", "--metrics-file", str(out), "migrate", "status", url=password_server),
        run_cli(
            "--metrics", "prometheus", "--metrics-file", str(prom), "migrate", "status", url=password_server
        ),
        run_cli("--log-format", "json", "-v", "--metrics", "emf", "migrate", "status", url=password_server),
    ]
    assert all(r.code == 0 for r in runs), [r.output for r in runs]
    assert "database_connection" in runs[2].stderr
    assert_no_secret(out.read_text() + prom.read_text() + "".join(r.output for r in runs), SENTINEL_PASSWORD)


def test_plan_shows_how_long_each_pending_revision_took_elsewhere(
    db_url: DatabaseURL, admin_url: DatabaseURL
) -> None:
    from conftest import create_database, drop_database

    staging = create_database(admin_url, f"{db_url.dbname}_staging")
    try:
        ok(run_cli("migrate", "deploy", url=staging))
        doc = json.loads(
            ok(
                run_cli("--json", "migrate", "plan", "--timings-from", staging.render(mask=False), url=db_url)
            ).stdout
        )
        timings = [p["timing"] for p in doc["plan"]]
        assert len(timings) == 7 and all(
            t["duration_ms"] > 0 and staging.dbname in t["from"] for t in timings
        )
        human = ok(
            run_cli("migrate", "plan", "--timings-from", staging.render(mask=False), url=db_url)
        ).stdout
        assert human.count("(took ") == 7
    finally:
        drop_database(admin_url, staging.dbname or "")


def test_logs_tail_follow_prints_runs_as_they_happen(db_url: DatabaseURL) -> None:
    import os
    import signal
    import sys

    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "DATABASE_URL": db_url.render(mask=False),
    }
    # Interrupted as at a terminal: a suite started in the background (as CI may run it) passes SIGINT on
    # ignored, Python keeps an ignored SIGINT ignored, and the follower would never stop. It gets the
    # default disposition back, as a user's shell gives it.
    follower = subprocess.Popen([sys.executable, "-m", "mandala_db", "logs", "tail", "--follow"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    lines: list[str] = []
    all_seen = threading.Event()

    def read() -> None:
        assert follower.stdout is not None
        for line in follower.stdout:
            lines.append(line)
            if sum("migration complete:" in ln for ln in lines) == 7:
                all_seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        ok(run_cli("migrate", "deploy", url=db_url))
        # The event aimed at: the follower printed every run of the deploy (not a wall-clock guess).
        assert all_seen.wait(60), "".join(lines)
    finally:
        follower.send_signal(signal.SIGINT)
        follower.wait(timeout=60)
        reader.join(timeout=10)
    out, err = "".join(lines), follower.stderr.read() if follower.stderr else ""
    assert follower.returncode == 0 and out.count("migration complete:") == 7, (out, err)
