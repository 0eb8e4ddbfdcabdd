"""ops/security/checks/server.py: the server itself. MD5 password hashes are named role by role; the minor
release is judged against the tool's own release table, and a newer one than it knows is `unknown`, never
a pass; a setting the role may not read is skipped with the reason."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from conftest import connect_to
from mandala_db.core.database import Database
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.security.checks.registry import NEWEST_MINOR, RELEASES_AS_OF
from mandala_db.ops.security.facts import Facts
from ops.security.securitykit import offline_facts, run_check


def version(major: int, minor: int) -> dict[str, str]:
    return {"server_version_num": str(major * 10000 + minor)}


@pytest.mark.parametrize(("offset", "status"), [(-1, "fail"), (0, "pass"), (1, "unknown")])
def test_the_minor_release_against_the_table(offset: int, status: str) -> None:
    [finding] = run_check(
        "server.minor-version", offline_facts(settings=version(16, NEWEST_MINOR[16] + offset))
    )
    assert finding.status == status
    assert RELEASES_AS_OF in finding.evidence


def test_a_major_version_the_table_does_not_know_is_not_applicable() -> None:
    [finding] = run_check("server.minor-version", offline_facts(settings=version(9, 6)))
    assert finding.status == "skipped" and "no release data for PostgreSQL 9" in finding.evidence


def test_data_checksums_read_from_the_setting_or_skipped_without_the_privilege() -> None:
    assert (
        run_check("server.data-checksums", offline_facts(settings={"data_checksums": "on"}))[0].status
        == "pass"
    )
    assert (
        run_check("server.data-checksums", offline_facts(settings={"data_checksums": "off"}))[0].status
        == "fail"
    )
    [hidden] = run_check("server.data-checksums", offline_facts(settings={}))
    assert hidden.status == "skipped" and "pg_read_all_settings" in hidden.evidence


def test_md5_hashes_are_named_by_role_and_need_a_superuser_to_be_seen(db_url: DatabaseURL) -> None:
    assert run_check("server.md5-passwords", offline_facts())[0].status == "skipped"
    with connect_to(db_url) as conn:
        facts = Facts.gather(Database(db_url), conn)
        facts.password_hashes = ([("app", "md5"), ("ops", "scram-sha-256"), ("old", "md5")], "")  # type: ignore[misc]
        found = run_check("server.md5-passwords", facts)
    assert [(f.status, f.object) for f in found] == [("fail", "role app"), ("fail", "role old")]


def test_the_archiver_is_not_applicable_while_archiving_is_off(conn: psycopg.Connection[Any]) -> None:
    facts = offline_facts(settings={"archive_mode": "off"})
    assert run_check("server.archiver", facts)[0].evidence == "not applicable: archive_mode is off"
    facts = offline_facts(settings={"archive_mode": "on"})
    facts.conn = conn  # pg_stat_archiver of a server that never archived: no failure
    assert run_check("server.archiver", facts)[0].status == "pass"
