"""ops/security/checks/privileges.py: grants straight to a role outside the groups and the tool's tables
writable by the application are named, and the revoke the finding carries runs."""

from __future__ import annotations

from conftest import connect_to, run_cli
from mandala_db.core.url import DatabaseURL
from ops.security.securitykit import check, failing


def test_the_tools_own_tables_are_not_writable_by_the_application(
    db_url: DatabaseURL, app: tuple[str, str]
) -> None:
    role, _ = app
    assert run_cli("migrate", "deploy", url=db_url).code == 0
    with connect_to(db_url) as admin:
        admin.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
    found = check(db_url)
    ledger = failing(found, "tool.tables-writable", "table public.mandala_migration_runs")
    version = failing(found, "tool.tables-writable", "table public.alembic_version")
    assert ledger and version and all(role in f["evidence"] for f in ledger + version)
    with connect_to(db_url) as admin:
        for statement in {f["remediation"] for f in ledger + version}:
            admin.execute(statement)
    assert not failing(check(db_url), "tool.tables-writable", "table public.mandala_migration_runs")


def test_a_direct_grant_outside_the_groups_is_named_and_its_revoke_runs(
    db_url: DatabaseURL, app: tuple[str, str]
) -> None:
    role, _ = app
    with connect_to(db_url) as admin:
        admin.execute(
            f"CREATE TABLE public.direct_x (n int); GRANT SELECT, UPDATE ON public.direct_x TO {role}"
        )
        admin.execute(
            f"CREATE FUNCTION public.direct_f() RETURNS int LANGUAGE sql AS 'SELECT 1'; GRANT EXECUTE ON FUNCTION public.direct_f() TO {role}"
        )
    found = check(db_url)
    (table,) = [
        f
        for f in failing(found, "object.unexpected-grants", "relation public.direct_x")
        if role in f["evidence"]
    ]
    (function,) = [
        f for f in failing(found, "object.unexpected-grants", "function direct_f()") if role in f["evidence"]
    ]
    assert table["severity"] == "medium" and function["severity"] == "low"
    with connect_to(db_url) as admin:
        admin.execute(table["sql"])
        admin.execute(function["sql"])
    assert not [
        f
        for f in failing(check(db_url), "object.unexpected-grants", "relation public.direct_x")
        if role in f["evidence"]
    ]
