"""`security audit`: who may do what, saved as the desired state and compared with the live database."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from conftest import connect_to, run_cli
from mandala_db.core.url import DatabaseURL
from support import ok


def test_audit_against_a_saved_snapshot_names_a_public_grant_and_a_new_role(
    db_url: DatabaseURL, tmp_path: Path
) -> None:
    ok(run_cli("migrate", "deploy", url=db_url))
    saved = tmp_path / "security-audit.json"
    ok(run_cli("security", "audit", "--save", str(saved), url=db_url))
    same = run_cli("--json", "security", "audit", "--against", str(saved), url=db_url)
    # Roles belong to the whole server: other tests' throw-away roles (mdb_...), their memberships and
    # password hashes may come and go meanwhile; nothing else may differ.
    cluster_wide = {"roles", "memberships", "password hashes"}
    against = json.loads(same.stdout)["against"]
    unchanged = {
        k: v for part in ("added", "removed") for k, v in against[part].items() if k not in cluster_wide
    }
    others = [
        r for part in ("added", "removed") for k, v in against[part].items() if k in cluster_wide for r in v
    ]
    assert unchanged == {} and against["changed"] == [] and all(r.startswith("mdb_") for r in others), (
        same.output
    )
    assert same.code == (5 if others else 0), same.output

    intruder = f"mdb_intruder_{uuid.uuid4().hex[:8]}"
    with connect_to(db_url) as admin:
        admin.execute("GRANT SELECT ON TABLE users TO PUBLIC")
        admin.execute(f"CREATE ROLE {intruder} LOGIN CREATEDB")
        admin.execute("CREATE TABLE stray (id int)")
    try:
        result = run_cli("--json", "security", "audit", "--against", str(saved), url=db_url)
        assert result.code == 5, result.output
        added = json.loads(result.stdout)["against"]["added"]
        assert "table public.users: PUBLIC SELECT" in added["table grants"]
        assert any(r.startswith(f"{intruder}:") and "CREATEDB" in r for r in added["roles"])
        assert any("stray" in r for r in added["objects no revision created"])
        human = run_cli("security", "audit", "--against", str(saved), url=db_url)
        assert human.code == 5 and "added: roles:" in human.stdout and "privilege change(s)" in human.stderr
    finally:
        with connect_to(db_url) as admin:
            admin.execute(f"DROP ROLE {intruder}")


def test_a_file_that_is_not_a_saved_audit_is_refused_before_any_work(
    db_url: DatabaseURL, tmp_path: Path
) -> None:
    bad = tmp_path / "audit.json"
    bad.write_text('{"format": 99}')
    result = run_cli("security", "audit", "--against", str(bad), url=db_url)
    assert result.code == 2 and "is not a saved security audit" in result.stderr
    missing = run_cli("security", "audit", "--against", str(tmp_path / "nope.json"), url=db_url)
    assert missing.code == 2 and "does not exist" in missing.stderr


def test_audit_names_every_access_change_and_an_owner_change_as_one(
    db_url: DatabaseURL, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    who, group = f"mdb_aud_{tag}", f"mdb_audg_{tag}"
    with connect_to(db_url) as admin:
        admin.execute(f"CREATE ROLE {who} LOGIN; CREATE ROLE {group}")
        admin.execute("CREATE TABLE public.audited (id int, secret text)")
        admin.execute("CREATE FUNCTION public.audited_f() RETURNS int LANGUAGE sql AS 'SELECT 1'")
    saved = tmp_path / "audit.json"
    try:
        ok(run_cli("security", "audit", "--save", str(saved), url=db_url))
        changes = [
            (f"ALTER TABLE public.audited OWNER TO {who}", "changed", "table public.audited: owner"),
            (f"ALTER FUNCTION public.audited_f() OWNER TO {who}", "changed", "function audited_f(): owner"),
            (
                f"GRANT SELECT (secret) ON public.audited TO {group}",
                "column grants",
                "column public.audited.secret",
            ),
            (f"GRANT CREATE ON DATABASE {db_url.dbname} TO {group}", "database grants", f"{group} CREATE"),
            (f"ALTER ROLE {who} VALID UNTIL '2999-01-01'", "roles", "VALID UNTIL 2999-01-01"),
            (f"ALTER ROLE {who} CONNECTION LIMIT 3", "roles", "CONNECTION LIMIT 3"),
            # IN DATABASE: a setting for every database would show in other tests' audits of theirs
            (
                f"ALTER ROLE {who} IN DATABASE {db_url.dbname} SET search_path = evil, public",
                "role settings",
                f"{who} in database {db_url.dbname}: search_path=evil, public",
            ),
            (f"GRANT {group} TO {who} WITH ADMIN OPTION", "memberships", f"{who} in {group} (ADMIN"),
            (
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {who} GRANT SELECT ON TABLES TO {group}",
                "default privileges",
                group,
            ),
            (f"GRANT USAGE ON SCHEMA public TO {group}", "schema grants", f"{group} USAGE"),
            (f"ALTER ROLE {group} BYPASSRLS", "roles", "BYPASSRLS"),
            (
                "ALTER TABLE public.audited ENABLE ROW LEVEL SECURITY",
                "row-level security",
                "public.audited: RLS on",
            ),
        ]
        with connect_to(db_url) as admin:
            for sql, _, _ in changes:
                admin.execute(sql)
        result = run_cli("--json", "security", "audit", "--against", str(saved), url=db_url)
        assert result.code == 5, result.output
        diff = json.loads(result.stdout)["against"]
        for _, section, text in changes:
            rows = diff["changed"] if section == "changed" else diff["added"].get(section, [])
            assert any(text in row for row in rows), (section, text, diff)
        # The owner change is one change: not a lost object and a new one.
        assert not any(
            "audited owned by" in r
            for r in diff["removed"].get("owners", []) + diff["added"].get("owners", [])
        )
    finally:
        with connect_to(db_url) as admin:
            admin.execute("DROP TABLE IF EXISTS public.audited; DROP FUNCTION IF EXISTS public.audited_f()")
            admin.execute(f"ALTER DEFAULT PRIVILEGES FOR ROLE {who} REVOKE ALL ON TABLES FROM {group}")
            admin.execute(
                f"REVOKE ALL ON DATABASE {db_url.dbname} FROM {group}; REVOKE ALL ON SCHEMA public FROM {group}"
            )
            admin.execute(f"DROP OWNED BY {who}, {group}; DROP ROLE {who}; DROP ROLE {group}")
