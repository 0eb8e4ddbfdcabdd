"""ops/monitor/emf.py: CloudWatch Embedded Metric Format lines, as the specification asks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import run_cli
from mandala_db.core.url import DatabaseURL
from support import ok


def test_emf_lines_follow_the_specification(db_url: DatabaseURL, tmp_path: Path) -> None:
    out = tmp_path / "metrics.emf"
    ok(run_cli("--metrics", "emf", "--metrics-file", str(out), "migrate", "deploy", url=db_url))
    docs = emf_lines(out)
    names = [n for d in docs for n in check_emf(d)]
    assert names.count("MigrationStarted") == 7 and names.count("MigrationCompleted") == 7
    assert names.count("MigrationDuration") == 7 and "TablesAffected" in names and "LockWait" in names
    assert "DatabaseConnectionSuccess" in names
    completed = [d for d in docs if "MigrationCompleted" in d]
    assert completed[-1]["revision"] == "20250409000000_split_reflections"
    assert {d["command"] for d in docs} == {"migrate deploy"}
    # On stdout when no file is named, and beside a --json document, on stderr instead.
    json_run = ok(run_cli("--json", "--metrics", "emf", "migrate", "status", url=db_url))
    assert json.loads(json_run.stdout)["ok"] and '"_aws"' in json_run.stderr


UNITS = {
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Count",
    "Percent",
    "None",
}


def emf_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def check_emf(doc: dict[str, Any]) -> list[str]:
    """The specification's structure: every named metric and dimension is a root key; units are valid."""
    aws = doc["_aws"]
    assert isinstance(aws["Timestamp"], int) and aws["Timestamp"] > 1_600_000_000_000
    names = []
    for directive in aws["CloudWatchMetrics"]:
        assert directive["Namespace"] == "GoalMandala/Migration"
        for dimension_set in directive["Dimensions"]:
            assert all(isinstance(doc[d], str) for d in dimension_set), dimension_set
        for metric in directive["Metrics"]:
            assert metric["Unit"] in UNITS
            assert isinstance(doc[metric["Name"]], (int, float))
            names.append(metric["Name"])
    assert "revision" not in [d for ds in aws["CloudWatchMetrics"][0]["Dimensions"] for d in ds]
    return names
