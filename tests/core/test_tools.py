"""Client tools are discovered by version, and a missing one is explained rather than failing obscurely."""

from __future__ import annotations

import pytest

from mandala_db.core.errors import OperationFailed
from mandala_db.core.tools import available, find_client


def test_a_client_at_least_as_new_as_the_server_is_chosen() -> None:
    tools = available("pg_dump")
    assert tools, "pgserver ships pg_dump 16, so at least one is always found"
    newest = max(t.major for t in tools)
    chosen = find_client("pg_dump", newest)
    assert chosen.major == newest
    # The closest fit, not merely the newest: a PostgreSQL 15 server gets pg_dump 15 when it exists.
    oldest = min(t.major for t in tools)
    assert find_client("pg_dump", oldest).major == oldest


def test_no_client_new_enough_names_what_was_found() -> None:
    with pytest.raises(
        OperationFailed, match=r"no pg_restore of version 99 or newer .*found: pg_restore 1\d"
    ):
        find_client("pg_restore", 99)
