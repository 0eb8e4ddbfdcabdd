"""Planted misconfigurations, one at a time, each found by the right check on exactly the planted object at
a defensible severity, and the check passing (or at least not failing on that object) once the plant is
gone. Roles are followed through every membership: the evidence names the chain."""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from conftest import connect_to, run_cli
from mandala_db.core.url import DatabaseURL
from servers import ScratchServer, scratch_server

__all__ = ["scratch_server"]


@pytest.fixture
def app(db_url: DatabaseURL) -> Iterator[tuple[str, str]]:
    """A login role for the application and a group role, both dropped at the end."""
    tag = uuid.uuid4().hex[:8]
    names = (f"mdb_app_{tag}", f"mdb_ops_{tag}")
    with connect_to(db_url) as admin:
        admin.execute(f"CREATE ROLE {names[0]} LOGIN")
        admin.execute(f"CREATE ROLE {names[1]}")
    try:
        yield names
    finally:
        with connect_to(db_url) as admin:
            for name in names:
                admin.execute(f"DROP OWNED BY {name}")
                admin.execute(f"DROP ROLE {name}")


@pytest.fixture
def own_cluster(scratch_server: ScratchServer) -> tuple[DatabaseURL, str, str]:
    """A cluster of the test's own with an application login role and a group: a plant that makes a login
    role dangerous is seen by every check of the server, so it never goes on the suite's shared servers."""
    url = scratch_server.url
    with connect_to(url) as admin:
        admin.execute("CREATE ROLE mdb_app LOGIN; CREATE ROLE mdb_ops")
    return url, "mdb_app", "mdb_ops"


def check(url: DatabaseURL, user: str | None = None) -> list[dict[str, Any]]:
    target = dataclasses.replace(url, user=user, password=None) if user else url
    result = run_cli("--json", "security", "check", "--fail-on", "high", url=target)
    assert result.code in (0, 5), result.output
    return list(json.loads(result.stdout)["findings"])


def failing(found: list[dict[str, Any]], ident: str, obj: str) -> list[dict[str, Any]]:
    return [f for f in found if f["id"] == ident and f["object"] == obj and f["status"] == "fail"]


def server_major(url: DatabaseURL) -> int:
    with connect_to(url) as c:
        return int(c.execute("SELECT current_setting('server_version_num')::int / 10000").fetchone()[0])  # type: ignore[index]


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


# -- what the server enforces: a cluster of the test's own, whose pg_hba.conf and settings it may change ------


def _hba(server: ScratchServer, lines: list[str], reload: bool = True) -> None:
    hba = server.pgdata / "pg_hba.conf"
    hba.write_text("local all all trust\n" + "".join(f"{line}\n" for line in lines))
    if reload:
        with connect_to(server.url) as c:
            c.execute("SELECT pg_reload_conf()")


def _on(server: ScratchServer, *sql: str) -> None:
    with psycopg.connect(**dict(server.url.libpq_params()), autocommit=True) as c:
        for statement in sql:
            c.execute(statement)


def test_rules_changed_on_disk_but_not_reloaded_are_a_finding_of_their_own(
    scratch_server: ScratchServer,
) -> None:
    _hba(scratch_server, ["hostssl all all 0.0.0.0/0 trust"])  # loaded: anyone logs in as anyone
    found = check(scratch_server.url)
    assert failing(found, "hba.auth-method", "pg_hba.conf line 2") and failing(
        found, "hba.scope", "pg_hba.conf line 2"
    )
    _hba(scratch_server, ["hostssl all all 10.1.2.3/32 scram-sha-256"], reload=False)  # the file is clean now
    # pg_stat_file's time has whole seconds: date the edit two seconds after the load, as a later edit is.
    with connect_to(scratch_server.url) as c:
        loaded = c.execute("SELECT extract(epoch FROM pg_conf_load_time())").fetchone()[0]  # type: ignore[index]
    os.utime(scratch_server.pgdata / "pg_hba.conf", (float(loaded) + 2, float(loaded) + 2))
    found = check(scratch_server.url)
    (pending,) = failing(found, "hba.reload-pending", "pg_hba.conf")
    assert pending["severity"] == "high" and "the rules in force are an older version" in pending["evidence"]
    os.utime(scratch_server.pgdata / "pg_hba.conf", (float(loaded) - 10, float(loaded) - 10))
    _on(scratch_server, "SELECT pg_reload_conf()")  # loaded after its last edit: what is enforced is the file
    assert [f["status"] for f in check(scratch_server.url) if f["id"] == "hba.reload-pending"] == ["pass"]


