"""ops/security/checks (and `security check`): every check runs in its own transaction, and one that errors
is skipped with the server's words; planted misconfigurations are found with their fixes, and the fixes `recommend` writes
make them pass; a role without privileges gets `skipped` with the reason, never `pass`; suppressions need
a reason and an expiry date; no password is ever shown. (The guide's wrapper: tests/test_cli.py.)"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import connect_to, run_cli
from mandala_db.core.database import Database
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.security import checks
from mandala_db.ops.security.checks import Check, run_all
from mandala_db.ops.security.facts import Facts

SUPERUSER_ONLY = (
    "server.md5-passwords",
    "hba.auth-method",
    "hba.tls-only",
    "hba.scope",
    "hba.remote-superuser",
)


def findings(result: Any) -> list[dict[str, Any]]:
    return list(json.loads(result.stdout)["findings"])


def by_id(found: list[dict[str, Any]], ident: str, obj: str | None = None) -> list[dict[str, Any]]:
    return [f for f in found if f["id"] == ident and (obj is None or f["object"] == obj)]


@pytest.fixture
def role(db_url: DatabaseURL) -> Iterator[str]:
    """A throw-away login role (roles belong to the whole server: dropped at the end, whatever happens)."""
    name = f"mdb_role_{uuid.uuid4().hex[:8]}"
    with connect_to(db_url) as admin:
        admin.execute(f"CREATE ROLE {name} LOGIN")
    try:
        yield name
    finally:
        with connect_to(db_url) as admin:
            admin.execute(f"DROP OWNED BY {name}")
            admin.execute(f"DROP ROLE {name}")


def as_role(url: DatabaseURL, name: str) -> DatabaseURL:
    # The test servers trust local connections, so the role logs in without a password.
    return dataclasses.replace(url, user=name, password=None)


def test_planted_misconfigurations_are_found_and_recommends_sql_fixes_them(
    db_url: DatabaseURL, role: str
) -> None:
    with connect_to(db_url) as admin:
        admin.execute("SET password_encryption = 'md5'")
        admin.execute(f"ALTER ROLE {role} SUPERUSER PASSWORD 'not-the-sentinel'")
        admin.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")
        admin.execute(
            "CREATE FUNCTION public.whoami() RETURNS text LANGUAGE sql SECURITY DEFINER AS 'SELECT current_user::text'"
        )
    app = as_role(db_url, role)
    result = run_cli("--json", "security", "check", url=app)
    assert result.code == 5, result.output  # high findings fail the check by default
    found = findings(result)
    expected = [
        ("role.application", f"role {role}"),
        ("server.md5-passwords", f"role {role}"),
        ("schema.public-create", "schema public"),
        ("function.security-definer", "function whoami()"),
    ]
    for ident, obj in expected:
        hits = [f for f in by_id(found, ident, obj) if f["status"] == "fail"]
        assert hits, (ident, obj, by_id(found, ident))
        assert all(hit["remediation"] for hit in hits), hits
    # Server-wide settings of the test servers: trust rules and no connection logging.
    assert any(f["status"] == "fail" for f in by_id(found, "hba.auth-method")), by_id(
        found, "hba.auth-method"
    )
    assert by_id(found, "log.connections")[0]["status"] == "fail"

    advice = json.loads(run_cli("--json", "security", "recommend", url=app).stdout)
    # Only the lines for what this test planted: roles belong to the whole server, and fixes for other
    # tests' roles must not be run under them.
    mine = (f"role {role}", "schema public", "function whoami()")
    sql = [
        line["text"]
        for section in advice["sections"]
        if section["title"].startswith("this database's objects")
        for line in section["lines"]
        if any(fix.endswith(mine) for fix in line["fixes"])
    ]
    assert any("REVOKE CREATE ON SCHEMA public FROM PUBLIC" in s.replace('"', "") for s in sql), sql
    assert any("SET search_path" in s for s in sql), sql
    with connect_to(db_url) as admin:
        for statement in sql:
            admin.execute(statement)
        admin.execute("SET password_encryption = 'scram-sha-256'")
        admin.execute(f"ALTER ROLE {role} NOSUPERUSER PASSWORD 'not-the-sentinel'")
    after = findings(run_cli("--json", "security", "check", "--fail-on", "high", url=app))
    for ident, obj in expected:
        assert not [f for f in by_id(after, ident, obj) if f["status"] == "fail"], by_id(after, ident, obj)


def test_a_role_without_privileges_gets_skipped_never_pass(db_url: DatabaseURL, role: str) -> None:
    result = run_cli("--json", "security", "check", "--fail-on", "high", url=as_role(db_url, role))
    found = findings(result)
    for ident in SUPERUSER_ONLY:
        rows = by_id(found, ident)
        assert rows, ident
        assert all(
            f["status"] == "skipped" and f["evidence"].startswith("not enough privilege") for f in rows
        ), rows
    assert {f["status"] for f in found} <= {"pass", "fail", "skipped", "unknown"}


def test_suppressions_need_a_reason_and_an_expiry(db_url: DatabaseURL, tmp_path: Path) -> None:
    user = db_url.user or "postgres"
    rules = tmp_path / "security-suppressions.toml"
    rules.write_text(
        f'[[suppress]]\nid = "role.application"\nobject = "role {user}"\nreason = "CI database on loopback"\n'
        "expires = 2999-12-31\n"
        '[[suppress]]\nid = "role.superusers"\nreason = ""\nexpires = 2999-12-31\n'
        '[[suppress]]\nid = "log.connections"\nreason = "waiting for the ops team"\nexpires = 2001-01-01\n'
    )
    result = run_cli("--json", "security", "check", "--suppressions", str(rules), url=db_url)
    doc = json.loads(result.stdout)
    (app,) = by_id(doc["findings"], "role.application")
    assert app["status"] == "fail" and app["suppressed"].startswith("CI database on loopback")
    assert not by_id(doc["findings"], "log.connections")[0]["suppressed"]
    problems = " | ".join(doc["suppression_problems"])
    assert "no reason" in problems and "expired on 2001-01-01" in problems
    # With the one high finding suppressed, nothing at high fails: found from the working directory too.
    # (In staging, where a superuser login is high; in development it is low.)
    no_default = {"MANDALA_SECURITY_SUPPRESSIONS": ""}
    assert (
        run_cli("--env", "staging", "security", "check", url=db_url, cwd=tmp_path, env=no_default).code == 0
    )
    assert run_cli("--env", "staging", "security", "check", url=db_url, env=no_default).code == 5


def test_migrate_prod_refuses_an_unsuppressed_high_finding(db_url: DatabaseURL, tmp_path: Path) -> None:
    none = {"MANDALA_SECURITY_SUPPRESSIONS": ""}
    dry = run_cli("--env", "production", "--json", "migrate", "prod", "--dry-run", url=db_url, env=none)
    assert dry.code == 3, dry.output
    assert any(line.startswith("security: role.application") for line in json.loads(dry.stdout)["security"])
    refused = run_cli(
        "--env", "production", "--yes", "migrate", "prod", "--backup-dir", str(tmp_path), url=db_url, env=none
    )
    assert refused.code == 3 and "high security finding" in refused.stderr, refused.output
    assert "security recommend" in refused.stderr
    assert not list(tmp_path.iterdir())  # refused before the backup, and before any change
    with connect_to(db_url) as conn:
        assert conn.execute("SELECT to_regclass('alembic_version')").fetchone() == (None,)
    # The suite's reviewed exception (the servers' superuser) lets it through.
    assert run_cli("--env", "production", "migrate", "prod", "--dry-run", url=db_url).code == 0


def test_a_check_that_errors_is_skipped_with_the_servers_words_and_the_next_still_runs(
    db_url: DatabaseURL, role: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def reads(sql: str) -> Check:
        return Check(
            f"x.{len(sql)}", "t", "low", "r", None, lambda c, f: c.passed(str(f.conn.execute(sql).fetchone()))
        )

    units = [
        reads("SELECT * FROM pg_authid LIMIT 1"),
        reads("SELECT no_such_column FROM pg_class"),
        reads("SELECT 1"),
    ]
    monkeypatch.setattr(checks, "CHECKS", units)
    with connect_to(as_role(db_url, role)) as conn:
        found = run_all(Facts.gather(Database(as_role(db_url, role)), conn))
    assert [f.status for f in found] == [
        "skipped",
        "skipped",
        "pass",
    ]  # the next check still ran
    assert found[0].evidence == "not enough privilege: permission denied for table pg_authid"
    assert found[1].evidence.startswith('could not run: column "no_such_column" does not exist')
