"""ops/security/facts.py: what the checks read, gathered once. Whether the connection leaves the machine is
told from the URL (a socket or loopback stays); what the role may not read comes back as None with the
reason, so a check can say `skipped` and why."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import pytest

from conftest import connect_to
from mandala_db.core.database import Database
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.security.facts import Facts, is_local, uses_socket


@pytest.mark.parametrize(
    ("url", "local", "socket"),
    [
        ("postgresql:///app", True, True),
        ("postgresql:///app?host=/var/run/postgresql", True, True),
        ("postgresql://app@localhost/app", True, False),
        ("postgresql://app@127.0.0.1:5432/app", True, False),
        ("postgresql://app@[::1]/app", True, False),
        ("postgresql://app@db.example.com/app", False, False),
        ("postgresql://app@10.0.0.5/app", False, False),
        ("postgresql://app@127.0.0.1,db.example.com/app", False, False),
    ],
)
def test_a_connection_is_local_on_a_socket_or_loopback_only(url: str, local: bool, socket: bool) -> None:
    parsed = DatabaseURL.parse(url)
    assert (is_local(parsed), uses_socket(parsed)) == (local, socket)


def test_a_superuser_sees_everything_it_reads(db_url: DatabaseURL) -> None:
    with connect_to(db_url) as conn:
        facts = Facts.gather(Database(db_url), conn)
        assert facts.superuser and facts.role == (db_url.user or facts.role)
        assert facts.setting("server_version_num") is not None
        hba, why = facts.hba
        assert hba is not None and why == "" and {"line", "auth_method"} <= set(hba[0])
        hashes, _ = facts.password_hashes
        assert hashes is not None
        assert facts.role in facts.superusers and facts.role in facts.graph.roles


@pytest.fixture
def plain_role(db_url: DatabaseURL) -> Iterator[DatabaseURL]:
    name = f"mdb_facts_{uuid.uuid4().hex[:8]}"
    with connect_to(db_url) as admin:
        admin.execute(f"CREATE ROLE {name} LOGIN")
    try:
        yield dataclasses.replace(db_url, user=name, password=None)
    finally:
        with connect_to(db_url) as admin:
            admin.execute(f"DROP ROLE {name}")


def test_a_plain_role_gets_the_reason_instead_of_the_facts(plain_role: DatabaseURL) -> None:
    with connect_to(plain_role) as conn:
        facts = Facts.gather(Database(plain_role), conn)
        assert (
            not facts.superuser and facts.setting("shared_preload_libraries") is None
        )  # pg_read_all_settings
        assert facts.hba == (
            None,
            "not enough privilege: pg_hba_file_rules needs a superuser (or a grant of it)",
        )
        assert facts.password_hashes[0] is None and "superusers only" in facts.password_hashes[1]
        assert facts.hba_reload[0] is None and facts.hba_reload[1].startswith("not enough privilege")