def test_a_superuser_through_a_group_rule_is_a_remote_superuser(scratch_server: ScratchServer) -> None:
    _on(scratch_server, "CREATE ROLE admins", "CREATE ROLE boss LOGIN SUPERUSER", "GRANT admins TO boss")
    _hba(
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
    _hba(scratch_server, [line, "hostssl app app 10.0.0.0/16 scram-sha-256"])
    found = check(scratch_server.url)
    (hit,) = failing(found, "hba.scope", "pg_hba.conf line 2")
    assert expected in hit["evidence"]
    assert not failing(found, "hba.scope", "pg_hba.conf line 3")  # a /16 is the widest not flagged


def test_a_line_with_an_error_is_named(scratch_server: ScratchServer) -> None:
    _hba(scratch_server, ["hostssl app app 10.0.0.0/24 no-such-method"], reload=False)
    (hit,) = failing(check(scratch_server.url), "hba.errors", "pg_hba.conf line 2")
    assert "no-such-method" in hit["evidence"] or "invalid authentication method" in hit["evidence"]


SETTINGS = [
    ("lo_compat_privileges = on", "server.lo-compat-privileges"),
    ("allow_system_table_mods = on", "server.system-table-mods"),
    ("log_min_messages = 'error'", "log.min-messages"),
    ("log_min_error_statement = 'panic'", "log.min-error-statement"),
    ("log_error_verbosity = 'terse'", "log.error-verbosity"),
    ("debug_print_parse = on", "log.debug-print-parse"),
    ("log_hostname = on", "log.hostname"),
    ("log_file_mode = '0644'", "log.file-mode"),
    ("authentication_timeout = '5min'", "server.authentication-timeout"),
]


@pytest.mark.parametrize(("setting", "ident"), SETTINGS, ids=[s[1] for s in SETTINGS])
def test_a_weak_setting_is_found(setting: str, ident: str, scratch_server: ScratchServer) -> None:
    before = {f["id"]: f["status"] for f in check(scratch_server.url)}
    assert before.get(ident) in ("pass", "skipped"), before.get(ident)
    name, value = setting.split(" = ")
    _on(scratch_server, f"ALTER SYSTEM SET {name} = {value}", "SELECT pg_reload_conf()")
    found = [f for f in check(scratch_server.url) if f["id"] == ident]
    assert [f["status"] for f in found] == ["fail"], found


def test_weak_cipher_families_are_read_as_openssl_reads_them() -> None:
    from mandala_db.ops.security.checks.settings import weak_ciphers

    assert weak_ciphers("HIGH:MEDIUM:+3DES:!aNULL") == []  # PostgreSQL's default: +3DES only reorders
    assert weak_ciphers("HIGH:!aNULL:!eNULL:!EXPORT:!RC4") == []
    assert weak_ciphers("HIGH:RC4:EXPORT") == ["RC4", "EXPORT"]
    assert weak_ciphers("ALL:eNULL") == ["ENULL"]


# -- objects, in every schema -------------------------------------------------------------------------------

OBJECT_PLANTS = [
    # (plant, check, object, severity)
    ("CREATE SCHEMA reporting; CREATE TABLE reporting.totals (n int); GRANT SELECT ON reporting.totals TO PUBLIC",
     "object.public-grants", "table reporting.totals", "medium"),
    ("CREATE TABLE public.notes_x (n int); GRANT UPDATE ON public.notes_x TO PUBLIC",
     "object.public-grants", "table public.notes_x", "high"),
    ("CREATE TABLE public.cols_x (n int, secret text); GRANT SELECT (secret) ON public.cols_x TO PUBLIC",
     "object.public-grants", "column public.cols_x.secret", "medium"),
    ("CREATE SEQUENCE public.seq_x; GRANT USAGE ON SEQUENCE public.seq_x TO PUBLIC",
     "object.public-grants", "sequence public.seq_x", "medium"),
    ("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC",
     "object.default-privileges", "default privileges of {admin}", "medium"),
    ("GRANT CREATE ON DATABASE {db} TO PUBLIC", "database.public-privileges", "database {db}", "medium"),
    ("CREATE SCHEMA scratch_x; GRANT CREATE ON SCHEMA scratch_x TO PUBLIC",
     "schema.public-create", "schema scratch_x", "high"),
    ("CREATE FUNCTION public.plain_x() RETURNS int LANGUAGE sql AS 'SELECT 1'",
     "function.search-path", "function plain_x()", "low"),
    ("CREATE FUNCTION public.run_x(q text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog "
     "AS $$ BEGIN EXECUTE q; END $$", "function.definer-superuser", "function run_x(text)", "high"),
    ("CREATE TABLE public.secret_x (owner text); ALTER TABLE public.secret_x ENABLE ROW LEVEL SECURITY; "
     "CREATE POLICY own ON public.secret_x USING (owner = current_user); CREATE VIEW public.secret_v AS SELECT * FROM public.secret_x",
     "view.owner-rights", "view public.secret_v", "high"),
    ("CREATE TABLE public.payroll_x (salary int); CREATE VIEW public.payroll_v AS SELECT * FROM public.payroll_x; "
     "GRANT SELECT ON public.payroll_v TO PUBLIC", "view.owner-rights", "view public.payroll_v", "medium"),
    ("CREATE TABLE public.open_x (n int); ALTER TABLE public.open_x ENABLE ROW LEVEL SECURITY; "
     "CREATE POLICY everyone ON public.open_x USING (true)", "policy.always-true", "policy everyone on public.open_x", "medium"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("plant", "ident", "obj", "severity"), OBJECT_PLANTS, ids=[p[2] for p in OBJECT_PLANTS]
)
def test_an_object_privilege_planted_anywhere_is_found(
    plant: str, ident: str, obj: str, severity: str, db_url: DatabaseURL
) -> None:
    admin_name = db_url.user or "postgres"
    fill = {"db": db_url.dbname, "admin": admin_name}
    before = {f["evidence"] for f in failing(check(db_url), ident, obj.format(**fill))}
    with connect_to(db_url) as admin:
        admin.execute(plant.format(**fill))
    try:
        (hit,) = [f for f in failing(check(db_url), ident, obj.format(**fill)) if f["evidence"] not in before]
        assert hit["severity"] == severity and hit["remediation"], hit
    finally:
        if "DEFAULT PRIVILEGES" in plant:
            with connect_to(db_url) as admin:
                admin.execute("ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM PUBLIC")


def test_a_view_over_what_its_readers_may_read_anyway_is_silent(db_url: DatabaseURL) -> None:
    """Owner's rights matter only where they add something: a view over a table PUBLIC reads anyway, and
    a security_invoker view (15+) over one it may not, hand their readers nothing new."""
    with connect_to(db_url) as admin:
        admin.execute(
            "CREATE TABLE public.menu_x (n int); GRANT SELECT ON public.menu_x TO PUBLIC; "
            "CREATE VIEW public.menu_v AS SELECT * FROM public.menu_x; GRANT SELECT ON public.menu_v TO PUBLIC; "
            "CREATE TABLE public.vault_x (n int); CREATE VIEW public.vault_v AS SELECT * FROM public.vault_x"
        )
        if server_major(db_url) >= 15:
            admin.execute("ALTER VIEW public.vault_v SET (security_invoker = true); "
                          "GRANT SELECT ON public.vault_v TO PUBLIC")  # fmt: skip
    found = check(db_url)
    assert not [f for f in found if f["id"] == "view.owner-rights" and f["status"] == "fail"], found


def test_a_role_without_privileges_finds_every_object_plant_at_the_same_severity(
    db_url: DatabaseURL, app: tuple[str, str]
) -> None:
    """The catalogs that decide access (pg_class, pg_proc, pg_policy, pg_default_acl, pg_auth_members) are
    readable by every role, so a login with no privilege at all sees every object plant as the superuser
    does; what it cannot read (pg_hba_file_rules, password hashes, the file dates) is `skipped`, never
    `pass`."""
    role, _ = app
    admin_name = db_url.user or "postgres"
    fill = {"db": db_url.dbname, "admin": admin_name}
    with connect_to(db_url) as admin:
        # the default privileges last: planted first, they would hand PUBLIC the tables planted after them
        for plant, *_ in sorted(OBJECT_PLANTS, key=lambda p: "DEFAULT PRIVILEGES" in p[0]):
            admin.execute(plant.format(**fill))
    try:
        as_superuser, as_nobody = check(db_url), check(db_url, user=role)
        for _, ident, obj, severity in OBJECT_PLANTS:
            for found in (as_superuser, as_nobody):
                hits = failing(found, ident, obj.format(**fill))
                assert severity in {h["severity"] for h in hits}, (ident, obj, hits)
        superuser_only = ("hba.auth-method", "hba.tls-only", "hba.scope", "hba.remote-superuser",
                          "hba.reload-pending", "hba.errors", "server.md5-passwords")  # fmt: skip
        for ident in superuser_only:
            rows = [f for f in as_nobody if f["id"] == ident]
            assert rows and all(f["status"] == "skipped" and "privilege" in f["evidence"] for f in rows), rows
    finally:
        with connect_to(db_url) as admin:
            admin.execute("ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM PUBLIC")


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


def test_every_line_recommend_prints_as_sql_runs_and_fixes_what_it_claims(
    own_cluster: tuple[DatabaseURL, str, str],
) -> None:
    db_url, role, group = own_cluster
    with connect_to(db_url) as admin:
        admin.execute(f"ALTER ROLE {role} CREATEDB")  # role.attributes, on this role
        admin.execute(f"GRANT {group} TO {role}; GRANT pg_read_all_data TO {group}")  # role.reachable
        admin.execute("CREATE TABLE public.rec_x (n int); GRANT DELETE ON public.rec_x TO PUBLIC")
        admin.execute("CREATE FUNCTION public.rec_f() RETURNS int LANGUAGE sql AS 'SELECT 1'")
        admin.execute("CREATE TABLE public.rec_p (n int); CREATE POLICY p ON public.rec_p USING (n > 0)")
        admin.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")
    advice = json.loads(run_cli("--json", "security", "recommend", url=db_url).stdout)
    sql_sections = [s for s in advice["sections"] if "(SQL" in s["title"]]
    # Roles belong to the whole server: run the fixes of what this test planted, never a fix of another
    # test's role while that test runs (the role SQL's own section is test_roles.py's).
    mine = (f"role {role}", "public.rec_x", "rec_f()", "rec_p", "schema public")
    lines = [
        line for s in sql_sections if s["title"].startswith("this database") for line in s["lines"]
        if any(fix.endswith(mine) for fix in line["fixes"])
    ]  # fmt: skip
    claimed = {fix for line in lines for fix in line["fixes"] if fix.endswith(mine)}
    for wanted in (f"role.attributes on role {role}", f"role.reachable on role {role}",
                   "object.public-grants on table public.rec_x", "function.search-path on function rec_f()",
                   "table.rls on table rec_p", "schema.public-create on schema public"):  # fmt: skip
        assert wanted in claimed, (wanted, sorted(claimed))
    with connect_to(db_url) as admin:  # every line, in order, each an error if it does not run
        for line in lines:
            admin.execute(line["text"])
    after = check(db_url)
    still = [fix for fix in claimed if failing(after, fix.split(" on ", 1)[0], fix.split(" on ", 1)[1])]
    assert still == [], still


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
