"""The one place operations report what happens; log lines and structured records are sinks of these events."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from mandala_db.core.url import redact

Sink = Callable[[dict[str, Any]], None]


@dataclass
class EventBus:
    """Collects secrets to redact and fans each record out to the configured sinks."""

    environment: str = "development"
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    sinks: list[Sink] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)

    def add_secret(self, secret: str | None) -> None:
        if secret:
            self.secrets.add(secret)

    def scrub(self, text: str) -> str:
        return redact(text, *self.secrets)

    def emit(
        self,
        action: str,
        message: str,
        *,
        level: str = "INFO",
        migration: str | None = None,
        duration_ms: float | None = None,
        **metadata: Any,
    ) -> dict[str, Any]:
        now = datetime.now(UTC)
        record: dict[str, Any] = {
            "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
            "level": level,
            "message": self.scrub(message),
        }
        if migration:
            record["migrationName"] = migration
        if duration_ms is not None:
            record["duration"] = round(duration_ms, 1)
        record["run_id"] = self.run_id
        meta = {"action": action, "environment": self.environment}
        meta.update({k: v for k, v in metadata.items() if v is not None})
        # Metadata values can carry server messages: scrub them as text, then restore their JSON shape.
        record["metadata"] = json.loads(self.scrub(json.dumps(meta, default=str)))
        for sink in self.sinks:
            sink(record)
        return record

    def debug(self, action: str, message: str, **kw: Any) -> dict[str, Any]:
        """For sinks that count (metrics, alerts); the log sinks show it only with -v."""
        return self.emit(action, message, level="DEBUG", **kw)

    def info(self, action: str, message: str, **kw: Any) -> dict[str, Any]:
        return self.emit(action, message, level="INFO", **kw)

    def warning(self, action: str, message: str, **kw: Any) -> dict[str, Any]:
        return self.emit(action, message, level="WARNING", **kw)

    def error(self, action: str, message: str, **kw: Any) -> dict[str, Any]:
        return self.emit(action, message, level="ERROR", **kw)


def json_sink(stream: TextIO | None = None, *, verbose: bool = False) -> Sink:
    def write(record: dict[str, Any]) -> None:
        if record["level"] == "DEBUG" and not verbose:
            return
        out = stream or sys.stderr
        out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        out.flush()

    return write


def text_sink(stream: TextIO | None = None, *, min_level: str = "INFO") -> Sink:
    order = {"DEBUG": 0, "INFO": 1, "WARNING": 2, "ERROR": 3}

    def write(record: dict[str, Any]) -> None:
        # An ERROR event is always followed by the exception that ends the command, and the CLI prints that
        # as the one error line: printing the event too would say the same thing twice.
        if record["level"] == "ERROR" or order[record["level"]] < order[min_level]:
            return
        out = stream or sys.stderr
        prefix = "warning: " if record["level"] == "WARNING" else ""
        suffix = f" ({record['duration']:.0f} ms)" if "duration" in record else ""
        out.write(f"{prefix}{record['message']}{suffix}\n")
        out.flush()

    return write


# The process-wide bus: the CLI configures its sinks once; library callers and tests may add their own.
bus = EventBus()
