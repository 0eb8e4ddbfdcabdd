"""`security apply-roles`: the recommended least-privilege roles, created only after a confirmation, and
idempotent: a second run changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import connect_to, run_cli
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.security.recommend import APPLICATION, MIGRATOR, READONLY
from servers import ScratchServer, scratch_server
from support import ok

__all__ = ["scratch_server"]  # the fixture, imported for pytest to find

ROLES = (MIGRATOR, APPLICATION, READONLY)


def existing(url: DatabaseURL) -> set[str]:
    with connect_to(url) as conn:
        return {
            r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (list(ROLES),))
        }


@pytest.fixture
def deployed_db(scratch_server: ScratchServer) -> Iterator[DatabaseURL]:
    """A deployed database on a cluster of the test's own. Roles belong to the whole server, so two tests
    creating the same recommended roles on a shared one would hold each other's grants: one's teardown
    could not drop a role that the other's database still grants to."""
    ok(run_cli("migrate", "deploy", url=scratch_server.url))
    yield scratch_server.url


def test_apply_roles_asks_first_creates_least_privilege_and_runs_twice_unchanged(
    deployed_db: DatabaseURL,
) -> None:
    before = existing(deployed_db)
    dry = run_cli("security", "apply-roles", "--dry-run", url=deployed_db)
    assert (
        dry.code == 0
        and "CREATE ROLE mandala_app NOLOGIN" in dry.stdout
        and "nothing was changed" in dry.stdout
    )
    refused = run_cli("security", "apply-roles", url=deployed_db)
    assert refused.code == 3, refused.output
    assert existing(deployed_db) == before

    first = json.loads(ok(run_cli("--json", "--yes", "security", "apply-roles", url=deployed_db)).stdout)
    assert first["changes"], first
    assert existing(deployed_db) == set(ROLES)
    with connect_to(deployed_db) as conn:
        can = conn.execute(
            """SELECT has_table_privilege(%(app)s, 'users', 'INSERT'), has_table_privilege(%(ro)s, 'users', 'SELECT'),
                      has_table_privilege(%(ro)s, 'users', 'INSERT'), has_schema_privilege(%(app)s, 'public', 'CREATE'),
                      (SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'public')""",
            {"app": APPLICATION, "ro": READONLY},
        ).fetchone()
    assert can == (True, True, False, False, MIGRATOR)

    second = json.loads(ok(run_cli("--json", "--yes", "security", "apply-roles", url=deployed_db)).stdout)
    assert second["changes"] == []
    assert "Nothing to change" in ok(run_cli("--yes", "security", "apply-roles", url=deployed_db)).stdout


def test_apply_roles_behind_an_open_schema_change_gives_up_and_names_it(deployed_db: DatabaseURL) -> None:
    """A GRANT waits for the catalog row an uncommitted ALTER TABLE holds: with lock_timeout it gives up,
    tries again, then names that session, and nothing was changed."""

    def grants() -> Any:
        with connect_to(deployed_db) as c:
            return c.execute("SELECT relacl FROM pg_class WHERE relname = 'goals'").fetchone()

    before = grants()
    holder = connect_to(deployed_db)
    holder.execute("SET application_name = 'hand-migration'")
    holder.autocommit = False
    holder.execute("ALTER TABLE goals SET (fillfactor = 90)")  # idle in transaction from here on
    try:
        result = run_cli("--yes", "security", "apply-roles", "--lock-timeout", "200ms", "--lock-retries", "2",
                         url=deployed_db)  # fmt: skip
    finally:
        holder.rollback()
        holder.close()
    assert result.code == 1, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert "could not get its locks in 2 tries (lock_timeout 200ms each)" in last
    assert "hand-migration" in last and "nothing was changed" in last
    assert grants() == before


def test_after_apply_roles_real_logins_hold_least_privilege(deployed_db: DatabaseURL) -> None:
    """The migrator owns every object (existing ones too); the application writes rows and nothing else,
    not the tool's ledger or revision record; a role left over-privileged is named."""
    import dataclasses

    import psycopg

    app_login, mig_login, stray = "mdb_app_login", "mdb_mig_login", "mdb_stray"
    with connect_to(deployed_db) as admin:
        admin.execute(f"CREATE ROLE {stray} LOGIN; GRANT pg_signal_backend TO {stray}")
    first = json.loads(ok(run_cli("--json", "--yes", "security", "apply-roles", url=deployed_db)).stdout)
    assert any(c.startswith("changed table public.goals: owner") for c in first["changes"]), first["changes"]
    assert any(stray in line and "pg_signal_backend" in line for line in first["over_privileged"])
    with connect_to(deployed_db) as admin:
        admin.execute(f"CREATE ROLE {app_login} LOGIN IN ROLE {APPLICATION}")
        admin.execute(f"CREATE ROLE {mig_login} LOGIN IN ROLE {MIGRATOR}")
        owners = admin.execute(
            """SELECT DISTINCT relowner::regrole::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'public' AND relkind IN ('r', 'v', 'S')"""
        ).fetchall()
    assert owners == [(MIGRATOR,)]

    def as_login(name: str) -> psycopg.Connection[Any]:
        return connect_to(dataclasses.replace(deployed_db, user=name, password=None))

    with as_login(app_login) as app:
        app.execute("SELECT count(*) FROM users")
        app.execute("UPDATE goals SET title = title WHERE false")
        for forbidden in (
            "DELETE FROM mandala_migration_runs",
            "UPDATE alembic_version SET version_num = 'x'",
            "DROP TABLE goals",
            "ALTER TABLE goals ADD COLUMN hacked int",
            "CREATE TABLE public.sneaky (id int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(forbidden)
    with as_login(mig_login) as mig:
        mig.execute("ALTER TABLE goals ADD COLUMN migrated int")
        mig.execute("ALTER TABLE goals DROP COLUMN migrated")
    second = json.loads(ok(run_cli("--json", "--yes", "security", "apply-roles", url=deployed_db)).stdout)
    assert second["changes"] == []
