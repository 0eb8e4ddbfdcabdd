"""ops/security/findings: a finding fails only while no suppression covers it; the report counts a
suppressed failure apart and filters failures by severity."""

from __future__ import annotations

import pytest

from mandala_db.ops.security.findings import Finding, SecurityReport, severity_rank


def finding(
    ident: str, severity: str = "high", status: str = "fail", suppressed: str | None = None
) -> Finding:
    return Finding(ident, "title", severity, status, "evidence", suppressed=suppressed)  # type: ignore[arg-type]


def test_severities_rank_low_to_high() -> None:
    assert severity_rank("low") < severity_rank("medium") < severity_rank("high")


def test_an_unknown_severity_or_status_is_a_programming_error() -> None:
    with pytest.raises(AssertionError):
        finding("x", severity="critical")
    with pytest.raises(AssertionError):
        finding("x", status="ok")


def test_the_report_filters_failures_by_severity_and_counts_suppressed_ones_apart() -> None:
    report = SecurityReport(
        [finding("a", "high"), finding("b", "medium"), finding("c", "high", suppressed="reviewed"),
         finding("d", "low", "pass"), finding("e", "low", "skipped"), finding("f", "low", "unknown")],
        role="app", superuser=False, server_version="16.2",
    )  # fmt: skip
    assert [f.id for f in report.failing()] == ["a", "b"]
    assert [f.id for f in report.failing("high")] == ["a"]
    assert report.counts() == {"pass": 1, "fail": 2, "skipped": 1, "unknown": 1, "suppressed": 1}
    doc = report.to_dict()
    assert doc["counts"] == report.counts() and doc["benchmark"].startswith("CIS PostgreSQL")
    assert doc["findings"][2]["suppressed"] == "reviewed"
