"""What the event stream measures: the guide's six metrics (MigrationStarted, MigrationCompleted,
MigrationFailed, MigrationDuration, DatabaseConnection success/failure, TablesAffected) and lock wait,
rows affected, backup duration, size and age, restore duration and the last success. Every metrics sink
reads them from here, so the three agree."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Measure:
    name: str
    value: float
    unit: str  # a CloudWatch unit: Count, Milliseconds, Seconds, Bytes, Count/Second


def measures(record: dict[str, Any]) -> list[Measure]:
    meta = record.get("metadata", {})
    action = meta.get("action")
    duration = float(record.get("duration") or 0.0)
    out: list[Measure] = []
    if action == "migration_start":
        out.append(Measure("MigrationStarted", 1, "Count"))
    elif action == "migration_complete":
        out += [
            Measure("MigrationCompleted", 1, "Count"),
            Measure("MigrationDuration", duration, "Milliseconds"),
            Measure("TablesAffected", len(meta.get("tables") or []), "Count"),
            Measure("MigrationLastSuccess", time.time(), "Seconds"),
        ]
    elif action == "migration_failed":
        out += [
            Measure("MigrationFailed", 1, "Count"),
            Measure("MigrationDuration", duration, "Milliseconds"),
        ]
    elif action == "database_connection":
        out.append(
            Measure(
                "DatabaseConnectionSuccess" if meta.get("ok") else "DatabaseConnectionFailure", 1, "Count"
            )
        )
    elif action == "lock_acquired":
        out.append(Measure("LockWait", duration, "Milliseconds"))
    elif action == "seed_complete":
        out.append(Measure("RowsAffected", float(meta.get("rows") or 0), "Count"))
    elif action == "backup_complete":
        out += [
            Measure("BackupDuration", duration, "Milliseconds"),
            Measure("BackupSize", float(meta.get("size") or 0), "Bytes"),
            Measure("BackupLastSuccess", time.time(), "Seconds"),
        ]
    elif action == "backup_age":
        out.append(Measure("BackupAge", float(meta.get("age_s") or 0), "Seconds"))
    elif action in ("drill_complete", "drill_failed"):
        out += [
            Measure("DrillRTO", float(meta.get("rto_s") or 0), "Seconds"),
            Measure("DrillRPO", float(meta.get("rpo_s") or 0), "Seconds"),
            Measure("DrillFailed" if action == "drill_failed" else "DrillPassed", 1, "Count"),
        ]
    elif action == "backfill_complete":
        out += [
            Measure("BackfillRows", float(meta.get("rows") or 0), "Count"),
            Measure("BackfillRate", float(meta.get("rate") or 0), "Count/Second"),
            Measure("BackfillDuration", duration, "Milliseconds"),
        ]
    elif action == "restore_complete":
        out.append(Measure("RestoreDuration", duration, "Milliseconds"))
    return out
