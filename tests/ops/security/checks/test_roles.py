"""ops/security/checks/roles.py: a role is judged by all it can become: predefined roles that reach the server
or all data, a superuser some memberships away, attributes by what they lead to, the application owning a
table, an expired login."""

from __future__ import annotations

import pytest

from conftest import connect_to
from mandala_db.core.url import DatabaseURL
from ops.security.securitykit import check, failing, server_major

PREDEFINED = ["pg_execute_server_program", "pg_write_server_files", "pg_read_server_files", "pg_read_all_data",
              "pg_write_all_data"]  # fmt: skip


@pytest.mark.parametrize("predefined", PREDEFINED)
def test_a_predefined_role_that_reaches_the_server_or_all_data_is_high(
    predefined: str, own_cluster: tuple[DatabaseURL, str, str]
) -> None:
    db_url, role, group = own_cluster
    with connect_to(db_url) as admin:
        admin.execute(f"GRANT {group} TO {role}")
        admin.execute(f"GRANT {predefined} TO {group}")
    as_app = check(db_url, role)
    (hit,) = [
        f
        for f in failing(as_app, "role.application", f"role {role}")
        if f"member of {predefined}:" in f["evidence"]
    ]
    assert hit["severity"] == "high" and f"{role} -> {group} -> {predefined}" in hit["evidence"]
    as_admin = check(db_url)
    (seen,) = [
        f
        for f in failing(as_admin, "role.reachable", f"role {role}")
        if f"member of {predefined}:" in f["evidence"]
    ]
    assert seen["severity"] == "high" and seen["remediation"] == f'REVOKE "{group}" FROM "{role}"'
    with connect_to(db_url) as admin:
        admin.execute(f"REVOKE {predefined} FROM {group}")
    assert not failing(check(db_url, role), "role.application", f"role {role}")


def test_a_superuser_two_memberships_away_is_a_superuser(own_cluster: tuple[DatabaseURL, str, str]) -> None:
    db_url, role, group = own_cluster
    superuser = db_url.user or "postgres"
    with connect_to(db_url) as admin:
        admin.execute(f"GRANT {group} TO {role}")
        admin.execute(f'GRANT "{superuser}" TO {group}')
    hits = failing(check(db_url, role), "role.application", f"role {role}")
    assert any(
        h["severity"] == "high" and f"becomes the superuser {superuser}" in h["evidence"]
        and f"{role} -> {group} -> {superuser}" in h["evidence"]
        for h in hits
    ), hits  # fmt: skip


def test_role_attributes_are_judged_by_what_they_lead_to(own_cluster: tuple[DatabaseURL, str, str]) -> None:
    db_url, role, group = own_cluster
    with connect_to(db_url) as admin:
        admin.execute(f"ALTER ROLE {group} CREATEROLE BYPASSRLS REPLICATION")
        admin.execute(f"GRANT {group} TO {role}")
    hits = {h["evidence"].split(":")[0]: h for h in failing(check(db_url), "role.reachable", f"role {role}")}
    createrole = next(h for k, h in hits.items() if "CREATEROLE" in k)
    assert createrole["severity"] == ("high" if server_major(db_url) <= 15 else "medium")
    assert next(h for k, h in hits.items() if "BYPASSRLS" in k)["severity"] == "medium"
    assert next(h for k, h in hits.items() if "REPLICATION" in k)["severity"] == "medium"


def test_the_application_owning_a_table_is_a_finding(db_url: DatabaseURL, app: tuple[str, str]) -> None:
    role, _ = app
    with connect_to(db_url) as admin:
        admin.execute("CREATE TABLE public.owned_by_app (id int)")
        admin.execute(f"ALTER TABLE public.owned_by_app OWNER TO {role}")
    hits = failing(check(db_url, role), "role.application", f"role {role}")
    assert any(
        "owns 1 relation(s) (public.owned_by_app)" in h["evidence"] and h["severity"] == "medium"
        for h in hits
    )


def test_an_expired_login_role_is_named(db_url: DatabaseURL, app: tuple[str, str]) -> None:
    role, _ = app
    with connect_to(db_url) as admin:
        admin.execute(f"ALTER ROLE {role} VALID UNTIL '2001-01-01'")
    (hit,) = failing(check(db_url), "role.expiry", f"role {role}")
    assert "has passed" in hit["evidence"]
