"""ops/migrate: what other capabilities call. Data commands need the schema at the head and say how to get
there; a data-only restore builds the schema up to the dump's revision first; a drill rehearses the pending
revisions on its copy, up and back down, and the copy ends where it began."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from mandala_db.core.database import Database
from mandala_db.core.errors import OperationFailed
from mandala_db.core.revision import current_revision
from mandala_db.core.url import DatabaseURL
from mandala_db.ops.migrate import build_schema, rehearse_deploy, require_head
from mandala_db.ops.migrate.loader import History

HISTORY = History.load()
TASKS = HISTORY.resolve("task_management")


def test_data_needs_the_schema_at_the_head(db_url: DatabaseURL, conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(
        OperationFailed, match=r"the database is at base \(empty\), not at the head"
    ) as failed:
        require_head(conn)
    assert failed.value.hint == "run `mandala-db migrate deploy` first"
    build_schema(Database(db_url), TASKS)
    with pytest.raises(OperationFailed, match=f"the database is at {TASKS}"):
        require_head(conn)
    build_schema(Database(db_url), HISTORY.head)
    assert require_head(conn) == HISTORY.head


def test_building_to_no_revision_leaves_the_database_as_it_is(
    db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    build_schema(Database(db_url), None)
    assert current_revision(conn) is None


def test_a_rehearsal_applies_the_pending_revisions_and_ends_where_it_began(
    db_url: DatabaseURL, conn: psycopg.Connection[Any]
) -> None:
    build_schema(Database(db_url), TASKS)
    steps = rehearse_deploy(Database(db_url))
    pending = [r.id for r in HISTORY.after(TASKS)]
    assert [(s["revision"], s["direction"]) for s in steps] == [(p, "upgrade") for p in pending] + [
        (p, "downgrade") for p in reversed(pending)
    ]
    assert current_revision(conn) == TASKS


def test_nothing_pending_is_an_empty_rehearsal(deployed: DatabaseURL) -> None:
    assert rehearse_deploy(Database(deployed)) == []
