"""Security: `check` (one named unit per check, CIS-numbered where one applies), `recommend` (URLs,
server configuration and least-privilege roles, tailored to what failed), `audit` (who may do what, saved
and compared), `apply_roles` (the recommended roles, idempotently). `check_database` is what other capabilities call (`migrate prod`'s pre-flight)."""

from __future__ import annotations

from pathlib import Path

from mandala_db.core.database import Database, server_version
from mandala_db.core.events import bus
from mandala_db.ops.security.audit import AuditDiff, AuditSnapshot, compare, snapshot
from mandala_db.ops.security.checks import CHECKS, run_all
from mandala_db.ops.security.facts import Facts
from mandala_db.ops.security.findings import SEVERITIES, Finding, SecurityReport, Severity
from mandala_db.ops.security.recommend import Recommendation, recommend
from mandala_db.ops.security.roles import RolesApplied, apply_roles
from mandala_db.ops.security.suppressions import apply as apply_suppressions
from mandala_db.ops.security.suppressions import load as load_suppressions


def check_database(
    db: Database,
    suppressions: Path | None = None,
    backup_dir: Path | None = None,
    environment: str = "development",
) -> SecurityReport:
    """Every check against the database, with the repository's suppressions applied. The environment
    weighs some findings: a superuser login is high in staging and production, low where the embedded
    server (a superuser by construction) is the default."""
    active, problems = load_suppressions(suppressions)
    with db.connect() as conn:
        facts = Facts.gather(db, conn)
        facts.backup_dir = backup_dir
        facts.environment = environment
        findings = run_all(facts)
        version = server_version(conn)
    apply_suppressions(findings, active)
    report = SecurityReport(findings, facts.role, facts.superuser, version, problems)
    for problem in problems:
        bus.warning("security_suppression_ignored", problem)
    counts = report.counts()
    bus.info(
        "security_check",
        f"security check: {counts['pass']} passed, {counts['fail']} failed, {counts['skipped']} skipped, "
        f"{counts['suppressed']} suppressed",
        **counts,
    )
    return report


def blocking_findings(
    db: Database,
    suppressions: Path | None = None,
    at_least: Severity = "high",
    environment: str = "production",
) -> list[str]:
    """For `migrate prod`'s pre-flight: a line for each unsuppressed failing finding at `at_least` or above."""
    report = check_database(db, suppressions, environment=environment)
    return [
        f"security: {f.id}{' on ' + f.object if f.object else ''}: {f.evidence}"
        for f in report.failing(at_least)
    ]


def recommend_for(
    db: Database,
    suppressions: Path | None = None,
    environment: str = "development",
    backup_dir: Path | None = None,
) -> tuple[Recommendation, SecurityReport]:
    report = check_database(db, suppressions, backup_dir, environment)
    return recommend(db.url, report.findings), report


__all__ = [
    "CHECKS",
    "SEVERITIES",
    "AuditDiff",
    "AuditSnapshot",
    "Finding",
    "Recommendation",
    "RolesApplied",
    "SecurityReport",
    "apply_roles",
    "blocking_findings",
    "check_database",
    "compare",
    "recommend",
    "recommend_for",
    "snapshot",
]
