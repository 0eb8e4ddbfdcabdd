"""Prometheus: the run's metrics in a registry of prometheus-client, written at the end of the command as
a node_exporter textfile (atomically: prometheus-client writes a temporary file and renames it) and/or
pushed to a Pushgateway. Names follow Prometheus' conventions (`_total`, `_seconds`, `_bytes`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, push_to_gateway, write_to_textfile

from mandala_db.ops.monitor.measures import measures

LABELS = ["environment", "command"]


class PrometheusSink:
    def __init__(self, environment: str, command: str) -> None:
        self.registry = CollectorRegistry()
        self.labels = {"environment": environment, "command": command}
        r = self.registry

        def counter(name: str, doc: str) -> Counter:
            return Counter(name, doc, LABELS, registry=r)

        def gauge(name: str, doc: str) -> Gauge:
            return Gauge(name, doc, LABELS, registry=r)

        self.counters = {
            "MigrationStarted": counter("mandala_migrations_started_total", "Revisions started"),
            "MigrationCompleted": counter("mandala_migrations_completed_total", "Revisions completed"),
            "MigrationFailed": counter("mandala_migrations_failed_total", "Revisions that failed"),
            "DatabaseConnectionSuccess": counter("mandala_database_connections_total", "Connections opened"),
            "DatabaseConnectionFailure": counter(
                "mandala_database_connection_failures_total", "Connections refused"
            ),
            "TablesAffected": counter(
                "mandala_tables_affected_total", "Existing tables the revisions touched"
            ),
            "RowsAffected": counter("mandala_rows_affected_total", "Rows loaded or removed by seeds"),
        }
        self.duration = Histogram(
            "mandala_migration_duration_seconds", "Duration of each revision", LABELS, registry=r,
            buckets=(0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600),
        )  # fmt: skip
        self.gauges = {
            "MigrationLastSuccess": gauge(
                "mandala_migration_last_success_timestamp_seconds", "When a revision last succeeded"
            ),
            "LockWait": gauge("mandala_lock_wait_seconds", "Wait for the migration lock"),
            "BackupDuration": gauge("mandala_backup_duration_seconds", "Duration of the last backup"),
            "BackupSize": gauge("mandala_backup_size_bytes", "Size of the last backup"),
            "BackupLastSuccess": gauge(
                "mandala_backup_last_success_timestamp_seconds", "When a backup last succeeded"
            ),
            "BackupAge": gauge("mandala_backup_age_seconds", "Age of the newest backup"),
            "RestoreDuration": gauge("mandala_restore_duration_seconds", "Duration of the last restore"),
            "BackfillRows": gauge("mandala_backfill_rows", "Rows the last backfill filled"),
            "BackfillRate": gauge("mandala_backfill_rows_per_second", "Rate of the last backfill"),
            "BackfillDuration": gauge("mandala_backfill_duration_seconds", "Duration of the last backfill"),
        }

    def __call__(self, record: dict[str, Any]) -> None:
        for m in measures(record):
            seconds = m.value / 1000 if m.unit == "Milliseconds" else m.value
            if m.name in self.counters:
                self.counters[m.name].labels(**self.labels).inc(m.value)
            elif m.name == "MigrationDuration":
                self.duration.labels(**self.labels).observe(seconds)
            elif m.name in self.gauges:
                self.gauges[m.name].labels(**self.labels).set(seconds)

    def write_textfile(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_to_textfile(str(path), self.registry)

    def push(self, gateway: str, timeout: float) -> None:
        push_to_gateway(
            gateway, job="mandala-db", registry=self.registry,
            grouping_key={"environment": self.labels["environment"]}, timeout=timeout,
        )  # fmt: skip
