"""Fixtures of the security tests: a login role for the application and a group, on the test database or on a cluster of the test's own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from conftest import connect_to
from mandala_db.core.url import DatabaseURL
from servers import ScratchServer


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
