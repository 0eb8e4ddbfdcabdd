"""ops/monitor/cloudwatch.py: metrics and log events on the S3-protocol suite's moto server, read back by
`logs tail`."""

from __future__ import annotations

import json

from conftest import run_cli
from mandala_db.core.url import DatabaseURL
from support import ok


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
