"""What a security check says: a finding with a stable id, a severity, a status and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from mandala_db.ops.security.cis import BENCHMARK

Severity = Literal["low", "medium", "high"]
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high")
PASS, FAIL, SKIPPED = "pass", "fail", "skipped"
UNKNOWN = (
    "unknown"  # the check ran but cannot tell (a server newer than the tool's release table): never a pass
)


def severity_rank(severity: Severity) -> int:
    return SEVERITIES.index(severity)


@dataclass
class Finding:
    """One check on one object. `skipped` always carries its reason (not enough privilege, not
    applicable): a check that could not look is never reported as passed."""

    id: str  # stable: the key for suppressions; the CIS number where one applies
    title: str
    severity: Severity
    status: str
    evidence: str
    remediation: str = ""
    object: str = ""  # what the finding is about (a role, a function, an hba line); "" for the server
    cis: str | None = None
    suppressed: str | None = None  # the reason of the suppression that applies
    sql: str | None = (
        None  # one statement that fixes it on this object, proved to run (recommend prints these)
    )

    def __post_init__(self) -> None:
        assert self.severity in SEVERITIES and self.status in (PASS, FAIL, SKIPPED, UNKNOWN), self

    @property
    def failing(self) -> bool:
        return self.status == FAIL and self.suppressed is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "cis": self.cis,
            "title": self.title,
            "severity": self.severity,
            "status": self.status,
            "object": self.object,
            "evidence": self.evidence,
            "remediation": self.remediation,
            "sql": self.sql,
            "suppressed": self.suppressed,
        }


@dataclass
class SecurityReport:
    findings: list[Finding]
    role: str
    superuser: bool
    server_version: str
    suppression_problems: list[str] = field(default_factory=list)

    def failing(self, at_least: Severity = "low") -> list[Finding]:
        return [
            f for f in self.findings if f.failing and severity_rank(f.severity) >= severity_rank(at_least)
        ]

    def counts(self) -> dict[str, int]:
        out = {PASS: 0, FAIL: 0, SKIPPED: 0, UNKNOWN: 0, "suppressed": 0}
        for f in self.findings:
            out["suppressed" if f.status == FAIL and f.suppressed else f.status] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "superuser": self.superuser,
            "server_version": self.server_version,
            "benchmark": BENCHMARK,
            "counts": self.counts(),
            "findings": [f.to_dict() for f in self.findings],
            "suppression_problems": self.suppression_problems,
        }
