"""ops/security/checks/objects.py: object plants in any schema are found, also by a role without privileges,
and a view over what its readers may read anyway is silent."""

from __future__ import annotations

import pytest

from conftest import connect_to
from mandala_db.core.url import DatabaseURL
from ops.security.securitykit import check, failing, server_major

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
