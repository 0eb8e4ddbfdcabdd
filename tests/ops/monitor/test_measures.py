"""ops/monitor/measures: what each record of the event stream measures, in CloudWatch units. Every metrics
sink reads these, so Prometheus, EMF and CloudWatch agree; a record that measures nothing yields nothing."""

from __future__ import annotations

from typing import Any

import pytest

from mandala_db.ops.monitor.measures import measures


def record(action: str, duration: float | None = None, **meta: Any) -> dict[str, Any]:
    return {"duration": duration, "metadata": {"action": action, **meta}}


@pytest.mark.parametrize(
    ("rec", "expected"),
    [
        (record("migration_start"), [("MigrationStarted", 1, "Count")]),
        (record("migration_failed", 12.5), [("MigrationFailed", 1, "Count"), ("MigrationDuration", 12.5, "Milliseconds")]),
        (record("database_connection", ok=True), [("DatabaseConnectionSuccess", 1, "Count")]),
        (record("database_connection", ok=False), [("DatabaseConnectionFailure", 1, "Count")]),
        (record("lock_acquired", 3.0), [("LockWait", 3.0, "Milliseconds")]),
        (record("seed_complete", rows=940), [("RowsAffected", 940, "Count")]),
        (record("backup_age", age_s=7200), [("BackupAge", 7200, "Seconds")]),
        (record("restore_complete", 900.0), [("RestoreDuration", 900.0, "Milliseconds")]),
        (record("drill_failed", rto_s=41, rpo_s=None),
         [("DrillRTO", 41, "Seconds"), ("DrillRPO", 0, "Seconds"), ("DrillFailed", 1, "Count")]),
        (record("backfill_complete", 1500.0, rows=1000, rate=666.7),
         [("BackfillRows", 1000, "Count"), ("BackfillRate", 666.7, "Count/Second"), ("BackfillDuration", 1500.0, "Milliseconds")]),
        (record("migration_progress", elapsed_s=10), []),
        ({"message": "no metadata"}, []),
    ],
)  # fmt: skip
def test_each_record_measures_what_the_guide_names(
    rec: dict[str, Any], expected: list[tuple[str, float, str]]
) -> None:
    assert [(m.name, m.value, m.unit) for m in measures(rec)] == expected


def test_a_completed_migration_counts_its_tables_and_stamps_the_last_success() -> None:
    found = {m.name: m for m in measures(record("migration_complete", 250.0, tables=["tasks", "goals"]))}
    assert found["MigrationCompleted"].value == 1 and found["MigrationDuration"].value == 250.0
    assert found["TablesAffected"].value == 2 and found["MigrationLastSuccess"].unit == "Seconds"
    assert found["MigrationLastSuccess"].value > 1.7e9  # a Unix time: "when", for an age alert


def test_a_backup_measures_its_duration_size_and_when() -> None:
    found = {m.name: (m.value, m.unit) for m in measures(record("backup_complete", 1800.0, size=4096))}
    assert found["BackupDuration"] == (1800.0, "Milliseconds") and found["BackupSize"] == (4096, "Bytes")
    assert "BackupLastSuccess" in found
