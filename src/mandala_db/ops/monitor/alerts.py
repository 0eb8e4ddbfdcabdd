"""Alerts: rules read from the event stream, sent to a webhook (a Slack-compatible `text` and an
Alertmanager-style payload in one JSON body) and/or an SNS topic. Rules: a failed migration, backup or
restore; a revision running past --alert-after (fired by the heartbeat during the run, once); three
database connection failures in a row (counted in a state file of the tool, since the database is what
fails); a backup older than a limit. A sink that fails waits at most its timeout and leaves one warning:
the command's own result never changes."""

from __future__ import annotations

import fcntl
import json
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mandala_db.core.events import bus
from mandala_db.core.settings import MonitorSettings
from mandala_db.ops.monitor.deadline import bounded, socket_timeout

ALERTING_COMMANDS = ("migrate deploy", "migrate prod", "migrate rollback", "migrate dev", "migrate resolve",
                     "backup", "restore", "drill")  # fmt: skip
FAILURE_EXIT_CODES = (1, 4, 5)  # not 2 (bad input) nor 3 (a guard refused on purpose)
CONNECTION_FAILURES = 3


class AlertSink:
    def __init__(
        self,
        settings: MonitorSettings,
        *,
        database: Callable[[], str],
        environment: str,
        command: str,
        state_file: Path | None,
    ) -> None:
        self.settings, self.database, self.environment, self.command = (
            settings,
            database,
            environment,
            command,
        )
        self.state_file = state_file
        self.fired: set[str] = set()
        self.dead: set[str] = set()  # sinks that failed this run
        self.failed_revision: tuple[str, str] | None = None

    def __call__(self, record: dict[str, Any]) -> None:
        meta = record.get("metadata", {})
        action = meta.get("action")
        after = self.settings.alert_after
        if action == "migration_progress" and float(meta.get("elapsed_s") or 0) >= after:
            self._long_run(
                record.get("migrationName", ""), float(meta["elapsed_s"]), str(meta.get("wait_event", ""))
            )
        elif action == "migration_complete" and float(record.get("duration") or 0) >= after * 1000:
            self._long_run(record.get("migrationName", ""), float(record["duration"]) / 1000, "")
        elif action == "migration_failed":
            self.failed_revision = (record.get("migrationName", ""), record.get("message", ""))
        elif action == "error" and int(meta.get("exit_code") or 0) in FAILURE_EXIT_CODES:
            if self.command.startswith(ALERTING_COMMANDS):
                self._failure(record.get("message", ""), str(meta.get("hint") or ""))
        elif action == "database_connection":
            self._count_connection(bool(meta.get("ok")), record.get("message", ""))
        elif action == "backup_age" and float(meta.get("age_s") or 0) > self.settings.alert_backup_age:
            kind = meta.get("kind", "full")
            hours = float(meta["age_s"]) / 3600
            self.fire(f"backup_age:{kind}", f"the newest {kind} backup is {hours:.1f} h old",
                      f"limit {self.settings.alert_backup_age / 3600:.1f} h", "run `mandala-db backup full` and check the schedule")  # fmt: skip

    def _long_run(self, revision: str, elapsed: float, waiting: str) -> None:
        self.fire(
            "long_run",
            f"revision {revision} has run for {elapsed:.0f} s (over {self.settings.alert_after:g} s)",
            f"waiting on {waiting}" if waiting else "still running",
            "look at its migration_progress records for what blocks it; it gives up after lock_timeout and retries",
            revision=revision,
        )

    def _failure(self, message: str, hint: str) -> None:
        revision, detail = self.failed_revision or ("", "")
        self.fire(
            "failed",
            f"`mandala-db {self.command}` failed" + (f" at revision {revision}" if revision else ""),
            message or detail,
            hint or "read the error, fix the cause and run again; see `mandala-db migrate status`",
            revision=revision,
        )

    def _count_connection(self, ok: bool, message: str) -> None:
        if self.state_file is None:
            return
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        with self.state_file.open("a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # two commands at once count both
            f.seek(0)
            try:
                state = json.loads(f.read() or "{}")
            except ValueError:
                state = {}
            count = 0 if ok else int(state.get("consecutive_connection_failures", 0)) + 1
            if count == state.get("consecutive_connection_failures"):
                return
            f.seek(0)
            f.truncate()
            f.write(json.dumps({"consecutive_connection_failures": count}))
        if count == CONNECTION_FAILURES:
            self.fire("connection_failures", f"{count} database connection failures in a row", message,
                      "check that the server is up and reachable, and the credentials")  # fmt: skip

    def fire(self, rule: str, title: str, detail: str, hint: str, *, revision: str = "") -> None:
        if rule in self.fired:
            return
        self.fired.add(rule)
        database = self.database()
        text = bus.scrub(
            f"[mandala-db] {title}\n{database} ({self.environment}, `{self.command}`)\n{detail}\nNext: {hint}"
        )
        labels = {"alertname": rule, "environment": self.environment, "command": self.command,
                  "database": database, "severity": "critical" if rule != "long_run" else "warning"}  # fmt: skip
        if revision:
            labels["revision"] = revision
        payload = {
            "text": text,
            "version": "4",
            "status": "firing",
            "receiver": "mandala-db",
            "groupLabels": {"alertname": rule},
            "commonLabels": labels,
            "alerts": [
                {
                    "status": "firing",
                    "labels": labels,
                    "annotations": {
                        "summary": bus.scrub(title),
                        "description": bus.scrub(detail),
                        "next": hint,
                    },
                    "startsAt": datetime.now(UTC).isoformat(),
                }
            ],
        }
        body = bus.scrub(json.dumps(payload, default=str))
        if self.settings.alert_webhook:
            self._guarded("webhook", lambda: self._post(body))
        if self.settings.alert_sns:
            self._guarded("SNS", lambda: self._publish(title, text))

    def _post(self, body: str) -> None:
        assert self.settings.alert_webhook is not None
        request = urllib.request.Request(
            self.settings.alert_webhook,
            data=body.encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=socket_timeout(self.settings.alert_timeout)) as response:
            response.read(4096)  # the status is the answer; a body of megabytes is not read

    def _publish(self, title: str, text: str) -> None:
        from mandala_db.ops.monitor.cloudwatch import client

        client("sns", socket_timeout(self.settings.alert_timeout)).publish(
            TopicArn=self.settings.alert_sns, Subject=bus.scrub(title)[:99], Message=text
        )

    def _guarded(self, sink: str, send: Callable[[], None]) -> None:
        """Within the sink's deadline, or not at all; a sink that failed once is not tried again this run,
        so a dead webhook costs the command one timeout and one warning."""
        if sink in self.dead:
            return
        failed = "the {name} alert could not be sent: {reason}"
        if not bounded(sink, self.settings.alert_timeout, send, action="alert_failed", failed=failed):
            self.dead.add(sink)
