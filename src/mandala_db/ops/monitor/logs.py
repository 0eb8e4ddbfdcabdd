"""`logs tail`: the guide's `aws logs tail /aws/lambda/goal-mandala-migration --follow`, from CloudWatch
Logs when the settings ship logs there, else from the run ledger of the database, in the shape of the
structured log record either way."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from mandala_db.core import ledger
from mandala_db.core.database import Database


def _matches(record: dict[str, Any], needle: str | None) -> bool:
    return not needle or needle.lower() in json.dumps(record, default=str).lower()


def ledger_records(
    db: Database, since: timedelta, needle: str | None, after_id: int = 0
) -> list[tuple[int, dict[str, Any]]]:
    """Each ledger row as the start and end records the run logged."""
    with db.connect() as conn:
        select = ledger.columns(conn)
        if select is None:
            return []
        rows = conn.execute(
            f"SELECT {select} FROM {ledger.TABLE} WHERE started_at >= now() - %s AND id > %s ORDER BY id",
            (since, after_id),
        ).fetchall()
    out = []
    for r in (ledger.LedgerRow(*row) for row in rows):
        if r.status == "running":
            break  # printed once it ends; what follows waits for it, so records stay in order
        verb = "migration" if r.direction == "upgrade" else "rollback"
        end = {"succeeded": "complete", "failed": "failed", "interrupted": "interrupted"}.get(
            r.status, r.status
        )
        record: dict[str, Any] = {
            "timestamp": (r.finished_at or r.started_at).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": "ERROR" if r.status in ("failed", "interrupted") else "INFO",
            "message": f"{verb} {end}: {r.revision}" + (f": {r.error}" if r.error and r.status != "succeeded" else ""),
            "migrationName": r.revision,
            "run_id": r.run_id,
            "metadata": {"action": f"migration_{end}" if r.direction == "upgrade" else f"rollback_{end}",
                         "environment": r.environment, "user": r.db_user, "tables": r.tables or []},
        }  # fmt: skip
        if r.duration_ms is not None:
            record["duration"] = round(r.duration_ms, 1)
        if _matches(record, needle):
            out.append((r.id, record))
    return out


def cloudwatch_records(
    log_group: str, since: timedelta, needle: str | None, start_ms: int | None = None
) -> list[tuple[int, dict[str, Any]]]:
    from mandala_db.core.aws import aws_failure
    from mandala_db.ops.monitor.cloudwatch import client

    logs = client("logs", 10)
    start = start_ms if start_ms is not None else int((datetime.now(UTC) - since).timestamp() * 1000)
    out = []
    try:
        pages = list(
            logs.get_paginator("filter_log_events").paginate(logGroupName=log_group, startTime=start)
        )
    except Exception as exc:
        raise aws_failure(exc, f"reading the log group {log_group}",
                          missing_hint="no run has shipped its log there yet (--metrics cloudwatch)") from exc  # fmt: skip
    for page in pages:
        for event in page.get("events", []):
            try:
                record = json.loads(event["message"])
            except ValueError:
                record = {"message": event["message"]}
            if _matches(record, needle):
                out.append((int(event["timestamp"]), record))
    return sorted(out, key=lambda item: item[0])


def tail(
    fetch: Callable[[int | None], list[tuple[int, dict[str, Any]]]], *, follow: bool, poll: float = 2.0
) -> Iterator[dict[str, Any]]:
    """Records in order; with follow, keeps asking for ones after the last seen until interrupted."""
    last: int | None = None
    seen_at_last: set[str] = set()
    while True:
        for key, record in fetch(last):
            fingerprint = json.dumps(record, sort_keys=True, default=str)
            if last is not None and key == last and fingerprint in seen_at_last:
                continue
            if key != last:
                seen_at_last = set()
            last = key
            seen_at_last.add(fingerprint)
            yield record
        if not follow:
            return
        time.sleep(poll)
