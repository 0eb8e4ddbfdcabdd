"""CloudWatch Embedded Metric Format: one JSON line per record that measures something, as the
specification lays it out: `_aws.Timestamp`, `_aws.CloudWatchMetrics[{Namespace, Dimensions, Metrics}]`,
each metric and dimension a root key. Dimensions are of low cardinality only (environment, command); the
revision, run id and message are plain properties."""

from __future__ import annotations

import json
import time
from typing import Any, TextIO

from mandala_db.ops.monitor.measures import measures

DIMENSIONS = ["environment", "command"]


def emf_document(record: dict[str, Any], namespace: str, command: str) -> dict[str, Any] | None:
    found = measures(record)
    if not found:
        return None
    meta = record.get("metadata", {})
    doc: dict[str, Any] = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [DIMENSIONS],
                    "Metrics": [{"Name": m.name, "Unit": m.unit} for m in found],
                }
            ],
        },
        "environment": meta.get("environment", "development"),
        "command": command,
        "action": meta.get("action"),
        "run_id": record.get("run_id"),
        "message": record.get("message"),
    }
    if record.get("migrationName"):
        doc["revision"] = record["migrationName"]
    for m in found:
        doc[m.name] = m.value
    return doc


class EmfSink:
    def __init__(self, stream: TextIO, namespace: str, command: str) -> None:
        self.stream, self.namespace, self.command = stream, namespace, command
        self.broken = False

    def __call__(self, record: dict[str, Any]) -> None:
        if self.broken:
            return
        doc = emf_document(record, self.namespace, self.command)
        if doc is not None:
            try:
                self.stream.write(json.dumps(doc, ensure_ascii=False, default=str) + "\n")
                self.stream.flush()
            except (OSError, ValueError) as exc:  # a full disk, a closed pipe: the command goes on
                self.broken = True
                from mandala_db.core.events import bus

                bus.warning("metrics_failed", f"EMF: the metrics could not be written ({exc}); "
                            "no more EMF records this run")  # fmt: skip
