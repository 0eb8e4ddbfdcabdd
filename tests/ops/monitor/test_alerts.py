"""Alerts, received by a local HTTP server on 127.0.0.1 (and SNS on moto): exactly one for a failing
revision; one for a revision stuck on a lock past --alert-after, sent while it still runs; one on the third
connection failure in a row, not the second. A webhook that never answers costs at most its timeout."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conftest import SENTINEL_PASSWORD, assert_no_secret, connect_to, run_cli
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.migrate.loader import History
from servers import free_port
from support import ok

HISTORY = History.load()


class Receiver:
    def __init__(self, *, answer: bool = True) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.times: list[float] = []
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.bodies.append(json.loads(body))
                received.times.append(time.monotonic())
                if not answer:
                    time.sleep(30)  # never answers in time
                    return
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts(self, rule: str | None = None) -> list[dict[str, Any]]:
        return [b for b in self.bodies if rule is None or b["groupLabels"]["alertname"] == rule]


@pytest.fixture
def webhook() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


def test_one_alert_for_a_failing_revision(db_url: DatabaseURL, webhook: Receiver, tmp_path: Path) -> None:
    with connect_to(db_url) as conn:
        conn.execute("CREATE TABLE saved_views (id int)")  # revision 4 creates it: it fails, rolled back
    env = {"MANDALA_STATE_DIR": str(tmp_path)}
    result = run_cli("--alert-webhook", webhook.url, "migrate", "deploy", url=db_url, env=env)
    assert result.code == 1, result.output
    (alert,) = webhook.alerts()
    assert alert["groupLabels"]["alertname"] == "failed"
    assert "20250212000000_task_management" in alert["text"] and "already exists" in alert["text"]
    labels = alert["alerts"][0]["labels"]
    assert labels["environment"] == "development" and labels["revision"] == "20250212000000_task_management"
    assert db_url.dbname in labels["database"] and "Next:" in alert["text"]


def test_a_revision_stuck_on_a_lock_alerts_once_while_it_runs(
    db_url: DatabaseURL, webhook: Receiver, tmp_path: Path
) -> None:
    ok(run_cli("migrate", "deploy", url=db_url))
    ok(run_cli("--yes", "migrate", "rollback", "to", HISTORY.named("add_workflow_executions").id, url=db_url))
    holder = connect_to(db_url)
    holder.autocommit = False
    holder.execute("LOCK TABLE reflections IN ACCESS SHARE MODE")  # the last revision's ALTER must wait
    import subprocess
    import sys

    env = {**{k: v for k, v in __import__("os").environ.items() if k != "DATABASE_URL"},
           "DATABASE_URL": db_url.render(mask=False), "MANDALA_STATE_DIR": str(tmp_path)}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "mandala_db", "--alert-webhook", webhook.url, "--alert-after", "1s",
         "migrate", "deploy", "--lock-timeout", "20s"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while not webhook.alerts("long_run") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert webhook.alerts("long_run"), "no alert while the revision waited"
        assert proc.poll() is None  # sent before the run ends
    finally:
        holder.rollback()
        holder.close()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    (alert,) = webhook.alerts("long_run")
    assert "split_reflections" in alert["text"] and "Lock" in alert["text"]
    assert "migration_progress" not in out and "waiting on Lock" in err  # the heartbeat, in the log


def test_three_connection_failures_in_a_row_alert_once_on_the_third(
    webhook: Receiver, tmp_path: Path
) -> None:
    closed = DatabaseURL.parse(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres")
    env = {"MANDALA_STATE_DIR": str(tmp_path)}
    for attempt in (1, 2):
        assert run_cli("--alert-webhook", webhook.url, "migrate", "status", url=closed, env=env).code == 1
        assert webhook.alerts("connection_failures") == [], attempt
    assert run_cli("--alert-webhook", webhook.url, "migrate", "status", url=closed, env=env).code == 1
    (alert,) = webhook.alerts("connection_failures")
    assert "3 database connection failures in a row" in alert["text"]


def test_a_success_resets_the_connection_failure_count(
    db_url: DatabaseURL, webhook: Receiver, tmp_path: Path
) -> None:
    closed = DatabaseURL.parse(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres")
    env = {"MANDALA_STATE_DIR": str(tmp_path)}
    for url in (closed, closed, db_url, closed, closed):
        run_cli("--alert-webhook", webhook.url, "migrate", "status", url=url, env=env)
    assert webhook.alerts("connection_failures") == []


def test_a_webhook_that_never_answers_delays_a_deploy_by_its_timeout_only(
    db_url: DatabaseURL, tmp_path: Path
) -> None:
    silent = Receiver(answer=False)
    env = {"MANDALA_ALERT_TIMEOUT": "1s", "MANDALA_STATE_DIR": str(tmp_path)}
    started = time.monotonic()
    # Every revision takes longer than 1 ms: the duration alert fires (once) and the webhook hangs.
    result = run_cli(
        "--alert-webhook", silent.url, "--alert-after", "0.001", "migrate", "deploy", url=db_url, env=env
    )
    took = time.monotonic() - started
    assert result.code == 0, result.output
    assert "7 revision(s) done" in result.stdout
    assert result.stderr.count("warning: the webhook alert could not be sent") == 1
    assert len(silent.bodies) == 1 and took < 15


def test_sns_alert_through_moto(db_url: DatabaseURL, aws_server: dict[str, str], tmp_path: Path) -> None:
    import boto3

    kw = {"endpoint_url": aws_server["AWS_ENDPOINT_URL"], "region_name": "us-east-1",
          "aws_access_key_id": "test", "aws_secret_access_key": "test"}  # fmt: skip
    sns, sqs = boto3.client("sns", **kw), boto3.client("sqs", **kw)
    topic = sns.create_topic(Name=f"mandala-alerts-{db_url.dbname}")["TopicArn"]
    queue = sqs.create_queue(QueueName=f"alerts-{db_url.dbname}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    with connect_to(db_url) as conn:
        conn.execute("CREATE TABLE saved_views (id int)")
    env = {**aws_server, "MANDALA_STATE_DIR": str(tmp_path)}
    assert run_cli("--alert-sns", topic, "migrate", "deploy", url=db_url, env=env).code == 1
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=2).get(
        "Messages", []
    )
    assert len(messages) == 1
    assert "20250212000000_task_management" in json.loads(messages[0]["Body"])["Message"]


def test_no_password_in_any_alert(password_server: DatabaseURL, webhook: Receiver, tmp_path: Path) -> None:
    env = {"MANDALA_STATE_DIR": str(tmp_path)}
    wrong = DatabaseURL.parse(password_server.render(mask=False).replace("5499", str(free_port())))
    for _ in range(3):
        run_cli("--alert-webhook", webhook.url, "migrate", "status", url=wrong, env=env)
    result = run_cli("--alert-webhook", webhook.url, "--alert-after", "0.001", "migrate", "deploy",
                     url=password_server, env=env)  # fmt: skip
    assert result.code == 0, result.output
    assert webhook.alerts("long_run") and webhook.alerts("connection_failures")
    assert_no_secret(json.dumps(webhook.bodies) + result.output, SENTINEL_PASSWORD)


def test_backup_stats_alerts_when_the_newest_backup_is_too_old(
    db_url: DatabaseURL, webhook: Receiver, tmp_path: Path
) -> None:
    ok(run_cli("migrate", "deploy", url=db_url))
    ok(run_cli("backup", "full", "--dir", str(tmp_path / "b"), url=db_url))
    env = {"MANDALA_STATE_DIR": str(tmp_path)}
    ok(
        run_cli(
            "--alert-webhook",
            webhook.url,
            "backup",
            "stats",
            "--dir",
            str(tmp_path / "b"),
            url=db_url,
            env=env,
        )
    )
    assert webhook.alerts() == []  # minutes old, the limit is 26 h
    env["MANDALA_ALERT_BACKUP_AGE"] = "0.001"
    ok(
        run_cli(
            "--alert-webhook",
            webhook.url,
            "backup",
            "stats",
            "--dir",
            str(tmp_path / "b"),
            url=db_url,
            env=env,
        )
    )
    (alert,) = webhook.alerts("backup_age:full")
    assert "the newest full backup is" in alert["text"]
