"""CloudWatch through boto3 (standard AWS settings, AWS_ENDPOINT_URL for a local or compatible endpoint):
the run's metrics with PutMetricData and its log records with PutLogEvents into the log group the guide
reads with `aws logs tail` (/aws/lambda/goal-mandala-migration by default), one stream per run."""

from __future__ import annotations

import contextlib
import json
import os
import time
from datetime import UTC, datetime
from typing import Any

from mandala_db.ops.monitor.measures import measures


def client(service: str, timeout: float) -> Any:
    import boto3
    from botocore.config import Config

    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    config = Config(
        connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1, "mode": "standard"}
    )
    return boto3.client(service, endpoint_url=endpoint, config=config)


class CloudWatchSink:
    def __init__(self, namespace: str, log_group: str, environment: str, command: str, run_id: str) -> None:
        self.namespace, self.log_group = namespace, log_group
        self.dimensions = [
            {"Name": "environment", "Value": environment},
            {"Name": "command", "Value": command},
        ]
        self.stream = f"{datetime.now(UTC):%Y/%m/%d}/{run_id}"
        self.data: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []

    def __call__(self, record: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        if record.get("level") != "DEBUG":
            self.events.append(
                {"timestamp": int(time.time() * 1000), "message": json.dumps(record, default=str)}
            )
        for m in measures(record):
            self.data.append(
                {
                    "MetricName": m.name,
                    "Value": m.value,
                    "Unit": m.unit,
                    "Dimensions": self.dimensions,
                    "Timestamp": now,
                }
            )

    def flush(self, timeout: float) -> None:
        if self.data:
            metrics = client("cloudwatch", timeout)
            for i in range(0, len(self.data), 500):
                metrics.put_metric_data(Namespace=self.namespace, MetricData=self.data[i : i + 500])
        if self.events:
            logs = client("logs", timeout)
            exists = logs.exceptions.ResourceAlreadyExistsException
            with contextlib.suppress(exists):
                logs.create_log_group(logGroupName=self.log_group)
            with contextlib.suppress(exists):
                logs.create_log_stream(logGroupName=self.log_group, logStreamName=self.stream)
            logs.put_log_events(logGroupName=self.log_group, logStreamName=self.stream, logEvents=self.events)
