"""ops/security/checks/connection.py: how this connection is protected. The client must authenticate the
server (verify-full); a weaker sslmode is weighed by what it lets through; the URL bounds its waits and
its pool; and whether the server refuses plaintext is proved by a probe, not inferred."""

from __future__ import annotations

import pytest

from conftest import connect_to
from mandala_db.core.database import Database
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.security.facts import Facts, uses_socket
from ops.security.securitykit import offline_facts, run_check

REMOTE = "postgresql://app@db.example.com/app"


@pytest.mark.parametrize(
    ("query", "status", "severity"),
    [
        ("?sslmode=verify-full", "pass", "high"),
        ("?sslmode=verify-ca", "fail", "low"),
        ("?sslmode=require", "fail", "medium"),
        ("?sslmode=disable", "fail", "high"),
        ("", "fail", "high"),
    ],
)
def test_sslmode_is_weighed_by_what_it_lets_through(query: str, status: str, severity: str) -> None:
    [finding] = run_check("conn.sslmode", offline_facts(REMOTE + query))
    assert (finding.status, finding.severity) == (status, severity), finding.evidence


def test_a_local_connection_without_tls_is_not_applicable_not_a_pass() -> None:
    for check in ("conn.sslmode", "conn.encrypted"):
        [finding] = run_check(check, offline_facts("postgresql://app@127.0.0.1/app"))
        assert finding.status == "skipped" and finding.evidence.startswith("not applicable")
    [remote] = run_check("conn.encrypted", offline_facts(REMOTE))
    assert remote.status == "fail"
    [encrypted] = run_check("conn.encrypted", offline_facts(REMOTE, session_ssl=(True, "TLSv1.3")))
    assert encrypted.status == "pass" and "TLSv1.3" in encrypted.evidence


def test_the_url_must_bound_its_waits_and_its_pool() -> None:
    [bare] = run_check("conn.timeouts", offline_facts(REMOTE))
    assert bare.status == "fail" and "connect_timeout, statement_timeout" in bare.evidence
    in_options = REMOTE + "?connect_timeout=10&options=-c%20statement_timeout%3D30000"
    assert run_check("conn.timeouts", offline_facts(in_options))[0].status == "pass"
    assert run_check("conn.pool", offline_facts(REMOTE + "?connection_limit=5"))[0].status == "fail"
    assert (
        run_check("conn.pool", offline_facts(REMOTE + "?connection_limit=5&pool_timeout=10"))[0].status
        == "pass"
    )


def test_the_plaintext_probe_proves_what_the_server_accepts(db_url: DatabaseURL) -> None:
    with connect_to(db_url) as conn:
        facts = Facts.gather(Database(db_url), conn)
        [finding] = run_check("conn.plaintext-refused", facts)
    if uses_socket(db_url):
        assert finding.status == "skipped" and "Unix socket" in finding.evidence
    else:  # the suite's servers trust plain TCP on loopback: accepted, and weighed as local
        assert (finding.status, finding.severity) == ("fail", "medium")
        assert f"for role {db_url.user} on database {db_url.dbname}" in finding.evidence
