"""ops/security/checks/hba.py: the rules the server enforces: changed on disk but not reloaded, a superuser
through a group rule, rules wider than they should be, a line with an error."""

from __future__ import annotations

import os

import pytest

from conftest import connect_to
from ops.security.securitykit import check, failing, plant_hba, plant_sql
from servers import ScratchServer


def test_rules_changed_on_disk_but_not_reloaded_are_a_finding_of_their_own(
    scratch_server: ScratchServer,
) -> None:
    plant_hba(scratch_server, ["hostssl all all 0.0.0.0/0 trust"])  # loaded: anyone logs in as anyone
    found = check(scratch_server.url)
    assert failing(found, "hba.auth-method", "pg_hba.conf line 2") and failing(
        found, "hba.scope", "pg_hba.conf line 2"
    )
    plant_hba(
        scratch_server, ["hostssl all all 10.1.2.3/32 scram-sha-256"], reload=False
    )  # the file is clean now
    # pg_stat_file's time has whole seconds: date the edit two seconds after the load, as a later edit is.
    with connect_to(scratch_server.url) as c:
        loaded = c.execute("SELECT extract(epoch FROM pg_conf_load_time())").fetchone()[0]  # type: ignore[index]
    os.utime(scratch_server.pgdata / "pg_hba.conf", (float(loaded) + 2, float(loaded) + 2))
    found = check(scratch_server.url)
    (pending,) = failing(found, "hba.reload-pending", "pg_hba.conf")
    assert pending["severity"] == "high" and "the rules in force are an older version" in pending["evidence"]
    os.utime(scratch_server.pgdata / "pg_hba.conf", (float(loaded) - 10, float(loaded) - 10))
    plant_sql(
        scratch_server, "SELECT pg_reload_conf()"
    )  # loaded after its last edit: what is enforced is the file
    assert [f["status"] for f in check(scratch_server.url) if f["id"] == "hba.reload-pending"] == ["pass"]


def test_a_superuser_through_a_group_rule_is_a_remote_superuser(scratch_server: ScratchServer) -> None:
    plant_sql(
        scratch_server, "CREATE ROLE admins", "CREATE ROLE boss LOGIN SUPERUSER", "GRANT admins TO boss"
    )
    plant_hba(
        scratch_server,
        ["hostssl all +admins 10.0.0.0/24 scram-sha-256", "hostssl all alice 10.0.0.0/24 scram-sha-256"],
    )
    found = check(scratch_server.url)
    (hit,) = failing(found, "hba.remote-superuser", "pg_hba.conf line 2")
    assert hit["severity"] == "high" and "boss" in hit["evidence"] and "through +admins" in hit["evidence"]
    assert not failing(found, "hba.remote-superuser", "pg_hba.conf line 3")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("hostssl app app 10.0.0.0/8 scram-sha-256", "open to 16,777,216 addresses"),
        ("hostssl app app 172.16.0.0/15 scram-sha-256", "open to 131,072 addresses"),
        ("hostssl app app samenet scram-sha-256", "samenet"),
        ("hostssl all app 10.0.0.0/24 scram-sha-256", "may reach every database"),
    ],
)
def test_wide_rules_are_named(line: str, expected: str, scratch_server: ScratchServer) -> None:
    plant_hba(scratch_server, [line, "hostssl app app 10.0.0.0/16 scram-sha-256"])
    found = check(scratch_server.url)
    (hit,) = failing(found, "hba.scope", "pg_hba.conf line 2")
    assert expected in hit["evidence"]
    assert not failing(found, "hba.scope", "pg_hba.conf line 3")  # a /16 is the widest not flagged


def test_a_line_with_an_error_is_named(scratch_server: ScratchServer) -> None:
    plant_hba(scratch_server, ["hostssl app app 10.0.0.0/24 no-such-method"], reload=False)
    (hit,) = failing(check(scratch_server.url), "hba.errors", "pg_hba.conf line 2")
    assert "no-such-method" in hit["evidence"] or "invalid authentication method" in hit["evidence"]
