"""cli/security_views: what the security commands print. Each finding on one line with its mark, severity,
id, CIS number and object; a failure's fix under it, a suppression's reason instead of the fix; the counts
at the end; the advice section by section with why; an audit compared with a saved one, change by change."""

from __future__ import annotations

import io
import uuid
from typing import Any

from conftest import connect_to
from mandala_db.cli.output import PlainScreen
from mandala_db.cli.security_views import (
    print_audit,
    print_audit_diff,
    print_recommendation,
    print_security_report,
)
from mandala_db.core.database import Database
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.security.audit import compare, snapshot
from mandala_db.ops.security.findings import Finding, SecurityReport
from mandala_db.ops.security.recommend import Line, Recommendation, Section


def text(draw: Any, *args: Any) -> list[str]:
    stream = io.StringIO()
    draw(PlainScreen(stream), *args)
    return stream.getvalue().splitlines()


def test_a_report_line_by_line_with_fixes_suppressions_and_counts() -> None:
    report = SecurityReport(
        [Finding("conn.encrypted", "t", "high", "fail", "not encrypted", "use sslmode=verify-full", cis="6.8"),
         Finding("role.application", "t", "low", "fail", "superuser", "a login role", object="role postgres",
                 suppressed="CI (until 2027-01-01)"),
         Finding("server.pgaudit", "t", "low", "skipped", "not applicable: pgaudit is not installed"),
         Finding("server.minor-version", "t", "medium", "unknown", "newer than the table")],
        role="postgres", superuser=True, server_version="16.2", suppression_problems=["entry 2: no reason"],
    )  # fmt: skip
    assert text(print_security_report, report) == [
        "Security check as postgres (superuser), PostgreSQL 16.2:",
        "  FAIL high   conn.encrypted (CIS 6.8): not encrypted",
        "         fix: use sslmode=verify-full",
        "  supp low    role.application [role postgres]: superuser",
        "         suppressed: CI (until 2027-01-01)",
        "  skip low    server.pgaudit: not applicable: pgaudit is not installed",
        "  unknown medium server.minor-version: newer than the table",
        "  suppression ignored: entry 2: no reason",
        "CIS numbers: CIS PostgreSQL 17 Benchmark v1.1.0",
        "0 passed, 1 failed, 1 skipped, 1 suppressed, 1 unknown",
    ]


def test_advice_comes_section_by_section_with_why() -> None:
    advice = Recommendation([Section("pg_hba.conf", [Line("hostssl all all 0.0.0.0/0 scram-sha-256", "no plain text",
                                                          ["hba.tls-only on line 3"])])])  # fmt: skip
    assert text(print_recommendation, advice) == [
        "# pg_hba.conf",
        "hostssl all all 0.0.0.0/0 scram-sha-256",
        "  -- no plain text (fixes here: hba.tls-only on line 3)",
        "",
    ]


def test_an_audit_and_its_changes_since_a_saved_one(db_url: DatabaseURL) -> None:
    before = snapshot(Database(db_url))
    assert text(print_audit, before)[0].startswith("Security audit of ")
    assert text(print_audit_diff, "audit.json", compare(before, before)) == ["No change since audit.json."]
    role = f"mdb_view_{uuid.uuid4().hex[:8]}"
    with connect_to(db_url) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
    try:
        changes = text(print_audit_diff, "audit.json", compare(before, snapshot(Database(db_url))))
    finally:
        with connect_to(db_url) as admin:
            admin.execute(f"DROP ROLE {role}")
    assert changes and all(c.startswith("  added: ") for c in changes) and any(role in c for c in changes)
